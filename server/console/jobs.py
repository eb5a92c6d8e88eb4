"""«Фонові завдання»: the console's view of background jobs (server.jobs). A job's page
shows its progress live (static/jobs.js polls the JSON status; no inline script), the
elapsed time and an estimate, and once it ends its outcome with its problems and a
link to what it made; a moderator can cancel it. Jobs of another community are "not
found", as everything else of theirs."""

from __future__ import annotations

from datetime import datetime

from flask import Response, flash, jsonify, redirect, render_template, url_for
from sqlalchemy import select

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    current_user,
    roles_required,
    scoped_or_404,
    visible_community_ids,
)
from server.i18n import _, get_locale, number
from server.jobs import store
from server.jobs.kinds.voter_list import problems_of
from server.models import Community, Job, User, utcnow
from server.models.job import FINISHED_STATES
from server.services.eligibility_file import list_message

from .views import bp, menu_item_after

LISTED = 50

KIND_LABELS = {
    "paper_scans.upload": "Читання сканованих бюлетенів",
    "eligibility.upload": "Завантаження списку виборців",
}
STATE_LABELS = {
    "queued": "у черзі",
    "running": "виконується",
    "done": "виконано",
    "failed": "не вдалося",
    "cancelled": "скасовано",
}
STATE_BADGES = {"done": "good", "failed": "bad", "cancelled": "warn", "running": "", "queued": ""}
JOB_MESSAGES = {
    "job.target_gone": "Того, для чого запущено завдання, уже немає. Нічого не змінено.",
    "job.input_gone": "Завантажені файли завдання вже видалено. Завантажте їх знову.",
    "job.gave_up": (
        "Завдання кілька разів переривалося аварійно, тож його зупинено. "
        "Завантажте файли знову або зверніться до адміністратора."
    ),
    "job.internal_error": (
        "Завдання перервала внутрішня помилка сервера. "
        "Спробуйте ще раз; якщо повториться — зверніться до адміністратора."
    ),
    "job.unknown_kind": "Цей сервер не знає такого завдання.",
}


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def state_label(state: str) -> str:
    return _(STATE_LABELS.get(state, state))


def progress_text(job: Job) -> str:
    done = number(job.progress_done)
    if job.progress_unit == "rows":
        if job.progress_total:
            return _("Перевірено рядків: {done} з {total}", done=done, total=number(job.progress_total))
        return _("Перевірено рядків: {done}", done=done)
    if job.progress_total:
        return _("Прочитано сторінок: {done} з {total}", done=done, total=number(job.progress_total))
    return _("Прочитано сторінок: {done}", done=done)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timing(job: Job, now: datetime) -> tuple[float | None, float | None]:
    """Seconds since the job started (to its end once it ended), and the estimate of
    the seconds left: the pace so far over what is left (None while unknown)."""
    if job.started_at is None:
        return None, None
    elapsed = ((job.finished_at or now) - job.started_at).total_seconds()
    if job.state != "running" or not job.progress_total or job.progress_done <= 0 or elapsed <= 0:
        return elapsed, None
    left = max(job.progress_total - job.progress_done, 0)
    return elapsed, left * elapsed / job.progress_done


def job_problem(problem: dict) -> str:
    """A job-level problem in the reader's language (a page's or a row's have their own)."""
    code, params = problem.get("code", ""), dict(problem.get("params") or {})
    if code in JOB_MESSAGES:
        return _(JOB_MESSAGES[code])
    if code.startswith("list."):
        return list_message(code, get_locale(), **params)
    from .paper_scans import scan_message  # the scans page links here too: imported when used

    return scan_message(code, **params)


def target_link(job: Job) -> tuple[str, str] | None:
    """(address, label) of what the job made."""
    if job.target_type == "cycle" and job.target_id:
        return url_for("console.paper_scans", cycle_id=job.target_id), _("До сканованих бюлетенів")
    if job.target_type == "community" and job.target_id:
        return url_for("console.eligibility_page", community_id=job.target_id), _("До списку виборців")
    return None


def status(job: Job, now: datetime) -> dict:
    elapsed, left = timing(job, now)
    return {
        "id": job.id,
        "state": job.state,
        "state_label": state_label(job.state),
        "finished": job.state in FINISHED_STATES,
        "cancel_requested": job.cancel_requested,
        "done": job.progress_done,
        "total": job.progress_total,
        "unit": job.progress_unit,
        "progress_text": progress_text(job),
        "elapsed_s": elapsed,
        "elapsed_text": _clock(elapsed),
        "left_s": left,
        "left_text": _clock(left),
    }


RECENT = 5


def recent_jobs(kind: str, target_type: str, target_id: int) -> dict:
    """The template values of a page's latest jobs (console/_recent_jobs.html)."""
    jobs_q = (
        select(Job)
        .where(Job.kind == kind, Job.target_type == target_type, Job.target_id == target_id)
        .order_by(Job.id.desc())
        .limit(RECENT)
    )
    return {
        "recent_jobs": db.session().scalars(jobs_q).all(),
        "job_state_label": state_label,
        "job_progress_text": progress_text,
    }


def _job_or_404(job_id: int) -> Job:
    return scoped_or_404(Job, job_id)


@bp.route("/jobs")
@roles_required(*COMMUNITY_MANAGERS)
def jobs():  # type: ignore[no-untyped-def]
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
@roles_required(*COMMUNITY_MANAGERS)
def job_page(job_id: int):  # type: ignore[no-untyped-def]
    job = _job_or_404(job_id)
    s = db.session()
    now = utcnow()
    starter = s.get(User, job.created_by) if job.created_by else None
    locale = get_locale()
    from .paper_scans import scan_message

    list_problems = []
    if job.kind == "eligibility.upload":
        list_problems = [(p, p.message(locale)) for p in problems_of(job)]
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
        job_problems=[p for p in job.problems if "outcome" not in p and "row" not in p],
        page_problems=[p for p in job.problems if "outcome" in p],
        list_problems=list_problems,
        job_problem=job_problem,
        m=scan_message,
    )


@bp.route("/jobs/<int:job_id>/status.json")
@roles_required(*COMMUNITY_MANAGERS)
def job_status(job_id: int) -> Response:
    job = _job_or_404(job_id)
    response = jsonify(status(job, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def job_cancel(job_id: int) -> Response:
    job = _job_or_404(job_id)
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
