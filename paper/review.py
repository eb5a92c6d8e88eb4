"""The review core: the decisions people make about a stored sheet, and its state kept.

A sheet's state is computed, never edited by hand (paper.sheet_state.evaluate, pure).
`refresh` stores the result after every import and every decision; `keep_reading`
stores a page reading and refreshes its sheet.

Decisions are append-only and the latest of each kind stands. A form carries the id of
the decision its page showed (`seen`, 0 when none stood, as for a box the reader read
clearly and nobody has touched); when someone else decided the same box in the
meantime, the later form is refused (review.decided_meanwhile) and the first decision
stands: two operators with the same sheet open must not silently overrule each other.
The refused operator sees the other's decision and may change it explicitly, which is
then a new decision under their name that names the one it replaces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from paper.reading import REJECTED, SheetReading
from paper.serials import is_serial
from paper.sheet_records import Decision, SheetRow, StoredPage
from paper.sheet_state import DECIDED, SheetRules, SheetState, evaluate

__all__ = [
    "ReviewError",
    "ReviewStore",
    "choose_page",
    "clean_operator",
    "clean_reason",
    "decide_box",
    "keep_reading",
    "refresh",
    "restore_sheet",
    "spoil_sheet",
]


class ReviewStore(Protocol):
    """Where sheets are kept while they are reviewed: paper.sheet_store.SheetStore at a
    support point, server.paper.scan_store.ServerSheetStore on the server."""

    def write(self) -> AbstractContextManager[object]: ...

    def add_reading(self, reading: SheetReading, preview: bytes | None, now_ms: int) -> StoredPage | None: ...

    def sheet(self, cycle_id: int, serial: str) -> SheetRow | None: ...

    def pages_of(self, cycle_id: int, serial: str) -> list[StoredPage]: ...

    def decisions(self, cycle_id: int, serial: str) -> list[Decision]: ...

    def save_state(
        self,
        cycle_id: int,
        serial: str,
        state: str,
        reasons: Iterable[str],
        selections: Iterable[int],
        ready_at_ms: int | None,
    ) -> None: ...

    def add_decision(
        self,
        cycle_id: int,
        serial: str,
        kind: str,
        *,
        operator: str,
        now_ms: int,
        page_id: int | None = None,
        page_no: int | None = None,
        project_id: int | None = None,
        verdict: str | None = None,
        reason: str | None = None,
        replaces: int | None = None,
    ) -> int: ...


MAX_OPERATOR = 80
MAX_REASON = 300


class ReviewError(ValueError):
    """A decision refused; `code` is a message code (paper.messages)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def _text(value: object, most: int, code: str) -> str:
    """One line of a person's text: no control or direction characters (an RTL
    override would reorder what the next operator reads), 1..`most` characters."""
    if not isinstance(value, str):
        raise ReviewError(code, f"a {type(value).__name__}, not text")
    text = " ".join(value.split())
    if not text or len(text) > most:
        raise ReviewError(code, f"{len(text)} characters, 1..{most} allowed")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
        raise ReviewError(code, "control or formatting characters")
    return text


def clean_operator(name: object) -> str:
    return _text(name, MAX_OPERATOR, "review.operator")


def clean_reason(reason: object) -> str:
    return _text(reason, MAX_REASON, "review.reason")


def refresh(
    store: ReviewStore, cycle_id: int, serial: str, cycles: Mapping[int, SheetRules], now_ms: int
) -> SheetState:
    """Compute the sheet's state and store it. The moment a sheet becomes ready is kept
    (the vote's cast time, `now_ms` being server-corrected); a sheet that leaves ready
    loses it, and gets a new one when it is ready again."""
    with store.write():
        sheet = store.sheet(cycle_id, serial)
        if sheet is None:
            raise ReviewError("review.no_sheet", f"{cycle_id}/{serial!r:.40}")
        state = evaluate(
            sheet, store.pages_of(cycle_id, serial), store.decisions(cycle_id, serial), cycles.get(cycle_id)
        )
        if sheet.state != "committed":
            ready_at = (sheet.ready_at_ms or now_ms) if state.state == "ready" else None
            store.save_state(cycle_id, serial, state.state, state.reasons, state.selections, ready_at)
        return state


def keep_reading(
    store: ReviewStore,
    reading: SheetReading,
    preview: bytes | None,
    *,
    cycles: Mapping[int, SheetRules],
    serial_prefix: str,
    now_ms: int,
) -> tuple[str, list[str]]:
    """Store one page reading and say what became of it: (outcome, reasons), the outcome
    being the reader's, or "duplicate" when this image's page was kept before."""
    if reading.serial is not None and reading.outcome != REJECTED:
        if not is_serial(reading.serial):
            reading.outcome, reading.reasons = REJECTED, ["sheet.serial_format"]
        elif not reading.serial.startswith(serial_prefix + "-"):
            # Printed by another support point: its votes are that point's to send
            # (the server takes a sheet's serial only from the point that printed it).
            reading.outcome, reading.reasons = REJECTED, ["sheet.other_point"]
        if reading.outcome == REJECTED:
            reading.selections = []
    stored = store.add_reading(reading, preview, now_ms)
    if stored is None:
        return "duplicate", []
    if reading.outcome == REJECTED or reading.serial is None or reading.cycle_id is None:
        return reading.outcome, list(reading.reasons)
    sheet = store.sheet(reading.cycle_id, reading.serial)
    state = refresh(store, reading.cycle_id, reading.serial, cycles, now_ms)
    reasons = list(reading.reasons)
    if sheet is not None and sheet.state == "committed":
        reasons.append("sheet.already_committed")
    elif "sheet.duplicate_serial" in state.reasons:
        reasons.append("sheet.duplicate_serial")
    outcome = "needs_review" if reasons else reading.outcome
    return outcome, list(dict.fromkeys(reasons))


def _open_sheet(
    store: ReviewStore, cycle_id: int, serial: str, cycles: Mapping[int, SheetRules]
) -> SheetState:
    sheet = store.sheet(cycle_id, serial)
    if sheet is None:
        raise ReviewError("review.no_sheet", f"{cycle_id}/{serial!r:.40}")
    if sheet.state == "committed":
        raise ReviewError("review.committed", serial)
    return evaluate(
        sheet, store.pages_of(cycle_id, serial), store.decisions(cycle_id, serial), cycles.get(cycle_id)
    )


def _check_seen(current: Decision | None, seen: int) -> None:
    if (current.id if current else 0) != seen:
        who = f"{current.operator}" if current else "—"
        raise ReviewError("review.decided_meanwhile", who)


def decide_box(
    store: ReviewStore,
    cycle_id: int,
    serial: str,
    *,
    page_id: int,
    project_id: int,
    verdict: str,
    seen: int,
    operator: str,
    cycles: Mapping[int, SheetRules],
    now_ms: int,
    reason: str | None = None,
) -> SheetState:
    """Record "marked" / "not marked" for any box of the sheet's chosen reading.

    A marginal box needs one to count at all; any other box may be corrected (a shadow,
    a fold or a stain the reader took for ink). Going against what stands (a clear
    reading, or an earlier decision) needs the operator's reason; a reason given when
    none is needed is kept too. Setting a box back to the reader's own verdict is a
    decision like any other: the record shows the correction was taken back, by whom.
    """
    operator = clean_operator(operator)
    if verdict not in DECIDED:
        raise ReviewError("review.bad_form", f"verdict {verdict!r:.20}")
    if reason is not None and not isinstance(reason, str):
        raise ReviewError("review.reason", f"a {type(reason).__name__}, not text")
    # An empty field is no reason; anything else must be a clean one, needed or not.
    reason = clean_reason(reason) if reason and reason.strip() else None
    with store.write():
        state = _open_sheet(store, cycle_id, serial, cycles)
        box = state.box(page_id, project_id)
        if box is None:
            raise ReviewError("review.no_box", f"page {page_id}, project {project_id}")
        _check_seen(box.decision, seen)
        if box.decision is not None and box.decision.verdict == verdict:
            return state  # the same answer again (a double click) records nothing new
        if reason is None and box.needs_reason(verdict):
            raise ReviewError("review.override_reason", f"page {page_id}, project {project_id}")
        store.add_decision(
            cycle_id,
            serial,
            "box",
            operator=operator,
            now_ms=now_ms,
            page_id=page_id,
            project_id=project_id,
            verdict=verdict,
            reason=reason,
            replaces=box.decision.id if box.decision else None,
        )
        return refresh(store, cycle_id, serial, cycles, now_ms)


def choose_page(
    store: ReviewStore,
    cycle_id: int,
    serial: str,
    *,
    page_id: int,
    seen: int,
    operator: str,
    cycles: Mapping[int, SheetRules],
    now_ms: int,
) -> SheetState:
    """Choose which of several scans of the same page is the paper that counts."""
    operator = clean_operator(operator)
    with store.write():
        state = _open_sheet(store, cycle_id, serial, cycles)
        slot = next((s for s in state.slots if any(p.id == page_id for p in s.candidates)), None)
        if slot is None or len(slot.candidates) < 2:
            raise ReviewError("review.not_unclear", f"page {page_id}")
        _check_seen(slot.choice, seen)
        store.add_decision(
            cycle_id,
            serial,
            "page",
            operator=operator,
            now_ms=now_ms,
            page_id=page_id,
            page_no=slot.page_no,
            replaces=slot.choice.id if slot.choice else None,
        )
        return refresh(store, cycle_id, serial, cycles, now_ms)


def spoil_sheet(
    store: ReviewStore,
    cycle_id: int,
    serial: str,
    *,
    reason: str,
    seen: int,
    operator: str,
    cycles: Mapping[int, SheetRules],
    now_ms: int,
) -> SheetState:
    """Set the sheet aside as spoiled (not counted), with the operator's reason."""
    operator, reason = clean_operator(operator), clean_reason(reason)
    with store.write():
        state = _open_sheet(store, cycle_id, serial, cycles)
        _check_seen(state.spoil, seen)
        if state.state == "spoiled":
            raise ReviewError("review.already_spoiled", serial)
        store.add_decision(
            cycle_id,
            serial,
            "spoil",
            operator=operator,
            now_ms=now_ms,
            reason=reason,
            replaces=state.spoil.id if state.spoil else None,
        )
        return refresh(store, cycle_id, serial, cycles, now_ms)


def restore_sheet(
    store: ReviewStore,
    cycle_id: int,
    serial: str,
    *,
    seen: int,
    operator: str,
    cycles: Mapping[int, SheetRules],
    now_ms: int,
) -> SheetState:
    """Take back a spoiled sheet's spoiling (a mistake): it is judged again."""
    operator = clean_operator(operator)
    with store.write():
        state = _open_sheet(store, cycle_id, serial, cycles)
        _check_seen(state.spoil, seen)
        if state.state != "spoiled":
            raise ReviewError("review.not_spoiled", serial)
        assert state.spoil is not None
        store.add_decision(
            cycle_id, serial, "restore", operator=operator, now_ms=now_ms, replaces=state.spoil.id
        )
        return refresh(store, cycle_id, serial, cycles, now_ms)
