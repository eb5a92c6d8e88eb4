"""The pieces every part of the OpenAPI document is built from: a schema reference, a
JSON response, the shared Error response, and the field schemas several paths reuse
(server.api.openapi, server.api.polls, server.api.results, server.sync.openapi)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.services.pushed_fields import MAX_ID


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: Mapping[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(schema)}}, **extra}


def error_response(description: str, **extra: Any) -> dict[str, Any]:
    return json_response(schema_ref("Error"), description, **extra)


ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
UUID = {"type": "string", "format": "uuid", "maxLength": 64}
MOMENT = {
    "type": "string",
    "format": "date-time",
    "description": "UTC, to the millisecond, e.g. 2027-05-01T07:00:00.000Z",
}
KOPIYKAS = {"type": "integer", "minimum": 0, "description": "Kopiykas (1/100 of a hryvnia)."}
