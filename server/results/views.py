"""Results pages for moderators and, once published, for everyone.

Console (community managers of the cycle's community): the results, publish and
unpublish, a recount from the raw records (a background job), CSV and JSON. Public: the same results,
only while published, without sign-in.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.auth.access import COMMUNITY_MANAGERS, current_user, roles_required, scoped_or_404
from server.console.forms import confirmed
from server.i18n import _
from server.jobs.kinds.results_verify import start_results_verify
from server.jobs.queue import enqueue
from server.models import Community, Cycle, utcnow
from server.services.results import cycle_results

from .export import csv_response, json_response
from .page import TEMPLATE_HELPERS, results_view
from .publishing import Verification, publish_results, unpublish_results

bp = Blueprint("results", __name__)

# Ids beyond PostgreSQL's integer never match a route (404), instead of failing in the query.
CYCLE_ID = "<int(max=2147483647):cycle_id>"
CONSOLE = f"/console/cycles/{CYCLE_ID}/results"
PUBLIC = "/results/<community_slug>/<cycle_slug>"
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _render(template: str, cycle: Cycle, community: Community | None, **context: object) -> str:
    view = results_view(cycle_results(db.session(), cycle), utcnow())
    return render_template(
        template, cycle=cycle, community=community, view=view, **TEMPLATE_HELPERS, **context
    )


# --- console ------------------------------------------------------------------------------


def _console_page(cycle: Cycle, verification: Verification | None = None) -> str:
    community = db.session().get(Community, cycle.community_id)
    return _render("results/console_cycle.html", cycle, community, verification=verification)


@bp.get(CONSOLE)
@roles_required(*COMMUNITY_MANAGERS)
def console_cycle(cycle_id: int) -> ResponseReturnValue:
    return _console_page(scoped_or_404(Cycle, cycle_id))


@bp.post(CONSOLE + "/publish")
@roles_required(*COMMUNITY_MANAGERS)
def publish(cycle_id: int) -> ResponseReturnValue:
    cycle = scoped_or_404(Cycle, cycle_id)
    if not confirmed():
        return redirect(url_for("results.console_cycle", cycle_id=cycle.id))
    if publish_results(db.session(), cycle, current_user()):
        db.session().commit()
        flash(_("Результати опубліковано."), "success")
    else:
        flash(_("Результати вже опубліковано."), "info")
    return redirect(url_for("results.console_cycle", cycle_id=cycle.id))


@bp.post(CONSOLE + "/unpublish")
@roles_required(*COMMUNITY_MANAGERS)
def unpublish(cycle_id: int) -> ResponseReturnValue:
    cycle = scoped_or_404(Cycle, cycle_id)
    if not confirmed():
        return redirect(url_for("results.console_cycle", cycle_id=cycle.id))
    if unpublish_results(db.session(), cycle, current_user()):
        db.session().commit()
        flash(_("Публікацію результатів скасовано: їх більше не видно на сайті."), "success")
    else:
        flash(_("Результати не були опубліковані."), "info")
    return redirect(url_for("results.console_cycle", cycle_id=cycle.id))


@bp.post(CONSOLE + "/verify")
@roles_required(*COMMUNITY_MANAGERS)
def verify(cycle_id: int) -> ResponseReturnValue:
    # The recount reads every vote row: a background job (server.jobs.kinds.results_verify)
    # whose page shows the steps done and then the comparison.
    cycle = scoped_or_404(Cycle, cycle_id)
    session = db.session()
    job = start_results_verify(session, cycle, user=current_user(), now=utcnow())
    session.commit()
    enqueue(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return redirect(url_for("console.job_page", job_id=job.id), 303)


@bp.get(f"/console/cycles/{CYCLE_ID}/results.csv")
@roles_required(*COMMUNITY_MANAGERS)
def console_csv(cycle_id: int) -> ResponseReturnValue:
    cycle = scoped_or_404(Cycle, cycle_id)
    community = db.session().get(Community, cycle.community_id)
    return csv_response(cycle_results(db.session(), cycle), community.slug if community else "")


@bp.get(f"/console/cycles/{CYCLE_ID}/results.json")
@roles_required(*COMMUNITY_MANAGERS)
def console_json(cycle_id: int) -> ResponseReturnValue:
    return json_response(cycle_results(db.session(), scoped_or_404(Cycle, cycle_id)))


# --- public -------------------------------------------------------------------------------


def _published_or_404(community_slug: str, cycle_slug: str) -> tuple[Community, Cycle]:
    """The published cycle at these slugs; 404 for anything else, unpublished included,
    so an unpublished cycle's existence is not revealed."""
    if not (SLUG.fullmatch(community_slug) and SLUG.fullmatch(cycle_slug)):
        abort(404)
    row = (
        db.session()
        .execute(
            select(Community, Cycle)
            .join(Cycle, Cycle.community_id == Community.id)
            .where(
                Community.slug == community_slug,
                Cycle.slug == cycle_slug,
                Cycle.results_published_at.is_not(None),
            )
        )
        .first()
    )
    if row is None:
        abort(404)
    return row[0], row[1]


@bp.get(PUBLIC)
def public_cycle(community_slug: str, cycle_slug: str) -> ResponseReturnValue:
    community, cycle = _published_or_404(community_slug, cycle_slug)
    return _render("results/public_cycle.html", cycle, community)


@bp.get(PUBLIC + ".csv")
def public_csv(community_slug: str, cycle_slug: str) -> ResponseReturnValue:
    community, cycle = _published_or_404(community_slug, cycle_slug)
    return csv_response(cycle_results(db.session(), cycle), community.slug)


@bp.get(PUBLIC + ".json")
def public_json(community_slug: str, cycle_slug: str) -> ResponseReturnValue:
    _community, cycle = _published_or_404(community_slug, cycle_slug)
    return json_response(cycle_results(db.session(), cycle))


def init_app(app: Flask) -> None:
    from server.polls import public as _poll_pages  # noqa: F401  (its routes join this blueprint)

    app.register_blueprint(bp)
