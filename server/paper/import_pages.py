"""«Імпорт паперових голосів (CSV)»: a community moderator or a support-point operator
uploads the spreadsheet a support point's staff typed from paper ballots, for one
public-budget cycle, and sees every bad row. The upload is a background job
(server.jobs.kinds.paper_votes) whose page shows the rows checked and then the
outcome; reading and checking are server.paper.vote_csv, storing
server.paper.vote_csv_import."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.auth.access import PAPER_STAFF, current_user, roles_required, scoped_or_404
from server.console.job_status import recent_jobs
from server.console.views import bp
from server.i18n import _, get_locale
from server.jobs.kinds.paper_votes import KIND as PAPER_VOTES
from server.jobs.kinds.paper_votes import start_paper_votes
from server.jobs.queue import enqueue
from server.models import Cycle, CycleKind, Device, DeviceKind, DeviceStatus, Project, ProjectStatus, utcnow
from server.paper.vote_csv import MAX_BYTES, MAX_ROWS, example_csv
from server.paper.vote_csv_messages import paper_message
from server.paper.vote_csv_rows import DOCUMENT_KINDS

ENDPOINT = "console.paper_import"
FIELD = "file"
# Room for the multipart boundaries, headers and the form's other fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class PaperCsvTooLarge(RequestEntityTooLarge):
    """An upload larger than the paper CSV limit, refused before a byte of it is read."""


@bp.url_value_preprocessor
def allow_paper_csv_upload(endpoint: str | None, _values: dict | None) -> None:
    # The app's request limit (MAX_CONTENT_LENGTH, 2 MB) is below a 5 MB file. Flask runs
    # URL value preprocessors before the CSRF check reads the form, so this is the place
    # to set this page's own limit; a declared size over it is refused unread.
    if endpoint != ENDPOINT or request.method != "POST":
        return
    limit = MAX_BYTES + FORM_OVERHEAD_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise PaperCsvTooLarge()


@bp.errorhandler(PaperCsvTooLarge)
def paper_csv_too_large(_error: PaperCsvTooLarge) -> ResponseReturnValue:
    detail = paper_message("paper.too_large", get_locale(), limit_mb=MAX_BYTES // 2**20)
    detail += " " + _("Нічого не збережено.")
    return render_template("error.html", code=413, title=_("Завеликий запит"), detail=detail), 413


def public_cycle_or_404(cycle_id: int) -> Cycle:
    cycle = scoped_or_404(Cycle, cycle_id)
    if cycle.kind != CycleKind.PUBLIC.value:
        abort(404)  # school votes are cast with codes, never typed from paper
    return cycle


def active_support_points(cycle: Cycle) -> list[Device]:
    return list(
        db.session().scalars(
            select(Device)
            .where(
                Device.community_id == cycle.community_id,
                Device.kind == DeviceKind.SUPPORT_POINT.value,
                Device.status == DeviceStatus.ACTIVE.value,
            )
            .order_by(Device.name, Device.code)
        )
    )


def chosen_support_point(cycle: Cycle, errors: list[str]) -> Device | None:
    raw = request.form.get("device_id", "").strip()
    if not raw.isdigit() or len(raw) > 10:
        errors.append(_("Оберіть пункт супроводу."))
        return None
    device = scoped_or_404(Device, int(raw))
    if device.community_id != cycle.community_id:
        abort(404)  # an administrator's form cannot join two communities' data either
    if device.kind != DeviceKind.SUPPORT_POINT.value or device.status != DeviceStatus.ACTIVE.value:
        errors.append(_("Оберіть діючий пункт супроводу цієї громади."))
        return None
    return device


@bp.route("/cycles/<int:cycle_id>/paper-import", methods=["GET", "POST"])
@roles_required(*PAPER_STAFF)
def paper_import(cycle_id: int) -> ResponseReturnValue:
    cycle = public_cycle_or_404(cycle_id)
    errors: list[str] = []
    values = {"device_id": request.form.get("device_id", ""), "only_good_rows": ""}
    if request.method == "POST":
        device = chosen_support_point(cycle, errors)
        upload = request.files.get(FIELD)
        if upload is None or not upload.filename:
            errors.append(_("Оберіть файл CSV."))
        if device is not None and not errors:
            assert upload is not None
            # The file is stored with the job (sealed: it holds document numbers) before
            # the answer; a job worker checks and imports it while the job's page shows
            # the rows checked (server.jobs.kinds.paper_votes).
            session = db.session()
            job = start_paper_votes(
                session,
                cycle,
                device,
                upload.filename or "",
                upload.stream.read(MAX_BYTES + 1),
                master_secret=current_app.config["VOTER_KEY_SECRET_BYTES"],
                only_good_rows=request.form.get("only_good_rows") == "1",
                user=current_user(),
                now=utcnow(),
            )
            session.commit()
            enqueue(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
            return redirect(url_for("console.job_page", job_id=job.id), 303)
    return render_template(
        "console/paper_import.html",
        cycle=cycle,
        devices=active_support_points(cycle),
        values=values,
        errors=errors,
        limit_mb=MAX_BYTES // 2**20,
        max_rows=MAX_ROWS,
        document_kinds=DOCUMENT_KINDS,
        **recent_jobs(PAPER_VOTES, "cycle", cycle.id),
    ), (422 if errors else 200)


@bp.route("/cycles/<int:cycle_id>/paper-import/example.csv")
@roles_required(*PAPER_STAFF)
def paper_import_example(cycle_id: int) -> ResponseReturnValue:
    cycle = public_cycle_or_404(cycle_id)
    numbers = db.session().scalars(
        select(Project.number)
        .where(Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value)
        .order_by(Project.number)
    )
    # Times just after the opening, so the example passes every check as it is; the BOM
    # makes Excel read it as UTF-8.
    body = "\ufeff" + example_csv(list(numbers), cycle.voting_starts_at + timedelta(minutes=5))
    return Response(
        body.encode(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="paper-votes-example.csv"'},
    )
