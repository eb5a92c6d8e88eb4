"""What a job looks like to the people following it, on its own page and in every
page's recent-jobs box: kind and state labels, progress and time left in words, its
problems in the reader's language, and which jobs a user may follow. No routes here
(server/console/jobs.py has them), so any console page may import it.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort
from sqlalchemy import select

from qr_codes.card_address import CardAddressError
from server import db
from server.auth.access import (
    SCHOOL_STAFF,
    can_access_school,
    current_user,
    scoped_or_404,
)
from server.i18n import _, get_locale, number
from server.models import Job, Role, SchoolContest
from server.models.job import FINISHED_STATES
from server.services.eligibility_file import list_message
from server.services.operator_workspace import PAPER_JOB_KINDS

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
    from server.paper.scan_pages import scan_message  # the scans page links here too: imported when used

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
