"""Storing poll answers: exactly once, one counted answer per voter and poll.

As the ballot box does for votes (server.services.ballot_box): an id already stored
with the same content is answered with its standing again; with other content the whole
batch is refused (PollAnswerConflict) and nothing is kept. Which answer of a voter
counts is voting.counting's rule over every answer of theirs stored so far, so a later
arrival that was cast earlier takes over, and the items of both change with it in the
same transaction. Answers of one voter to one poll are serialised by an advisory lock
on PostgreSQL (SQLite has one writer anyway).
"""

from __future__ import annotations

import hashlib
import typing
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text, update
from sqlalchemy.orm import Session

from server.models import Poll, PollAnswer, PollAnswerItem, utcnow
from server.services.pg_batch import insert_rows
from voting.counting import CountingInput, VoteStatus, decide_for_voter
from voting.polls import PollAnswerRecord, PollRule, QuestionKind


@dataclass(frozen=True)
class AnswerStanding:
    answer_id: str
    status: str  # counted or duplicate
    counted_answer_id: str | None  # for a duplicate: the answer that counts instead


@dataclass(frozen=True)
class AnswerConflict:
    answer_id: str


class PollAnswerConflict(Exception):
    """Answers whose ids are known with other content: nothing of the batch was kept."""

    def __init__(self, conflicts: list[AnswerConflict]) -> None:
        super().__init__(f"{len(conflicts)} conflicting answers")
        self.conflicts = conflicts


def _lock_key(poll_id: int, voter: str) -> int:
    digest = hashlib.blake2b(f"poll/{poll_id}/{voter}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# The columns store_answers writes, in the order of its rows (server.services.pg_batch).
ANSWER_COLUMNS = (
    "id",
    "community_id",
    "poll_id",
    "voter",
    "channel",
    "device_id",
    "cast_at",
    "received_at",
    "content_hash",
    "body",
    "source",
    "status",
    "counted_answer_id",
)
ITEM_COLUMNS = ("community_id", "answer_id", "poll_id", "question_id", "option_id", "value", "counted")
# The tables as Core sees them (the ORM types __table__ as any FROM clause).
ANSWER_TABLE = typing.cast(Table, PollAnswer.__table__)
ITEM_TABLE = typing.cast(Table, PollAnswerItem.__table__)


def item_rows(record: PollAnswerRecord, community_id: int, counted: bool, ranked: set[int]) -> list[tuple]:
    """The item rows of an answer, in ITEM_COLUMNS order: one per value it gives, and one
    (no option) per question it answers. `ranked`: the poll's rank questions (a ranked
    option's value is its position, 1 = best; a chosen one's is 1)."""
    rows: list[tuple] = []
    answer_id, poll_id = record.answer_id, record.poll_id
    for question_id, answer in record.answers:
        rows.append((community_id, answer_id, poll_id, question_id, None, 0, counted))
        for position, item in enumerate(answer, start=1):
            if isinstance(item, tuple):  # points: (option, points)
                option, value = item
            else:  # chosen (value 1) or ranked (value: the position)
                option, value = item, position if question_id in ranked else 1
            rows.append((community_id, answer_id, poll_id, question_id, option, value, counted))
    return rows


def store_answers(
    session: Session,
    poll: Poll,
    rule: PollRule,
    records: Sequence[PollAnswerRecord],
    *,
    source: str,
    now: datetime | None = None,
) -> list[AnswerStanding]:
    """Store a batch of answers to `poll` (judged by `rule`, server.polls.store.poll_rule)
    in the caller's transaction; each one's standing, in the order given."""
    now = now or utcnow()
    # A rank question's items carry the option's position; the others' carry 1 or points.
    ranked = {q.question_id for q in rule.questions if q.kind is QuestionKind.RANK}
    batch: dict[str, PollAnswerRecord] = {}
    hashes: dict[str, str] = {}
    conflicts: list[AnswerConflict] = []
    for record in records:
        digest = record.content_hash()
        if record.answer_id in batch:
            if hashes[record.answer_id] != digest:
                conflicts.append(AnswerConflict(record.answer_id))
            continue
        batch[record.answer_id] = record
        hashes[record.answer_id] = digest
    if conflicts:
        raise PollAnswerConflict(conflicts)
    if not batch:
        return []
    community_id = poll.community_id
    is_postgres = session.get_bind().dialect.name == "postgresql"
    if is_postgres:
        keys = sorted({_lock_key(poll.id, r.voter) for r in batch.values()})
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": "{" + ",".join(map(str, keys)) + "}"},
        )
    existing = {
        row.id: row
        for row in session.execute(
            select(
                PollAnswer.id, PollAnswer.content_hash, PollAnswer.status, PollAnswer.counted_answer_id
            ).where(PollAnswer.community_id == community_id, PollAnswer.id.in_(sorted(batch)))
        )
    }
    conflicts = [AnswerConflict(i) for i, row in existing.items() if row.content_hash != hashes[i]]
    if conflicts:
        raise PollAnswerConflict(conflicts)

    fresh = [r for i, r in batch.items() if i not in existing]
    by_voter: dict[str, list[PollAnswerRecord]] = defaultdict(list)
    for record in fresh:
        by_voter[record.voter].append(record)
    earlier: dict[str, list[Any]] = defaultdict(list)
    if by_voter:
        for row in session.execute(
            select(
                PollAnswer.id,
                PollAnswer.voter,
                PollAnswer.cast_at,
                PollAnswer.status,
                PollAnswer.counted_answer_id,
            ).where(PollAnswer.poll_id == poll.id, PollAnswer.voter.in_(sorted(by_voter)))
        ):
            earlier[row.voter].append(row)

    standing: dict[str, AnswerStanding] = {
        i: AnswerStanding(i, row.status, row.counted_answer_id) for i, row in existing.items()
    }
    new_answers: list[tuple] = []
    new_items: list[tuple] = []
    for voter, records_of_voter in by_voter.items():
        old = earlier.get(voter, [])
        decisions = decide_for_voter(
            [CountingInput(row.id, voter, row.cast_at) for row in old]
            + [CountingInput(r.answer_id, voter, r.cast_at) for r in records_of_voter]
        )
        for row in old:
            decision = decisions[row.id]
            if (decision.status.value, decision.counted_vote_id) != (row.status, row.counted_answer_id):
                session.execute(
                    update(PollAnswer)
                    .where(PollAnswer.community_id == community_id, PollAnswer.id == row.id)
                    .values(status=decision.status.value, counted_answer_id=decision.counted_vote_id)
                )
                if (decision.status is VoteStatus.COUNTED) != (row.status == VoteStatus.COUNTED.value):
                    session.execute(
                        update(PollAnswerItem)
                        .where(
                            PollAnswerItem.community_id == community_id, PollAnswerItem.answer_id == row.id
                        )
                        .values(counted=decision.status is VoteStatus.COUNTED)
                    )
        for record in records_of_voter:
            decision = decisions[record.answer_id]
            counted = decision.status is VoteStatus.COUNTED
            new_answers.append(
                (
                    record.answer_id,
                    community_id,
                    poll.id,
                    voter,
                    record.channel.value,
                    record.device_id,
                    record.cast_at,
                    now,
                    hashes[record.answer_id],
                    record.canonical_bytes().decode("ascii"),  # the JSON column takes its text
                    source,
                    decision.status.value,
                    decision.counted_vote_id,
                )
            )
            new_items.extend(item_rows(record, community_id, counted, ranked))
            standing[record.answer_id] = AnswerStanding(
                record.answer_id, decision.status.value, decision.counted_vote_id
            )
    # By COPY on PostgreSQL: an answer of four questions is some twenty item rows, and
    # the ORM's row-by-row inserts cost several times the database's own work for them.
    insert_rows(session, ANSWER_TABLE, ANSWER_COLUMNS, new_answers)
    insert_rows(session, ITEM_TABLE, ITEM_COLUMNS, new_items)
    return [standing[r.answer_id] for r in records]
