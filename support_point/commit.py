"""Committing ready sheets: each becomes ONE vote in the support point's device log.

The vote of a sheet (all its pages together):
    VoteRecord(vote_id   = uuid5 of "<device>/<cycle>/<serial>"  (the same on every retry),
               cycle_id  = the sheet's cycle,
               selections= the marked boxes, the person's decisions included,
               channel   = "paper",
               cast_at   = the moment the sheet became ready (server-corrected, stored in
                           the sheet row before the vote is appended),
               code_id   = "sheet_" + serial          (a blank sheet: it counts once per serial)
               voter_key = the key the sheet was issued to   (a personal sheet, instead of code_id)
               device_id = the support point's code)
appended with DeviceStore.append_votes, one transaction for the batch; the sync worker
or `spilno device sync` then sends them like a terminal's votes. A personal sheet
(support_point.issue) votes as its resident, so the count keeps one vote of theirs across
paper, terminals and online; a cancelled sheet is never committed.

Crash safety: appending (device store) and marking committed (sheet store) are two
files, so they cannot share a transaction. If the process dies between them, the next
commit finds the sheet still ready, makes the very same record (same id, same cast
time) and, finding that id in the device log already, only marks it committed: the log
never gets a second vote for a sheet.

Poll sheets (kept under their poll's form id, below zero) are committed in the same
call, as poll answers (support_point.poll_commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paper import issue_store
from paper.layout import LayoutError
from paper.poll_layout import PollSheet, poll_form_id, poll_sheet
from paper.review import refresh
from paper.sheet_state import SheetRules
from paper.sheet_store import SheetStore
from paper.sheet_vote import PAPER_VOTE_NAMESPACE, sheet_vote, sheet_vote_id
from support_point.poll_commit import commit_ready_poll_sheets
from sync.cycle_package import CyclePackage
from sync.device_store import DeviceStore

__all__ = ["PAPER_VOTE_NAMESPACE", "CommitError", "CommitResult", "commit_ready_sheets", "sheet_vote_id"]


class CommitError(ValueError):
    """Nothing was committed; `code` is a message code (paper.messages)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(slots=True)
class CommitResult:
    # (cycle, serial, vote id); a poll sheet: (minus the poll's id, serial, answer id)
    committed: list[tuple[int, str, str]] = field(default_factory=list)
    recovered: list[tuple[int, str, str]] = field(default_factory=list)  # found in the log after a crash
    held: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (cycle, serial, reasons)


def _logged(device_store: DeviceStore, vote_ids: list[str]) -> set[str]:
    """Which of `vote_ids` the device log already holds."""
    return device_store.logged_vote_ids(vote_ids)


def commit_ready_sheets(
    sheet_store: SheetStore, device_store: DeviceStore, package: CyclePackage | None, *, now_ms: int
) -> CommitResult:
    """Turn every ready sheet into its vote. Every sheet not yet committed is judged
    again first, with the whole sheet against its cycle's rules (`now_ms`:
    server-corrected, the cast time of a sheet that only now becomes ready)."""
    identity = device_store.require_identity()
    if identity.kind != "support_point":
        raise CommitError("ballots.not_support_point", identity.device)
    if package is None:
        raise CommitError("ballots.no_package")
    cycles = cycles_of(package)
    result = CommitResult()
    for sheet in sheet_store.sheets():
        if sheet.state in ("review", "ready"):
            state = refresh(sheet_store, sheet.cycle_id, sheet.serial, cycles, now_ms)
            if state.state == "review":
                result.held.append((sheet.cycle_id, sheet.serial, state.reasons))
    ready = []
    candidates = [s for s in sheet_store.sheets("ready") if s.cycle_id > 0]  # ballots; polls below
    issued = issue_store.issued_for(sheet_store, [s.serial for s in candidates])
    for sheet in candidates:
        personal = issued.get(sheet.serial)
        # Readings of a cancelled sheet, or of a personal sheet in another cycle, are
        # refused when kept (SheetStore.add_reading); this is the last line of defence.
        if personal is not None and not personal.live:
            result.held.append((sheet.cycle_id, sheet.serial, ["sheet.cancelled"]))
        elif personal is not None and personal.cycle_id != sheet.cycle_id:
            result.held.append((sheet.cycle_id, sheet.serial, ["sheet.wrong_cycle"]))
        else:
            ready.append((sheet, personal.voter_key if personal else None))
    records = [sheet_vote(sheet, identity.device, key) for sheet, key in ready]
    already = _logged(device_store, [r.vote_id for r in records])
    fresh = [r for r in records if r.vote_id not in already]
    if fresh:
        device_store.append_votes(fresh)  # all on disk, or none
    marks = [(s.cycle_id, s.serial, r.vote_id) for (s, _key), r in zip(ready, records, strict=True)]
    sheet_store.mark_committed(marks, now_ms)
    for mark, record in zip(marks, records, strict=True):
        (result.recovered if record.vote_id in already else result.committed).append(mark)
    polls = {form_id: rules for form_id, rules in cycles.items() if isinstance(rules, PollSheet)}
    committed, recovered, held = commit_ready_poll_sheets(
        sheet_store, device_store, polls, identity.device, now_ms=now_ms
    )
    result.committed += committed
    result.recovered += recovered
    result.held += held
    return result


def cycles_of(package: CyclePackage | None) -> dict[int, SheetRules]:
    """What the package's sheets are judged by: its cycles by id, and the sheets of its
    polls by form id (minus the poll's id; a poll no sheet can show is left out). An
    empty mapping for no package."""
    if package is None:
        return {}
    rules: dict[int, SheetRules] = {c.id: c for c in package.cycles}
    for poll in package.polls:
        try:
            rules[poll_form_id(poll.id)] = poll_sheet(poll)
        except LayoutError:
            continue
    return rules
