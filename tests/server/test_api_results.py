"""The platform pulls results for its own community's public-budget cycles, once they
are published; running results and school budgets' never leave the console."""

from __future__ import annotations

from openapi_schema_validator import validate
from sqlalchemy import select

from server.models import Cycle
from server.results.publishing import publish_results, unpublish_results

from .test_api_support import make_platform, project_ids, web_vote


def _schema(client, name: str) -> dict:
    document = client.get("/api/v1/openapi.json").get_json()
    return {**document["components"]["schemas"][name], "components": document["components"]}


def test_the_platform_pulls_results_that_include_its_pushed_votes(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    first = project_ids(session, cycle)[0]
    assert platform.push(client, [web_vote(cycle, [first], voter=v) for v in range(1, 4)]).status_code == 200
    publish_results(session, cycle)
    session.commit()
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


def test_running_results_are_not_served_before_publication_nor_after_it_is_taken_back(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    first = project_ids(session, cycle)[0]
    assert platform.push(client, [web_vote(cycle, [first], voter=1)]).status_code == 200
    path = f"/api/v1/cycles/{cycle.id}/results"
    for headers in (platform.headers(), {**platform.headers(), "Accept-Language": "en"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 409
        body = response.get_json()
        validate(body, _schema(client, "Error"))
        assert body["error"]["code"] == "not_published" and "votes" not in response.get_data(as_text=True)
    publish_results(session, cycle)
    session.commit()
    assert client.get(path, headers=platform.headers()).status_code == 200
    unpublish_results(session, cycle)
    session.commit()
    assert client.get(path, headers=platform.headers()).status_code == 409


def test_school_budgets_results_are_not_served_even_when_a_school_published_them(client, session, make):
    platform = make_platform(session, make)
    contest = make.school_contest(make.school(platform.community))
    school_cycles = session.scalars(
        select(Cycle).where(Cycle.community_id == platform.community.id, Cycle.kind != "public")
    ).all()
    assert contest.cycle.id in {c.id for c in school_cycles} and len(school_cycles) == 2  # programme, contest
    for cycle in school_cycles:
        cycle.results_published_at = cycle.voting_ends_at
        session.commit()
        response = client.get(f"/api/v1/cycles/{cycle.id}/results", headers=platform.headers())
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
