"""`spilno ballots issue` and `spilno ballots cancel`: personal ballot sheets from the
command line, through the same core as the review page's «Видати бюлетень»
(support_point.issue). The operator recorded is "cli".

A document number is best typed at the hidden prompt (leave out --document-number):
given as an option it lands in the shell's history. Either way it is used for the voter
key and dropped: no output, log or file ever holds it. Messages are Ukrainian first,
English after " / "; with --json the outcome is one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from support_point.issue_messages import both_of
from support_point.texts import both

if TYPE_CHECKING:
    from support_point.issue import IssueDesk, IssueRefused, IssueResult

__all__ = ["cancel_command", "issue_command"]

OPERATOR = "cli"
# support_point.issue.DOCUMENT_KINDS, spelled out so that `spilno --help` need not load the
# issue core (PDF, imaging); a test keeps the two the same.
DOCUMENT_KINDS = ("rnokpp", "unzr", "passport", "id_card")

_STORE = click.option(
    "--store",
    "store_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The support point's device file (made by `spilno device enrol`).",
)
_SHEETS = click.option(
    "--sheets",
    "sheets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sheet store (default: beside --store, <store>.sheets.db).",
)
_LOCALE = click.option(
    "--locale", type=click.Choice(["uk", "en"]), default="uk", show_default=True, help="Sheet language."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON object.")


def _fail(code: str, **params: object) -> click.ClickException:
    return click.ClickException(both_of(code, **params))


@contextmanager
def _desk(store_path: Path, sheets_path: Path | None, locale: str) -> Iterator[IssueDesk]:
    from paper.sheet_store import SheetStore, sheets_path_for
    from support_point.issue import IssueDesk
    from sync.device_store import DeviceStore

    if not store_path.is_file():
        raise click.ClickException(both("Файлу пристрою немає: {path}", path=store_path))
    device_store = DeviceStore(store_path)
    try:
        try:
            sheets = SheetStore(sheets_path or sheets_path_for(store_path))
        except (sqlite3.Error, OSError):
            raise _fail("sheets.unreadable_store") from None
        try:
            yield IssueDesk(device_store, sheets, locale=locale)
        finally:
            sheets.close()
    finally:
        device_store.close()


def _refused(exc: IssueRefused, as_json: bool) -> None:
    """Say why nothing was issued or cancelled, and exit with status 1."""
    if as_json:
        line = {"outcome": "refused", "reason": exc.code, "message": both_of(exc.code, **exc.params)}
        click.echo(json.dumps(line, ensure_ascii=False))
        raise SystemExit(1)
    raise _fail(exc.code, **exc.params)


def _write_pdf(path: Path, result: IssueResult) -> None:
    """Through a temporary file beside `path`, so a failed write leaves no half a sheet
    for someone to print from; the sheet stays issued and the message says to cancel it."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=".ballot-", dir=path.resolve().parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(result.pdf)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _fail(
            "issue.not_written", serial=result.sheet.serial, detail=f"{exc.strerror or exc}"
        ) from None


def _report(result: IssueResult, out_path: Path, as_json: bool) -> None:
    from sync.clock import iso_from_ms

    sheet = result.sheet
    if as_json:
        line = {
            "outcome": "issued",
            "serial": sheet.serial,
            "cycle_id": sheet.cycle_id,
            "issued_at": iso_from_ms(sheet.issued_at_ms),
            "issued_by": sheet.issued_by,
            "out": str(out_path),
        }
        if result.cancelled is not None:
            line["cancelled"] = result.cancelled.serial
        click.echo(json.dumps(line, ensure_ascii=False))
        return
    if result.cancelled is not None:
        click.echo(
            both_of("issue.reissued", old=result.cancelled.serial, serial=sheet.serial) + f": {out_path}"
        )
    else:
        click.echo(both_of("issue.issued", serial=sheet.serial) + f": {out_path}")


@click.command("issue")
@_STORE
@_SHEETS
@click.option("--cycle", "cycle_id", required=True, type=int, help="The cycle's id (as in the package).")
@click.option(
    "--document-kind",
    type=click.Choice(DOCUMENT_KINDS),
    default=None,
    help="The resident's document: rnokpp, unzr, passport or id_card.",
)
@click.option(
    "--document-number",
    default=None,
    help="Its number. Leave it out to type it at a hidden prompt (kept out of the shell's history).",
)
@click.option(
    "--age-confirmed",
    is_flag=True,
    help="You checked the age on the document (needed when its number carries no birth date).",
)
@click.option("--card-id", default=None, help="The resident's card id (hex), instead of a document.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sheet's PDF.",
)
@_LOCALE
@_JSON
def issue_command(
    store_path: Path,
    sheets_path: Path | None,
    cycle_id: int,
    document_kind: str | None,
    document_number: str | None,
    age_confirmed: bool,
    card_id: str | None,
    out_path: Path,
    locale: str,
    as_json: bool,
) -> None:
    """Issue one personal ballot sheet to a resident identified by a document or a card:
    checked like a terminal checks them (the community's list, minimum age, already
    voted here or elsewhere, a sheet already held), recorded with the next free serial,
    and written as a PDF to print."""
    from support_point.issue import CardIdentity, DocumentIdentity, IssueRefused

    if (card_id is None) == (document_kind is None) or (
        card_id is not None and (document_number or age_confirmed)
    ):
        raise _fail("issue.one_identity")
    identity: CardIdentity | DocumentIdentity
    if card_id is not None:
        identity = CardIdentity(card_id)
    else:
        assert document_kind is not None
        if document_number is None:
            document_number = click.prompt(both("Номер документа"), hide_input=True, err=True)
        identity = DocumentIdentity(document_kind, document_number, age_confirmed)
    with _desk(store_path, sheets_path, locale) as desk:
        try:
            result = desk.issue_sheet(cycle_id, identity, operator=OPERATOR)
        except IssueRefused as exc:
            _refused(exc, as_json)
    _write_pdf(out_path, result)
    _report(result, out_path, as_json)


@click.command("cancel")
@_STORE
@_SHEETS
@click.option("--serial", required=True, help="The spoiled sheet's serial, e.g. S0001-000042.")
@click.option("--reason", required=True, help="Why it is cancelled (up to 300 characters).")
@click.option("--reissue", is_flag=True, help="Issue a new sheet to the same resident at once (needs --out).")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new sheet's PDF (--reissue).",
)
@_LOCALE
@_JSON
def cancel_command(
    store_path: Path,
    sheets_path: Path | None,
    serial: str,
    reason: str,
    reissue: bool,
    out_path: Path | None,
    locale: str,
    as_json: bool,
) -> None:
    """Cancel a spoiled personal sheet that has not been scanned: it will never count.
    With --reissue the same resident gets the next serial in the same step."""
    from support_point.issue import IssueRefused

    if reissue != (out_path is not None):
        raise _fail("issue.out_needed")
    with _desk(store_path, sheets_path, locale) as desk:
        try:
            if reissue:
                result = desk.reissue(serial, reason, operator=OPERATOR)
            else:
                cancelled = desk.cancel_sheet(serial, reason, operator=OPERATOR)
        except IssueRefused as exc:
            _refused(exc, as_json)
    if reissue:
        assert out_path is not None
        _write_pdf(out_path, result)
        _report(result, out_path, as_json)
        return
    if as_json:
        from sync.clock import iso_from_ms

        line = {
            "outcome": "cancelled",
            "serial": cancelled.serial,
            "cycle_id": cancelled.cycle_id,
            "cancelled_at": iso_from_ms(cancelled.cancelled_at_ms),
            "cancelled_by": cancelled.cancelled_by,
        }
        click.echo(json.dumps(line, ensure_ascii=False))
        return
    click.echo(both_of("issue.cancelled", serial=cancelled.serial))
