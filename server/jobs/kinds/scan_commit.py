"""«Зберегти готові аркуші як голоси» as a job: every ready scanned sheet of a cycle
judged again and stored as one paper vote (server.paper.scans.commit_ready).

A large backlog is long work (120 sheets took 2.4 s; a support point's weekend, tens
of thousands of sheets, would not fit a web request). commit_ready stores the lot in one
transaction and commits it itself, so it runs in a session joined to an outer
transaction (its commit releases a savepoint), committed only with the job's end: a run
killed midway stores nothing, and the next run commits every ready sheet once (vote ids
are made from the point, the cycle and the serial, so a second run could not double a
vote either). Sheets judged are reported on a connection of their own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.models import Cycle, Job, User, utcnow
from server.paper.scans import commit_ready

from .. import store
from ..runner import HANDLERS, JobFailed, JobRun

__all__ = ["KIND", "start_scan_commit"]

KIND = "paper_scans.commit"


def start_scan_commit(session: Session, cycle: Cycle, *, user: User | None, now: datetime) -> Job:
    """The job (no input: the sheets are the cycle's), in the caller's transaction."""
    return store.create_job(
        session,
        community_id=cycle.community_id,
        kind=KIND,
        user=user,
        unit="sheets",
        params={"cycle_id": cycle.id},
        files=[],
        target=("cycle", cycle.id),
        now=now,
    )


def run_scan_commit(run: JobRun) -> None:
    job = run.job
    with run.one_transaction() as work:
        cycle = work.get(Cycle, run.params.get("cycle_id"))
        if cycle is None or cycle.community_id != job.community_id:
            raise JobFailed([{"code": "job.target_gone", "params": {}}])
        outcome = commit_ready(
            work,
            cycle,
            user=work.get(User, run.user.id) if run.user is not None else None,
            now=utcnow(),
            on_progress=run.report,
        )
        if outcome.refused:
            raise JobFailed([{"code": outcome.refused, "params": dict(outcome.refused_params)}])
        summary = {
            "committed": len(outcome.committed),
            "held": [[serial, code] for serial, code in outcome.held],
        }
        run.finish_done_in(work, summary, done=len(outcome.committed) + len(outcome.held))


HANDLERS[KIND] = run_scan_commit
