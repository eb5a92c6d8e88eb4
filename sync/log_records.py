"""What a device log entry carries, read back by the device itself: a vote (kind
"vote", a voting.VoteRecord) or a poll answer (kind "poll_answer", a voting.polls
answer). The device reads its own entries to send them, to check its chain, to know
who voted or answered here and its newest cast time, without the package a poll
answer was cast under (its rule is judged where the answer is made and on the server).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voting import VoteRecord
from voting.polls import answer_header

VOTE = "vote"
POLL_ANSWER = "poll_answer"
KINDS = frozenset({VOTE, POLL_ANSWER})


@dataclass(frozen=True, slots=True)
class LoggedRecord:
    kind: str  # VOTE or POLL_ANSWER
    record_id: str  # the vote's or the answer's id (the log row's vote_id column)
    subject: int  # the cycle voted in, or the poll answered
    voter: str  # "key:<hex>" or "code:<id>"
    device_id: str | None
    cast_at: datetime


def read_logged(kind: str, payload: Any) -> LoggedRecord:
    """The record an entry of `kind` carries, or ValueError (TypeError for a field of a
    wrong JSON type) when the payload is not one in canonical form."""
    if kind == VOTE:
        vote = VoteRecord.from_canonical_body(payload)
        return LoggedRecord(VOTE, vote.vote_id, vote.cycle_id, vote.voter, vote.device_id, vote.cast_at)
    if kind == POLL_ANSWER:
        header = answer_header(payload)
        return LoggedRecord(
            POLL_ANSWER, header.answer_id, header.poll_id, header.voter, header.device_id, header.cast_at
        )
    raise ValueError(f"no entry kind {kind!r}")
