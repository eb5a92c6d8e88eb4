"""What `spilno hardware check` finds: each configured device, whether it works, and why
not. Plain functions returning dicts, so the CLI only prints them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .card_reader import CardError, CardPresent, CardReader, CardState, NoCard, NoReader
from .factory import get_card_reader, get_printer
from .printer import Receipt, ReceiptPrinter
from .texts import both


def check_reader(reader: CardReader, configured: str) -> dict[str, Any]:
    state = reader.state()
    line: dict[str, Any] = {"device": "reader", "configured": configured, "state": _state_name(state)}
    # A reader works when it answers: with no card, or with a card it could read.
    line["ok"] = isinstance(state, NoCard | CardPresent)
    if isinstance(state, NoReader):
        line["detail"] = state.detail or "no reader"
    else:
        line["reader"] = state.reader
    if isinstance(state, CardPresent):
        # Card ids identify residents and are never stored (DESIGN.md); the tail is
        # enough for staff to tell two test cards apart.
        line["card_id_tail"] = state.card_id[-4:]
        line["atr"] = state.atr
    if isinstance(state, CardError):
        line["detail"] = state.detail
    return line


def check_camera(camera: int | str, seconds: float = 1.0) -> dict[str, Any]:
    line: dict[str, Any] = {"device": "camera", "configured": str(camera)}
    if str(camera).strip().lower() == "fake":
        return {**line, "ok": True, "detail": "a fake camera (codes shown by software)"}
    from .camera_scanner import default_decoder, probe_camera

    # Every frame is decoded as the kiosk would, so staff can hold a code card up during
    # the check and see it counted, and the decode time shows a camera too big for the
    # terminal's processor. The codes themselves are not shown: a voting code is a
    # credential, and the check's output ends up in support tickets.
    decoder_name, decoder = default_decoder()
    probe = probe_camera(camera, seconds, decoder=decoder)
    line.update(
        ok=probe.opened and probe.frames > 0,
        opened=probe.opened,
        width=probe.width,
        height=probe.height,
        measured_fps=probe.measured_fps,
        declared_fps=probe.declared_fps,
        decoder=decoder_name,
        codes_read=probe.codes_read,
        decode_ms=probe.decode_ms,
    )
    if probe.detail:
        line["detail"] = probe.detail
    return line


def check_printer(printer: ReceiptPrinter, configured: str, *, print_test: bool = False) -> dict[str, Any]:
    line: dict[str, Any] = {"device": "printer", "configured": configured}
    if configured.strip().lower() == "none":
        return {**line, "ok": True, "detail": "no printer configured: receipt codes are shown on screen only"}
    from .printers import LpPrinter, QueueState

    if isinstance(printer, LpPrinter):
        # A CUPS queue has more to say than yes or no: paused, refusing jobs, no such
        # queue, no scheduler; scripts read it from "state".
        status = printer.queue_status()
        line.update(ok=status.state is QueueState.READY, state=str(status.state), detail=status.detail)
    else:
        ready = printer.ready()
        line.update(ok=ready.printed, detail=ready.detail)
    if line["ok"] and print_test:
        printed = printer.print_receipt(sample_receipt())
        line.update(ok=printed.printed, test_print=printed.printed, detail=printed.detail or line["detail"])
    return line


def check_all(
    config: Mapping[str, Any], *, camera_seconds: float = 1.0, print_test: bool = False
) -> list[dict]:
    """Every device of `config` (see hardware.factory), checked in turn."""
    reader = get_card_reader(config)
    printer = get_printer(config)  # before any slow check: a wrong setting fails at once
    try:
        lines = [check_reader(reader, str(config.get("reader", "fake")))]
    finally:
        reader.close()
    lines.append(check_camera(config.get("camera", "fake"), camera_seconds))
    lines.append(check_printer(printer, str(config.get("printer", "none")), print_test=print_test))
    return lines


def sample_receipt() -> Receipt:
    lines = [both("Перевірка принтера"), both("Це не голос")]
    return Receipt("TEST-0000", both("Перевірка обладнання"), "—", datetime.now(UTC), lines)


def _state_name(state: CardState) -> str:
    return {NoReader: "no_reader", NoCard: "no_card", CardPresent: "card_present", CardError: "card_error"}[
        type(state)
    ]
