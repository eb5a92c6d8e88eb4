"""«Імпорт голосів з носія» as a job: one bundle file a terminal without a network
wrote to a USB stick, imported batch by batch through the very path a push takes
(server.sync.bundle_import).

The import commits batch by batch. Each of those commits carries the job's progress
(batches read, a fenced write), and the import's last commit, the one with its
`device.bundle_import` audit record, ends the job in the same transaction: done when
the bundle was accepted, failed with its refusals when not. A run killed midway keeps
the batches it committed; the next run imports the bundle again from the start, and
those batches answer as already known (a device's entries are stored once whatever
brings them), so every vote is stored once and the import has one audit record.
A cancel is honoured before the import starts: a bundle, once begun, is read to its end
or to its first refused batch, as the command line does.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from server.models import AuditEvent, Job, User, utcnow
from server.sync.bundle_import import AUDIT_ACTION, Refusal, import_bundle

from .. import store
from ..runner import HANDLERS, JobRun

__all__ = ["KIND", "refusals_of", "start_bundle_import"]

KIND = "device.bundle_import"
REPORT_FIELDS = (
    "file",
    "size_bytes",
    "sha256",
    "device",
    "created_at",
    "first_seq",
    "last_seq",
    "batches",
    "entries_read",
    "stored",
    "already_known",
    "waiting",
    "not_read",
    "ok",
)


def start_bundle_import(
    session: Session,
    community_id: int,
    name: str,
    data: bytes,
    *,
    batches: int,
    max_bytes: int,
    user: User | None,
    now: datetime,
) -> Job:
    """The job with the bundle stored beside it, in the caller's transaction. The
    bundle's own community (read from it and checked against the starter's) is the
    job's: the import is held to it."""
    return store.create_job(
        session,
        community_id=community_id,
        kind=KIND,
        user=user,
        unit="batches",
        params={"max_bytes": max_bytes, "file": name[:200]},
        files=[(name, data)],
        target=("community", community_id),
        now=now,
        total=max(batches, 1),
    )


def refusals_of(job: Job) -> list[Refusal]:
    return [
        Refusal(p["code"], p.get("batch"), dict(p.get("params") or {})) for p in job.problems if "batch" in p
    ]


def _summary(details: dict[str, Any]) -> dict:
    return {name: details.get(name) for name in REPORT_FIELDS}


def _problems(details: dict[str, Any]) -> list[dict]:
    return [
        {
            "code": r.get("code", ""),
            "batch": r.get("batch"),
            "params": {k: v for k, v in r.items() if k not in ("code", "batch")},
        }
        for r in details.get("refusals", [])
    ]


def run_bundle_import(run: JobRun) -> None:
    session, job = run.session, run.job
    [(name, data)] = list(run.files())
    total = job.progress_total
    committed = [0]  # batches committed by this run

    def with_each_commit(work: Session) -> None:
        ended = [o for o in work.new if isinstance(o, AuditEvent) and o.action == AUDIT_ACTION]
        if not ended:  # a batch (or an alarm): its progress goes with it
            committed[0] += 1
            store.save_progress(
                work,
                job,
                run.attempt,
                done=min(committed[0], total or committed[0]),
                total=total,
                now=utcnow(),
            )
            return
        details = ended[0].details
        store.finish(
            work,
            job,
            run.attempt,
            "done" if details.get("ok") else "failed",
            now=utcnow(),
            user=run.user,
            summary=_summary(details),
            problems=_problems(details),
            done=int(details.get("batches") or 0) - int(details.get("not_read") or 0),
        )

    run.check_cancel()
    handle, path = tempfile.mkstemp(prefix="spilno-bundle-", suffix=".sqlite")
    event.listen(session, "before_commit", with_each_commit)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
        del data
        import_bundle(
            session,
            path,
            scope=[job.community_id],
            user=run.user,
            file_name=name,
            max_bytes=int(run.params.get("max_bytes") or 0) or os.path.getsize(path),
        )
    finally:
        event.remove(session, "before_commit", with_each_commit)
        os.unlink(path)


HANDLERS[KIND] = run_bundle_import
