"""«Скановані бюлетені» as a job: read a stack of uploaded scans page by page.

Each page is kept (server.paper.scans.keep_scans) and committed together with
the job's progress, its counts and the page's problems (a fenced write): a run killed
between two pages leaves every page kept once and counted once, and the next run skips
exactly the pages counted. A page is also unique by its image and index in the cycle,
so even a page kept twice could not be stored twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from server.models import Cycle, Device, Job, User, utcnow
from server.paper import scans
from server.paper.scan_rows import ms
from server.services import audit

from .. import store
from ..runner import HANDLERS, MAX_PROBLEMS, JobFailed, JobRun

__all__ = ["KIND", "start_scan_upload"]

KIND = "paper_scans.upload"
COUNTS = ("accepted", "needs_review", "rejected", "duplicate")


def start_scan_upload(
    session: Session,
    cycle: Cycle,
    device: Device,
    files: Iterable[tuple[str, bytes]],
    *,
    user: User | None,
    now: datetime,
    count: int | None = None,
) -> Job:
    """The job with the scans stored beside it, in the caller's transaction. `files`
    may be a generator (each upload read when it is stored) with `count` saying how many."""
    if count is None:
        files = list(files)
        count = len(files)
    return store.create_job(
        session,
        community_id=cycle.community_id,
        kind=KIND,
        user=user,
        unit="pages",
        params={"cycle_id": cycle.id, "device_id": device.id},
        files=files,
        target=("cycle", cycle.id),
        now=now,
        total=count,  # a page a file, until a file turns out to hold more
    )


def run_scan_upload(run: JobRun) -> None:
    session, job = run.session, run.job
    cycle = session.get(Cycle, run.params.get("cycle_id"))
    device = session.get(Device, run.params.get("device_id"))
    if cycle is None or device is None or cycle.community_id != job.community_id:
        raise JobFailed([{"code": "job.target_gone", "params": {}}])
    before = {name: int(job.summary.get(name, 0)) for name in COUNTS}
    summary = dict(before)
    problems = list(job.problems)
    done = job.progress_done
    # The files are read one at a time (keep_scans writes each to a temporary file
    # before reading any page), never the whole upload in memory at once.
    file_count = run.file_count()
    result = scans.ScanImport()
    pages = scans.keep_scans(
        session,
        cycle,
        device,
        run.files(),
        result,
        master_secret=current_app.config["VOTER_KEY_SECRET_BYTES"],
        user=run.user,
        now_ms=ms(utcnow()) or 0,
        skip_pages=done,
    )
    for page in pages:
        done += 1
        summary[page.outcome] = summary.get(page.outcome, 0) + 1
        if page.outcome != "accepted" and len(problems) < MAX_PROBLEMS:
            problems.append(
                {
                    "file": page.file,
                    "page_index": page.page_index,
                    "serial": page.serial,
                    "page": page.page,
                    "outcome": page.outcome,
                    "reasons": list(page.reasons),
                }
            )
        # A page a file is the estimate; a file of many pages makes the total unknown.
        total = file_count if done <= file_count else None
        run.save_progress(done, total, summary=summary, problems=problems)
        session.commit()
        run.check_cancel()
    if result.refused:
        raise JobFailed([{"code": result.refused, "params": {}}])
    summary |= {"pages": done, "truncated": result.truncated}
    audit.record(
        session,
        "paper_scans.upload",
        user=run.user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details={**scans.upload_details(device, result, before), "pages": done, "job": job.id},
    )
    run.finish_done(summary, problems, done=done)


HANDLERS[KIND] = run_scan_upload
