"""A school's polls answered with its students' codes (docs/polls.md, "School polls").

A poll that belongs to a school (`Poll.school_id`) is answered only here: with a code of
any contest of that school that has not been revoked, whether or not the code has voted
in its contest or the contest is open. One counted answer per code and poll, exactly as
for the platform's answers (server.polls.answers.store_answers, voter "code:<verifier>"),
and a second answer is refused outright rather than stored as a duplicate: the student is
told the code has already answered, and nothing changes.

Two phones with one code, or a double tap, reach `answer_by_code` together: on
PostgreSQL a lock per poll and code makes the second wait for the first to commit and
then find the code's answer; on SQLite (one writer) the second store would see the
first's answer and come back a duplicate, which is refused the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.models import Poll, PollAnswer, School, SchoolContest, VotingCode, utcnow
from server.polls.answers import store_answers
from server.polls.store import poll_rule
from server.texts import Text, _l
from voting import VoteStatus
from voting.channels import Channel
from voting.polls import PollAnswerRecord
from voting.record import voter_of

SOURCE = "school-code-page"
MAX_POLL_ID = 2**31 - 1

# Why a code may not answer a poll: (heading, message, HTTP status).
REFUSALS: dict[str, tuple[Text, Text, int]] = {
    "poll.unknown": (
        _l("Опитування не знайдено"),
        _l("Такого опитування для вашої школи немає."),
        404,
    ),
    "poll.not_yet": (
        _l("Опитування ще не почалося"),
        _l("Це опитування ще не почалося. Спробуйте пізніше."),
        403,
    ),
    "poll.closed": (
        _l("Опитування завершено"),
        _l("Це опитування вже завершено: відповіді більше не приймаються."),
        403,
    ),
    "poll.answered": (
        _l("Ви вже відповіли"),
        _l("Цим кодом уже відповіли на це опитування. Кожен код дає одну відповідь на опитування."),
        409,
    ),
    "poll.code_revoked": (
        _l("Код відкликано"),
        _l("Цей код відкликано (картку замінено). Зверніться до вчителя."),
        410,
    ),
}


class PollRefused(Exception):
    """Why this code cannot answer this poll now; nothing was stored."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def status(self) -> int:
        return REFUSALS[self.code][2]

    def heading(self, locale: str) -> str:
        return REFUSALS[self.code][0].render(locale)

    def message(self, locale: str) -> str:
        return REFUSALS[self.code][1].render(locale)


@dataclass(frozen=True)
class PollCode:
    """A student's code that may answer its school's polls."""

    code_id: int  # the row's id (what the session keeps)
    verifier: str  # the answer record's code_id, as a vote's
    school: School

    @property
    def voter(self) -> str:
        return voter_of(None, self.verifier)


@dataclass(frozen=True)
class OfferedPoll:
    poll: Poll
    answered: bool


def poll_code(session: Session, code_id: int) -> PollCode:
    """The code with row id `code_id` if it may answer polls (it exists and is not
    revoked); PollRefused("poll.code_revoked") for a revoked one, LookupError for none."""
    row = session.execute(
        select(VotingCode, School)
        .join(SchoolContest, SchoolContest.id == VotingCode.contest_id)
        .join(School, School.id == SchoolContest.school_id)
        .where(VotingCode.id == code_id)
    ).first()
    if row is None:
        raise LookupError(f"no voting code with id {code_id}")
    code, school = row
    if code.revoked_at is not None:
        raise PollRefused("poll.code_revoked")
    return PollCode(code.id, code.verifier, school)


def poll_code_by_verifier(session: Session, verifier: str) -> PollCode | None:
    """The code with this verifier, if it may answer polls (not revoked); else None."""
    code_id = session.scalar(select(VotingCode.id).where(VotingCode.verifier == verifier))
    if code_id is None:
        return None
    try:
        return poll_code(session, code_id)
    except PollRefused:
        return None


def open_polls(session: Session, code: PollCode, now: datetime | None = None) -> list[OfferedPoll]:
    """The school's published polls open now, by closing time, each marked whether this
    code has answered it (two queries)."""
    now = now or utcnow()
    polls = session.scalars(
        select(Poll)
        .where(
            Poll.school_id == code.school.id,
            Poll.published_at.is_not(None),
            Poll.opens_at <= now,
            Poll.closes_at > now,
        )
        .order_by(Poll.closes_at, Poll.id)
    ).all()
    answered = _answered(session, [p.id for p in polls], code)
    return [OfferedPoll(p, p.id in answered) for p in polls]


def _answered(session: Session, poll_ids: list[int], code: PollCode) -> set[int]:
    if not poll_ids:
        return set()
    return set(
        session.scalars(
            select(PollAnswer.poll_id).where(PollAnswer.poll_id.in_(poll_ids), PollAnswer.voter == code.voter)
        )
    )


def poll_for_code(session: Session, code: PollCode, poll_id: int, now: datetime | None = None) -> Poll:
    """The poll `code` may answer now; PollRefused why not. A poll of another school, a
    draft and an unknown id are all "poll.unknown" alike."""
    now = now or utcnow()
    poll = session.get(Poll, poll_id) if 1 <= poll_id <= MAX_POLL_ID else None
    if poll is None or poll.published_at is None or poll.school_id != code.school.id:
        raise PollRefused("poll.unknown")
    if now < poll.opens_at:
        raise PollRefused("poll.not_yet")
    if now >= poll.closes_at:
        raise PollRefused("poll.closed")
    if _answered(session, [poll.id], code):
        raise PollRefused("poll.answered")
    return poll


def _lock_key(poll_id: int, voter: str) -> int:
    digest = hashlib.blake2b(f"school-poll/{poll_id}/{voter}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def answer_by_code(
    session: Session,
    code: PollCode,
    poll_id: int,
    answers: Mapping[int, object],
    *,
    now: datetime | None = None,
) -> PollAnswerRecord:
    """Store the student's answers in the caller's transaction (commit after it
    returns; roll back on an exception). PollRefused when the code may not answer now,
    voting.polls.PollAnswerRefused (with the problems) when the answers break the poll's
    rule, ValueError when they are not shaped as answers; nothing is stored then."""
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(poll_id, code.voter)})
    poll = poll_for_code(session, code, poll_id, now)  # after the lock: sees a committed answer
    rule = poll_rule(session, poll)
    record = PollAnswerRecord.create(
        poll=rule, answers=answers, channel=Channel.SCHOOL_CODE, cast_at=now, code_id=code.verifier
    )
    (standing,) = store_answers(session, poll, rule, [record], source=SOURCE, now=now)
    if standing.status != VoteStatus.COUNTED.value:
        # Only an answer of this code arriving between our check and our store (SQLite
        # has no advisory lock) gets here: the caller rolls back.
        raise PollRefused("poll.answered")
    return record
