"""Code cards of a whole contest (every class of a school) as a background job: the
request only checks and starts the job, whose page shows the cards drawn; the PDF is
then downloaded from the job for a day (server.jobs.kinds.code_cards).

The file holds live codes, so it is what school_downloads' files are: for the school's
own moderators and the community's managers only, never cached, always an attachment,
and each download is in the audit log (which contest, how many, never the codes).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from qr_codes.cards import LAYOUTS
from server import db
from server.auth.access import SCHOOL_STAFF, current_user, roles_required
from server.console.job_status import job_or_404
from server.i18n import _, get_locale
from server.jobs import store
from server.jobs.kinds.code_cards import KIND, MAX_CARDS, start_code_cards
from server.jobs.queue import enqueue
from server.jobs.sealed import open_sealed
from server.models import SchoolContest, utcnow
from server.school.codes import class_usage
from server.school.contests import load_contest

from .school_codes import card_address_problem, public_address
from .school_contests import contest_or_404
from .school_downloads import _attachment, _cannot_print, _file_name, _record
from .views import bp


@bp.post("/contests/<int:contest_id>/cards")
@roles_required(*SCHOOL_STAFF)
def cards_job_start(contest_id: int) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    layout = request.form.get("layout", "10")
    if layout not in LAYOUTS:
        abort(400)
    problem = card_address_problem(layout)
    if problem:
        return _cannot_print(problem)
    # Unused cards now (the job prints those still unused when it runs).
    cards = sum(max(u.unused, 0) for u in class_usage(db.session(), contest))
    back = url_for("console.contest_page", contest_id=contest.id)
    if cards == 0:
        flash(_("Немає карток, які можна надрукувати: усі картки використано або відкликано."), "error")
        return redirect(back)
    if cards > MAX_CARDS:
        flash(
            _("Забагато карток для одного файлу (більше {max}). Друкуйте картки за класами.", max=MAX_CARDS),
            "error",
        )
        return redirect(back)
    session = db.session()
    job = start_code_cards(
        session,
        contest,
        class_name=None,
        layout=layout,
        base_url=public_address(),
        locale=get_locale(),
        cards=cards,
        user=current_user(),
        now=utcnow(),
    )
    session.commit()
    enqueue(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return redirect(url_for("console.job_page", job_id=job.id), 303)


@bp.get("/jobs/<int:job_id>/cards.pdf")
@roles_required(*SCHOOL_STAFF)
def cards_job_pdf(job_id: int) -> ResponseReturnValue:
    job = job_or_404(job_id)
    if job.kind != KIND or job.target_id is None:
        abort(404)
    contest = load_contest(db.session(), db.session().get_one(SchoolContest, job.target_id))
    output = store.output_of(db.session(), job, utcnow())
    if output is None:
        detail = _(
            "Файл з картками вже видалено (його зберігають добу) або ще не створено. Створіть картки знову."
        )
        return render_template("error.html", code=410, title=_("Файлу вже немає"), detail=detail), 410
    data = open_sealed(current_app.config["VOTER_KEY_SECRET_BYTES"], job.id, output[1])
    summary = job.summary
    details = {"layout": summary.get("layout"), "pages": summary.get("pages"), "job": job.id}
    if summary.get("class_name"):
        details["class_name"] = summary["class_name"]
    _record(contest, "pdf", int(summary.get("cards", 0)), details)
    label = summary.get("class_name") or "usi"
    return _attachment(data, "application/pdf", _file_name(contest, label, "pdf"))
