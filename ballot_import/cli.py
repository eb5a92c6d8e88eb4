"""`spilno ballots ...`: paper ballots at a support point.

`print` makes the PDF of blank ballot sheets for one cycle, numbered with the support
point's own serials, and optionally the layout JSON that lets any tool check a reader
against the form. `import` reads scanned or photographed sheets (PNG, JPEG, TIFF, PDF,
or a folder of them) and reports each page: outcome, reasons, and each project's box as
marked, unmarked or marginal. The cycle comes from a signed package: normally the one the device
store holds (`--store`, verified when it was stored), or an envelope file checked with
the server's key, exactly as `spilno kiosk load-package` checks one. Messages are
Ukrainian first, English after " / ".
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

import click

from .messages import message

__all__ = ["ballots_group"]

ballots_group = click.Group(
    "ballots", help="Paper ballots at a support point: print blank sheets, read scanned ones."
)

MAX_SHEETS = 5000  # ~10 minutes of a fast office printer; more is a mistyped number


def _fail(code: str, detail: str = "") -> click.ClickException:
    text = f"{message(code, 'uk')} / {message(code, 'en')}"
    return click.ClickException(f"{text} ({detail})" if detail else text)


def _package_from_store(store_path: Path, package_file: Path | None) -> tuple[dict, str]:
    """The verified package and the device code of the support point's store."""
    from kiosk.cli import PACKAGE_REFUSALS
    from sync.device_store import DeviceStore, StoreError
    from sync.packages import accept_package
    from sync.protocol import ProtocolError

    if not store_path.is_file():
        raise click.ClickException(f"Файлу пристрою немає: {store_path} / no device file at {store_path}")
    store = DeviceStore(store_path)
    try:
        identity = store.require_identity()
        if identity.kind != "support_point":
            raise _fail("ballots.not_support_point", identity.device)
        if package_file is None:
            stored = store.package()
            if stored is None:
                raise _fail("ballots.no_package")
            return stored.package, identity.device
        envelope = _read_envelope(package_file)
        package = accept_package(
            envelope, server_key=identity.server_key, community_id=identity.community_id, current=None
        )
        return package, identity.device
    except ProtocolError as exc:
        reason = PACKAGE_REFUSALS.get(exc.code, exc.code)
        raise click.ClickException(f"Пакет не прийнято / package refused: {reason}") from None
    except StoreError as exc:
        raise click.ClickException(f"Помилка пристрою / device error: {exc}") from None
    finally:
        store.close()


def _read_envelope(package_file: Path) -> object:
    try:
        if package_file.stat().st_size > 64 * 1024 * 1024:
            raise ValueError("larger than 64 MB")
        return json.loads(package_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise click.ClickException(
            f"Файл пакета не прочитано / cannot read the package: {exc!s:.200}"
        ) from None


def _package_from_file(package_file: Path, server_key: str) -> dict:
    from kiosk.cli import PACKAGE_REFUSALS
    from sync import protocol
    from sync.protocol import ProtocolError

    envelope = _read_envelope(package_file)
    try:
        package = protocol.open_package(envelope, server_key.strip())
        if package.get("server_key") != server_key.strip():
            raise ProtocolError("package.server_key")
    except ProtocolError as exc:
        reason = PACKAGE_REFUSALS.get(exc.code, exc.code)
        raise click.ClickException(f"Пакет не прийнято / package refused: {reason}") from None
    return package


def _resident_cycle(package: dict, cycle_id: int) -> dict:
    from sync.clock import datetime_from_ms, system_clock_ms
    from sync.packages import NOT_RESIDENTS_KINDS, cycle_by_id, parse_time

    cycle = cycle_by_id(package, cycle_id)
    if not isinstance(cycle, dict) or cycle.get("kind") in NOT_RESIDENTS_KINDS:
        raise _fail("ballots.no_cycle", str(cycle_id))
    now: datetime = datetime_from_ms(system_clock_ms())
    try:
        ended = now >= parse_time(cycle["voting_ends_at"])
    except (KeyError, TypeError, ValueError):
        raise _fail("forms.cycle", "voting_ends_at") from None
    if ended:
        raise _fail("ballots.cycle_ended", str(cycle_id))
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


@ballots_group.command("print")
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
@click.option("--cycle", "cycle_id", required=True, type=int, help="The cycle's id (as in the package).")
@click.option("--device", default=None, help="The support point's code, e.g. S-0001 (taken from --store).")
@click.option("--first", default=1, show_default=True, type=int, help="Number of the first sheet (1-999999).")
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
    cycle_id: int,
    device: str | None,
    first: int,
    count: int,
    out_path: Path,
    layout_path: Path | None,
    locale: str,
    as_json: bool,
) -> None:
    """Print blank ballot sheets of an open cycle as a PDF, one sheet per serial
    (S0001-000001, ...), each page with its QR code."""
    from .forms import print_forms
    from .layout import LayoutError
    from .serials import SerialError, form_key, serial_range

    if not 1 <= count <= MAX_SHEETS:
        raise _fail("ballots.count", str(count))
    if store_path is None and package_file is None:
        raise _fail("ballots.source")
    if store_path is not None:
        package, enrolled = _package_from_store(store_path, package_file)
        if device is not None and device != enrolled:
            raise _fail("ballots.device_mismatch", f"{device!r:.40} ≠ {enrolled}")
        device = enrolled
    else:
        if not server_key:
            raise _fail("ballots.no_key")
        assert package_file is not None
        package = _package_from_file(package_file, server_key)
    if device is None:
        raise _fail("ballots.device", "--device")
    try:
        serials = serial_range(device, first, count)
        secret = package.get("voter_key_secret")
        if not isinstance(secret, str):
            raise _fail("ballots.no_secret")
        try:
            key = form_key(bytes.fromhex(secret))
        except ValueError:
            raise _fail("ballots.no_secret") from None
        cycle = _resident_cycle(package, cycle_id)
        holder: dict = {}
        _write_atomically(
            out_path, lambda out: holder.update(layout=print_forms(cycle, serials, key, out, locale=locale))
        )
        layout = holder["layout"]
        if layout_path is not None:
            _write_atomically(layout_path, lambda out: out.write(layout.to_json().encode()))
    except (SerialError, LayoutError) as exc:
        raise _fail(exc.code, exc.detail) from None
    except OSError as exc:
        raise click.ClickException(f"Файл не записано / cannot write the file: {exc}") from None
    pages = len(layout.pages)
    if as_json:
        line = {
            "cycle_id": cycle_id,
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
        f"Надруковано {count} арк. ({serials[0]} … {serials[-1]}), {pages} стор. на аркуш: {out_path}"
        f" / printed {count} sheets ({serials[0]} … {serials[-1]}), {pages} pages per sheet: {out_path}"
    )


def _printable_name(name: str) -> str:
    """A file name as it may be shown on a terminal: control and direction characters
    (a name can carry an RTL override that reorders the line) become "?"."""
    import unicodedata

    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in name)[:300]


@ballots_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The support point's device file: the cycles and the community key of its current package.",
)
@click.option(
    "--package",
    "package_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed package envelope (JSON), checked with --server-key or the key of --store.",
)
@click.option("--server-key", default=None, help="The server's public key (base64) to check --package with.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per sheet page.")
def import_command(
    paths: tuple[Path, ...],
    store_path: Path | None,
    package_file: Path | None,
    server_key: str | None,
    as_json: bool,
) -> None:
    """Read scanned or photographed ballot sheets (PNG, JPEG, TIFF, PDF; a folder means
    its files): per page the serial, the outcome (accepted, needs_review, rejected), the
    reasons, and each project's box as marked, unmarked or marginal with its ink score.
    Nothing is stored or counted yet."""
    from .reader import read_files, reader_for_package

    if store_path is None and package_file is None:
        raise _fail("ballots.source")
    if store_path is not None:
        package, _device = _package_from_store(store_path, package_file)
    else:
        if not server_key:
            raise _fail("ballots.no_key")
        assert package_file is not None
        package = _package_from_file(package_file, server_key)
    try:
        reader = reader_for_package(package)
    except ValueError:
        raise _fail("ballots.no_secret") from None
    counts = {"accepted": 0, "needs_review": 0, "rejected": 0}
    for reading in read_files(paths, reader):
        counts[reading.outcome] += 1
        verdicts = {
            v: [b.project_id for b in reading.boxes if b.verdict == v]
            for v in ("marked", "unmarked", "marginal")
        }
        if as_json:
            line = {
                "file": reading.file,
                "page": reading.page_index + 1,
                "serial": reading.serial,
                "sheet_page": reading.page,
                "cycle_id": reading.cycle_id,
                "outcome": reading.outcome,
                "reasons": reading.reasons,
                **verdicts,
                "scores": {str(b.project_id): round(b.score, 4) for b in reading.boxes},
                "image_sha256": reading.image_sha256,
            }
            click.echo(json.dumps(line, ensure_ascii=False))
            continue
        outcome = {"accepted": "прийнято / accepted", "needs_review": "на перевірку / needs review",
                   "rejected": "відхилено / rejected"}[reading.outcome]  # fmt: skip
        why = "; ".join(f"{message(code, 'uk')} / {message(code, 'en')}" for code in reading.reasons)
        click.echo(
            f"{_printable_name(reading.file)} [{reading.page_index + 1}] {reading.serial or '—'}: {outcome}"
            f"{' — ' + why if why else ''}; позначено / marked: {verdicts['marked'] or '—'}"
        )
    if not as_json:
        ok, review, refused = counts["accepted"], counts["needs_review"], counts["rejected"]
        click.echo(
            f"Прийнято {ok}, на перевірку {review}, відхилено {refused}"
            f" / accepted {ok}, needs review {review}, rejected {refused}"
        )
