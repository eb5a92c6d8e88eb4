"""«Фонові завдання»: the console's view of background jobs (server.jobs). A job's page
shows its progress live (static/jobs.js polls the JSON status; no inline script), the
elapsed time and an estimate, and once it ends its outcome with its problems and a
link to what it made; a moderator can cancel it. Jobs of another community are "not
found", as everything else of theirs. The list is for community managers; a school's
moderator follows (and cancels) the jobs of their own school's contests only, a
support-point operator the paper jobs (scans, tally sheets, typed paper votes) of their
community only."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, jsonify, redirect, render_template, url_for
from sqlalchemy import select

from qr_codes.card_address import CardAddressError
from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    SCHOOL_STAFF,
    can_access_school,
    current_user,
    roles_required,
    scoped_or_404,
    visible_community_ids,
)
from server.i18n import _, get_locale, number
from server.jobs import store
from server.models import Community, Job, Role, SchoolContest, User, utcnow
from server.models.job import FINISHED_STATES
from server.services.eligibility_file import list_message
from server.services.operator_workspace import PAPER_JOB_KINDS

from .views import bp, menu_item_after

LISTED = 50

KIND_LABELS = {
    "paper_scans.upload": "Читання сканованих бюлетенів",
    "eligibility.upload": "Завантаження списку виборців",
    "school_codes.cards": "Картки з кодами для голосування",
    "votes.paper_import": "Імпорт паперових голосів",
    "paper_tally.import": "Імпорт протоколу підрахунку",
    "device.bundle_import": "Імпорт голосів з носія",
    "results.verify": "Звірка результатів з первинними записами",
    "paper_scans.commit": "Збереження готових аркушів як голосів",
}
# Jobs a school's own moderator may follow: those of their school's contests.
SCHOOL_TARGETS = ("school_contest",)
# Who may open a job's page (each then limited by job_or_404).
JOB_FOLLOWERS = (*SCHOOL_STAFF, Role.SUPPORT_OPERATOR)
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
    "school_codes.nothing_to_print": (
        "Немає карток, які можна надрукувати: усі картки використано або відкликано. Нічого не створено."
    ),
    "school_codes.too_many_cards": (
        "Забагато карток для одного файлу (більше {max}). Друкуйте картки за класами."
    ),
}


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def state_label(state: str) -> str:
    return _(STATE_LABELS.get(state, state))


def progress_text(job: Job) -> str:
    done = number(job.progress_done)
    if job.progress_unit == "steps":
        return _("Кроків перерахунку: {done} з {total}", done=done, total=number(job.progress_total or 0))
    if job.progress_unit == "batches":
        if job.progress_total:
            return _("Прочитано пакетів: {done} з {total}", done=done, total=number(job.progress_total))
        return _("Прочитано пакетів: {done}", done=done)
    if job.progress_unit == "cards":
        if job.progress_total:
            return _("Намальовано карток: {done} з {total}", done=done, total=number(job.progress_total))
        return _("Намальовано карток: {done}", done=done)
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
        return _(JOB_MESSAGES[code], **params)
    if code == "school_codes.card_address":
        rule = str(params.pop("rule", ""))
        return CardAddressError(rule, **params).message(get_locale())
    if code.startswith("list."):
        return list_message(code, get_locale(), **params)
    from .paper_scans import scan_message  # the scans page links here too: imported when used

    return scan_message(code, **params)


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


def job_or_404(job_id: int) -> Job:
    """The job if the signed-in user may follow it: a community manager, any job of their
    community; a school moderator, only a job of their own school's contest; a
    support-point operator, only a paper job of their community. Else 404."""
    job = scoped_or_404(Job, job_id)
    user = current_user()
    if user is not None and user.role_enum is Role.SUPPORT_OPERATOR and job.kind not in PAPER_JOB_KINDS:
        abort(404)
    if user is not None and user.role_enum is Role.SCHOOL_MODERATOR:
        if job.target_type not in SCHOOL_TARGETS or job.target_id is None:
            abort(404)
        school_id = db.session().scalar(
            select(SchoolContest.school_id).where(SchoolContest.id == job.target_id)
        )
        if not can_access_school(user, job.community_id, school_id):
            abort(404)
    return job


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
@roles_required(*JOB_FOLLOWERS)
def job_page(job_id: int):  # type: ignore[no-untyped-def]
    job = job_or_404(job_id)
    s = db.session()
    now = utcnow()
    starter = s.get(User, job.created_by) if job.created_by else None
    # The pages these link to import this module (their latest jobs): imported when used.
    from .job_outcomes import outcome_of, target_link
    from .paper_scans import scan_message

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
        can_list=current_user() is not None and current_user().role_enum in COMMUNITY_MANAGERS,  # type: ignore[union-attr]
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
def job_cancel(job_id: int) -> Response:
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
