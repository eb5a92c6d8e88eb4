"""Background jobs: long work a moderator starts in the console (a stack of scans, a
voter list) runs on a job worker, and this table is what people and workers see of it.

- `job`: one row per job, with its community (jobs of one community are invisible to
  another), who started it, its state, progress (done of total, in pages or rows), the
  outcome (`summary`) and the problems (message codes with their parameters, shown in
  the reader's language), and what it made (`target_type`, `target_id`: the page to go
  to). `attempts` is the fencing token: every write a run makes is conditional on it, so
  a run that lost its lease (its worker was presumed dead) can never commit over the run
  that took the job over. `heartbeat_at` is the lease: a running job whose heartbeat is
  older than the lease is taken over (docs/jobs.md).
- `job_file`: the input, stored in the database before the request answers (a worker on
  any host reads it), one row per uploaded file; emptied when the job ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, intpk, str64

JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED_STATES = ("done", "failed", "cancelled")


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="state_known"),
        Index("ix_job_community_created", "community_id", "created_at"),
        Index("ix_job_state_heartbeat", "state", "heartbeat_at"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    kind: Mapped[str] = mapped_column(String(32))  # e.g. "paper_scans.upload"
    state: Mapped[str] = mapped_column(String(16), default="queued")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(100), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer, default=None)
    progress_unit: Mapped[str] = mapped_column(String(16))  # pages | rows
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # what the form asked for
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # counts of the outcome
    problems: Mapped[list] = mapped_column(JSON, default=list)  # [{code, params, ...}]
    target_type: Mapped[str] = mapped_column(String(32), default="")  # what it made: "cycle", ...
    target_id: Mapped[int | None] = mapped_column(Integer, default=None)


class JobFile(Base):
    __tablename__ = "job_file"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str64]
    data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)


__all__ = ["FINISHED_STATES", "JOB_STATES", "Job", "JobFile"]
