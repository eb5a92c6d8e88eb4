"""The public front page: cycles and polls whose results the moderators have published."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.models import Community, Cycle, CycleKind, Poll

bp = Blueprint("public", __name__)


@bp.route("/")
def home() -> ResponseReturnValue:
    rows = (
        db.session()
        .execute(
            select(Cycle, Community)
            .join(Community, Community.id == Cycle.community_id)
            .where(Cycle.results_published_at.is_not(None))
            .order_by(Cycle.results_published_at.desc())
        )
        .all()
    )
    # Public cycles' projects, newest first: residents read them before they vote.
    cycles = (
        db.session()
        .execute(
            select(Cycle, Community)
            .join(Community, Community.id == Cycle.community_id)
            .where(Cycle.kind == CycleKind.PUBLIC.value)
            .order_by(Cycle.voting_starts_at.desc(), Cycle.id.desc())
            .limit(50)
        )
        .all()
    )
    # Polls whose results the moderators published (server.polls.public).
    polls = (
        db.session()
        .execute(
            select(Poll, Community)
            .join(Community, Community.id == Poll.community_id)
            .where(Poll.results_published_at.is_not(None))
            .order_by(Poll.results_published_at.desc(), Poll.id.desc())
            .limit(50)
        )
        .all()
    )
    return render_template("public/home.html", published=rows, project_cycles=cycles, published_polls=polls)


def init_app(app: Flask) -> None:
    from . import check, projects

    app.register_blueprint(bp)
    app.register_blueprint(projects.bp)
    check.init_app(app)
