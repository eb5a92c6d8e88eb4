"""The OpenAPI 3.1 document of the server's HTTP API, built as a plain dict.

Schemas are JSON Schema 2020-12 (what OpenAPI 3.1 uses), precise enough that the tests
validate real responses against them. A test fails when a route under /api/v1 is not
described here, so the document cannot drift silently from the code.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from server.config import DEFAULTS
from server.services.integration import MAX_ID, MAX_SELECTIONS
from voting import IdentityKind, VoteStatus

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Mapping[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(schema)}}, **extra}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return _json(_ref("Error"), description, **extra)


ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
UUID = {"type": "string", "format": "uuid", "maxLength": 64}
MOMENT = {
    "type": "string",
    "format": "date-time",
    "description": "UTC, to the millisecond, e.g. 2027-05-01T07:00:00.000Z",
}
KOPIYKAS = {"type": "integer", "minimum": 0, "description": "Kopiykas (1/100 of a hryvnia)."}


def _schemas(max_batch: int) -> dict[str, Any]:
    nullable_moment = {**MOMENT, "type": ["string", "null"]}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["status", "code", "message"],
                    "properties": {
                        "status": {"type": "integer", "description": "The HTTP status again."},
                        "code": {"type": "string", "description": "Stable, for programs."},
                        "message": {
                            "type": "string",
                            "description": "For people: Ukrainian, or English with "
                            "`Accept-Language: en` or `?lang=en`.",
                        },
                        "items": {
                            "type": "array",
                            "description": "422: every problem found (at most 100), by vote.",
                            "items": _ref("ItemProblem"),
                        },
                        "problems_total": {"type": "integer", "minimum": 0},
                        "conflicting_ids": {
                            "type": "array",
                            "description": "409: vote ids already stored with other content.",
                            "items": UUID,
                        },
                    },
                }
            },
        },
        "ItemProblem": {
            "type": "object",
            "required": ["index", "field", "code", "message"],
            "properties": {
                "index": {
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "description": "Position in `votes`; null for the request as a whole.",
                },
                "field": {"type": "string", "examples": ["cast_at", "identity.number", "selections[2]"]},
                "code": {"type": "string", "examples": ["api.not_uuid", "identity.rnokpp_checksum"]},
                "message": {"type": "string"},
            },
        },
        "Identity": {
            "type": "object",
            "description": "A resident's document. Turned into a voter key on arrival; the number "
            "is never stored. Spaces, hyphens and Latin look-alike letters are normalised.",
            "additionalProperties": False,
            "required": ["kind", "number"],
            "properties": {
                "kind": {"type": "string", "enum": [k.value for k in IdentityKind]},
                "number": {"type": "string", "minLength": 1, "maxLength": 64},
            },
        },
        "PushedVote": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "cycle_id", "selections", "cast_at"],
            "oneOf": [{"required": ["voter_key"]}, {"required": ["identity"]}],
            "properties": {
                "id": {
                    **UUID,
                    "description": "Made by the platform when the vote is cast; "
                    "answered in lowercase hyphenated form.",
                },
                "cycle_id": {**ID, "description": "From GET /api/v1/cycles."},
                "voter_key": {
                    "type": "string",
                    "pattern": "^[0-9a-f]{64}$",
                    "description": "A voter key already derived for this community.",
                },
                "identity": _ref("Identity"),
                "selections": {
                    "type": "array",
                    "maxItems": MAX_SELECTIONS,
                    "items": {**ID, "description": "A project id."},
                    "description": "Project ids. Breaking the ballot rule (too many, a project "
                    "twice, not on the ballot) is not malformed: the vote is stored as invalid.",
                },
                "cast_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "RFC 3339 with an offset, e.g. 2027-05-01T10:00:00+03:00. "
                    "Kept to the millisecond.",
                },
            },
        },
        "VoteBatch": {
            "type": "object",
            "additionalProperties": False,
            "required": ["votes"],
            "properties": {
                "votes": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": max_batch,
                    "items": _ref("PushedVote"),
                }
            },
        },
        "VoteResult": {
            "type": "object",
            "required": ["id", "outcome", "status", "reason", "counted_vote_id"],
            "properties": {
                "id": UUID,
                "outcome": {"const": "accepted", "description": "Stored; safe to mark as sent."},
                "status": {"type": "string", "enum": [*(s.value for s in VoteStatus), "held"]},
                "reason": {
                    "type": ["string", "null"],
                    "description": "Why not counted, e.g. duplicate.same_voter, "
                    "ballot.too_many_in_category, vote.outside_window; for `held` (a moderator "
                    "decides, then GET /votes/{id} tells), held.wrong_district.",
                },
                "counted_vote_id": {
                    **UUID,
                    "type": ["string", "null"],
                    "description": "For duplicates: the voter's vote that counts instead.",
                },
            },
        },
        "VoteResults": {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "description": "One per pushed vote, in the order sent.",
                    "items": _ref("VoteResult"),
                }
            },
        },
        "VoteState": {
            "type": "object",
            "required": ["id", "cycle_id", "status", "reason", "counted_vote_id", "cast_at", "received_at"],
            "properties": {
                "id": UUID,
                "cycle_id": ID,
                "status": {"type": "string", "enum": [*(s.value for s in VoteStatus), "held"]},
                "reason": {"type": ["string", "null"]},
                "counted_vote_id": {**UUID, "type": ["string", "null"]},
                "cast_at": MOMENT,
                "received_at": MOMENT,
            },
        },
        "Project": {
            "type": "object",
            "required": ["id", "number", "title", "cost", "district"],
            "properties": {
                "id": ID,
                "number": {"type": "integer", "description": "The number printed on ballots."},
                "title": {"type": "string"},
                "cost": KOPIYKAS,
                "district": {"type": "string"},
            },
        },
        "Category": {
            "type": "object",
            "required": [
                "id",
                "name",
                "position",
                "budget",
                "min_choices",
                "max_choices",
                "budget_limited",
                "max_project_cost",
                "projects",
            ],
            "properties": {
                "id": ID,
                "name": {"type": "string"},
                "position": {"type": "integer"},
                "budget": KOPIYKAS,
                "min_choices": {"type": "integer", "minimum": 0},
                "max_choices": {"type": "integer", "minimum": 0},
                "budget_limited": {
                    "type": "boolean",
                    "description": "The chosen projects together may not cost more than the budget.",
                },
                "max_project_cost": {**KOPIYKAS, "type": ["integer", "null"]},
                "district": {
                    "type": ["string", "null"],
                    "description": "Only residents whose entry in the community's voter list names "
                    "this district may vote in the category (null: every resident). A pushed vote "
                    "choosing here for anyone else is held for a moderator, not counted "
                    "(status `held`, reason `held.wrong_district`).",
                },
                "projects": {
                    "type": "array",
                    "description": "Admitted projects, by number.",
                    "items": _ref("Project"),
                },
            },
        },
        "Cycle": {
            "type": "object",
            "required": [
                "id",
                "slug",
                "title",
                "timezone",
                "voting_starts_at",
                "voting_ends_at",
                "results_published_at",
                "min_total",
                "max_total",
                "categories",
            ],
            "properties": {
                "id": ID,
                "slug": {"type": "string"},
                "title": {"type": "string"},
                "timezone": {"type": "string", "examples": ["Europe/Kyiv"]},
                "voting_starts_at": {**MOMENT, "description": "Votes cast from this moment count."},
                "voting_ends_at": {**MOMENT, "description": "Votes cast from this moment on do not."},
                "results_published_at": nullable_moment,
                "min_total": {"type": "integer", "minimum": 0},
                "max_total": {"type": ["integer", "null"], "minimum": 0},
                "categories": {"type": "array", "items": _ref("Category")},
            },
        },
        "CycleList": {
            "type": "object",
            "required": ["cycles"],
            "properties": {"cycles": {"type": "array", "items": _ref("Cycle")}},
        },
    }


def _paths(max_content_length: int) -> dict[str, Any]:
    unauthorized = {"$ref": "#/components/responses/Unauthorized"}
    return {
        "/api/v1/cycles": {
            "get": {
                "operationId": "listCycles",
                "summary": "The community's public-budget cycles, categories and admitted projects",
                "responses": {
                    "200": _json(_ref("CycleList"), "Newest voting first."),
                    "401": unauthorized,
                },
            }
        },
        "/api/v1/votes": {
            "post": {
                "operationId": "pushVotes",
                "summary": "Push online votes; each is stored exactly once",
                "description": (
                    "The whole batch is stored, or nothing of it. The same vote pushed again "
                    "gets the same answer. The same id with other content is refused (409) "
                    "and raised to the community's moderators as an alarm. A vote is safe to "
                    "mark as sent only after a 200."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("VoteBatch")}},
                },
                "responses": {
                    "200": _json(_ref("VoteResults"), "Every vote stored (or already stored)."),
                    "400": _error("The body is not JSON (or repeats a key)."),
                    "401": unauthorized,
                    "409": _error("Some ids were stored before with other content; nothing stored."),
                    "413": _error(f"The body is over {max_content_length} bytes."),
                    "415": _error("The body is not sent as application/json."),
                    "422": _error("Malformed votes; `items` names each problem. Nothing stored."),
                    "503": _error(
                        "Concurrent pushes of the same new ids collided; send the batch again.",
                        headers={"Retry-After": {"schema": {"type": "integer"}}},
                    ),
                },
            }
        },
        "/api/v1/votes/{vote_id}": {
            "get": {
                "operationId": "getVote",
                "summary": "A pushed vote's current standing",
                "description": "A vote can move from counted to duplicate when an earlier vote "
                "of the same resident arrives later from a terminal or a paper ballot.",
                "parameters": [
                    {"name": "vote_id", "in": "path", "required": True, "schema": UUID},
                ],
                "responses": {
                    "200": _json(_ref("VoteState"), "The vote."),
                    "401": unauthorized,
                    "404": _error("No such vote was pushed for this community."),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            }
        },
    }


# --- Paths documented by other parts of the server ----------------------------------
# PLACE FOR THE RESULTS PULL AND SYNC ENDPOINTS. The results pull
# (GET /api/v1/cycles/{cycle_id}/results) and the terminal / support-point sync endpoints
# add their OpenAPI path items to EXTRA_PATHS (keyed by the full path, e.g.
# "/api/v1/cycles/{cycle_id}/results") and their schemas to EXTRA_SCHEMAS; they may
# reuse "#/components/schemas/Error" and "#/components/responses/Unauthorized".
# tests/server/test_api_openapi.py fails while a route under /api/v1 is undocumented.
EXTRA_PATHS: dict[str, dict[str, Any]] = {}
EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {}


def build_openapi(
    *,
    max_batch: int = DEFAULTS["API_MAX_BATCH"],
    max_content_length: int = DEFAULTS["MAX_CONTENT_LENGTH"],
    extra_paths: Mapping[str, dict[str, Any]] | None = None,
    extra_schemas: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole document; a fresh dict each call, safe to change."""
    paths = _paths(max_content_length)
    paths.update(copy.deepcopy(EXTRA_PATHS))
    paths.update(copy.deepcopy(dict(extra_paths or {})))
    schemas = _schemas(max_batch)
    schemas.update(copy.deepcopy(EXTRA_SCHEMAS))
    schemas.update(copy.deepcopy(dict(extra_schemas or {})))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Spilno integration API",
            "version": API_VERSION,
            "description": (
                "For the online e-democracy platform of a community: read the community's "
                "budget cycles, push online votes so each resident is counted once across "
                "online, terminal and paper voting, and follow each vote's standing. "
                "Error messages are Ukrainian by default, English with `Accept-Language: en`."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A per-client token (spl_...), issued once by "
                    "`spilno server api-client create`; scoped to one community.",
                }
            },
            "responses": {
                "Unauthorized": _error(
                    "No token, or an unknown or revoked one.",
                    headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
                )
            },
            "schemas": schemas,
        },
    }
