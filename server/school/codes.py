"""Issuing voting codes for a class, printing them again, revoking and replacing a lost
card, and how many codes of each class have been used.

The plain code exists only while it is being printed: the database keeps its verifier
and a sealed copy (server.school.keys). "Used" is read from the votes themselves (a
counted vote carrying the code's verifier), so there is no second record that could
disagree with the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from qr_codes.codes import format_code, new_code, normalise
from server.models import CodeBatch, User, Vote, VotingCode, utcnow
from server.services import audit
from server.services.validation import Refused, clean_text
from server.texts import _l
from voting import VoteStatus

from .classes import grades_text, normalise_class_name
from .contests import Contest
from .keys import CodeKeys

MAX_CODES_PER_CLASS = 200  # a class is ~35; a whole grade printed at once stays far below


@dataclass(frozen=True)
class IssuedCode:
    """A code ready to print. Never logged, never stored as such."""

    code_id: int
    class_name: str
    number: int
    code: str  # formatted, e.g. 7KQM-2X9R-TB4H-ZP3W-8CXN


@dataclass(frozen=True)
class ClassUsage:
    class_name: str
    issued: int  # every card made, revoked ones included
    revoked: int
    used: int  # cards whose code has a counted vote

    @property
    def unused(self) -> int:
        return self.issued - self.revoked - self.used


def _check_count(count: int | None) -> int:
    if count is None or isinstance(count, bool) or not 1 <= count <= MAX_CODES_PER_CLASS:
        raise Refused(
            _l("Кількість кодів: від 1 до {most} на клас.", most=MAX_CODES_PER_CLASS),
            field="count",
        )
    return count


def _new_codes(
    session: Session,
    contest: Contest,
    class_name: str,
    numbers: list[int],
    keys: CodeKeys,
    batch: CodeBatch,
    replaces_id: int | None = None,
) -> list[IssuedCode]:
    plain = [normalise(new_code()) for _ in numbers]
    rows: list[dict[str, Any]] = [
        {
            "community_id": contest.contest.community_id,
            "contest_id": contest.id,
            "batch_id": batch.id,
            "class_name": class_name,
            "number": number,
            "verifier": keys.verifier(code),
            "sealed": keys.seal(code),
            "revoke_reason": "",
            "replaces_id": replaces_id,
            "created_at": batch.created_at,
        }
        for number, code in zip(numbers, plain, strict=True)
    ]
    # A class at a time (tens of rows): a plain executemany; sealed bytes stay bytes.
    session.execute(VotingCode.__table__.insert(), rows)  # type: ignore[attr-defined]  # it is a Table
    found = session.execute(select(VotingCode.verifier, VotingCode.id).where(VotingCode.batch_id == batch.id))
    ids = {verifier: code_id for verifier, code_id in found}
    return [
        IssuedCode(ids[row["verifier"]], class_name, row["number"], format_code(code))
        for row, code in zip(rows, plain, strict=True)
    ]


def issue_codes(
    session: Session,
    contest: Contest,
    class_name: str,
    count: int | None,
    keys: CodeKeys,
    *,
    user: User | None = None,
    now: datetime | None = None,
) -> list[IssuedCode]:
    """`count` new codes for `class_name`, numbered after the class's existing cards."""
    name, grade = normalise_class_name(class_name)
    count = _check_count(count)
    if grade not in contest.contest.grades:
        grades = grades_text(contest.contest.grades)
        raise Refused(
            _l(
                "Клас {name} не голосує в цьому конкурсі: голосують класи {grades}.", name=name, grades=grades
            ),
            field="class_name",
        )
    if contest.cycle.voting_ends_at <= (now or utcnow()):
        raise Refused(_l("Голосування школи завершено."))
    highest = session.scalar(
        select(func.max(VotingCode.number)).where(
            VotingCode.contest_id == contest.id, VotingCode.class_name == name
        )
    )
    batch = CodeBatch(
        community_id=contest.contest.community_id,
        contest_id=contest.id,
        class_name=name,
        count=count,
        created_by=user.id if user is not None else None,
        created_at=now or utcnow(),
    )
    session.add(batch)
    session.flush()
    start = (highest or 0) + 1
    issued = _new_codes(session, contest, name, list(range(start, start + count)), keys, batch)
    audit.record(
        session,
        "school_codes.issue",
        user=user,
        community_id=contest.contest.community_id,
        target=("school_contest", contest.id),
        details={"class_name": name, "count": count, "batch_id": batch.id},
    )
    return issued


def _used(contest: Contest):
    """A correlated test: this code has a counted vote in the contest."""
    return (
        select(Vote.id)
        .where(
            Vote.cycle_id == contest.cycle.id,
            Vote.code_id == VotingCode.verifier,
            Vote.status == VoteStatus.COUNTED.value,
        )
        .exists()
    )


def printable_codes(
    session: Session,
    contest: Contest,
    keys: CodeKeys,
    *,
    class_name: str | None = None,
    batch_id: int | None = None,
    code_ids: list[int] | None = None,
) -> list[IssuedCode]:
    """The contest's cards that can still be used (not revoked, not spent), opened for
    printing again, in class and number order."""
    query = select(VotingCode).where(
        VotingCode.contest_id == contest.id, VotingCode.revoked_at.is_(None), ~_used(contest)
    )
    if class_name is not None:
        query = query.where(VotingCode.class_name == class_name)
    if batch_id is not None:
        query = query.where(VotingCode.batch_id == batch_id)
    if code_ids is not None:
        query = query.where(VotingCode.id.in_(code_ids))
    rows = session.scalars(query.order_by(VotingCode.class_name, VotingCode.number))
    return [IssuedCode(r.id, r.class_name, r.number, format_code(keys.unseal(r.sealed))) for r in rows]


def code_is_used(session: Session, contest: Contest, code: VotingCode) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(
                Vote.cycle_id == contest.cycle.id,
                Vote.code_id == code.verifier,
                Vote.status == VoteStatus.COUNTED.value,
            )
        )
    )


def revoke_code(
    session: Session,
    contest: Contest,
    code: VotingCode,
    reason: str,
    *,
    user: User | None = None,
    now: datetime | None = None,
) -> None:
    if code.contest_id != contest.id:
        raise ValueError("code of another contest")
    reason = clean_text(reason, field="reason", max_length=200, required=False) or "втрачено"
    if code.revoked_at is not None:
        raise Refused(_l("Цей код уже відкликано."))
    if code_is_used(session, contest, code):
        raise Refused(
            _l("Цим кодом уже проголосували: голос зараховано, код не відкликати."),
        )
    code.revoked_at = now or utcnow()
    code.revoked_by = user.id if user is not None else None
    code.revoke_reason = reason
    session.flush()
    audit.record(
        session,
        "school_codes.revoke",
        user=user,
        community_id=contest.contest.community_id,
        target=("voting_code", code.id),
        details={"class_name": code.class_name, "number": code.number, "reason": reason},
    )


def replace_code(
    session: Session,
    contest: Contest,
    code: VotingCode,
    reason: str,
    keys: CodeKeys,
    *,
    user: User | None = None,
    now: datetime | None = None,
) -> IssuedCode:
    """Revoke a lost card and make its replacement, with the same class and number."""
    now = now or utcnow()
    if contest.cycle.voting_ends_at <= now:
        raise Refused(_l("Голосування школи завершено."))
    revoke_code(session, contest, code, reason, user=user, now=now)
    batch = CodeBatch(
        community_id=contest.contest.community_id,
        contest_id=contest.id,
        class_name=code.class_name,
        count=1,
        created_by=user.id if user is not None else None,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    (issued,) = _new_codes(session, contest, code.class_name, [code.number], keys, batch, replaces_id=code.id)
    audit.record(
        session,
        "school_codes.replace",
        user=user,
        community_id=contest.contest.community_id,
        target=("voting_code", issued.code_id),
        details={"replaces": code.id, "class_name": code.class_name, "number": code.number},
    )
    return issued


def class_usage(session: Session, contest: Contest) -> list[ClassUsage]:
    used = (
        select(Vote.code_id)
        .where(Vote.cycle_id == contest.cycle.id, Vote.status == VoteStatus.COUNTED.value)
        .subquery()
    )
    rows = session.execute(
        select(
            VotingCode.class_name,
            func.count(VotingCode.id),
            func.count(VotingCode.revoked_at),
            func.count(used.c.code_id),
        )
        .outerjoin(used, and_(used.c.code_id == VotingCode.verifier))
        .where(VotingCode.contest_id == contest.id)
        .group_by(VotingCode.class_name)
    ).all()
    usage = [ClassUsage(name, issued, revoked, used_count) for name, issued, revoked, used_count in rows]
    return sorted(usage, key=_class_order)


def _class_order(usage: ClassUsage) -> tuple[int, str]:
    grade, _, letter = usage.class_name.partition("-")
    return int(grade), letter


def codes_of_class(session: Session, contest: Contest, class_name: str) -> list[tuple[VotingCode, bool]]:
    """Every card of a class with whether it has been used, for the console's list."""
    rows = session.execute(
        select(VotingCode, _used(contest))
        .where(VotingCode.contest_id == contest.id, VotingCode.class_name == class_name)
        .order_by(VotingCode.number, VotingCode.id)
    ).all()
    return [(code, bool(used)) for code, used in rows]
