"""«Звірити з первинними записами» as a job: the running tallies of a cycle against a
recount of every stored vote, tally sheet and funding rule
(server.results.publishing.verify_against_records; slow, it reads every vote row).

It changes nothing but its audit record (`results.verify`), which is written with the
job's end in one transaction: a run killed midway leaves nothing, and the next run
recounts again from the start. The job's page shows the steps done and then the
comparison, as the results page did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.models import Cycle, Job, User
from server.results.publishing import VERIFY_STEPS, verification_as_dict, verify_against_records

from .. import store
from ..runner import HANDLERS, JobFailed, JobRun

__all__ = ["KIND", "start_results_verify"]

KIND = "results.verify"


def start_results_verify(session: Session, cycle: Cycle, *, user: User | None, now: datetime) -> Job:
    """The job (no input: the records are the cycle's), in the caller's transaction."""
    return store.create_job(
        session,
        community_id=cycle.community_id,
        kind=KIND,
        user=user,
        unit="steps",
        params={"cycle_id": cycle.id},
        files=[],
        target=("cycle", cycle.id),
        now=now,
        total=VERIFY_STEPS,
    )


def run_results_verify(run: JobRun) -> None:
    session, job = run.session, run.job
    cycle = session.get(Cycle, run.params.get("cycle_id"))
    if cycle is None or cycle.community_id != job.community_id:
        raise JobFailed([{"code": "job.target_gone", "params": {}}])
    run.report(0, VERIFY_STEPS)
    verification = verify_against_records(session, cycle, run.user, on_step=run.report)
    run.finish_done(verification_as_dict(verification), done=VERIFY_STEPS)


HANDLERS[KIND] = run_results_verify
