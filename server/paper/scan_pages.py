"""«Скановані бюлетені»: a community moderator or a support-point operator uploads a
support point's scanned paper ballot sheets, decides the unclear marks on the review
queue (a zoomed crop of each unclear box, and the whole sheet), corrects any box the
reader got wrong (with a reason), and commits the ready sheets as paper votes.

The reading, keeping and judging are server.paper.scans and the support point's
own review core (paper.review); this module is the web shell. Every decision is
a POST with the CSRF token, names the decision its page showed (`seen`) so two
moderators never silently overrule each other, and is kept with who and when.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from paper import review, sheet_state
from paper.messages import message as sheet_message
from paper.serials import is_serial
from paper.sheet_records import SheetRow
from server import db
from server.auth.access import PAPER_STAFF, current_user, roles_required
from server.console.job_status import recent_jobs
from server.console.views import bp
from server.i18n import _, datetime_text, get_locale
from server.jobs.kinds.scan_commit import start_scan_commit
from server.jobs.kinds.scan_upload import KIND as SCAN_UPLOAD
from server.jobs.kinds.scan_upload import start_scan_upload
from server.jobs.queue import enqueue
from server.models import Cycle, Device, utcnow
from server.paper import scans
from server.paper.import_pages import active_support_points, chosen_support_point, public_cycle_or_404
from server.paper.scan_rows import ms
from server.paper.scan_store import ServerSheetStore
from server.paper.tally import window_problem
from server.paper.tally_messages import tally_message
from sync.clock import datetime_from_ms
from sync.cycle_package import PackagedCycle, PackagedProject

UPLOAD_ENDPOINT = "console.paper_scans"
FORM_OVERHEAD_BYTES = 64 * 1024
QUEUE_SHOWN = 200  # sheets listed per state; the counts say how many there are in all
ACCEPTED_TYPES = ".png,.jpg,.jpeg,.tif,.tiff,.pdf,image/png,image/jpeg,image/tiff,application/pdf"


class ScansTooLarge(RequestEntityTooLarge):
    """An upload larger than the page allows, refused before a byte of it is read."""


@bp.url_value_preprocessor
def allow_scan_upload(endpoint: str | None, _values: dict | None) -> None:
    # The app's request limit (2 MB) is far below a stack of scans: this page sets its
    # own before the CSRF check reads the form; a declared size over it is refused unread.
    if endpoint != UPLOAD_ENDPOINT or request.method != "POST":
        return
    limit = scans.MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise ScansTooLarge()


@bp.errorhandler(ScansTooLarge)
def scans_too_large(_error: ScansTooLarge) -> ResponseReturnValue:
    detail = _(
        "Файли разом завеликі: не більше {limit} МБ за одне завантаження. Нічого не збережено.",
        limit=scans.MAX_UPLOAD_BYTES // 2**20,
    )
    return render_template("error.html", code=413, title=_("Завеликий запит"), detail=detail), 413


def scan_message(code: str, **params: Any) -> str:
    """A reason or refusal in the page's language: the sheet codes are the support
    point's (paper.messages), the window codes the tally sheets'."""
    locale = get_locale()
    own = {
        "paper_scans.sent_by_point": _("Цей аркуш уже надіслав пункт супроводу: він рахується звідти."),
        "paper_scans.conflict": _("Голос цього аркуша вже збережено з іншим змістом. Нічого не збережено."),
        "forms.no_projects": _("У голосуванні немає допущених проєктів: бюлетенів для нього не буває."),
    }
    if code in own:
        return own[code]
    if code.startswith("paper_tally."):
        return tally_message(code, locale, **params)
    return sheet_message(code, locale, **params)


def _store(cycle: Cycle) -> ServerSheetStore:
    return scans.store_for(db.session(), cycle, user=current_user())


def _cycles(cycle: Cycle) -> dict[int, PackagedCycle]:
    return {cycle.id: scans.packaged_cycle(db.session(), cycle)}


def _projects(packaged: PackagedCycle) -> dict[int, PackagedProject]:
    return {p.id: p for p in packaged.projects}


def _queue_page(cycle: Cycle, **extra: Any) -> str:
    store = _store(cycle)
    return render_template(
        "console/paper_scans.html",
        cycle=cycle,
        devices=active_support_points(cycle),
        counts=store.counts(),
        review_sheets=store.sheets("review", QUEUE_SHOWN),
        ready_sheets=store.sheets("ready", QUEUE_SHOWN),
        spoiled_sheets=store.sheets("spoiled", QUEUE_SHOWN),
        shown=QUEUE_SHOWN,
        m=scan_message,
        limit_mb=scans.MAX_UPLOAD_BYTES // 2**20,
        max_pages=scans.MAX_UPLOAD_PAGES,
        max_files=scans.MAX_UPLOAD_FILES,
        accepted_types=ACCEPTED_TYPES,
        **recent_jobs(SCAN_UPLOAD, "cycle", cycle.id),
        **extra,
    )


@bp.route("/cycles/<int:cycle_id>/paper-scans", methods=["GET", "POST"])
@roles_required(*PAPER_STAFF)
def paper_scans(cycle_id: int) -> ResponseReturnValue:
    cycle = public_cycle_or_404(cycle_id)
    if request.method == "GET":
        return _queue_page(cycle, errors=[], values={})
    errors: list[str] = []
    device = chosen_support_point(cycle, errors)
    uploads = [f for f in request.files.getlist("files") if f is not None and f.filename]
    if not uploads:
        errors.append(_("Оберіть файли сканів."))
    elif len(uploads) > scans.MAX_UPLOAD_FILES:
        errors.append(_("Не більше {count} файлів за одне завантаження.", count=scans.MAX_UPLOAD_FILES))
    values = {"device_id": request.form.get("device_id", "")[:12]}
    if errors or device is None:
        return _queue_page(cycle, errors=errors, values=values), 422
    # The scans are stored with the job before the answer; a job worker reads them while
    # the job's page shows the progress (server.jobs.kinds.scan_upload).
    session = db.session()
    job = start_scan_upload(
        session,
        cycle,
        device,
        ((upload.filename or "", upload.stream.read()) for upload in uploads),
        count=len(uploads),
        user=current_user(),
        now=utcnow(),
    )
    session.commit()
    enqueue(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return redirect(url_for("console.job_page", job_id=job.id), 303)


@bp.route("/cycles/<int:cycle_id>/paper-scans/commit", methods=["POST"])
@roles_required(*PAPER_STAFF)
def paper_scans_commit(cycle_id: int) -> ResponseReturnValue:
    cycle = public_cycle_or_404(cycle_id)
    # A backlog of thousands of sheets is long work: a job (server.jobs.kinds.scan_commit),
    # the request only starts it. The window is checked here too, so a closed one says
    # so at once.
    now = utcnow()
    problem = window_problem(cycle, now)
    if problem is not None:
        flash(scan_message(problem.code, **problem.params), "error")
        return redirect(url_for("console.paper_scans", cycle_id=cycle.id))
    job = start_scan_commit(db.session(), cycle, user=current_user(), now=now)
    db.session().commit()
    enqueue(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return redirect(url_for("console.job_page", job_id=job.id), 303)


def _sheet_or_404(cycle: Cycle, serial: str) -> tuple[ServerSheetStore, SheetRow]:
    if not is_serial(serial):
        abort(404)
    store = _store(cycle)
    sheet = store.sheet(cycle.id, serial)
    if sheet is None:
        abort(404)
    return store, sheet


@bp.route("/cycles/<int:cycle_id>/paper-scans/sheets/<serial>")
@roles_required(*PAPER_STAFF)
def paper_scan_sheet(cycle_id: int, serial: str) -> ResponseReturnValue:
    cycle = public_cycle_or_404(cycle_id)
    store, sheet = _sheet_or_404(cycle, serial)
    cycles = _cycles(cycle)
    state = sheet_state.evaluate(
        sheet, store.pages_of(cycle.id, serial), store.decisions(cycle.id, serial), cycles[cycle.id]
    )
    device = db.session().get(Device, store.sheet_device(serial))
    return render_template(
        "console/paper_scan_sheet.html",
        cycle=cycle,
        sheet=sheet,
        state=state,
        device=device,
        # A zoomed crop only where the reader made one (every marginal box; every box of
        # a page needing review); any other box points to its whole page instead.
        cropped=store.cropped_boxes({box.page_id for box in state.boxes}),
        projects=_projects(cycles[cycle.id]),
        m=scan_message,
        moment=_moment,
    )


def _moment(epoch_ms: int | None) -> str:
    return datetime_text(datetime_from_ms(epoch_ms)) if epoch_ms is not None else "—"


def _form_int(name: str) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit() or len(raw) > 10:
        abort(400)
    return int(raw)


def _decide(
    cycle_id: int, serial: str, action: Callable[..., Any], fields: Callable[[], dict]
) -> ResponseReturnValue:
    """Run one review decision. The cycle and sheet are found (or 404) before the form
    is read, so another community's moderator learns nothing from a malformed form."""
    cycle = public_cycle_or_404(cycle_id)
    store, _sheet = _sheet_or_404(cycle, serial)
    given = fields()
    session = db.session()
    try:
        action(
            store,
            cycle.id,
            serial,
            operator=scans.operator_name(current_user()),
            cycles=_cycles(cycle),
            now_ms=ms(utcnow()),
            **given,
        )
    except review.ReviewError as error:
        session.rollback()
        flash(scan_message(error.code, who=error.detail), "error")
    else:
        session.commit()
        flash(_("Рішення записано."), "success")
    return redirect(url_for("console.paper_scan_sheet", cycle_id=cycle.id, serial=serial))


def _verdict() -> str:
    verdict = request.form.get("verdict", "")
    if verdict not in sheet_state.DECIDED:
        abort(400)
    return verdict


@bp.route("/cycles/<int:cycle_id>/paper-scans/sheets/<serial>/box", methods=["POST"])
@roles_required(*PAPER_STAFF)
def paper_scan_box(cycle_id: int, serial: str) -> ResponseReturnValue:
    return _decide(
        cycle_id,
        serial,
        review.decide_box,
        lambda: {
            "page_id": _form_int("page_id"),
            "project_id": _form_int("project_id"),
            "verdict": _verdict(),
            "seen": _form_int("seen"),
            # Needed only against what stands (the core says when); cut short like the
            # spoil reason, so a huge field is refused as too long, not stored in part.
            "reason": request.form.get("reason", "")[: review.MAX_REASON * 4],
        },
    )


@bp.route("/cycles/<int:cycle_id>/paper-scans/sheets/<serial>/page", methods=["POST"])
@roles_required(*PAPER_STAFF)
def paper_scan_page_choice(cycle_id: int, serial: str) -> ResponseReturnValue:
    return _decide(
        cycle_id,
        serial,
        review.choose_page,
        lambda: {"page_id": _form_int("page_id"), "seen": _form_int("seen")},
    )


@bp.route("/cycles/<int:cycle_id>/paper-scans/sheets/<serial>/spoil", methods=["POST"])
@roles_required(*PAPER_STAFF)
def paper_scan_spoil(cycle_id: int, serial: str) -> ResponseReturnValue:
    return _decide(
        cycle_id,
        serial,
        review.spoil_sheet,
        lambda: {
            "reason": request.form.get("reason", "")[: review.MAX_REASON * 4],
            "seen": _form_int("seen"),
        },
    )


@bp.route("/cycles/<int:cycle_id>/paper-scans/sheets/<serial>/restore", methods=["POST"])
@roles_required(*PAPER_STAFF)
def paper_scan_restore(cycle_id: int, serial: str) -> ResponseReturnValue:
    return _decide(cycle_id, serial, review.restore_sheet, lambda: {"seen": _form_int("seen")})


def _image(data: bytes | None, mimetype: str) -> Response:
    if data is None:
        abort(404)
    response = Response(data, mimetype=mimetype)
    # Scans show how a resident voted: never kept by a shared browser or proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/cycles/<int:cycle_id>/paper-scans/pages/<int:page_id>.jpg")
@roles_required(*PAPER_STAFF)
def paper_scan_preview(cycle_id: int, page_id: int) -> Response:
    cycle = public_cycle_or_404(cycle_id)
    return _image(_store(cycle).preview(page_id), "image/jpeg")


@bp.route("/cycles/<int:cycle_id>/paper-scans/pages/<int:page_id>/boxes/<int:project_id>.png")
@roles_required(*PAPER_STAFF)
def paper_scan_crop(cycle_id: int, page_id: int, project_id: int) -> Response:
    cycle = public_cycle_or_404(cycle_id)
    return _image(_store(cycle).crop(page_id, project_id), "image/png")
