"""«Фонові завдання»: the console's view of background jobs (server.jobs). A job's page
shows its progress live (static/jobs.js polls the JSON status; no inline script), the
elapsed time and an estimate, and once it ends its outcome with its problems and a
link to what it made; a moderator can cancel it. Jobs of another community are "not
found", as everything else of theirs. The list is for community managers; a school's
moderator follows (and cancels) the jobs of their own school's contests only, a
support-point operator the paper jobs (scans, tally sheets, typed paper votes) of their
community only."""

from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    current_user,
    roles_required,
    visible_community_ids,
)
from server.console.job_status import (
    JOB_FOLLOWERS,
    STATE_BADGES,
    job_or_404,
    job_problem,
    kind_label,
    progress_text,
    state_label,
    status,
)
from server.i18n import _
from server.jobs import store
from server.models import Community, Job, User, utcnow
from server.models.job import FINISHED_STATES

from .views import bp, menu_item_after

LISTED = 50


@bp.route("/jobs")
@roles_required(*COMMUNITY_MANAGERS)
def jobs() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    scope = visible_community_ids(user)
    query = (
        select(Job, Community.name, User.display_name)
        .join(Community, Community.id == Job.community_id)
        .outerjoin(User, User.id == Job.created_by)
        .order_by(Job.id.desc())
        .limit(LISTED)
    )
    if scope is not None:
        query = query.where(Job.community_id.in_(scope))
    rows = db.session().execute(query).all()
    return render_template(
        "console/jobs.html",
        rows=rows,
        listed=LISTED,
        kind_label=kind_label,
        state_label=state_label,
        badges=STATE_BADGES,
        progress_text=progress_text,
    )


@bp.route("/jobs/<int:job_id>")
@roles_required(*JOB_FOLLOWERS)
def job_page(job_id: int) -> ResponseReturnValue:
    job = job_or_404(job_id)
    s = db.session()
    now = utcnow()
    starter = s.get(User, job.created_by) if job.created_by else None
    # The pages these link to import this module (their latest jobs): imported when used.
    from server.paper.scan_pages import scan_message

    from .job_outcomes import outcome_of, target_link

    user = current_user()
    return render_template(
        "console/job.html",
        job=job,
        starter=starter,
        now=now,
        info=status(job, now),
        kind_label=kind_label,
        badges=STATE_BADGES,
        finished=job.state in FINISHED_STATES,
        link=target_link(job),
        # The job's own problems; a page's, a row's or a batch's are in its kind's outcome.
        job_problems=[p for p in job.problems if not {"outcome", "row", "batch"} & set(p)],
        job_problem=job_problem,
        m=scan_message,
        **outcome_of(job),
        can_list=user is not None and user.role_enum in COMMUNITY_MANAGERS,
    )


@bp.route("/jobs/<int:job_id>/status.json")
@roles_required(*JOB_FOLLOWERS)
def job_status(job_id: int) -> Response:
    job = job_or_404(job_id)
    response = jsonify(status(job, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
@roles_required(*JOB_FOLLOWERS)
def job_cancel(job_id: int) -> ResponseReturnValue:
    job = job_or_404(job_id)
    session = db.session()
    outcome = store.request_cancel(session, job, user=current_user(), now=utcnow())
    session.commit()
    if outcome == "cancelled":
        flash(_("Завдання скасовано; воно нічого не змінило."), "success")
    elif outcome == "requested":
        flash(_("Завдання зупиниться після поточної сторінки чи частини рядків."), "success")
    else:
        flash(_("Завдання вже завершилося, скасувати його не можна."), "error")
    return redirect(url_for("console.job_page", job_id=job.id))


bp.record(menu_item_after(("console.audit_log",), "console.jobs", "Фонові завдання", COMMUNITY_MANAGERS))
