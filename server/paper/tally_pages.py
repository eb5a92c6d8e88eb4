"""«Імпорт протоколу підрахунку»: a community moderator or a support-point operator
enters one support point's tally sheet for a public-budget cycle, as a CSV file (a
background job, whose page shows the outcome) or typed into a form with one field per
project, and sees every problem. Reading and checking are
server.paper.tally_csv and paper_tally_sheet, storing and replacing
server.paper.tally."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.auth.access import PAPER_STAFF, current_user, roles_required
from server.console.job_status import recent_jobs
from server.console.views import bp
from server.i18n import _, get_locale
from server.jobs.kinds.tally_sheet import KIND as TALLY_SHEET
from server.jobs.kinds.tally_sheet import start_tally_sheet
from server.jobs.queue import enqueue
from server.models import Cycle, utcnow

# The support point is chosen and the cycle found exactly as for the per-voter import.
from server.paper.import_pages import active_support_points, chosen_support_point, public_cycle_or_404
from server.paper.tally import (
    SOURCE_FORM,
    Outcome,
    TallyImport,
    accepted_until,
    current_tallies,
    import_tally,
    tally_ballot,
    window_problem,
)
from server.paper.tally_csv import MAX_BYTES, MAX_ROWS, example_csv
from server.paper.tally_messages import tally_message
from server.paper.tally_report import problem_rows, summary_label
from server.paper.tally_sheet import (
    FORM_FIELD_CHARS,
    SUMMARY_NAMES,
    TallyBallot,
    check_tally_form,
    votes_field,
)

ENDPOINT = "console.paper_tally"
# Room for the multipart boundaries and the form's other fields (one per project).
FORM_OVERHEAD_BYTES = 64 * 1024
MODES = ("csv", "form")


class TallyFileTooLarge(RequestEntityTooLarge):
    """An upload larger than a tally sheet can be, refused before a byte of it is read."""


@bp.url_value_preprocessor
def limit_tally_upload(endpoint: str | None, _values: dict | None) -> None:
    # Flask runs URL value preprocessors before the CSRF check reads the form: the place
    # to give this page its own, smaller limit and refuse a larger declared body unread.
    if endpoint != ENDPOINT or request.method != "POST":
        return
    limit = MAX_BYTES + FORM_OVERHEAD_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise TallyFileTooLarge()


@bp.errorhandler(TallyFileTooLarge)
def tally_file_too_large(_error: TallyFileTooLarge) -> ResponseReturnValue:
    detail = tally_message("paper_tally.too_large", get_locale(), limit_kb=MAX_BYTES // 1024)
    detail += " " + _("Нічого не збережено.")
    return render_template("error.html", code=413, title=_("Завеликий запит"), detail=detail), 413


def _report(result: TallyImport | None, mode: str) -> list[tuple[str, str, str]]:
    return problem_rows(result.problems, mode) if result is not None else []


def _typed_values(ballot: TallyBallot) -> dict[str, str]:
    names = [*SUMMARY_NAMES, *(votes_field(p.number) for p in ballot.projects)]
    # Kept as typed (trimmed to the field's size) so a refused form need not be retyped.
    return {name: request.form.get(name, "")[:FORM_FIELD_CHARS] for name in names}


@bp.route("/cycles/<int:cycle_id>/paper-tally", methods=["GET", "POST"])
@roles_required(*PAPER_STAFF)
def paper_tally(cycle_id: int) -> ResponseReturnValue:
    cycle = public_cycle_or_404(cycle_id)
    session = db.session()
    ballot = tally_ballot(session, cycle)
    errors: list[str] = []
    result: TallyImport | None = None
    mode = request.form.get("mode", "") if request.method == "POST" else ""
    values = _typed_values(ballot) if request.method == "POST" else {}
    if request.method == "POST":
        if mode not in MODES:
            abort(400)
        device = chosen_support_point(cycle, errors)
        upload = request.files.get("file") if mode == "csv" else None
        if mode == "csv" and (upload is None or not upload.filename):
            errors.append(_("Оберіть файл CSV."))
        if device is not None and not errors and upload is not None:
            # A file is a background job (server.jobs.kinds.tally_sheet): stored with
            # the totals typed beside it, answered with the job's page.
            job = start_tally_sheet(
                session,
                cycle,
                device,
                upload.filename or "",
                upload.stream.read(MAX_BYTES + 1),
                typed={n: request.form.get(n, "") for n in SUMMARY_NAMES},
                replace=request.form.get("replace") == "1",
                user=current_user(),
                now=utcnow(),
            )
            session.commit()
            enqueue(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
            return redirect(url_for("console.job_page", job_id=job.id), 303)
        if device is not None and not errors:
            # Numbers typed into the form: nothing to wait for, the answer is this page.
            result = import_tally(
                session,
                cycle,
                device,
                check_tally_form(request.form, ballot),
                source=SOURCE_FORM,
                replace=request.form.get("replace") == "1",
                user=current_user(),
                now=utcnow(),
            )
    if errors or (result is not None and result.outcome is Outcome.REFUSED):
        status = 422
    elif result is not None and result.outcome is Outcome.NEEDS_CONFIRMATION:
        status = 409
    else:
        status = 200
    closed = window_problem(cycle, utcnow())
    return render_template(
        "console/paper_tally.html",
        cycle=cycle,
        ballot=ballot,
        projects_by_id={p.project_id: p for p in ballot.projects},
        devices=active_support_points(cycle),
        sheets=current_tallies(session, cycle.id),
        mode=mode,
        device_id=request.form.get("device_id", ""),
        values=values,
        bad_fields=result.check.bad_fields if result is not None else frozenset(),
        errors=errors,
        result=result,
        report=_report(result, mode),
        closed=closed.message(get_locale()) if closed is not None else None,
        accepted_until=accepted_until(cycle),
        summary_names=SUMMARY_NAMES,
        summary_label=summary_label,
        votes_field=votes_field,
        field_chars=FORM_FIELD_CHARS,
        limit_kb=MAX_BYTES // 1024,
        max_rows=MAX_ROWS,
        **recent_jobs(TALLY_SHEET, "cycle", cycle.id),
    ), status


@bp.route("/cycles/<int:cycle_id>/paper-tally/example.csv")
@roles_required(*PAPER_STAFF)
def paper_tally_example(cycle_id: int) -> ResponseReturnValue:
    cycle: Cycle = public_cycle_or_404(cycle_id)
    # The byte-order mark makes Excel read the file as UTF-8.
    body = "\ufeff" + example_csv(tally_ballot(db.session(), cycle))
    return Response(
        body.encode(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tally-sheet-example.csv"'},
    )
