"""What a stored sheet counts as now: its state, computed, never edited by hand.

`evaluate` (pure) works it out from the sheet's page readings, the decisions recorded
about it and its cycle's rules; paper.review stores the result after every import and
every decision.

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

A poll sheet (its sheet keyed by the poll's form id, `rules` a paper.poll_layout.PollSheet)
is judged the same way, its marked boxes read as answers against the poll's rule
(paper.poll_answers.sheet_answers); its `selections` are the marked boxes' ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paper.poll_answers import sheet_answers
from paper.poll_layout import PollSheet
from paper.reading import MARGINAL, MARKED, UNMARKED
from paper.sheet_records import Decision, SheetRow, StoredPage
from sync.cycle_package import PackagedCycle

__all__ = ["DECIDED", "PageSlot", "SheetBox", "SheetRules", "SheetState", "evaluate"]

DECIDED = (MARKED, UNMARKED)
# What a sheet is judged by: its cycle (a ballot) or its poll's sheet, by form id.
SheetRules = PackagedCycle | PollSheet
# voting.Ballot's problem codes, as the sheet reasons the review page explains
_RULE_REASONS = {
    "ballot.empty": "sheet.blank",
    "ballot.too_many_in_category": "sheet.overvote",
    "ballot.too_many_total": "sheet.overvote",
    "ballot.over_category_budget": "sheet.over_budget",
    "ballot.too_few_in_category": "sheet.undervote",
    "ballot.too_few_total": "sheet.undervote",
}


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


def _latest(decisions: list[Decision], kinds: tuple[str, ...], **match: object) -> Decision | None:
    found = None
    for decision in decisions:  # in id order: the last match is the one that stands
        if decision.kind in kinds and all(getattr(decision, k) == v for k, v in match.items()):
            found = decision
    return found


def evaluate(
    sheet: SheetRow,
    pages: list[StoredPage],
    decisions: list[Decision],
    cycle: SheetRules | None,
) -> SheetState:
    """What the sheet counts as now (pure: reads nothing, writes nothing); `cycle`: the
    rules it is judged by, a ballot's cycle or a poll's sheet."""
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
            reasons.append("poll_sheet.no_poll" if sheet.cycle_id < 0 else "ballots.no_cycle")
        elif isinstance(cycle, PollSheet):
            reasons.extend(sheet_answers(cycle, selections)[1])
        else:
            try:
                problems = cycle.ballot().check(selections)
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
