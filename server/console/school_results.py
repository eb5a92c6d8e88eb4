"""A contest's results for its school's moderators: the same results page as a community
cycle's (server/results), and publishing them once voting has closed.

While voting runs, moderators see the running tally here; the public sees nothing until
the results are published, and a contest's results cannot be published before its
voting closes, so students never see a running count that could sway their vote.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from server import db
from server.auth.access import SCHOOL_STAFF, current_user, roles_required
from server.i18n import _
from server.models import Community, utcnow
from server.results.page import TEMPLATE_HELPERS, results_view
from server.results.publishing import publish_results, unpublish_results
from server.services.results import cycle_results

from .forms import confirmed
from .school_contests import contest_or_404
from .school_summary import state_label, summarise
from .views import bp

RESULTS = "/contests/<int:contest_id>/results"


@bp.get(RESULTS)
@roles_required(*SCHOOL_STAFF)
def contest_results(contest_id: int) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    s = db.session()
    now = utcnow()
    return render_template(
        "console/school_results.html",
        contest=contest,
        community=s.get(Community, contest.cycle.community_id),
        summary=summarise(s, contest, now),
        state_label=state_label,
        view=results_view(cycle_results(s, contest.cycle), now),
        **TEMPLATE_HELPERS,
    )


@bp.post(RESULTS + "/publish")
@roles_required(*SCHOOL_STAFF)
def contest_results_publish(contest_id: int) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    if not confirmed():
        return redirect(url_for("console.contest_results", contest_id=contest.id))
    if utcnow() < contest.cycle.voting_ends_at:
        flash(_("Результати можна опублікувати лише після завершення голосування."), "error")
    elif publish_results(db.session(), contest.cycle, current_user()):
        db.session().commit()
        flash(_("Результати опубліковано."), "success")
    else:
        flash(_("Результати вже опубліковано."), "info")
    return redirect(url_for("console.contest_results", contest_id=contest.id))


@bp.post(RESULTS + "/unpublish")
@roles_required(*SCHOOL_STAFF)
def contest_results_unpublish(contest_id: int) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    if not confirmed():
        return redirect(url_for("console.contest_results", contest_id=contest.id))
    if unpublish_results(db.session(), contest.cycle, current_user()):
        db.session().commit()
        flash(_("Публікацію результатів скасовано: їх більше не видно на сайті."), "success")
    else:
        flash(_("Результати не були опубліковані."), "info")
    return redirect(url_for("console.contest_results", contest_id=contest.id))
