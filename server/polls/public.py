"""The public pages of polls' results, without sign-in: a community's polls whose results
the moderators published, one poll's results, and its CSV and JSON.

A poll whose results are not published, another community's poll, an unknown or a
junk id: 404, the same answer for each, so nothing tells them apart.
"""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.models import Community, Poll, utcnow
from server.results.views import SLUG, bp

from .results import TEMPLATE_HELPERS, csv_response, json_response, poll_results

# Ids beyond PostgreSQL's integer never match a route (404), instead of failing in the query.
POLL = "/polls/<community_slug>/<int(max=2147483647):poll_id>"


def _community_or_404(community_slug: str) -> Community:
    if not SLUG.fullmatch(community_slug):
        abort(404)
    community = db.session().scalar(select(Community).where(Community.slug == community_slug))
    if community is None:
        abort(404)
    return community


def _published_or_404(community_slug: str, poll_id: int) -> tuple[Community, Poll]:
    community = _community_or_404(community_slug)
    poll = db.session().get(Poll, poll_id)
    if poll is None or poll.community_id != community.id or poll.results_published_at is None:
        abort(404)
    return community, poll


@bp.get("/polls/<community_slug>")
def public_polls(community_slug: str) -> ResponseReturnValue:
    community = _community_or_404(community_slug)
    polls = db.session().scalars(
        select(Poll)
        .where(Poll.community_id == community.id, Poll.results_published_at.is_not(None))
        .order_by(Poll.results_published_at.desc(), Poll.id.desc())
    )
    return render_template("polls/public_polls.html", community=community, polls=list(polls))


@bp.get(POLL)
def public_poll(community_slug: str, poll_id: int) -> ResponseReturnValue:
    community, poll = _published_or_404(community_slug, poll_id)
    return render_template(
        "polls/public_poll.html",
        community=community,
        poll=poll,
        results=poll_results(db.session(), poll),
        still_open=utcnow() < poll.closes_at,
        **TEMPLATE_HELPERS,
    )


@bp.get(POLL + ".csv")
def public_poll_csv(community_slug: str, poll_id: int) -> ResponseReturnValue:
    community, poll = _published_or_404(community_slug, poll_id)
    return csv_response(poll_results(db.session(), poll), community.slug)


@bp.get(POLL + ".json")
def public_poll_json(community_slug: str, poll_id: int) -> ResponseReturnValue:
    community, poll = _published_or_404(community_slug, poll_id)
    return json_response(poll_results(db.session(), poll), community.slug)
