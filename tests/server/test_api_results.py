"""The platform pulls results for its own community's cycles."""

from __future__ import annotations

from openapi_schema_validator import validate

from .test_api_support import make_platform, project_ids, web_vote


def _schema(client, name: str) -> dict:
    document = client.get("/api/v1/openapi.json").get_json()
    return {**document["components"]["schemas"][name], "components": document["components"]}


def test_the_platform_pulls_results_that_include_its_pushed_votes(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    first = project_ids(session, cycle)[0]
    assert platform.push(client, [web_vote(cycle, [first], voter=v) for v in range(1, 4)]).status_code == 200
    response = client.get(f"/api/v1/cycles/{cycle.id}/results", headers=platform.headers())
    assert response.status_code == 200
    body = response.get_json()
    validate(body, _schema(client, "CycleResults"))
    assert body["voters"]["counted"] == 3
    line = next(p for c in body["categories"] for p in c["projects"] if p["project_id"] == first)
    assert (line["rank"], line["votes"], line["funded"]) == (1, 3, True)


def test_another_communitys_results_are_not_found(client, session, make):
    platform = make_platform(session, make)
    foreign = make.ballot_cycle()
    for path in (f"/api/v1/cycles/{foreign.id}/results", "/api/v1/cycles/99999999999/results"):
        response = client.get(path, headers=platform.headers())
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_results_need_a_token(client, session, make):
    cycle = make.ballot_cycle()
    assert client.get(f"/api/v1/cycles/{cycle.id}/results").status_code == 401
