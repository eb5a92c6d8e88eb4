"""The API describes itself: a valid OpenAPI 3.1 document covering every route, and
every message in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po
from openapi_spec_validator import validate

import server.api
from server.api.messages import API_CODES, api_text
from server.api.openapi import build_openapi
from voting.messages import MESSAGES

API_DIR = Path(server.api.__file__).parent
# Where pushed batches are read, and their problems named.
READERS = [API_DIR.parent / "services" / name for name in ("pushed_fields.py", "pushed_votes.py")]
API_PO = API_DIR.parent / "translations" / "en" / "api.po"


def openapi_path(rule: str) -> str:
    """/api/v1/votes/<vote_id> -> /api/v1/votes/{vote_id}"""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def test_the_served_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")  # no token needed
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_is_documented_with_its_methods(app):
    paths = build_openapi()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        documented = paths.get(openapi_path(rule.rule))
        assert documented is not None, f"{rule.rule} is missing from server/api/openapi.py"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in documented, f"{method} {rule.rule} is not documented"


def test_the_document_follows_the_configured_limits(app, client):
    app.config["API_MAX_BATCH"] = 7
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["schemas"]["VoteBatch"]["properties"]["votes"]["maxItems"] == 7


def test_paths_added_later_join_the_document(monkeypatch):
    from server.api import openapi

    results = {
        "get": {
            "parameters": [
                {"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {"200": {"description": "Results"}},
        }
    }
    monkeypatch.setitem(openapi.EXTRA_PATHS, "/api/v1/cycles/{cycle_id}/results", results)
    document = build_openapi()
    assert document["paths"]["/api/v1/cycles/{cycle_id}/results"] == results
    validate(document)


def _translated_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]


def test_every_api_message_has_an_english_translation():
    with API_PO.open("rb") as handle:
        english = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    literals = [text for path in sorted(API_DIR.glob("*.py")) for text in _translated_literals(path)]
    assert len(literals) > 20
    missing = [text for text in literals if not english.get(text)]
    assert not missing, missing
    for text in literals:
        assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", english[text])), text


def test_every_problem_code_the_service_raises_has_a_text(app):
    # problems.add(index, field, CODE, ...): the third argument of every call.
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in READERS]
    codes = {
        node.args[2].value
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add"
        and len(node.args) >= 3
        and isinstance(node.args[2], ast.Constant)
    }
    assert len(codes) > 10
    for code in codes:
        assert code in API_CODES or code in MESSAGES, code
    with app.test_request_context("/api/v1/votes?lang=en"):
        for code in API_CODES:
            assert api_text(code, max=5) != "", code
