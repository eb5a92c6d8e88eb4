"""«Список виборців»: a community's list of residents who may vote. Moderators upload
it (the whole list, additions or removals), switch it on or off, and see what terminals
will get. Reading and storing are server.services.eligibility."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    MAX_ID,
    can_access_community,
    current_user,
    roles_required,
    visible_community_ids,
)
from server.console.job_status import recent_jobs
from server.i18n import _, get_locale
from server.jobs.kinds.voter_list import KIND as LIST_UPLOAD
from server.jobs.kinds.voter_list import start_voter_list
from server.jobs.queue import enqueue
from server.models import Community, EligibilityList, utcnow
from server.services import eligibility
from server.services.eligibility_file import KINDS, MAX_BYTES, MAX_ROWS, list_message

from .forms import confirmed
from .views import bp

UPLOAD_ENDPOINT = "console.eligibility_upload"
FORM_OVERHEAD_BYTES = 64 * 1024
KIND_LABELS = {
    "rnokpp": "РНОКПП",
    "unzr": "УНЗР (запис ЄДДР)",
    "passport": "Паспорт-книжечка",
    "id_card": "Номер ID-картки",
    "card": "Картка мешканця (ідентифікатор картки)",
}
MODE_LABELS = {
    eligibility.ListMode.REPLACE: "Замінити весь список цим файлом",
    eligibility.ListMode.ADD: "Додати мешканців із файлу",
    eligibility.ListMode.REMOVE: "Вилучити мешканців із файлу",
}


class ListFileTooLarge(RequestEntityTooLarge):
    """An upload larger than the list's limit, refused before a byte of it is read."""


@bp.url_value_preprocessor
def allow_list_upload(endpoint: str | None, _values: dict | None) -> None:
    # The app's request limit is far below a register's size; as with the paper CSV,
    # this page sets its own, before the CSRF check reads the form.
    if endpoint != UPLOAD_ENDPOINT or request.method != "POST":
        return
    limit = MAX_BYTES + FORM_OVERHEAD_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise ListFileTooLarge()


@bp.errorhandler(ListFileTooLarge)
def list_file_too_large(_error: ListFileTooLarge) -> ResponseReturnValue:
    detail = list_message("list.too_large", get_locale(), limit_mb=MAX_BYTES // 2**20)
    detail += " " + _("Нічого не збережено.")
    return render_template("error.html", code=413, title=_("Завеликий запит"), detail=detail), 413


def _community_or_404(community_id: int) -> Community:
    if not 0 < community_id <= MAX_ID:
        abort(404)
    community = db.session().get(Community, community_id)
    if community is None or not can_access_community(current_user(), community.id):
        abort(404)
    return community


@bp.route("/eligibility")
@roles_required(*COMMUNITY_MANAGERS)
def eligibility_index() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    scope = visible_community_ids(user)
    if scope is not None and len(scope) == 1:
        return redirect(url_for("console.eligibility_page", community_id=scope[0]))
    query = select(Community, EligibilityList).outerjoin(
        EligibilityList, EligibilityList.community_id == Community.id
    )
    if scope is not None:
        query = query.where(Community.id.in_(scope))
    rows = db.session().execute(query.order_by(Community.name)).all()
    return render_template("console/eligibility_index.html", rows=rows)


def _render(community: Community, status: int = 200, **extra: Any) -> tuple[str, int]:
    listing = eligibility.list_state(db.session(), community.id)
    return render_template(
        "console/eligibility.html",
        community=community,
        listing=listing,
        kinds=[(k, KIND_LABELS[k]) for k in KINDS],
        modes=[(m.value, label) for m, label in MODE_LABELS.items()],
        limit_mb=MAX_BYTES // 2**20,
        max_rows=MAX_ROWS,
        **recent_jobs(LIST_UPLOAD, "community", community.id),
        **extra,
    ), status


@bp.route("/communities/<int:community_id>/eligibility")
@roles_required(*COMMUNITY_MANAGERS)
def eligibility_page(community_id: int) -> ResponseReturnValue:
    return _render(_community_or_404(community_id))


@bp.route("/communities/<int:community_id>/eligibility/upload", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def eligibility_upload(community_id: int) -> ResponseReturnValue:
    community = _community_or_404(community_id)
    errors: list[str] = []
    raw_mode = request.form.get("mode", "")
    mode = eligibility.ListMode(raw_mode) if raw_mode in {m.value for m in eligibility.ListMode} else None
    if mode is None:
        errors.append(_("Оберіть, що зробити зі списком."))
    kind = request.form.get("default_kind", "")[:16]
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors.append(_("Оберіть файл CSV."))
    if errors:
        return _render(community, 422, errors=errors)
    assert upload is not None and mode is not None
    # The file is stored (sealed) with the job before the answer; a job worker checks and
    # applies it while the job's page shows the progress (server.jobs.kinds.voter_list).
    session = db.session()
    job = start_voter_list(
        session,
        community,
        upload.filename or "list.csv",
        upload.stream.read(MAX_BYTES + 1),
        mode=mode,
        default_kind=kind if kind in KINDS else None,
        skip_bad_rows=request.form.get("skip_bad_rows") == "1",
        user=current_user(),
        now=utcnow(),
        master_secret=current_app.config["VOTER_KEY_SECRET_BYTES"],
    )
    session.commit()
    enqueue(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return redirect(url_for("console.job_page", job_id=job.id), 303)


@bp.route("/communities/<int:community_id>/eligibility/switch", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def eligibility_switch(community_id: int) -> ResponseReturnValue:
    community = _community_or_404(community_id)
    if not confirmed():
        return redirect(url_for("console.eligibility_page", community_id=community.id))
    session = db.session()
    enable = request.form.get("enabled") == "1"
    listing = eligibility.list_state(session, community.id)
    if enable and (listing is None or listing.listed_count == 0):
        flash(_("Список порожній: спершу завантажте файл зі списком мешканців."), "error")
        return redirect(url_for("console.eligibility_page", community_id=community.id))
    eligibility.set_enabled(session, community, enable, user=current_user())
    session.commit()
    if enable:
        flash(_("Список увімкнено: термінали прийматимуть лише мешканців зі списку."), "success")
    else:
        flash(_("Список вимкнено: термінали не перевірятимуть мешканців за списком."), "success")
    return redirect(url_for("console.eligibility_page", community_id=community.id))
