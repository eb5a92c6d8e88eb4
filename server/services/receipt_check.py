"""«Перевірити свій голос»: what the server knows about the vote (or poll answer) a
receipt code names.

A resident types the code from a terminal's receipt; the answer is the vote's fate and
never its content: it has arrived and counts; it has arrived but another vote of the
same resident counts, or it broke the rules; it waits for a moderator (server.sync.held);
or the server has not seen it (yet). Who voted and for what are not read at all.

The code spells the first 40 bits of sha256(vote id) (qr_codes.receipt_codes); a
terminal's poll answer receipt spells its answer id's the same way. On PostgreSQL
expression indexes over vote.id and poll_answer.id find them (migrations 0012, 0020);
held votes are few and are scanned. A poll answer the server received but did not
take (server.sync.entry_answers: kept only as log evidence) is not found: such answers
come only from a faulty or revoked device, and the moderators are told of each. On
SQLite (the demo) sha256 is a Python function of the connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, literal_column, select
from sqlalchemy.orm import Session

from qr_codes.receipt_codes import BITS, receipt_number
from server.models import Community, Cycle, HeldVote, Poll, PollAnswer, Vote
from voting import VoteStatus

KEY_BYTES = BITS // 8
COUNTED = "counted"  # a held vote's decision (server.sync.held.COUNTED)
_SQLITE_FUNCTION = "spilno_receipt_key"


class ReceiptState(StrEnum):
    COUNTED = "counted"  # arrived, and counts
    DUPLICATE = "duplicate"  # arrived; another vote of the same resident counts
    INVALID = "invalid"  # arrived; breaks the cycle's rules (too many choices, out of time)
    HELD = "held"  # arrived; waits for a moderator's decision
    REJECTED = "rejected"  # arrived, was held, and a moderator decided it does not count


@dataclass(frozen=True)
class FoundVote:
    state: ReceiptState
    community: str
    cycle: str  # the cycle voted in, or the poll answered
    since: datetime  # when the server received it (held: when it was put aside)
    kind: str = "vote"  # or "poll_answer"


def _sqlite_key(vote_id: str | None) -> bytes | None:
    return None if vote_id is None else hashlib.sha256(vote_id.encode()).digest()[:KEY_BYTES]


def _key_of(session: Session, column: str) -> ColumnElement:
    """The receipt key (five bytes) of a vote id column, as SQL. On PostgreSQL written
    exactly as the index of migration 0012, so the planner uses it."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column(f"substr(sha256(decode({column}, 'escape')), 1, 5)")
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a live connection: sqlite3's
    raw.create_function(_SQLITE_FUNCTION, 1, _sqlite_key, deterministic=True)
    return literal_column(f"{_SQLITE_FUNCTION}({column})")


def find_votes(session: Session, numbers: Sequence[int]) -> list[FoundVote]:
    """Every vote (normally one, none if not received) whose receipt spells one of
    `numbers` (qr_codes.receipt_codes.receipt_numbers)."""
    keys = [number.to_bytes(KEY_BYTES, "big") for number in numbers]
    wanted = set(numbers)
    # Keyed by (community, id): an id names a vote only within its community.
    found: dict[tuple[int, str], FoundVote] = {}
    stored = session.execute(
        select(Vote.community_id, Vote.id, Vote.status, Vote.received_at, Cycle.title, Community.name)
        .join(Cycle, Cycle.id == Vote.cycle_id)
        .join(Community, Community.id == Vote.community_id)
        .where(_key_of(session, "vote.id").in_(keys))
    )
    for community_id, vote_id, status, received_at, cycle, community in stored:
        if receipt_number(vote_id) in wanted:  # what the index found, checked again
            state = {
                VoteStatus.COUNTED.value: ReceiptState.COUNTED,
                VoteStatus.DUPLICATE.value: ReceiptState.DUPLICATE,
            }.get(status, ReceiptState.INVALID)
            found[(community_id, vote_id)] = FoundVote(state, community, cycle, received_at)
    held = session.execute(
        select(
            HeldVote.community_id,
            HeldVote.vote_id,
            HeldVote.decision,
            HeldVote.held_at,
            Cycle.title,
            Community.name,
        )
        .join(Cycle, Cycle.id == HeldVote.cycle_id)
        .join(Community, Community.id == HeldVote.community_id)
        .where(_key_of(session, "held_vote.vote_id").in_(keys))
    )
    for community_id, vote_id, decision, held_at, cycle, community in held:
        # A held vote a moderator counted went to the vote table: that answer stands.
        if (community_id, vote_id) in found or decision == COUNTED or receipt_number(vote_id) not in wanted:
            continue
        state = ReceiptState.HELD if decision is None else ReceiptState.REJECTED
        found[(community_id, vote_id)] = FoundVote(state, community, cycle, held_at)
    answers = session.execute(
        select(
            PollAnswer.community_id,
            PollAnswer.id,
            PollAnswer.status,
            PollAnswer.received_at,
            Poll.title,
            Community.name,
        )
        .join(Poll, Poll.id == PollAnswer.poll_id)
        .join(Community, Community.id == PollAnswer.community_id)
        .where(_key_of(session, "poll_answer.id").in_(keys))
    )
    for community_id, answer_id, status, received_at, poll, community in answers:
        if receipt_number(answer_id) not in wanted:
            continue
        state = ReceiptState.COUNTED if status == VoteStatus.COUNTED.value else ReceiptState.DUPLICATE
        found[(community_id, answer_id)] = FoundVote(state, community, poll, received_at, "poll_answer")
    return sorted(found.values(), key=lambda v: v.since)
