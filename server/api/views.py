"""Integration API routes under /api/v1: parse the request, call a service, render JSON.

Every route but the OpenAPI document needs `Authorization: Bearer <token>`; the token's
client sees and writes only its own community's data. Every answer is JSON, errors too.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from server import db
from server.errors import TITLES
from server.i18n import _, ngettext
from server.services.ballot_box import VoteConflict
from server.services.cycle_catalogue import community_catalogue
from server.services.integration import StoreBusy, accept_votes, pushed_held_vote, pushed_vote
from server.services.pushed_fields import InvalidBatch
from server.services.pushed_votes import read_vote_batch

from .auth import authenticate, current_client
from .openapi import build_openapi
from .render import render_cycle, render_held_vote, render_result, render_vote
from .responses import ApiError, error_response, read_json_body, render_problem, use_request_locale

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Readable without a token: describing the API is not a secret.
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document"})


@bp.before_request
def authenticate_client() -> None:
    use_request_locale()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    g.api_client = authenticate(request.headers.get("Authorization", ""))


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    return error_response(error)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return error_response(
        ApiError(
            413,
            "request_entity_too_large",
            ngettext(
                "Запит завеликий: не більше {limit} байта.",
                "Запит завеликий: не більше {limit} байтів.",
                limit,
                limit=limit,
            ),
        )
    )


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    # Anything werkzeug raises inside our views (a client hanging up mid-body...) still
    # answers in the API's error shape.
    code = error.code or 400
    message = _(TITLES.get(code, error.name))
    return error_response(ApiError(code, error.name.lower().replace(" ", "_"), message))


@bp.get("/openapi.json")
def openapi_document() -> Response:
    config = current_app.config
    return jsonify(
        build_openapi(max_batch=config["API_MAX_BATCH"], max_content_length=config["MAX_CONTENT_LENGTH"])
    )


@bp.get("/cycles")
def list_cycles() -> Response:
    catalogue = community_catalogue(db.session(), current_client().community_id)
    return jsonify(cycles=[render_cycle(entry) for entry in catalogue])


@bp.post("/votes")
def push_votes() -> Response:
    client = current_client()
    # Plain ints: a rollback inside accept_votes expires the ORM object.
    client_id, community_id = client.id, client.community_id
    payload = read_json_body()
    session = db.session()
    try:
        batch = read_vote_batch(
            session,
            payload,
            client=client,
            master_secret=current_app.config["VOTER_KEY_SECRET_BYTES"],
            max_batch=current_app.config["API_MAX_BATCH"],
        )
        results = accept_votes(session, batch, client_id=client_id, community_id=community_id)
    except InvalidBatch as invalid:
        raise ApiError(
            422,
            "invalid_votes",
            _("Пакет не прийнято: виправте позначені помилки. Жодного голосу не збережено."),
            extra={
                "items": [render_problem(p) for p in invalid.problems],
                "problems_total": invalid.total,
            },
        ) from None
    except VoteConflict as conflict:
        raise ApiError(
            409,
            "vote_conflict",
            _(
                "Голоси з такими ідентифікаторами вже отримано з іншим вмістом. "
                "Пакет не прийнято, модератора повідомлено."
            ),
            extra={"conflicting_ids": sorted({c.vote_id for c in conflict.conflicts})},
        ) from None
    except StoreBusy:
        raise ApiError(
            503,
            "busy",
            _("Сервер зайнятий одночасними надсиланнями тих самих голосів. Надішліть пакет ще раз."),
            headers={"Retry-After": "1"},
        ) from None
    return jsonify(results=[render_result(stored) for stored in results])


@bp.get("/votes/<vote_id>")
def vote_status(vote_id: str) -> Response:
    session = db.session()
    vote = pushed_vote(session, current_client().community_id, vote_id)
    if vote is not None:
        return jsonify(render_vote(vote))
    held = pushed_held_vote(session, current_client().community_id, vote_id)
    if held is None:
        raise ApiError(404, "not_found", _("Такого голосу від вашої громади не отримано."))
    return jsonify(render_held_vote(held))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


# Routes that live in their own modules attach to `bp` when imported.
from . import polls as _polls  # noqa: E402,F401
from . import polls_openapi as _polls_openapi  # noqa: E402,F401
from . import results as _results  # noqa: E402,F401
