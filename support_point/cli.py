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

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from appkit.progress import FILES, Progress, progress_bar
from paper.messages import message
from support_point.issue_cli import cancel_command, issue_command

__all__ = ["ballots_group"]

ballots_group = click.Group(
    "ballots", help="Paper ballots at a support point: print blank sheets, read scanned ones."
)
ballots_group.add_command(issue_command)
ballots_group.add_command(cancel_command)

MAX_SHEETS = 5000  # ~10 minutes of a fast office printer; more is a mistyped number


def _fail(code: str, detail: str = "", **params: object) -> click.ClickException:
    text = f"{message(code, 'uk', **params)} / {message(code, 'en', **params)}"
    return click.ClickException(f"{text} ({detail})" if detail else text)


def _package_from_store(store_path: Path, package_file: Path | None) -> tuple[dict, str]:
    """The verified package and the device code of the support point's store."""
    from sync.device_store import DeviceStore, StoreError
    from sync.packages import PACKAGE_REFUSALS, accept_package
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
        assert package is not None  # with nothing held there is nothing to be the same as
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
    from sync import protocol
    from sync.packages import PACKAGE_REFUSALS
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
    cycle_id: int,
    device: str | None,
    first: int | None,
    count: int,
    out_path: Path,
    layout_path: Path | None,
    locale: str,
    as_json: bool,
) -> None:
    """Print blank ballot sheets of an open cycle as a PDF, one sheet per serial
    (S0001-000001, ...), each page with its QR code."""
    from paper.forms import print_forms
    from paper.layout import LayoutError
    from paper.serials import SerialError, form_key, serial_range

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
        serials = serial_range(device, 1 if first is None else first, count)
        secret = package.get("voter_key_secret")
        if not isinstance(secret, str):
            raise _fail("ballots.no_secret")
        try:
            key = form_key(bytes.fromhex(secret))
        except ValueError:
            raise _fail("ballots.no_secret") from None
        cycle = _resident_cycle(package, cycle_id)
        if store_path is not None:
            serials = _reserve_blank_serials(store_path, device, cycle_id, count, first)
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


def _reserve_blank_serials(
    store_path: Path, device: str, cycle_id: int, count: int, first: int | None
) -> list[str]:
    """The serials to print, recorded first in the support point's serial book, which
    personal sheets (`spilno ballots issue`) share: a serial is never handed out twice."""
    from paper.serials import SerialError
    from support_point.issue import reserve_blank_serials
    from support_point.issue_messages import both
    from sync.clock import system_clock_ms

    sheets = _open_sheets(store_path, None)
    try:
        return reserve_blank_serials(sheets, device, cycle_id, count, first=first, now_ms=system_clock_ms())
    except SerialError as exc:
        raise click.ClickException(both(exc.code)) from None
    finally:
        sheets.close()


def _printable_name(name: str) -> str:
    """A file name as it may be shown on a terminal: control and direction characters
    (a name can carry an RTL override that reorders the line) become "?"."""
    import unicodedata

    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in name)[:300]


@ballots_group.command("import")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
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
@click.option(
    "--sheets",
    "sheets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sheet store (default: beside --store, <store>.sheets.db).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per sheet page.")
@click.option(
    "--watch",
    is_flag=True,
    help="Keep watching the folders for the scanner's new files (needs --store; stop with Ctrl-C).",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 60),
    default=2.0,
    show_default=True,
    help="With --watch: seconds between looks; a file is read once unchanged for that long.",
)
@click.option(
    "--camera",
    metavar="SOURCE",
    default=None,
    help="Read the sheets shown to a camera instead of files: its index (0), a video file or a"
    " stream URL. Each sheet is read once, when held still; stop with Ctrl-C.",
)
@click.option(
    "--stop-after",
    type=click.FloatRange(0, 7 * 24 * 3600),
    default=None,
    help="With --watch or --camera: stop after this many seconds (a video file stops at its end too).",
)
def import_command(
    paths: tuple[Path, ...],
    store_path: Path | None,
    package_file: Path | None,
    server_key: str | None,
    sheets_path: Path | None,
    as_json: bool,
    watch: bool,
    interval: float,
    camera: str | None,
    stop_after: float | None,
) -> None:
    """Read scanned or photographed ballot sheets (PNG, JPEG, TIFF, PDF; a folder means
    its files): per page the serial, the outcome (accepted, needs_review, rejected,
    or duplicate: this image's page was kept before, or, from a camera, this sheet's page
    was kept and read the same), the reasons, and each project's box
    as marked, unmarked or marginal with its ink score. With --store every reading is
    kept in the sheet store for review and commit; without it nothing is stored. With
    --watch the folders are watched for the scanner's new files, each read once complete.
    With --camera SOURCE the sheets come from the support point's camera: lay or hold each
    one still under it; it is read once while in view, and shown again later and read the
    same, it is a duplicate. Progress is told on stderr, the readings on stdout as for files.
    A page refused before is reported as rejected again, with its reason. Exit status 1
    when a page of the files was rejected."""
    from paper.reader import read_files, reader_for_package
    from paper.sheet_store import read_with_previews

    if store_path is None and package_file is None:
        raise _fail("ballots.source")
    if (camera is None) == (not paths):
        raise _fail("ballots.camera_or_paths")
    if watch and (camera is not None or store_path is None or not all(p.is_dir() for p in paths)):
        raise _fail("ballots.watch_needs_folders")
    if sheets_path is not None and store_path is None:
        raise _fail("ballots.sheets_need_store")
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
    report = _Report(as_json)
    deadline = None if stop_after is None else time.monotonic() + stop_after
    stop = lambda: deadline is not None and time.monotonic() >= deadline  # noqa: E731
    if camera is not None:
        ended = _import_from_camera(camera, reader, package, store_path, sheets_path, stop, report)
        report.summary()
        if ended.state in ("no_frames", "ended_early"):
            raise _fail(f"camera.{ended.state}", ended.detail, frames=ended.frames, total=ended.total)
        return
    # A bar of files read, on a terminal: not while watching (the folder has no end).
    with progress_bar(FILES, quiet=as_json or watch) as bar:
        report.bar = bar
        if store_path is None:
            for reading in read_files(paths, reader, on_progress=bar.on_progress):
                report(reading, reading.outcome, reading.reasons)
        else:
            sources: Iterable[Path] = paths
            if watch:
                from support_point.watch import settled_files

                sources = settled_files(paths, interval_s=interval, stop=stop)
            with _sheet_keeper(package, store_path, sheets_path) as keep:
                for reading, preview in read_with_previews(sources, reader, on_progress=bar.on_progress):
                    report(reading, *keep(reading, preview))
    report.summary()
    if report.counts["rejected"]:
        raise SystemExit(1)  # a page was not read: a script must not take the stack as done


class _Report:
    """Each reading as one JSON line or one line of text, and the total at the end."""

    LABELS = {"accepted": "прийнято / accepted", "needs_review": "на перевірку / needs review",
              "rejected": "відхилено / rejected", "duplicate": "уже є / duplicate"}  # fmt: skip

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.counts = dict.fromkeys(self.LABELS, 0)
        self.bar = Progress("", shown=False)  # each line goes above the files' bar, if any

    def __call__(self, reading, outcome: str, reasons: list[str], **extra: object) -> None:
        self.counts[outcome] += 1
        verdicts = {
            v: [b.project_id for b in reading.boxes if b.verdict == v]
            for v in ("marked", "unmarked", "marginal")
        }
        if self.as_json:
            line = {
                "file": reading.file,
                "page": reading.page_index + 1,
                "serial": reading.serial,
                "sheet_page": reading.page,
                "cycle_id": reading.cycle_id,
                "outcome": outcome,
                "reasons": reasons,
                **verdicts,
                "scores": {str(b.project_id): round(b.score, 4) for b in reading.boxes},
                "image_sha256": reading.image_sha256,
                **extra,
            }
            click.echo(json.dumps(line, ensure_ascii=False))
            sys.stdout.flush()  # watching, or a camera: each page is reported as it is read
            return
        why = "; ".join(f"{message(code, 'uk')} / {message(code, 'en')}" for code in reasons)
        with self.bar.above():
            click.echo(
                f"{_printable_name(reading.file)} [{reading.page_index + 1}] {reading.serial or '—'}:"
                f" {self.LABELS[outcome]}{' — ' + why if why else ''};"
                f" позначено / marked: {verdicts['marked'] or '—'}"
            )
            sys.stdout.flush()

    def summary(self) -> None:
        if self.as_json:
            return
        ok, review, refused = self.counts["accepted"], self.counts["needs_review"], self.counts["rejected"]
        again = f", уже були {self.counts['duplicate']}" if self.counts["duplicate"] else ""
        again_en = f", duplicates {self.counts['duplicate']}" if self.counts["duplicate"] else ""
        click.echo(
            f"Прийнято {ok}, на перевірку {review}, відхилено {refused}{again}"
            f" / accepted {ok}, needs review {review}, rejected {refused}{again_en}"
        )


def _tell(code: str, **params: object) -> None:
    """Progress for the operator, on stderr (stdout carries the readings)."""
    click.echo(f"{message(code, 'uk', **params)} / {message(code, 'en', **params)}", err=True)


def _import_from_camera(camera: str, reader, package: dict, store_path, sheets_path, stop, report):
    """Read the sheets shown to `camera` until `stop()`, the end of a video or Ctrl-C;
    the camera's last status (hardware.sheet_camera.CameraStatus)."""
    from hardware.sheet_camera import CaptureFrameSource
    from support_point.camera_input import CameraSheetInput

    def on_status(status) -> None:
        if status.state == "lost":
            _tell("camera.lost")
        elif status.state == "reading" and status.frames:
            _tell("camera.back")

    source = CaptureFrameSource(camera, on_status=on_status)
    opened = source.open()
    if opened.state == "cannot_open":
        raise _fail("camera.cannot_open", opened.detail)
    try:
        with contextlib.ExitStack() as stack:
            keep = (
                stack.enter_context(_sheet_keeper(package, store_path, sheets_path)) if store_path else None
            )
            if 0 < min(opened.width, opened.height) < 1000:
                _tell("camera.low_resolution", size=f"{opened.width}×{opened.height}")
            sheets = CameraSheetInput(reader, source.name, on_hint=_tell)
            _tell("camera.place_sheet")
            try:
                for frame in source.frames(stop):
                    sheet = sheets.feed(frame)
                    if sheet is None:
                        continue
                    reading = sheet.reading
                    outcome, reasons = keep(sheet) if keep else (reading.outcome, reading.reasons)
                    report(reading, outcome, reasons, frame=sheet.frame, at_s=round(sheet.seconds, 2))
                    if reading.serial:
                        _tell("camera.read_next", serial=reading.serial)
                    else:
                        _tell("camera.next_sheet")
            except KeyboardInterrupt:
                pass  # Ctrl-C is how an operator ends a session: what was read is kept, and totalled
    finally:
        source.close()
    ended = source.status()
    if ended.state == "ended":
        _tell("camera.ended", frames=ended.frames)
    return ended


def _open_support_point(store_path: Path):
    """The support point's device store (open; the caller closes it), or a clear refusal."""
    from sync.device_store import DeviceStore

    if not store_path.is_file():
        raise click.ClickException(f"Файлу пристрою немає: {store_path} / no device file at {store_path}")
    store = DeviceStore(store_path)
    identity = store.identity()
    if identity is None or identity.kind != "support_point":
        store.close()
        raise _fail("sheets.not_support_point", identity.device if identity else str(store_path))
    return store, identity


def _open_sheets(store_path: Path, sheets_path: Path | None):
    import sqlite3

    from paper.sheet_store import SheetStore, sheets_path_for

    try:
        return SheetStore(sheets_path or sheets_path_for(store_path))
    except (sqlite3.Error, OSError) as exc:
        raise _fail("sheets.unreadable_store", f"{exc!s:.100}") from None


@contextlib.contextmanager
def _sheet_keeper(package: dict, store_path: Path, sheets_path: Path | None):
    """A function that keeps one reading in the support point's sheet store and says what
    became of it, (outcome, reasons): keep(reading, preview) for a file's page,
    keep(camera_sheet) for a camera's frame."""
    from paper.review import keep_reading
    from paper.serials import device_prefix
    from support_point.camera_input import CameraSheet, keep_camera_sheet
    from support_point.commit import cycles_of
    from sync.clock import system_clock_ms

    device_store, identity = _open_support_point(store_path)
    try:
        sheets = _open_sheets(store_path, sheets_path)
    except BaseException:
        device_store.close()
        raise
    cycles, prefix = cycles_of(package), device_prefix(identity.device)

    def keep(item, preview: bytes | None = None) -> tuple[str, list[str]]:
        # Server-corrected, as a terminal stamps its votes (sync.clock.server_time).
        now_ms = system_clock_ms() - device_store.clock_offset_ms()
        if isinstance(item, CameraSheet):
            return keep_camera_sheet(sheets, item, cycles=cycles, serial_prefix=prefix, now_ms=now_ms)
        outcome, reasons = keep_reading(
            sheets, item, preview, cycles=cycles, serial_prefix=prefix, now_ms=now_ms
        )
        if outcome == "duplicate" and item.outcome == "rejected":
            # A page refused before is refused again, with its reason: "already here"
            # would tell the operator it went in.
            return "rejected", list(item.reasons)
        return outcome, reasons

    try:
        yield keep
    finally:
        sheets.close()
        device_store.close()


_SHEETS_OPTION = click.option(
    "--sheets",
    "sheets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sheet store (default: beside --store, <store>.sheets.db).",
)
_STORE_OPTION = click.option(
    "--store",
    "store_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The support point's device file (made by `spilno device enrol`).",
)


@ballots_group.command("review")
@_STORE_OPTION
@_SHEETS_OPTION
@click.option("--port", default=8010, show_default=True, type=click.IntRange(1024, 65535), help="Local port.")
@click.option(
    "--pin-hash",
    envvar="SPILNO_SUPPORT_PIN_HASH",
    default=None,
    help="The operator PIN's hash (`spilno kiosk hash-pin`); or env SPILNO_SUPPORT_PIN_HASH.",
)
@click.option(
    "--reader",
    type=click.Choice(["none", "pcsc", "fake"]),
    default="none",
    show_default=True,
    help="The card reader for issuing sheets by card on «Видати бюлетень» (none: documents only).",
)
def review_command(
    store_path: Path, sheets_path: Path | None, port: int, pin_hash: str | None, reader: str
) -> None:
    """Serve the review page on http://127.0.0.1:PORT (this machine only), behind the
    operator's PIN: the sheets needing a person, oldest first, with every box to decide
    or correct (the unclear ones first, zoomed in), the whole page, and the button that
    records ready sheets as votes; and «Видати бюлетень», which issues personal sheets by
    card (--reader) or document."""
    from werkzeug.serving import run_simple

    from support_point.review_app import create_review_app, pin_hash_looks_valid

    if not pin_hash_looks_valid(pin_hash):
        raise _fail("review.no_pin_hash")
    device_store, _identity = _open_support_point(store_path)
    device_store.close()
    _open_sheets(store_path, sheets_path).close()
    app = create_review_app(
        {"STORE_PATH": str(store_path), "SHEETS_PATH": sheets_path, "PIN_HASH": pin_hash, "READER": reader}
    )
    click.echo(f"Сторінка перевірки / review page: http://127.0.0.1:{port}/")
    run_simple("127.0.0.1", port, app, threaded=True)


@ballots_group.command("commit")
@_STORE_OPTION
@_SHEETS_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per sheet, then a summary.")
def commit_command(store_path: Path, sheets_path: Path | None, as_json: bool) -> None:
    """Record every ready sheet as ONE paper vote in the device log (all its pages
    together, checked against the cycle's rules first); `spilno device sync` sends them.
    Sheets that break the rules stay in review with the reason. Safe to run again."""
    from support_point.commit import CommitError, commit_ready_sheets
    from sync.clock import system_clock_ms
    from sync.device_store import StoreError

    device_store, _identity = _open_support_point(store_path)
    sheets = _open_sheets(store_path, sheets_path)
    try:
        stored = device_store.package()
        now_ms = system_clock_ms() - device_store.clock_offset_ms()
        result = commit_ready_sheets(sheets, device_store, stored.package if stored else None, now_ms=now_ms)
    except CommitError as exc:
        raise _fail(exc.code, exc.detail) from None
    except StoreError as exc:
        raise click.ClickException(f"Помилка пристрою / device error: {exc}") from None
    finally:
        sheets.close()
        device_store.close()
    lines: list[dict[str, Any]] = [
        {"cycle_id": c, "serial": s, "outcome": "committed", "vote_id": v} for c, s, v in result.committed
    ]
    lines += [{"cycle_id": c, "serial": s, "outcome": "committed", "vote_id": v, "recovered": True}
              for c, s, v in result.recovered]  # fmt: skip
    lines += [
        {"cycle_id": c, "serial": s, "outcome": "needs_review", "reasons": r} for c, s, r in result.held
    ]
    committed = len(result.committed) + len(result.recovered)
    if as_json:
        for line in lines:
            click.echo(json.dumps(line, ensure_ascii=False))
        click.echo(json.dumps({"summary": True, "committed": committed, "needs_review": len(result.held)}))
        return
    for line in lines:
        why = "; ".join(f"{message(c, 'uk')} / {message(c, 'en')}" for c in line.get("reasons", []))
        state = (
            "голос записано / vote recorded" if line["outcome"] == "committed" else "на перевірці / in review"
        )
        click.echo(f"{line['serial']}: {state}{' — ' + why if why else ''}")
    click.echo(
        f"Записано голосів {committed}, на перевірці {len(result.held)}"
        f" / votes recorded {committed}, in review {len(result.held)}"
    )
