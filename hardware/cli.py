"""`spilno hardware ...`: look at the terminal's card reader, camera and printer.

Messages are Ukrainian first, English after " / "; with --json one JSON object per line.
"""

from __future__ import annotations

import json

import click

from .check import check_all
from .factory import HardwareConfigError
from .texts import both

hardware_group = click.Group(
    "hardware", help="The terminal's card reader, camera and receipt printer: check that they work."
)


def _label(device: str) -> str:
    return {"reader": both("Зчитувач карток"), "camera": both("Камера"), "printer": both("Принтер")}[device]


_SHOWN = (
    "reader",
    "state",
    "card_id_tail",
    "width",
    "height",
    "measured_fps",
    "declared_fps",
    "decoder",
    "decode_ms",
    "codes_read",
    "detail",
)


@hardware_group.command("check")
@click.option(
    "--reader",
    default="pcsc",
    envvar="SPILNO_READER",
    show_default=True,
    help='"pcsc" for the real reader (through pcscd), "fake" for none.',
)
@click.option(
    "--reader-name", envvar="SPILNO_READER_NAME", help="Part of the reader's name, when several are attached."
)
@click.option(
    "--camera",
    default="0",
    envvar="SPILNO_CAMERA",
    show_default=True,
    help='A camera index, a video file, a stream URL, or "fake".',
)
@click.option(
    "--printer",
    default="none",
    envvar="SPILNO_PRINTER",
    show_default=True,
    help='"none", "lp:QUEUE" (CUPS), "file:DIR" (PDFs into a folder) or "memory".',
)
@click.option(
    "--seconds", default=1.0, show_default=True, help="How long to read the camera to measure its frame rate."
)
@click.option("--print-test", is_flag=True, help="Also print a sample receipt (marked as not a vote).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
def check_command(
    reader: str,
    reader_name: str | None,
    camera: str,
    printer: str,
    seconds: float,
    print_test: bool,
    as_json: bool,
) -> None:
    """Show what is connected and whether it works: the reader and the card on it, the
    camera's frame size and rate, the printer. Exit code 1 if anything configured fails."""
    config = {"reader": reader, "reader_name": reader_name, "camera": camera, "printer": printer}
    try:
        lines = check_all(config, camera_seconds=seconds, print_test=print_test)
    except HardwareConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    for line in lines:
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False, sort_keys=True))
        else:
            verdict = both("працює") if line["ok"] else both("НЕ ПРАЦЮЄ")
            facts = ", ".join(f"{key}: {line[key]}" for key in _SHOWN if line.get(key) not in (None, ""))
            click.echo(
                f"{_label(line['device'])} ({line['configured']}): {verdict}"
                + (f" — {facts}" if facts else "")
            )
    if not all(line["ok"] for line in lines):
        raise SystemExit(1)
