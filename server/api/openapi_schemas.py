"""The integration API's own schemas in the OpenAPI document: errors, pushed votes and
their answers, cycles with their categories and projects (server.api.openapi)."""

from __future__ import annotations

from typing import Any

from voting import IdentityKind, VoteStatus
from voting.record import MAX_SELECTIONS

from .openapi_parts import ID, KOPIYKAS, MOMENT, UUID, schema_ref


def api_schemas(max_batch: int) -> dict[str, Any]:
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
                            "items": schema_ref("ItemProblem"),
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
                "identity": schema_ref("Identity"),
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
                    "items": schema_ref("PushedVote"),
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
                    "items": schema_ref("VoteResult"),
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
                    "items": schema_ref("Project"),
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
                "categories": {"type": "array", "items": schema_ref("Category")},
            },
        },
        "CycleList": {
            "type": "object",
            "required": ["cycles"],
            "properties": {"cycles": {"type": "array", "items": schema_ref("Cycle")}},
        },
    }
