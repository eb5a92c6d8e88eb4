"""The review core: what a stored sheet counts as, and the decisions people make about it.

A sheet's state is computed, never edited by hand: from its page readings, the
decisions recorded about it and its cycle's rules (`evaluate`, pure). `refresh` stores
the result after every import and every decision.

- Each page of the printed sheet needs exactly one reading to count. Two different
  images of the same serial and page (a rescan, or a copied ballot) leave the page
  undecided (sheet.duplicate_serial) until a person chooses the scan that is the paper.
- Each marginal box of the chosen reading needs a person's "marked" / "not marked".
  Any other box of it may be corrected too: the reader can be sure and wrong (a phone's
  shadow read as ink in every box), so a person's "box" decision about ANY box of the
  chosen reading overrides the reader's verdict. Going against a clear reading, or
  against a decision already made, needs a reason: the record then says who, when and
  why, and the next person can judge the change rather than guess at it.
- Then the whole sheet, all pages together, is checked against the cycle's rules (a
  category or total overvote/undervote, a blank sheet): a breach stays in review with
  its reason; the operator's way out is to spoil the sheet ("відхилити аркуш").

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
from dataclasses import dataclass, field
from typing import Any, Protocol

from paper.reading import MARGINAL, MARKED, REJECTED, UNMARKED, SheetReading
from paper.serials import is_serial
from paper.sheet_store import Decision, SheetRow, StoredPage

__all__ = [
    "PageSlot",
    "ReviewError",
    "ReviewStore",
    "SheetBox",
    "SheetState",
    "choose_page",
    "clean_operator",
    "clean_reason",
    "decide_box",
    "evaluate",
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
DECIDED = (MARKED, UNMARKED)
# voting.Ballot's problem codes, as the sheet reasons the review page explains
_RULE_REASONS = {
    "ballot.empty": "sheet.blank",
    "ballot.too_many_in_category": "sheet.overvote",
    "ballot.too_many_total": "sheet.overvote",
    "ballot.over_category_budget": "sheet.over_budget",
    "ballot.too_few_in_category": "sheet.undervote",
    "ballot.too_few_total": "sheet.undervote",
}


class ReviewError(ValueError):
    """A decision refused; `code` is a message code (paper.messages)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SheetBox:
    """One box of a chosen page reading: what the reader saw and what a person decided.

    `history` holds every box decision about it, oldest first (the last one stands):
    the page shows who changed what, when and why."""

    page_id: int
    page_no: int
    project_id: int
    score: float
    read: str  # the reader's verdict: marked | unmarked | marginal
    decision: Decision | None  # the one that stands, None while nobody decided
    history: tuple[Decision, ...] = ()

    @property
    def verdict(self) -> str | None:
        """What the box counts as now: the person's decision, else a clear reading;
        None for a marginal box nobody decided yet."""
        if self.decision is not None:
            return self.decision.verdict
        return self.read if self.read in DECIDED else None

    @property
    def marginal(self) -> bool:
        return self.read == MARGINAL

    @property
    def overridden(self) -> bool:
        """A person counts it otherwise than the reader clearly read it."""
        return self.decision is not None and self.read in DECIDED and self.decision.verdict != self.read

    def needs_reason(self, verdict: str) -> bool:
        """Whether deciding `verdict` goes against what stands: a clear reading, or a
        decision already made. Deciding an undecided marginal box, or confirming the
        reader's clear verdict, is no disagreement and needs none."""
        if self.decision is not None:
            return verdict != self.decision.verdict
        return self.read in DECIDED and verdict != self.read


@dataclass(slots=True)
class PageSlot:
    page_no: int
    candidates: list[StoredPage]  # readings of this page that may count, oldest first
    chosen: StoredPage | None
    choice: Decision | None  # the decision that chose among several candidates


@dataclass(slots=True)
class SheetState:
    state: str  # review | ready | spoiled | committed
    reasons: list[str]
    selections: list[int]
    slots: list[PageSlot] = field(default_factory=list)
    unclear: list[SheetBox] = field(default_factory=list)  # the marginal boxes among `boxes`
    spoil: Decision | None = None  # the spoil or restore decision that stands
    boxes: list[SheetBox] = field(default_factory=list)  # every box of the chosen readings

    def box(self, page_id: int, project_id: int) -> SheetBox | None:
        return next((b for b in self.boxes if b.page_id == page_id and b.project_id == project_id), None)

    def boxes_marginal_first(self) -> list[SheetBox]:
        """Every box as the review pages list it: the marginal ones first (they wait for
        a person), then the rest in page and form order (sorted() keeps that order)."""
        return sorted(self.boxes, key=lambda box: not box.marginal)


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


def _latest(decisions: list[Decision], kinds: tuple[str, ...], **match: object) -> Decision | None:
    found = None
    for decision in decisions:  # in id order: the last match is the one that stands
        if decision.kind in kinds and all(getattr(decision, k) == v for k, v in match.items()):
            found = decision
    return found


def evaluate(
    sheet: SheetRow, pages: list[StoredPage], decisions: list[Decision], cycle: dict[str, Any] | None
) -> SheetState:
    """What the sheet counts as now (pure: reads nothing, writes nothing)."""
    from sync.packages import ballot_for_cycle

    reasons: list[str] = []
    selections: list[int] = []
    slots: list[PageSlot] = []
    boxes: list[SheetBox] = []
    # Each box's decisions, oldest first (decisions come in id order): the last stands.
    box_decisions: dict[tuple[int | None, int | None], list[Decision]] = {}
    for decision in decisions:
        if decision.kind == "box":
            box_decisions.setdefault((decision.page_id, decision.project_id), []).append(decision)
    for page_no in range(1, sheet.pages_total + 1):
        candidates = [p for p in pages if p.page_no == page_no and p.pages_total == sheet.pages_total]
        ids = {p.id for p in candidates}
        choice = _latest(decisions, ("page",), page_no=page_no)
        if choice is not None and choice.page_id not in ids:
            choice = None
        chosen = None
        if not candidates:
            reasons.append("sheet.missing_page")
        elif len(candidates) == 1:
            chosen = candidates[0]
        elif choice is not None:
            chosen = next(p for p in candidates if p.id == choice.page_id)
        else:
            reasons.append("sheet.duplicate_serial")
        slots.append(PageSlot(page_no, candidates, chosen, choice))
        if chosen is None:
            continue
        for box in chosen.boxes:
            history = tuple(box_decisions.get((chosen.id, box.project_id), ()))
            sheet_box = SheetBox(
                chosen.id,
                page_no,
                box.project_id,
                box.score,
                box.verdict,
                history[-1] if history else None,
                history,
            )
            boxes.append(sheet_box)
            if sheet_box.verdict == MARKED:
                selections.append(box.project_id)
            elif sheet_box.verdict is None:
                reasons.append("sheet.marginal_mark")
    if not reasons:  # the rules judge only a sheet whose every mark is known
        if cycle is None:
            reasons.append("ballots.no_cycle")
        else:
            try:
                problems = ballot_for_cycle(cycle).check(selections)
            except (KeyError, TypeError, ValueError):
                problems = []
                reasons.append("forms.cycle")
            codes = [p.code for p in problems]
            # A blank sheet is just that: not also "too few in every category".
            codes = ["ballot.empty"] if "ballot.empty" in codes else codes
            reasons.extend(_RULE_REASONS.get(code, "sheet.unknown_layout") for code in codes)
    reasons = list(dict.fromkeys(reasons))
    spoil = _latest(decisions, ("spoil", "restore"))
    if sheet.state == "committed":
        state = "committed"
    elif spoil is not None and spoil.kind == "spoil":
        state = "spoiled"
    else:
        state = "review" if reasons else "ready"
    unclear = [box for box in boxes if box.marginal]
    return SheetState(state, reasons, sorted(set(selections)), slots, unclear, spoil, boxes)


def refresh(
    store: ReviewStore, cycle_id: int, serial: str, cycles: Mapping[int, dict[str, Any]], now_ms: int
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
    cycles: Mapping[int, dict[str, Any]],
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
    store: ReviewStore, cycle_id: int, serial: str, cycles: Mapping[int, dict[str, Any]]
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
    cycles: Mapping[int, dict[str, Any]],
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
    cycles: Mapping[int, dict[str, Any]],
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
    cycles: Mapping[int, dict[str, Any]],
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
    cycles: Mapping[int, dict[str, Any]],
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
