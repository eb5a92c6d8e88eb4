"""The console blueprint and its overview page. Each area of the console lives in its
own module and adds its routes to this blueprint (see the imports at the bottom)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from sqlalchemy import func, select

from server import db
from server.auth.access import current_user, login_required, visible_community_ids
from server.models import Community, Cycle, Role, TurnoutTally

bp = Blueprint("console", __name__, url_prefix="/console")

# The console's menu: (endpoint, Ukrainian label, roles that see it). Areas add
# themselves with `nav_item` so the menu never links to a page a role cannot open.
NAV: list[tuple[str, str, tuple[Role, ...]]] = []


def nav_item(endpoint: str, label: str, roles: tuple[Role, ...]) -> None:
    NAV.append((endpoint, label, roles))


@bp.app_context_processor
def console_menu() -> dict:
    def console_nav() -> list[tuple[str, str]]:
        user = current_user()
        if user is None:
            return []
        return [(endpoint, label) for endpoint, label, roles in NAV if user.role_enum in roles]

    return {"console_nav": console_nav}


@bp.route("/")
@login_required
def dashboard():  # type: ignore[no-untyped-def]
    user = current_user()
    assert user is not None
    s = db.session()
    scope = visible_community_ids(user)
    communities_q = select(Community).order_by(Community.name)
    cycles_q = select(Cycle).order_by(Cycle.voting_starts_at.desc())
    if scope is not None:
        communities_q = communities_q.where(Community.id.in_(scope))
        cycles_q = cycles_q.where(Cycle.community_id.in_(scope))
    cycles = s.scalars(cycles_q).all()
    totals = dict(
        s.execute(
            select(TurnoutTally.cycle_id, func.sum(TurnoutTally.votes))
            .where(TurnoutTally.cycle_id.in_([c.id for c in cycles]), TurnoutTally.status == "counted")
            .group_by(TurnoutTally.cycle_id)
        ).all()
    )
    return render_template(
        "console/dashboard.html",
        communities=s.scalars(communities_q).all(),
        cycles=cycles,
        totals=totals,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
