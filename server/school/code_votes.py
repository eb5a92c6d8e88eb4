"""A student's vote with a code: check the code, then cast exactly one vote with it.

Two phones with one code, or a double tap on "vote", reach `cast_by_code` at the same
moment. The code's lock (the ballot box's advisory lock for this voter, taken first
here) makes the second wait until the first commits, then see the code spent and be
refused: one vote at most, and the second student gets a clear message, not a silent
duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from qr_codes.codes import CodeError, normalise
from server.i18n import gettext_in
from server.models import SchoolContest, Vote, VotingCode, utcnow
from server.services.ballot_box import StoredVote, lock_id, store_votes
from server.services.cycle_rules import load_cycle_rules, resolve_codes
from voting import Channel, Problem, VoteRecord, VoteStatus
from voting import message as domain_message

from .contests import Contest, load_contest
from .keys import CodeKeys

SOURCE = "school-code-page"

# A reason names its Ukrainian text; the English is in translations/en/student.po.
_REFUSALS: dict[str, str] = {
    "code.unknown": "Такого коду немає. Перевірте, чи правильно його переписано.",
    "code.revoked": "Цей код відкликано (картку замінено). Зверніться до вчителя.",
    "code.spent": "Цим кодом уже проголосували. Кожен код дає один голос.",
    "code.not_yet": "Голосування школи ще не почалося.",
    "code.closed": "Голосування школи вже завершено.",
    "code.other_school": "Цей код іншої школи: тут голосують лише учні цієї школи.",
    "code.too_many_attempts": "Забагато невдалих спроб. Зачекайте кілька хвилин і спробуйте знову.",
}


class CodeRefused(Exception):
    """Why this code cannot vote now. `code` names the reason; `message()` says it."""

    def __init__(
        self, code: str, *, problems: Sequence[Problem] = (), format_error: CodeError | None = None
    ) -> None:
        super().__init__(code)
        self.code = code
        self.problems = list(problems)  # what is wrong with the ballot, for "code.ballot"
        self.format_error = format_error

    @property
    def counts_as_guess(self) -> bool:
        """A wrong code (typo or guess) counts against the guessing limits; a real code
        refused for its state does not."""
        return self.format_error is not None or self.code == "code.unknown"

    def message(self, locale: str = "uk") -> str:
        if self.format_error is not None:
            return self.format_error.message(locale)
        if self.code == "code.ballot" and self.problems:
            return " ".join(domain_message(p.code, locale, **p.params) for p in self.problems)
        return gettext_in(locale, _REFUSALS[self.code])


@dataclass(frozen=True)
class CodeBallot:
    """A code that may vote now, and the contest it votes in."""

    contest: Contest
    code: VotingCode

    @property
    def voter(self) -> str:
        return f"code:{self.code.verifier}"


def find_code(
    session: Session,
    keys: CodeKeys,
    raw: str,
    *,
    now: datetime | None = None,
    school_id: int | None = None,
) -> CodeBallot:
    """The code's contest if the code may vote now; CodeRefused otherwise. A typo is
    caught by the check symbol before the database is asked."""
    now = now or utcnow()
    try:
        compact = normalise(raw)
    except CodeError as exc:
        raise CodeRefused("code.format", format_error=exc) from None
    code = session.scalar(select(VotingCode).where(VotingCode.verifier == keys.verifier(compact)))
    if code is None:
        raise CodeRefused("code.unknown")
    contest = load_contest(session, session.get_one(SchoolContest, code.contest_id))
    if school_id is not None and contest.school.id != school_id:
        raise CodeRefused("code.other_school")
    if code.revoked_at is not None:
        raise CodeRefused("code.revoked")
    if now < contest.cycle.voting_starts_at:
        raise CodeRefused("code.not_yet")
    if now >= contest.cycle.voting_ends_at:
        raise CodeRefused("code.closed")
    if _spent(session, contest, code):
        raise CodeRefused("code.spent")
    return CodeBallot(contest, code)


def _spent(session: Session, contest: Contest, code: VotingCode) -> bool:
    return (
        session.scalar(
            select(Vote.id)
            .where(
                Vote.cycle_id == contest.cycle.id,
                Vote.code_id == code.verifier,
                Vote.status == VoteStatus.COUNTED.value,
            )
            .limit(1)
        )
        is not None
    )


def cast_by_code(
    session: Session,
    keys: CodeKeys,
    raw: str,
    selections: list[int],
    *,
    now: datetime | None = None,
    school_id: int | None = None,
    source: str = SOURCE,
) -> StoredVote:
    """Store the student's vote in the caller's transaction (commit after it returns).
    Refused (nothing stored) for a code that may not vote or a ballot that breaks the
    rule."""
    now = now or utcnow()
    ballot = find_code(session, keys, raw, now=now, school_id=school_id)
    cycle_id = ballot.contest.cycle.id
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id(cycle_id, ballot.voter)})
        # Another request with this code may have committed while we waited.
        if _spent(session, ballot.contest, ballot.code):
            raise CodeRefused("code.spent")
    rules = resolve_codes(session, load_cycle_rules(session, ballot.contest.cycle), [ballot.code.verifier])
    record = VoteRecord.create(
        vote_id=str(uuid.uuid4()),
        cycle_id=cycle_id,
        selections=selections,
        channel=Channel.SCHOOL_CODE,
        cast_at=now,
        code_id=ballot.code.verifier,
    )
    problems = rules.ballot.check(record.selections)
    if problems:
        raise CodeRefused("code.ballot", problems=problems)
    reason = rules.invalid_reason(record)
    if reason is not None:  # the window closed or the code was revoked a moment ago
        raise CodeRefused("code.closed" if reason == "vote.outside_window" else "code.revoked")
    (stored,) = store_votes(session, {cycle_id: rules}, [record], source=source, now=now)
    if stored.status != VoteStatus.COUNTED.value:
        # Only an older vote by this code arriving between our check and our store
        # (SQLite has no advisory lock) gets here: the caller rolls back.
        raise CodeRefused("code.spent")
    return stored
