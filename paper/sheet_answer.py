"""A ready poll sheet's answer record, made the same way on every retry: the id is a
uuid5 of device, poll and serial, so a retried commit makes the very same record and
the device log recognises it (support_point/poll_commit.py says how a commit survives
a crash). The poll-sheet twin of paper.sheet_vote."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from paper.poll_answers import sheet_answers
from paper.poll_layout import PollSheet
from paper.sheet_records import SheetRow
from voting.polls import PollAnswerRecord

__all__ = ["PAPER_POLL_NAMESPACE", "sheet_answer", "sheet_answer_id"]

# Fixed forever: changing it would give a retried commit a new answer id.
PAPER_POLL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://spilno.example/paper-poll-sheet")


def sheet_answer_id(device: str, poll_id: int, serial: str) -> str:
    return str(uuid.uuid5(PAPER_POLL_NAMESPACE, f"{device}/{poll_id}/{serial}"))


def sheet_answer(sheet: SheetRow, poll: PollSheet, device: str) -> PollAnswerRecord:
    """The sheet's answer, as its serial ("sheet_<serial>": a poll sheet is anonymous,
    one answer per serial), cast when the sheet became ready. ValueError when its marks
    are not answers that may be recorded (the caller commits only ready sheets, whose
    marks were judged so)."""
    if sheet.ready_at_ms is None:
        raise ValueError(f"sheet {sheet.serial} is not ready")
    answers, reasons = sheet_answers(poll, sheet.selections)
    if reasons:
        raise ValueError(f"sheet {sheet.serial}: {', '.join(reasons)}")
    return PollAnswerRecord.create(
        answer_id=sheet_answer_id(device, poll.poll.id, sheet.serial),
        poll=poll.rule(),
        answers=answers,
        channel="paper",
        cast_at=datetime.fromtimestamp(sheet.ready_at_ms / 1000, tz=UTC),
        code_id="sheet_" + sheet.serial,
        device_id=device,
    )
