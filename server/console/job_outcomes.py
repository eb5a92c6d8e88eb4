"""What a finished job shows, kind by kind: the template values of its outcome (the
same tables and words as its page showed before it was a job), and the link to what
it made or to the page it came from. server.console.jobs renders them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from server import db
from server.i18n import _, get_locale
from server.jobs.kinds.bundle_import import KIND as BUNDLE_IMPORT
from server.jobs.kinds.bundle_import import refusals_of as bundle_refusals_of
from server.jobs.kinds.code_cards import KIND as CODE_CARDS
from server.jobs.kinds.paper_votes import KIND as PAPER_VOTES
from server.jobs.kinds.paper_votes import problems_of as paper_problems_of
from server.jobs.kinds.results_verify import KIND as RESULTS_VERIFY
from server.jobs.kinds.scan_commit import KIND as SCAN_COMMIT
from server.jobs.kinds.scan_upload import KIND as SCAN_UPLOAD
from server.jobs.kinds.tally_sheet import KIND as TALLY_SHEET
from server.jobs.kinds.tally_sheet import problems_of as tally_problems_of
from server.jobs.kinds.voter_list import KIND as VOTER_LIST
from server.jobs.kinds.voter_list import problems_of as list_problems_of
from server.models import Job, Project
from server.models.job import FINISHED_STATES
from server.paper.tally_report import problem_rows, summary_label
from server.results.page import TEMPLATE_HELPERS
from server.results.publishing import verification_from_dict
from server.sync.bundle_import import BundleReport

__all__ = ["outcome_of", "target_link"]


def outcome_of(job: Job) -> dict[str, Any]:
    """The values console/job.html and its kind's partial read."""
    locale = get_locale()
    finished = job.state in FINISHED_STATES
    return {
        "page_problems": [p for p in job.problems if "outcome" in p],
        "list_problems": (
            [(p, p.message(locale)) for p in list_problems_of(job)] if job.kind == VOTER_LIST else []
        ),
        "paper_problems": (
            [(p, p.message(locale)) for p in paper_problems_of(job)] if job.kind == PAPER_VOTES else []
        ),
        "tally": _tally_outcome(job) if job.kind == TALLY_SHEET else {},
        "report": _bundle_report(job) if job.kind == BUNDLE_IMPORT and finished else None,
        "report_index": 1,
        "verification": (
            verification_from_dict(job.summary)
            if job.kind == RESULTS_VERIFY and job.state == "done"
            else None
        ),
        "status_text": TEMPLATE_HELPERS["status_text"],
    }


def target_link(job: Job) -> tuple[str, str] | None:
    """(address, label) of what the job made, or of the page it was started from."""
    if job.target_id is None and job.kind != BUNDLE_IMPORT:
        return None
    target = job.target_id
    if job.kind == CODE_CARDS:
        if job.state == "done":
            return url_for("console.cards_job_pdf", job_id=job.id), _("Завантажити картки (PDF)")
        return url_for("console.contest_page", contest_id=target), _("До конкурсу")
    links = {
        SCAN_UPLOAD: lambda: (
            url_for("console.paper_scans", cycle_id=target),
            _("До сканованих бюлетенів"),
        ),
        SCAN_COMMIT: lambda: (
            url_for("console.paper_scans", cycle_id=target),
            _("До сканованих бюлетенів"),
        ),
        VOTER_LIST: lambda: (
            url_for("console.eligibility_page", community_id=target),
            _("До списку виборців"),
        ),
        PAPER_VOTES: lambda: (
            url_for("console.paper_import", cycle_id=target),
            _("До імпорту паперових голосів"),
        ),
        TALLY_SHEET: lambda: (url_for("console.paper_tally", cycle_id=target), _("До протоколів підрахунку")),
        BUNDLE_IMPORT: lambda: (url_for("console.bundle_import"), _("До імпорту голосів з носія")),
        RESULTS_VERIFY: lambda: (url_for("results.console_cycle", cycle_id=target), _("До результатів")),
    }
    return links[job.kind]() if job.kind in links else None


def _bundle_report(job: Job) -> BundleReport | None:
    """A bundle job's report, as the bundle page shows one (None if it ended unread)."""
    s = job.summary
    if "ok" not in s:
        return None
    return BundleReport(
        file_name=s.get("file") or job.params.get("file", ""),
        size_bytes=s.get("size_bytes") or 0,
        sha256=s.get("sha256") or "",
        device=s.get("device"),
        created_at=s.get("created_at"),
        first_seq=s.get("first_seq"),
        last_seq=s.get("last_seq"),
        batches=s.get("batches") or 0,
        entries_read=s.get("entries_read") or 0,
        stored=s.get("stored") or 0,
        already_known=s.get("already_known") or 0,
        waiting=s.get("waiting") or 0,
        not_read=s.get("not_read") or 0,
        refusals=bundle_refusals_of(job),
    )


def _tally_outcome(job: Job) -> dict:
    """A tally sheet job's report rows, and what a sheet awaiting confirmation would change."""
    changes = []
    for change in job.summary.get("changes", []):
        if "name" in change:
            label = summary_label(change["name"])
        else:
            project = db.session().get(Project, change.get("project_id"))
            label = f"№{project.number} {project.title}" if project is not None else "—"
        changes.append((label, change.get("before"), change.get("after")))
    previous_at = job.summary.get("previous_entered_at")
    return {
        "report": problem_rows(tally_problems_of(job), "csv"),
        "changes": changes,
        "previous_at": datetime.fromisoformat(previous_at) if previous_at else None,
    }
