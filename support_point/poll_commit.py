"""Committing ready poll sheets: each becomes ONE poll answer in the support point's
device log, the way ballot sheets become votes (support_point/commit.py):

    PollAnswerRecord(answer_id = uuid5 of "<device>/<poll>/<serial>"  (the same on every retry),
                     poll      = the sheet's poll,
                     answers   = the marked boxes read as answers, people's decisions included,
                     channel   = "paper",
                     cast_at   = the moment the sheet became ready (server-corrected),
                     code_id   = "sheet_" + serial   (poll sheets are anonymous: one answer per serial),
                     device_id = the support point's code)

appended with DeviceStore.append_poll_answers, one transaction for the batch. Poll
sheets are not issued personally (the issue desk issues ballots), so no poll answer
carries a voter key: the server counts a sheet's answer once per serial.

A sheet that became ready outside the poll's window is held (poll_sheet.outside_window):
the server would refuse its answer, and a refused entry must never enter the log.

Crash safety as for votes: the device log and the sheet store are two files; a commit
that died between appending and marking finds the same record's id in the log (votes'
and answers' ids share its one id column) and only marks the sheet committed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from paper.poll_layout import PollSheet
from paper.sheet_answer import sheet_answer
from paper.sheet_records import SheetRow
from paper.sheet_store import SheetStore
from sync.device_store import DeviceStore

__all__ = ["commit_ready_poll_sheets"]


def _in_window(sheet: SheetRow, poll: PollSheet) -> bool:
    assert sheet.ready_at_ms is not None
    cast = datetime.fromtimestamp(sheet.ready_at_ms / 1000, tz=UTC)
    return poll.poll.window_state(cast) == "open"


def commit_ready_poll_sheets(
    sheet_store: SheetStore,
    device_store: DeviceStore,
    polls: dict[int, PollSheet],
    device: str,
    *,
    now_ms: int,
) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]], list[tuple[int, str, list[str]]]]:
    """Append the answer of every ready poll sheet (already judged again by the caller)
    and mark it committed. `polls`: the package's poll sheets by form id. Returns
    (committed, recovered, held) as support_point.commit.CommitResult keeps them, each
    sheet named by its form id (minus the poll's id) and serial."""
    held: list[tuple[int, str, list[str]]] = []
    ready: list[SheetRow] = []
    for sheet in sheet_store.sheets("ready"):
        if sheet.cycle_id >= 0:
            continue  # a ballot: support_point.commit's
        poll = polls.get(sheet.cycle_id)
        if poll is None:
            held.append((sheet.cycle_id, sheet.serial, ["poll_sheet.no_poll"]))
        elif not _in_window(sheet, poll):
            held.append((sheet.cycle_id, sheet.serial, ["poll_sheet.outside_window"]))
        else:
            ready.append(sheet)
    records = [sheet_answer(sheet, polls[sheet.cycle_id], device) for sheet in ready]
    already = device_store.logged_vote_ids([r.answer_id for r in records])
    fresh = [r for r in records if r.answer_id not in already]
    if fresh:
        device_store.append_poll_answers(fresh)  # all on disk, or none
    marks = [(s.cycle_id, s.serial, r.answer_id) for s, r in zip(ready, records, strict=True)]
    sheet_store.mark_committed(marks, now_ms)
    committed = [m for m, r in zip(marks, records, strict=True) if r.answer_id not in already]
    recovered = [m for m, r in zip(marks, records, strict=True) if r.answer_id in already]
    return committed, recovered, held
