"""What every API answer shares: the language, the error body, the strict JSON reader.

Error bodies have the shape the rest of the server uses for /api/ paths
({"error": {"status", "code", "message", ...}}), so a client needs one parser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response, g, jsonify, request

from server.i18n import DEFAULT_LOCALE, LOCALES, _, problem_text
from server.services.pushed_fields import ItemProblem

from .messages import api_text

JSON_MIMETYPE = "application/json"


class ApiError(Exception):
    """An answer other than success, raised anywhere in a view and rendered as JSON."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> Response:
    body = {"status": error.status, "code": error.code, "message": error.message, **error.extra}
    response = jsonify(error=body)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def choose_locale() -> str:
    """`?lang=` if given, else Accept-Language, else Ukrainian. No cookies: API clients
    are programs, and one platform serves residents in both languages."""
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE) or DEFAULT_LOCALE


def use_request_locale() -> None:
    # server.i18n.get_locale() returns g.locale when set, so every _() below follows.
    g.locale = choose_locale()


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"cycle_id": 1, "cycle_id": 2} means different things to different parsers;
    # we refuse to guess which one the platform meant.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:64]!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json_body() -> Any:
    """The request body as JSON, or ApiError 415/400. Bodies over MAX_CONTENT_LENGTH make
    werkzeug raise 413 before anything is read."""
    if request.mimetype != JSON_MIMETYPE:
        raise ApiError(
            415,
            "unsupported_media_type",
            _("Надсилайте тіло запиту як JSON із заголовком Content-Type: application/json."),
        )
    raw = request.get_data(cache=False)
    try:
        return json.loads(raw, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    # ValueError covers bad syntax, bad UTF-8 and integers too long to read;
    # RecursionError covers hostile nesting thousands of levels deep.
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", _("Тіло запиту — не коректний JSON.")) from None


def problem_message(code: str, params: Mapping[str, Any]) -> str:
    if code.startswith("api."):
        return api_text(code, **params)
    return problem_text(code, **params)


def render_problem(problem: ItemProblem) -> dict[str, Any]:
    return {
        "index": problem.index,
        "field": problem.field,
        "code": problem.code,
        "message": problem_message(problem.code, problem.params),
    }
