"""Storing support points' tally sheets (протоколи підрахунку), one current per cycle and
support point. Reading and checking a sheet: server.paper.tally_sheet (the
numbers, the form) and server.paper.tally_csv (a file).

When a sheet is taken: from the opening of voting until the paper grace after the close
(cycle_rules.PAPER_SCAN_GRACE, three days). A support point counts its box when voting
ends, and the sheet reaches the office in the following days, exactly like the scanned
sheets the same grace admits; before the opening there is nothing to count, and after
the grace the paper channel is closed for every kind of paper vote, so results that are
being checked and published stop moving. A sheet is also refused while the cycle's
results are published: it would change published figures without anyone deciding to
publish them; unpublishing, entering and publishing again leaves each step in the audit.

Replacing: a second sheet for the same cycle and support point replaces the first only
when the moderator confirms; the first stays stored, marked replaced, and the audit
entry names both. The same numbers again (the same file, or the same figures typed in)
change nothing and record nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import (
    Category,
    Cycle,
    Device,
    PaperTally,
    PaperTallyLine,
    Project,
    ProjectStatus,
    User,
)
from server.paper.tally_sheet import (
    TallyBallot,
    TallyCategory,
    TallyCheck,
    TallyProblem,
    TallyProject,
    TallySheet,
    sheet_problems,
)
from server.services import audit
from server.services.cycle_rules import PAPER_SCAN_GRACE

KYIV = ZoneInfo("Europe/Kyiv")
SOURCE_CSV = "csv"
SOURCE_FORM = "form"


class _AlreadyReplaced(Exception):
    """The sheet to replace was replaced by someone else a moment ago."""


class Outcome(StrEnum):
    STORED = "stored"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"  # the same numbers as the current sheet: nothing written
    NEEDS_CONFIRMATION = "needs_confirmation"  # another sheet is current; nothing written
    REFUSED = "refused"


@dataclass
class TallyImport:
    check: TallyCheck
    outcome: Outcome
    problems: list[TallyProblem] = field(default_factory=list)
    tally: PaperTally | None = None  # the current sheet afterwards (new or unchanged)
    previous: PaperTally | None = None  # the sheet replaced, or awaiting replacement
    previous_votes: dict[int, int] = field(default_factory=dict)  # project id -> votes

    @property
    def stored_nothing(self) -> bool:
        return self.outcome in (Outcome.REFUSED, Outcome.NEEDS_CONFIRMATION, Outcome.UNCHANGED)


def tally_ballot(session: Session, cycle: Cycle) -> TallyBallot:
    """The admitted projects and choice limits a sheet of `cycle` is checked against."""
    projects = session.scalars(
        select(Project)
        .where(Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value)
        .order_by(Project.number)
    )
    categories = session.scalars(
        select(Category).where(Category.cycle_id == cycle.id).order_by(Category.position, Category.id)
    )
    return TallyBallot(
        cycle_id=cycle.id,
        projects=tuple(TallyProject(p.id, p.number, p.title, p.category_id) for p in projects),
        categories=tuple(TallyCategory(c.id, c.name, c.max_choices, c.district or "") for c in categories),
        max_total=cycle.max_total,
    )


def accepted_until(cycle: Cycle) -> datetime:
    return cycle.voting_ends_at + PAPER_SCAN_GRACE


def _kyiv(moment: datetime) -> str:
    # Language-neutral, so the same text serves both languages of the message.
    return moment.astimezone(KYIV).strftime("%Y-%m-%d %H:%M")


def window_problem(cycle: Cycle, now: datetime) -> TallyProblem | None:
    """Why no sheet can be entered for `cycle` at `now`, or None."""
    if now < cycle.voting_starts_at:
        return TallyProblem(None, None, "paper_tally.before_voting", {"opens": _kyiv(cycle.voting_starts_at)})
    if now >= accepted_until(cycle):
        return TallyProblem(
            None,
            None,
            "paper_tally.window_closed",
            {"closed": _kyiv(accepted_until(cycle)), "ended": _kyiv(cycle.voting_ends_at)},
        )
    if cycle.results_published_at is not None:
        return TallyProblem(None, None, "paper_tally.results_published")
    return None


def current_tally(session: Session, cycle_id: int, device_id: int) -> PaperTally | None:
    return session.scalar(
        select(PaperTally).where(
            PaperTally.cycle_id == cycle_id,
            PaperTally.device_id == device_id,
            PaperTally.replaced_at.is_(None),
        )
    )


def tally_votes(session: Session, tally_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(PaperTallyLine.project_id, PaperTallyLine.votes).where(PaperTallyLine.tally_id == tally_id)
        ).all()
    )


def import_tally(
    session: Session,
    cycle: Cycle,
    device: Device,
    check: TallyCheck,
    *,
    source: str,
    replace: bool,
    user: User | None,
    now: datetime,
) -> TallyImport:
    """Store the checked sheet for `device` (committed here), or nothing."""
    problem = window_problem(cycle, now)
    if problem is not None:
        return TallyImport(check, Outcome.REFUSED, [problem])
    if check.sheet is None:
        return TallyImport(check, Outcome.REFUSED, list(check.problems))
    sheet = check.sheet
    content_hash = sheet.content_hash(cycle.id, device.code)
    if check.sha256 is not None:
        elsewhere = session.scalar(
            select(Device.code)
            .join(PaperTally, PaperTally.device_id == Device.id)
            .where(
                PaperTally.cycle_id == cycle.id,
                PaperTally.device_id != device.id,
                PaperTally.file_sha256 == check.sha256,
                PaperTally.replaced_at.is_(None),
            )
        )
        if elsewhere is not None:
            problem = TallyProblem(None, None, "paper_tally.file_used_elsewhere", {"device": elsewhere})
            return TallyImport(check, Outcome.REFUSED, [problem])

    previous = current_tally(session, cycle.id, device.id)
    if previous is not None and previous.content_hash == content_hash:
        return TallyImport(check, Outcome.UNCHANGED, tally=previous)
    previous_votes = tally_votes(session, previous.id) if previous is not None else {}
    if previous is not None and not replace:
        return TallyImport(
            check, Outcome.NEEDS_CONFIRMATION, previous=previous, previous_votes=previous_votes
        )

    try:
        if previous is not None:
            # Only a sheet still current is replaced: two moderators replacing the same
            # sheet at once cannot both succeed.
            replaced = session.execute(
                update(PaperTally)
                .where(PaperTally.id == previous.id, PaperTally.replaced_at.is_(None))
                .values(replaced_at=now)
            )
            if replaced.rowcount != 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
                raise _AlreadyReplaced
        tally = _store(session, cycle, device, check, sheet, content_hash, source, user, now)
    except (IntegrityError, _AlreadyReplaced):
        # Another sheet for this support point became current meanwhile (the unique
        # index on current sheets): nothing of this one is kept.
        session.rollback()
        return TallyImport(check, Outcome.REFUSED, [TallyProblem(None, None, "paper_tally.concurrent")])
    details = _audit_details(device, tally, sheet)
    if previous is not None:
        details["replaced_tally_id"] = previous.id
        details["previous"] = {
            "content_hash": previous.content_hash,
            "file_sha256": previous.file_sha256,
            "ballots_issued": previous.ballots_issued,
            "ballots_cast": previous.ballots_cast,
            "ballots_spoiled": previous.ballots_spoiled,
            "votes": sum(previous_votes.values()),
            "entered_at": previous.entered_at.isoformat(),
            "entered_by": previous.entered_by,
        }
    audit.record(
        session,
        "paper_tally.replace" if previous is not None else "paper_tally.import",
        user=user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details=details,
    )
    session.commit()
    outcome = Outcome.REPLACED if previous is not None else Outcome.STORED
    return TallyImport(check, outcome, tally=tally, previous=previous, previous_votes=previous_votes)


def _store(
    session: Session,
    cycle: Cycle,
    device: Device,
    check: TallyCheck,
    sheet: TallySheet,
    content_hash: str,
    source: str,
    user: User | None,
    now: datetime,
) -> PaperTally:
    tally = PaperTally(
        community_id=cycle.community_id,
        cycle_id=cycle.id,
        device_id=device.id,
        ballots_issued=sheet.ballots_issued,
        ballots_cast=sheet.ballots_cast,
        ballots_spoiled=sheet.ballots_spoiled,
        source=source,
        file_sha256=check.sha256,
        content_hash=content_hash,
        entered_by=user.id if user is not None else None,
        entered_at=now,
    )
    session.add(tally)
    session.flush()
    session.add_all(
        PaperTallyLine(tally_id=tally.id, project_id=pid, community_id=cycle.community_id, votes=votes)
        for pid, votes in sorted(sheet.votes.items())
    )
    session.flush()
    return tally


def _audit_details(device: Device, tally: PaperTally, sheet: TallySheet) -> dict:
    return {
        "tally_id": tally.id,
        "device": device.code,
        "source": tally.source,
        "file_sha256": tally.file_sha256,
        "content_hash": tally.content_hash,
        "ballots_issued": sheet.ballots_issued,
        "ballots_cast": sheet.ballots_cast,
        "ballots_spoiled": sheet.ballots_spoiled,
        "votes": sheet.total_votes,
    }


# --- reading stored sheets ----------------------------------------------------------------


@dataclass(frozen=True)
class StoredTally:
    tally: PaperTally
    device_code: str
    device_name: str
    entered_by_login: str | None
    votes: dict[int, int]  # project id -> votes

    def sheet(self) -> TallySheet:
        return TallySheet(
            ballots_issued=self.tally.ballots_issued,
            ballots_cast=self.tally.ballots_cast,
            ballots_spoiled=self.tally.ballots_spoiled,
            votes=self.votes,
        )


def current_tallies(session: Session, cycle_id: int) -> list[StoredTally]:
    """The cycle's current sheets with their lines, by support point code."""
    rows = session.execute(
        select(PaperTally, Device.code, Device.name, User.login)
        .join(Device, Device.id == PaperTally.device_id)
        .outerjoin(User, User.id == PaperTally.entered_by)
        .where(PaperTally.cycle_id == cycle_id, PaperTally.replaced_at.is_(None))
        .order_by(Device.code)
    ).all()
    lines: dict[int, dict[int, int]] = {tally.id: {} for tally, *_rest in rows}
    if lines:
        for tally_id, project_id, votes in session.execute(
            select(PaperTallyLine.tally_id, PaperTallyLine.project_id, PaperTallyLine.votes).where(
                PaperTallyLine.tally_id.in_(list(lines))
            )
        ):
            lines[tally_id][project_id] = votes
    return [StoredTally(tally, code, name, login, lines[tally.id]) for tally, code, name, login in rows]


@dataclass(frozen=True, slots=True)
class TallyFinding:
    device: str
    tally_id: int
    problem: str  # for developers and the recount's output, in English


def verify_stored_tallies(
    session: Session, cycle: Cycle, sheets: list[StoredTally] | None = None
) -> list[TallyFinding]:
    """Re-check every current sheet of `cycle` (or `sheets`, already read) as stored: its
    lines must hash to the content hash made at import (a line changed in the database
    shows), name only projects of the ballot, and still keep the sheet's limits."""
    ballot = tally_ballot(session, cycle)
    on_ballot = {p.project_id for p in ballot.projects}
    findings = []
    for stored in current_tallies(session, cycle.id) if sheets is None else sheets:
        tally = stored.tally
        if stored.sheet().content_hash(cycle.id, stored.device_code) != tally.content_hash:
            findings.append(
                TallyFinding(
                    stored.device_code,
                    tally.id,
                    "the sheet does not hash to its content hash (changed after entry)",
                )
            )
        strangers = sorted(set(stored.votes) - on_ballot)
        if strangers:
            findings.append(
                TallyFinding(
                    stored.device_code, tally.id, f"lines for projects not on the ballot: {strangers}"
                )
            )
        for problem in sheet_problems(stored.sheet(), ballot):
            findings.append(
                TallyFinding(stored.device_code, tally.id, f"breaks {problem.code} {problem.params}")
            )
    return findings


__all__ = [
    "SOURCE_CSV",
    "SOURCE_FORM",
    "Outcome",
    "StoredTally",
    "TallyFinding",
    "TallyImport",
    "accepted_until",
    "current_tallies",
    "import_tally",
    "tally_ballot",
    "verify_stored_tallies",
    "window_problem",
]
