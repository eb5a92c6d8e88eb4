"""The OpenAPI 3.1 document of the server's HTTP API, built as a plain dict.

Schemas are JSON Schema 2020-12 (what OpenAPI 3.1 uses), precise enough that the tests
validate real responses against them. A test fails when a route under /api/v1 is not
described here, so the document cannot drift silently from the code. The API's own
schemas are server.api.openapi_schemas; the pieces all parts share, server.api.openapi_parts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from server.config import DEFAULTS

from .openapi_parts import UUID, error_response, json_response, schema_ref
from .openapi_schemas import api_schemas

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"


def _paths(max_content_length: int) -> dict[str, Any]:
    unauthorized = {"$ref": "#/components/responses/Unauthorized"}
    return {
        "/api/v1/cycles": {
            "get": {
                "operationId": "listCycles",
                "summary": "The community's public-budget cycles, categories and admitted projects",
                "responses": {
                    "200": json_response(schema_ref("CycleList"), "Newest voting first."),
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
                    "content": {"application/json": {"schema": schema_ref("VoteBatch")}},
                },
                "responses": {
                    "200": json_response(schema_ref("VoteResults"), "Every vote stored (or already stored)."),
                    "400": error_response("The body is not JSON (or repeats a key)."),
                    "401": unauthorized,
                    "409": error_response("Some ids were stored before with other content; nothing stored."),
                    "413": error_response(f"The body is over {max_content_length} bytes."),
                    "415": error_response("The body is not sent as application/json."),
                    "422": error_response("Malformed votes; `items` names each problem. Nothing stored."),
                    "503": error_response(
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
                    "200": json_response(schema_ref("VoteState"), "The vote."),
                    "401": unauthorized,
                    "404": error_response("No such vote was pushed for this community."),
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
    schemas = api_schemas(max_batch)
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
                "Unauthorized": error_response(
                    "No token, or an unknown or revoked one.",
                    headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
                )
            },
            "schemas": schemas,
        },
    }
