"""Paper votes of a checked CSV stored through the ballot box, in one transaction, or
nothing: the rows checked (server.paper.vote_csv), the paper channel's window, the audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Community, Cycle, Device, Project, ProjectStatus, User, Vote
from server.paper.tally import window_problem
from server.services import audit, eligibility
from server.services.ballot_box import VoteConflict, store_votes
from server.services.cycle_rules import load_cycle_rules
from voting import community_voter_secret

from .vote_csv import PaperCheck, check_paper_csv
from .vote_csv_rows import PaperContext, RowProblem

SOURCE = "paper-csv"


@dataclass
class PaperImport:
    """What an import did: the check, and how the stored votes stand."""

    check: PaperCheck
    stored: int = 0  # new votes written now
    already_stored: int = 0  # votes of this file written by an earlier import
    counted: int = 0
    duplicate: int = 0  # kept, but another vote of the same resident counts
    invalid: int = 0
    refused: bool = False  # nothing stored because of problems (see check.problems)


def context_for(session: Session, cycle: Cycle, device: Device, master_secret: bytes) -> PaperContext:
    community = session.get_one(Community, cycle.community_id)
    numbers = session.execute(
        select(Project.number, Project.id).where(
            Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value
        )
    ).all()
    return PaperContext(
        rules=load_cycle_rules(session, cycle),
        project_ids={number: project_id for number, project_id in numbers},
        voter_secret=community_voter_secret(master_secret, community.key_id),
        device_code=device.code,
        min_age=cycle.min_age,
        unlisted=lambda keys: eligibility.unlisted_keys(session, community.id, keys),
        districts=lambda keys: eligibility.districts_of(session, community.id, keys),
    )


def _stored_cast_at(session: Session, community_id: int) -> Callable[[Sequence[str]], Mapping[str, datetime]]:
    def lookup(vote_ids: Sequence[str]) -> Mapping[str, datetime]:
        found: dict[str, datetime] = {}
        for start in range(0, len(vote_ids), 5000):
            chunk = list(vote_ids[start : start + 5000])
            stored = select(Vote.id, Vote.cast_at).where(
                Vote.community_id == community_id, Vote.id.in_(chunk)
            )
            found.update(session.execute(stored).all())
        return found

    return lookup


def import_paper_csv(
    session: Session,
    cycle: Cycle,
    device: Device,
    data: bytes,
    *,
    master_secret: bytes,
    only_good_rows: bool,
    user: User | None,
    now: datetime,
    on_progress: Callable[[int, int], None] | None = None,
) -> PaperImport:
    """Check the file and store its votes in one transaction (committed here), or nothing.
    `on_progress` is told the rows checked (check_paper_csv)."""
    ctx = context_for(session, cycle, device, master_secret)
    check = check_paper_csv(
        data,
        ctx,
        now=now,
        stored_cast_at=_stored_cast_at(session, cycle.community_id),
        on_progress=on_progress,
    )
    result = PaperImport(check)
    # The paper channel closes for every kind of paper vote at once: scanned sheets and
    # tally sheets check the same window (a published count never moves by itself).
    closed = window_problem(cycle, now)
    if closed is not None:
        code = closed.code.replace("paper_tally.", "paper.", 1)
        check.problems.insert(0, RowProblem(None, None, code, dict(closed.params)))
    if check.file_refused or not check.records or (check.problems and not only_good_rows):
        result.refused = True
        session.rollback()
        return result
    records = [record for _row, record in check.records]
    try:
        answers = store_votes(session, {cycle.id: ctx.rules}, records, SOURCE, now=now)
    except VoteConflict:
        session.rollback()
        check.problems.append(RowProblem(None, None, "paper.already_imported_elsewhere"))
        result.refused = True
        return result
    _count(result, (a.status for a in answers), [r.vote_id for r in records])
    audit.record(
        session,
        "votes.paper_import",
        user=user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details={
            "file_sha256": check.sha256,
            "device": device.code,
            "rows": check.rows,
            "bad_rows": check.bad_rows,
            "only_good_rows": only_good_rows,
            "stored": result.stored,
            "already_stored": result.already_stored,
            "counted": result.counted,
            "duplicate": result.duplicate,
            "invalid": result.invalid,
        },
    )
    session.commit()
    return result


def _count(result: PaperImport, statuses: Iterable[str], vote_ids: list[str]) -> None:
    for vote_id, status in zip(vote_ids, statuses, strict=True):
        if vote_id in result.check.previously_stored:
            result.already_stored += 1
        else:
            result.stored += 1
        if status == "counted":
            result.counted += 1
        elif status == "duplicate":
            result.duplicate += 1
        else:
            result.invalid += 1
