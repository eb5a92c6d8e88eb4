"""`spilno ballots import`: scanned, photographed or camera-shown sheets read and reported.

Files (PNG, JPEG, TIFF, PDF, or a folder of them), a watched scanner folder, or a
camera: each page is reported with its outcome, reasons, and each project's box as
marked, unmarked or marginal; with --store every reading is kept in the sheet store for
review and commit.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from appkit.progress import FILES, Progress, progress_bar
from paper.messages import message
from support_point.cli_common import (
    fail,
    open_sheets,
    open_support_point,
    package_from_file,
    package_from_store,
)
from support_point.texts import both

if TYPE_CHECKING:
    from sync.cycle_package import CyclePackage

__all__ = ["import_command"]


def _printable_name(name: str) -> str:
    """A file name as it may be shown on a terminal: control and direction characters
    (a name can carry an RTL override that reorders the line) become "?"."""
    import unicodedata

    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in name)[:300]


@click.command("import")
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
    from paper.reader import reader_for_package
    from paper.scan_files import read_files, read_with_previews

    if store_path is None and package_file is None:
        raise fail("ballots.source")
    if (camera is None) == (not paths):
        raise fail("ballots.camera_or_paths")
    if watch and (camera is not None or store_path is None or not all(p.is_dir() for p in paths)):
        raise fail("ballots.watch_needs_folders")
    if sheets_path is not None and store_path is None:
        raise fail("ballots.sheets_need_store")
    if store_path is not None:
        package, _device = package_from_store(store_path, package_file)
    else:
        if not server_key:
            raise fail("ballots.no_key")
        assert package_file is not None
        package = package_from_file(package_file, server_key)
    try:
        reader = reader_for_package(package)
    except ValueError:
        raise fail("ballots.no_secret") from None
    report = _Report(as_json)
    deadline = None if stop_after is None else time.monotonic() + stop_after
    stop = lambda: deadline is not None and time.monotonic() >= deadline  # noqa: E731
    if camera is not None:
        ended = _import_from_camera(camera, reader, package, store_path, sheets_path, stop, report)
        report.summary()
        if ended.state in ("no_frames", "ended_early"):
            raise fail(f"camera.{ended.state}", ended.detail, frames=ended.frames, total=ended.total)
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

    LABELS = {
        "accepted": "прийнято",
        "needs_review": "на перевірку",
        "rejected": "відхилено",
        "duplicate": "уже є",
    }

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
                **_form_of(reading.cycle_id),
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
                f" {both(self.LABELS[outcome])}{' — ' + why if why else ''};"
                f" {both('позначено')}: {verdicts['marked'] or '—'}"
            )
            sys.stdout.flush()

    def summary(self) -> None:
        if self.as_json:
            return
        ok, review, refused = self.counts["accepted"], self.counts["needs_review"], self.counts["rejected"]
        counts = {"ok": ok, "review": review, "refused": refused, "again": self.counts["duplicate"]}
        if counts["again"]:
            click.echo(
                both("Прийнято {ok}, на перевірку {review}, відхилено {refused}, уже були {again}", **counts)
            )
        else:
            click.echo(both("Прийнято {ok}, на перевірку {review}, відхилено {refused}", **counts))


def _form_of(form_id: int | None) -> dict[str, int | None]:
    """A reading's sheet in the JSON: {"cycle_id": …} for a ballot, {"cycle_id": null,
    "poll_id": …} for a poll sheet (kept under minus the poll's id)."""
    if form_id is not None and form_id < 0:
        return {"cycle_id": None, "poll_id": -form_id}
    return {"cycle_id": form_id}


def _tell(code: str, **params: object) -> None:
    """Progress for the operator, on stderr (stdout carries the readings)."""
    click.echo(f"{message(code, 'uk', **params)} / {message(code, 'en', **params)}", err=True)


def _import_from_camera(camera: str, reader, package: CyclePackage, store_path, sheets_path, stop, report):
    """Read the sheets shown to `camera` until `stop()`, the end of a video or Ctrl-C;
    the camera's last status (hardware.sheet_camera.CameraStatus)."""
    from hardware.sheet_capture import CaptureFrameSource
    from support_point.camera_input import CameraSheetInput

    def on_status(status) -> None:
        if status.state == "lost":
            _tell("camera.lost")
        elif status.state == "reading" and status.frames:
            _tell("camera.back")

    source = CaptureFrameSource(camera, on_status=on_status)
    opened = source.open()
    if opened.state == "cannot_open":
        raise fail("camera.cannot_open", opened.detail)
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


@contextlib.contextmanager
def _sheet_keeper(package: CyclePackage, store_path: Path, sheets_path: Path | None):
    """A function that keeps one reading in the support point's sheet store and says what
    became of it, (outcome, reasons): keep(reading, preview) for a file's page,
    keep(camera_sheet) for a camera's frame."""
    from paper.review import keep_reading
    from paper.serials import device_prefix
    from support_point.camera_input import CameraSheet, keep_camera_sheet
    from support_point.commit import cycles_of
    from sync.clock import system_clock_ms

    device_store, identity = open_support_point(store_path)
    try:
        sheets = open_sheets(store_path, sheets_path)
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
