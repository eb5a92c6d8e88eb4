"""«Імпорт паперових голосів (CSV)» as a job: a support point's spreadsheet of paper
votes, checked row by row and stored through the ballot box (server.paper.vote_csv_import).

The file holds residents' document numbers, which the database never keeps in the
clear: it waits for the worker sealed (server.jobs.sealed) and is dropped when the job
ends. The import is all or nothing in one transaction, and the job ends done in that
same transaction: paper_csv commits its own work, so it runs here in a session joined
to an outer transaction (its commit releases a savepoint), which is committed only
with the job's end (a fenced write). A run killed midway stores nothing; the next run
imports the stored file from the start, once. Rows checked are reported on a connection
of their own; a cancel is honoured between chunks of rows while they are checked and
rolls everything back.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from server.models import Cycle, Device, Job, User, utcnow
from server.paper.vote_csv_import import PaperImport, import_paper_csv
from server.paper.vote_csv_rows import RowProblem

from .. import store
from ..runner import HANDLERS, JobFailed, JobRun
from ..sealed import open_sealed, seal

__all__ = ["KIND", "problems_of", "start_paper_votes"]

KIND = "votes.paper_import"


def start_paper_votes(
    session: Session,
    cycle: Cycle,
    device: Device,
    name: str,
    data: bytes,
    *,
    master_secret: bytes,
    only_good_rows: bool,
    user: User | None,
    now: datetime,
) -> Job:
    """The job with the file stored (sealed with the server's `master_secret`) beside it,
    in the caller's transaction."""
    job = store.create_job(
        session,
        community_id=cycle.community_id,
        kind=KIND,
        user=user,
        unit="rows",
        params={"cycle_id": cycle.id, "device_id": device.id, "only_good_rows": only_good_rows},
        files=[],
        target=("cycle", cycle.id),
        now=now,
        # Lines after the header: the rows, give or take a blank line.
        total=max(data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1), 1),
    )
    store.add_file(session, job, 0, name, seal(master_secret, job.id, data))
    return job


def _problems(problems: list[RowProblem]) -> list[dict]:
    return [{"row": p.row, "column": p.column, "code": p.code, "params": dict(p.params)} for p in problems]


def problems_of(job: Job) -> list[RowProblem]:
    """The job's problems as the check gave them (rendered in the reader's language)."""
    return [
        RowProblem(p.get("row"), p.get("column"), p["code"], dict(p.get("params") or {}))
        for p in job.problems
        if "code" in p
    ]


def _summary(result: PaperImport, only_good_rows: bool) -> dict:
    check = result.check
    summary = {
        "rows": check.rows,
        "bad_rows": check.bad_rows,
        "sha256": check.sha256,
        "file_refused": check.file_refused,
        "only_good_rows": only_good_rows,
    }
    if not result.refused:
        summary |= {
            "stored": result.stored,
            "already_stored": result.already_stored,
            "counted": result.counted,
            "duplicate": result.duplicate,
            "invalid": result.invalid,
        }
    return summary


def run_paper_votes(run: JobRun) -> None:
    job, params = run.job, run.params
    master = current_app.config["VOTER_KEY_SECRET_BYTES"]
    [(_name, sealed)] = list(run.files())
    data = open_sealed(master, job.id, sealed)
    total = job.progress_total
    only_good_rows = bool(params.get("only_good_rows"))
    with run.one_transaction() as work:
        cycle = work.get(Cycle, params.get("cycle_id"))
        device = work.get(Device, params.get("device_id"))
        if cycle is None or device is None or {cycle.community_id, device.community_id} != {job.community_id}:
            raise JobFailed([{"code": "job.target_gone", "params": {}}])
        result = import_paper_csv(
            work,
            cycle,
            device,
            data,
            master_secret=master,
            only_good_rows=only_good_rows,
            user=work.get(User, run.user.id) if run.user is not None else None,
            now=utcnow(),
            on_progress=lambda checked, rows: run.report(checked, rows or total),
        )
        problems = _problems(result.check.problems)
        summary = _summary(result, only_good_rows)
        if result.refused:
            raise JobFailed(problems, summary)
        run.finish_done_in(work, summary, problems, done=result.check.rows)


HANDLERS[KIND] = run_paper_votes
