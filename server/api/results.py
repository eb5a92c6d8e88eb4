"""GET /api/v1/cycles/{cycle_id}/results: the platform pulls the same results the
console shows (server.services.results), for its own community's public-budget cycles
only, and only once a moderator has published them."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from server import db
from server.i18n import _
from server.models import Cycle
from server.models.cycle import CycleKind
from server.services.results import cycle_results
from voting import FundingMethod, FundingOutcome, TieBreak

from .auth import current_client
from .openapi import EXTRA_PATHS, EXTRA_SCHEMAS
from .openapi_parts import ID
from .openapi_parts import error_response as _error
from .openapi_parts import json_response as _json
from .openapi_parts import schema_ref as _ref
from .responses import ApiError
from .views import bp


@bp.get("/cycles/<int:cycle_id>/results")
def cycle_results_pull(cycle_id: int) -> Response:
    cycle = db.session().get(Cycle, cycle_id) if 0 < cycle_id <= ID["maximum"] else None
    # Another community's cycle is "not found": a client learns nothing about it.
    if cycle is None or cycle.community_id != current_client().community_id:
        raise ApiError(404, "not_found", _("Такого циклу у вашій громаді немає."))
    # School budgets are the schools' own: their contests are published per school on
    # the students' pages, and their results are not the platform's to show.
    if cycle.kind != CycleKind.PUBLIC.value:
        raise ApiError(404, "not_found", _("Результати шкільних бюджетів через API не надаються."))
    # Unpublished results never leave the console: running figures shown somewhere else
    # during the vote would sway it, and a moderator decides when results are final.
    if cycle.results_published_at is None:
        raise ApiError(409, "not_published", _("Результати цього циклу ще не оприлюднено."))
    return jsonify(cycle_results(db.session(), cycle).as_dict())


_COUNTS = {"counted": {"type": "integer"}, "duplicate": {"type": "integer"}, "invalid": {"type": "integer"}}
_MONEY = {"type": "integer", "description": "kopiykas"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties}


EXTRA_SCHEMAS["CycleResults"] = _object(
    {
        "cycle": _object(
            {
                "id": {"type": "integer"},
                "community_id": {"type": "integer"},
                "title": {"type": "string"},
                "slug": {"type": "string"},
                "kind": {"type": "string", "enum": ["public"]},
                "voting_starts_at": {"type": "string", "format": "date-time"},
                "voting_ends_at": {"type": "string", "format": "date-time"},
                "results_published_at": {"type": ["string", "null"], "format": "date-time"},
            }
        ),
        "computed_at": {"type": "string", "format": "date-time"},
        "voters": _object(_COUNTS),
        "budget": _object({"total": _MONEY, "allocated": _MONEY, "left": _MONEY}),
        "categories": {
            "type": "array",
            "items": _object(
                {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "budget": _MONEY,
                    "allocated": _MONEY,
                    "left": _MONEY,
                    "min_votes_to_fund": {"type": "integer"},
                    "projects": {
                        "type": "array",
                        "description": "Ranked: most votes first; ties by the category's tie_break "
                        "(by default lower cost, then smaller id).",
                        "items": _object(
                            {
                                "rank": {"type": "integer"},
                                "project_id": {"type": "integer"},
                                "number": {"type": "integer"},
                                "title": {"type": "string"},
                                "district": {"type": "string"},
                                "cost": _MONEY,
                                "votes": {"type": "integer"},
                                "share": {"type": "number"},
                                "outcome": {
                                    "type": "string",
                                    "enum": [outcome.value for outcome in FundingOutcome],
                                },
                                "funded": {"type": "boolean"},
                                "budget_left_after": _MONEY,
                            }
                        ),
                    },
                }
            ),
        },
        "channels": {
            "type": "array",
            "description": "Every voting channel (web, kiosk, paper, school_code, staff_assisted), then "
            "`paper_tally` when the cycle has support points' tally sheets: counted is their valid "
            "ballots, invalid their spoiled ones. Tally sheets carry no voter keys, so those votes are "
            "not deduplicated against the other channels.",
            "items": _object({"channel": {"type": "string"}, **_COUNTS}),
        },
        "devices": {
            "type": "array",
            "items": _object(
                {
                    "device_id": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "kind": {"type": ["string", "null"]},
                    **_COUNTS,
                }
            ),
        },
        "turnout": {
            "type": "object",
            "description": "Counted votes per hour and per day, Kyiv time (tally sheets have no time "
            "and are left out).",
        },
    }
)
# Why each project was or was not funded, and each category's rule (voting.funding):
# always present in new results, optional here so older clients' checks still pass.
_CATEGORY = EXTRA_SCHEMAS["CycleResults"]["properties"]["categories"]["items"]
_CATEGORY["properties"].update(
    {
        "district": {
            "type": ["string", "null"],
            "description": "A district category: only that district's residents voted in it.",
        },
        "method": {"type": "string", "enum": [method.value for method in FundingMethod]},
        "tie_break": {"type": "string", "enum": [tie.value for tie in TieBreak]},
        "lot_seed": {"type": "string", "description": "The published seed of a lot (tie_break lot)."},
        "threshold": {"type": "integer", "description": "The fewest votes a project needed."},
        "valid_ballots": {"type": ["integer", "null"]},
        "moved_in": _MONEY,
        "moved_out": _MONEY,
        "moved_to": {"type": ["integer", "null"], "description": "The category the leftover moved to."},
        "equal_shares": {
            "type": "object",
            "description": "Method of Equal Shares: each voter's final budget, how many times it was "
            "raised, and each round's project with the most one supporter paid (kopiykas).",
        },
        "comparison": {
            "type": "object",
            "description": "Equal Shares against the greedy rule: voters preferring each, and the choice.",
        },
    }
)
_CATEGORY["properties"]["projects"]["items"]["properties"].update(
    {
        "reason": {
            "type": "object",
            "description": "The decision as a message code (funding.*) and its parameters: money in "
            "kopiykas, other projects by number.",
            "required": ["code"],
            "properties": {"code": {"type": "string"}},
        },
        "threshold": {"type": "integer"},
        "excluded_by": {"type": "integer", "description": "Number of the funded exclusive partner."},
        "stopped_at": {"type": "integer", "description": "Number of the project that stopped the count."},
        "round": {"type": "integer"},
        "price": {"type": "number", "description": "Most one supporter paid, kopiykas."},
        "supporters_money": _MONEY,
    }
)
# Only in the results of a cycle with tally sheets, so it is not among the required keys.
EXTRA_SCHEMAS["CycleResults"]["properties"]["paper_tallies"] = {
    **_object(
        {
            "deduplicated": {"type": "boolean", "const": False},
            "ballots_cast": {"type": "integer"},
            "ballots_spoiled": {"type": "integer"},
            "sheets": {
                "type": "array",
                "items": _object(
                    {
                        "device_id": {"type": "string"},
                        "name": {"type": "string"},
                        "ballots_issued": {"type": ["integer", "null"]},
                        "ballots_cast": {"type": "integer"},
                        "ballots_spoiled": {"type": "integer"},
                        "votes": {"type": "integer"},
                        "entered_at": {"type": "string", "format": "date-time"},
                    }
                ),
            },
            "projects": {
                "type": "array",
                "description": "How many of each project's `votes` came from tally sheets.",
                "items": _object({"project_id": {"type": "integer"}, "votes": {"type": "integer"}}),
            },
        }
    ),
    "description": "Support points' tally sheets (hand counts of paper ballots), present only when "
    "the cycle has any. Their votes are included in the projects' `votes` and in `voters`, but "
    "carry no voter keys, so they are not deduplicated against other channels.",
}

EXTRA_PATHS["/api/v1/cycles/{cycle_id}/results"] = {
    "get": {
        "operationId": "getCycleResults",
        "summary": "A cycle's results: ranked projects, funding, channels, turnout",
        "description": "The same figures as the console, once a moderator has published them "
        "(409 before). Public-budget cycles only: school budgets' results stay with the schools.",
        "parameters": [{"name": "cycle_id", "in": "path", "required": True, "schema": ID}],
        "responses": {
            "200": _json(_ref("CycleResults"), "The results."),
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": _error("No such public-budget cycle in this client's community."),
            "409": _error("The cycle's results are not published yet."),
        },
    }
}
