"""«Мій пункт»: the support-point operator's overview, where their sign-in lands. Their
community's support points (last contact, backlog, open alarms), the public-budget
cycles whose paper is accepted now, each with the way to its scans, its review queue,
its tally sheets and its typed paper votes, and the latest of those jobs. What it
shows is server.services.operator_workspace; every link leads to a page the operator
may open, where each object is again loaded through the community-scope checks."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from server import db
from server.auth.access import current_user, roles_required
from server.models import Community, Role, utcnow
from server.services.operator_workspace import workspace

# Modules, not names: either may be the first console module imported, and each
# imports the blueprint's module, which imports this one.
from . import fleet, jobs
from .views import bp


@bp.route("/my-point")
@roles_required(Role.SUPPORT_OPERATOR)
def my_point() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    if user.community_id is None:
        abort(403)  # every operator is given a community (server.services.users); never otherwise
    s = db.session()
    return render_template(
        "console/my_point.html",
        community=s.get(Community, user.community_id),
        work=workspace(s, user.community_id, utcnow()),
        skew_text=fleet.skew_text,
        skew_warning_ms=fleet.SKEW_WARNING_MS,
        kind_label=jobs.kind_label,
        job_state_label=jobs.state_label,
        job_progress_text=jobs.progress_text,
    )
