"""«Імпорт протоколу підрахунку» from a CSV file as a job: one support point's tally
sheet, checked and stored (or put in place of the current one, when the moderator
confirmed it) by server.paper.tally.

paper_tally commits its own work, so it runs in a session joined to an outer
transaction (JobRun.one_transaction) that also ends the job: a run killed midway
stores nothing, and the next run stores the sheet once (the same numbers again are
"unchanged"). A sheet that would replace the current one without the moderator's
confirmation changes nothing: the job ends failed and its page shows what would
change, as the tally page did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.models import Cycle, Device, Job, User, utcnow
from server.paper.tally import SOURCE_CSV, Outcome, TallyImport, import_tally, tally_ballot
from server.paper.tally_csv import check_tally_csv
from server.paper.tally_sheet import FORM_FIELD_CHARS, SUMMARY_NAMES, TallyProblem

from .. import store
from ..runner import HANDLERS, JobFailed, JobRun

__all__ = ["KIND", "problems_of", "start_tally_sheet"]

KIND = "paper_tally.import"


def start_tally_sheet(
    session: Session,
    cycle: Cycle,
    device: Device,
    name: str,
    data: bytes,
    *,
    typed: dict[str, str],
    replace: bool,
    user: User | None,
    now: datetime,
) -> Job:
    """The job with the file stored beside it (a tally sheet holds no personal data),
    in the caller's transaction. `typed`: the totals typed beside the file."""
    return store.create_job(
        session,
        community_id=cycle.community_id,
        kind=KIND,
        user=user,
        unit="rows",
        params={
            "cycle_id": cycle.id,
            "device_id": device.id,
            "replace": replace,
            "typed": {n: str(typed.get(n, ""))[:FORM_FIELD_CHARS] for n in SUMMARY_NAMES},
        },
        files=[(name, data)],
        target=("cycle", cycle.id),
        now=now,
        total=max(data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1), 1),
    )


def problems_of(job: Job) -> list[TallyProblem]:
    return [
        TallyProblem(p.get("row"), p.get("column"), p["code"], dict(p.get("params") or {}))
        for p in job.problems
        if "code" in p and "row" in p
    ]


def _summary(result: TallyImport, device: Device) -> dict:
    sheet = result.check.sheet
    summary: dict = {"outcome": result.outcome.value, "device": device.code, "sha256": result.check.sha256}
    if sheet is not None:
        summary |= {
            "ballots_issued": sheet.ballots_issued,
            "ballots_cast": sheet.ballots_cast,
            "ballots_spoiled": sheet.ballots_spoiled,
            "votes": sheet.total_votes,
        }
    if result.tally is not None:
        summary["tally_id"] = result.tally.id
    previous = result.previous
    if result.outcome is Outcome.NEEDS_CONFIRMATION and previous is not None and sheet is not None:
        summary["previous_entered_at"] = previous.entered_at.isoformat()
        changes = [
            {"name": name, "before": getattr(previous, name), "after": getattr(sheet, name)}
            for name in SUMMARY_NAMES
        ]
        for project_id in sorted(set(result.previous_votes) | set(sheet.votes)):
            before, after = result.previous_votes.get(project_id, 0), sheet.votes.get(project_id, 0)
            if before != after:
                changes.append({"project_id": project_id, "before": before, "after": after})
        summary["changes"] = changes
    return summary


def run_tally_sheet(run: JobRun) -> None:
    job, params = run.job, run.params
    [(_name, data)] = list(run.files())
    with run.one_transaction() as work:
        cycle = work.get(Cycle, params.get("cycle_id"))
        device = work.get(Device, params.get("device_id"))
        if cycle is None or device is None or {cycle.community_id, device.community_id} != {job.community_id}:
            raise JobFailed([{"code": "job.target_gone", "params": {}}])
        check = check_tally_csv(data, tally_ballot(work, cycle), params.get("typed") or {})
        run.check_cancel()  # a sheet is checked in a moment: the last point to stop at
        result = import_tally(
            work,
            cycle,
            device,
            check,
            source=SOURCE_CSV,
            replace=bool(params.get("replace")),
            user=work.get(User, run.user.id) if run.user is not None else None,
            now=utcnow(),
        )
        summary = _summary(result, device)
        problems = [
            {"row": p.row, "column": p.column, "code": p.code, "params": dict(p.params)}
            for p in result.problems
        ]
        if result.outcome in (Outcome.REFUSED, Outcome.NEEDS_CONFIRMATION):
            raise JobFailed(problems, summary)
        run.finish_done_in(work, summary, done=job.progress_total)


HANDLERS[KIND] = run_tally_sheet
