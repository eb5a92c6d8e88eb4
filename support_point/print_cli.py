"""`spilno ballots print`: blank ballot sheets of an open cycle, or sheets of a poll
(`--poll`, paper.poll_forms), as a PDF.

One sheet per serial, numbered with the support point's own serials (recorded first in
its serial book when --store is given, so a serial is never handed out twice), and
optionally the layout JSON that lets any tool check a reader against the form.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from support_point.cli_common import fail, open_sheets, package_from_file, package_from_store
from support_point.texts import both

if TYPE_CHECKING:
    from paper.layout import Layout
    from sync.cycle_package import CyclePackage, PackagedCycle

__all__ = ["print_command"]

MAX_SHEETS = 5000  # ~10 minutes of a fast office printer; more is a mistyped number


def _resident_cycle(package: CyclePackage, cycle_id: int) -> PackagedCycle:
    from sync.clock import datetime_from_ms, system_clock_ms

    cycle = package.cycle(cycle_id)
    if cycle is None or not cycle.for_residents:
        raise fail("ballots.no_cycle", str(cycle_id))
    now: datetime = datetime_from_ms(system_clock_ms())
    if now >= cycle.voting_ends_at:
        raise fail("ballots.cycle_ended", str(cycle_id))
    return cycle


def _write_atomically(path: Path, write) -> None:
    """Write `path` through a temporary file beside it: a refused or failed print leaves
    no half-written PDF for someone to print from."""
    directory = path.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=".ballots-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@click.command("print")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The support point's device file (made by `spilno device enrol`): its current package is used.",
)
@click.option(
    "--package",
    "package_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed package envelope (JSON), checked with --server-key or the key of --store.",
)
@click.option("--server-key", default=None, help="The server's public key (base64) to check --package with.")
@click.option("--cycle", "cycle_id", default=None, type=int, help="The cycle's id (as in the package).")
@click.option(
    "--poll",
    "poll_id",
    default=None,
    type=int,
    help="Print sheets of this poll (its id, as in the package) instead of ballots.",
)
@click.option("--device", default=None, help="The support point's code, e.g. S-0001 (taken from --store).")
@click.option(
    "--first",
    default=None,
    type=int,
    help="Number of the first sheet (1-999999). With --store: by default the next one never handed"
    " out, and a number handed out before is refused.",
)
@click.option("--count", required=True, type=int, help=f"How many sheets to print (1-{MAX_SHEETS}).")
@click.option(
    "--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF."
)
@click.option(
    "--layout-json",
    "layout_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the layout here.",
)
@click.option(
    "--locale", type=click.Choice(["uk", "en"]), default="uk", show_default=True, help="Form language."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def print_command(
    store_path: Path | None,
    package_file: Path | None,
    server_key: str | None,
    cycle_id: int | None,
    poll_id: int | None,
    device: str | None,
    first: int | None,
    count: int,
    out_path: Path,
    layout_path: Path | None,
    locale: str,
    as_json: bool,
) -> None:
    """Print blank ballot sheets of an open cycle (--cycle), or sheets of a poll (--poll),
    as a PDF, one sheet per serial (S0001-000001, ...), each page with its QR code.
    A poll sheet takes rankings and points as a grid of boxes; a poll with more than 10
    places or points in a question cannot be printed (docs/paper-polls.md)."""
    from paper.forms import print_forms
    from paper.layout import LayoutError
    from paper.serials import SerialError, form_key, serial_range

    if (cycle_id is None) == (poll_id is None):
        raise fail("ballots.cycle_or_poll")
    if not 1 <= count <= MAX_SHEETS:
        raise fail("ballots.count", str(count))
    if store_path is None and package_file is None:
        raise fail("ballots.source")
    if store_path is not None:
        package, enrolled = package_from_store(store_path, package_file)
        if device is not None and device != enrolled:
            raise fail("ballots.device_mismatch", f"{device!r:.40} ≠ {enrolled}")
        device = enrolled
    else:
        if not server_key:
            raise fail("ballots.no_key")
        assert package_file is not None
        package = package_from_file(package_file, server_key)
    if device is None:
        raise fail("ballots.device", "--device")
    try:
        serials = serial_range(device, 1 if first is None else first, count)
        try:
            key = form_key(package.voter_key_secret)
        except ValueError:
            raise fail("ballots.no_secret") from None
        if poll_id is not None:
            layout, layout_json, serials = _print_poll(
                package, poll_id, store_path, device, count, first, serials, key, out_path, locale
            )
        else:
            assert cycle_id is not None
            cycle = _resident_cycle(package, cycle_id)
            if store_path is not None:
                serials = _reserve_blank_serials(store_path, device, cycle_id, count, first)
            holder: dict = {}
            _write_atomically(
                out_path,
                lambda out: holder.update(layout=print_forms(cycle, serials, key, out, locale=locale)),
            )
            layout = holder["layout"]
            layout_json = layout.to_json()
        if layout_path is not None:
            _write_atomically(layout_path, lambda out: out.write(layout_json.encode()))
    except (SerialError, LayoutError) as exc:
        raise fail(exc.code, exc.detail) from None
    except OSError as exc:
        raise click.ClickException(both("Файл не записано") + f": {exc}") from None
    pages = len(layout.pages)
    if as_json:
        line = {
            **({"poll_id": poll_id} if poll_id is not None else {"cycle_id": cycle_id}),
            "sheets": count,
            "pages": pages * count,
            "pages_per_sheet": pages,
            "first_serial": serials[0],
            "last_serial": serials[-1],
            "layout_hash": layout.layout_hash,
            "out": str(out_path),
        }
        click.echo(json.dumps(line, ensure_ascii=False, sort_keys=True))
        return
    click.echo(
        both(
            "Надруковано {count} арк. ({first} … {last}), {pages} стор. на аркуш: {out}",
            count=count,
            first=serials[0],
            last=serials[-1],
            pages=pages,
            out=out_path,
        )
    )


def _print_poll(
    package: CyclePackage,
    poll_id: int,
    store_path: Path | None,
    device: str,
    count: int,
    first: int | None,
    serials: list[str],
    key: bytes,
    out_path: Path,
    locale: str,
) -> tuple[Layout, str, list[str]]:
    """Print the poll's sheets (LayoutError for a poll no sheet can show: nothing is
    reserved or written then); its layout, layout JSON and the serials printed."""
    from paper.poll_forms import print_poll_sheets
    from paper.poll_layout import poll_form_id, poll_layout_json, poll_sheet
    from sync.clock import datetime_from_ms, system_clock_ms

    poll = package.poll(poll_id)
    if poll is None:
        raise fail("polls.no_poll", str(poll_id))
    if poll.window_state(datetime_from_ms(system_clock_ms())) == "ended":
        raise fail("polls.ended", str(poll_id))
    poll_sheet(poll)  # a poll no sheet can show is refused before a serial is reserved
    if store_path is not None:
        serials = _reserve_blank_serials(store_path, device, poll_form_id(poll_id), count, first)
    holder: dict = {}
    _write_atomically(
        out_path, lambda out: holder.update(sheet=print_poll_sheets(poll, serials, key, out, locale=locale))
    )
    sheet = holder["sheet"]
    return sheet.layout, poll_layout_json(sheet), serials


def _reserve_blank_serials(
    store_path: Path, device: str, cycle_id: int, count: int, first: int | None
) -> list[str]:
    """The serials to print, recorded first in the support point's serial book, which
    personal sheets (`spilno ballots issue`) share: a serial is never handed out twice."""
    from paper.serials import SerialError
    from support_point.issue import reserve_blank_serials
    from support_point.issue_messages import both_of
    from sync.clock import system_clock_ms

    sheets = open_sheets(store_path, None)
    try:
        return reserve_blank_serials(sheets, device, cycle_id, count, first=first, now_ms=system_clock_ms())
    except SerialError as exc:
        raise click.ClickException(both_of(exc.code)) from None
    finally:
        sheets.close()
