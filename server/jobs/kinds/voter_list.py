"""«Список виборців» as a job: a community's voter list file, checked and applied.

The list changes in one transaction (server.services.eligibility.apply_list_file),
which also ends the job done (a fenced write): a run killed midway changes nothing, and
the next run applies the stored file from the start, once. Progress (rows read) goes on
a connection of its own, since the work is not committed until the end; a cancel is
honoured between chunks of rows, and rolls everything back. The file holds residents'
document numbers: from the console it waits sealed (server.jobs.sealed).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from server.models import Community, Job, User
from server.services import eligibility
from server.services.eligibility_file import ListFileCheck, ListProblem
from voting import community_voter_secret

from .. import store
from ..runner import HANDLERS, JobFailed, JobRun
from ..sealed import open_sealed, seal

__all__ = ["KIND", "problems_of", "start_voter_list"]

KIND = "eligibility.upload"


def start_voter_list(
    session: Session,
    community: Community,
    name: str,
    data: bytes,
    *,
    mode: eligibility.ListMode,
    default_kind: str | None,
    skip_bad_rows: bool,
    user: User | None,
    now: datetime,
    master_secret: bytes | None = None,
) -> Job:
    """The job with the file stored beside it, in the caller's transaction: sealed with
    the server's `master_secret` when given (the console gives it: a list holds
    residents' document numbers, which the database keeps only as voter keys)."""
    job = store.create_job(
        session,
        community_id=community.id,
        kind=KIND,
        user=user,
        unit="rows",
        params={
            "mode": mode.value,
            "default_kind": default_kind,
            "skip_bad_rows": skip_bad_rows,
            "sealed": master_secret is not None,
        },
        files=[(name, data)] if master_secret is None else [],
        target=("community", community.id),
        now=now,
        # Lines after the header: the rows, give or take a quoted line break or a blank line.
        total=max(data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1), 1),
    )
    if master_secret is not None:
        store.add_file(session, job, 0, name, seal(master_secret, job.id, data))
    return job


def _summary(check: ListFileCheck) -> dict:
    return {
        "rows": check.rows,
        "bad_rows": check.bad_rows,
        "sha256": check.sha256,
        "district_column": check.has_district,
        "file_refused": check.file_refused,
    }


def problems_of(job: Job) -> list[ListProblem]:
    """The job's problems as the file check gave them (rendered in the reader's language)."""
    return [
        ListProblem(p.get("row"), p.get("column"), p["code"], dict(p.get("params") or {}))
        for p in job.problems
        if "code" in p
    ]


def run_voter_list(run: JobRun) -> None:
    session, job = run.session, run.job
    community = session.get_one(Community, job.community_id)
    [(_name, data)] = list(run.files())
    total = job.progress_total
    params = run.params
    if params.get("sealed"):
        data = open_sealed(current_app.config["VOTER_KEY_SECRET_BYTES"], job.id, data)
    check, change = eligibility.apply_list_file(
        session,
        community,
        data,
        eligibility.ListMode(params["mode"]),
        voter_secret=community_voter_secret(current_app.config["VOTER_KEY_SECRET_BYTES"], community.key_id),
        default_kind=params.get("default_kind"),
        skip_bad_rows=bool(params.get("skip_bad_rows")),
        user=run.user,
        on_progress=lambda staged: run.report(staged, total),
    )
    problems = [
        {"row": p.row, "column": p.column, "code": p.code, "params": dict(p.params)} for p in check.problems
    ]
    if change is None:
        raise JobFailed(problems, _summary(check))
    summary = _summary(check) | {
        "added": change.added,
        "removed": change.removed,
        "moved": change.moved,
        "version": change.version,
        "listed": change.listed_count,
    }
    run.finish_done(summary, problems, done=check.rows)


HANDLERS[KIND] = run_voter_list
