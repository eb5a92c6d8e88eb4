"""The polls' part of the integration API's OpenAPI document (server.api.polls serves the
routes): their schemas and paths, added to the document server.api.openapi builds."""

from __future__ import annotations

from typing import Any

from voting.polls import QuestionKind

from .openapi import EXTRA_PATHS, EXTRA_SCHEMAS
from .openapi_parts import ID, MOMENT, UUID
from .openapi_parts import error_response as _error
from .openapi_parts import json_response as _json
from .openapi_parts import schema_ref as _ref


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties}


_QUESTION = _object(
    {
        "id": ID,
        "text": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in QuestionKind]},
        "max_choices": {"type": ["integer", "null"]},
        "max_points": {"type": ["integer", "null"]},
        "options": {
            "type": "array",
            "items": _object({"id": ID, "text": {"type": "string"}}),
        },
    }
)
_WHO = {
    **_object(
        {
            "min_age": {"type": ["integer", "null"], "minimum": 1, "maximum": 120},
            "voter_list": {"type": "boolean"},
            "district": {"type": ["string", "null"]},
        }
    ),
    "description": "Who may answer: residents this age or older on the day they answer (null: any "
    "age); only residents on the community's voter list, while it is switched on; only residents "
    "the list places in this district (null: any). An answer from anyone else is refused (422) "
    "with eligibility.not_listed, eligibility.too_young, eligibility.born_in_future or "
    "poll.wrong_district. The age is checked where the resident is named by a РНОКПП or УНЗР; "
    "for a voter key, or a document that shows no birth date, the platform answers for it, as "
    "for votes.",
}
EXTRA_SCHEMAS["Poll"] = _object(
    {
        "id": ID,
        "title": {"type": "string"},
        "description": {"type": "string"},
        "opens_at": MOMENT,
        "closes_at": MOMENT,
        "who": _WHO,
        "questions": {"type": "array", "items": _QUESTION},
    }
)
EXTRA_SCHEMAS["PollAnswer"] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "cast_at", "answers"],
    "properties": {
        "id": {**UUID, "description": "Made where the answer was cast; the same id is the same answer."},
        "voter_key": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "identity": _ref("Identity"),
        "cast_at": MOMENT,
        "answers": {
            "type": "object",
            "description": "Question id -> the chosen option ids (one, up_to), the option ids best "
            "first (rank), or [option id, points] pairs (points). Questions may be skipped.",
            "additionalProperties": {"type": "array"},
        },
    },
}
EXTRA_PATHS["/api/v1/polls"] = {
    "get": {
        "operationId": "listPolls",
        "summary": "The community's published polls (not schools'), with their questions and options",
        "responses": {
            "200": _json(_object({"polls": {"type": "array", "items": _ref("Poll")}}), "The polls."),
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }
}
EXTRA_PATHS["/api/v1/polls/{poll_id}/answers"] = {
    "post": {
        "operationId": "pushPollAnswers",
        "summary": "Push residents' answers to a poll; each resident's earliest answer counts",
        "description": "All or nothing: a batch with any problem stores nothing and lists every "
        "problem (422). An id already received with other content refuses the batch (409).",
        "parameters": [{"name": "poll_id", "in": "path", "required": True, "schema": ID}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _object({"answers": {"type": "array", "items": _ref("PollAnswer")}})
                }
            },
        },
        "responses": {
            "200": _json(
                _object(
                    {
                        "results": {
                            "type": "array",
                            "items": _object(
                                {
                                    "id": UUID,
                                    "status": {"type": "string", "enum": ["counted", "duplicate"]},
                                    "counted_answer_id": {"type": ["string", "null"]},
                                }
                            ),
                        }
                    }
                ),
                "Each answer's standing, in the order sent.",
            ),
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": _error("No such published poll in this client's community."),
            "409": _error(
                "An answer id already received with other content; or the poll is a school's "
                "(school_poll), answered only with its students' codes."
            ),
            "422": _error("Problems in the batch; nothing stored."),
            "503": _error("The same answer ids arrived at the same moment in another request; send again."),
        },
    }
}
EXTRA_PATHS["/api/v1/polls/{poll_id}/results"] = {
    "get": {
        "operationId": "getPollResults",
        "summary": "Each question's count: choices and shares; Borda points for rankings; mean points",
        "parameters": [{"name": "poll_id", "in": "path", "required": True, "schema": ID}],
        "responses": {
            "200": {"description": "The count of every question, best option first."},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": _error("No such published poll in this client's community."),
        },
    }
}
