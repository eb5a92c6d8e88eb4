"""Every route of the app, read from its URL map, is guarded: a route added later is
covered without anyone remembering to list it here.

- Every console route sends a visitor who is not signed in to the sign-in page.
- Every console route that names an object answers 404 to a moderator of another
  community, for each method it accepts, and changes nothing. School routes are in it
  too; tests/server/test_school_access.py closes them to other schools' moderators.
- Every integration API route but the OpenAPI document answers 401 without a token.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from school_budget.codes import issue_codes
from school_budget.keys import app_code_keys
from server.jobs.store import create_job
from server.models import (
    AuditEvent,
    Category,
    CodeBatch,
    Cycle,
    Device,
    Job,
    Project,
    Role,
    School,
    SchoolContest,
    User,
    Vote,
    VotingCode,
    utcnow,
)
from server.services.api_clients import create_api_client
from tests.factories import CSRF_TOKEN, sign_in

TOKEN = CSRF_TOKEN
PUBLIC_API = {"api.openapi_document"}
# Routes about communities themselves are for administrators: 403 to everyone else.
ADMIN_ONLY_PARAMETERS = {"community_id"}
# ...except a community's own pages its moderators run (another community's: 404).
COMMUNITY_PAGES = {"console.eligibility_page", "console.eligibility_upload", "console.eligibility_switch"}


def rules(app, prefix):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix):
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def fill(rule, values):
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<[^>]*:?{name}>", str(values[name]), url)
    return url


@pytest.fixture
def community_a(app, make, session):
    community = make.community(name="Громада А")
    cycle = make.cycle(community, open_now=False)
    category = make.category(cycle)
    project = make.project(category)
    device = make.device(community)
    staff = make.user(Role.SUPPORT_OPERATOR, community)
    api_client, _token = create_api_client(session, community_id=community.id, name="Платформа А")
    school = make.school(community, name="Ліцей № 1")
    contest = make.school_contest(school, open_now=False)
    [code, *_others] = issue_codes(session, contest, "6-А", 3, app_code_keys(app))
    job = create_job(
        session,
        community_id=community.id,
        kind="eligibility.upload",
        user=None,
        unit="rows",
        params={"mode": "add"},
        files=[("list.csv", b"voter_key\n")],
        target=("community", community.id),
        now=utcnow(),
    )
    session.commit()
    return {
        "community_id": community.id,
        "cycle_id": cycle.id,
        "category_id": category.id,
        "project_id": project.id,
        "device_id": device.id,
        "user_id": staff.id,
        "client_id": api_client.id,
        "school_id": school.id,
        "contest_id": contest.id,
        "class_name": "6-А",
        "code_id": code.code_id,
        "serial": "S0001-000001",  # a scanned paper sheet's serial
        "page_id": 1,  # a scanned page
        "job_id": job.id,  # a background job (queued)
        "photo_id": 1,  # a project's photo (none here: the project's community decides)
    }


def snapshot(session):
    session.expire_all()
    return (
        [(c.title, c.results_published_at) for c in session.scalars(select(Cycle))],
        [(c.name, c.budget) for c in session.scalars(select(Category))],
        [(p.title, p.status, p.cost) for p in session.scalars(select(Project))],
        [(d.status,) for d in session.scalars(select(Device))],
        [(u.active, u.role, u.school_id) for u in session.scalars(select(User))],
        [(s.name, s.address) for s in session.scalars(select(School))],
        [(c.grades,) for c in session.scalars(select(SchoolContest))],
        [(c.id, c.revoked_at) for c in session.scalars(select(VotingCode).order_by(VotingCode.id))],
        session.scalar(select(func.count()).select_from(CodeBatch)),
        session.scalar(select(func.count()).select_from(Vote)),
        [(j.state, j.cancel_requested) for j in session.scalars(select(Job))],
    )


def test_every_console_route_needs_sign_in(app, client, community_a):
    checked = 0
    for rule, methods in rules(app, "/console"):
        url = fill(rule, community_a)
        for method in methods:
            response = client.open(url, method=method, data={"csrf_token": TOKEN})
            if method == "POST":
                # No session, so no CSRF token either: refused before anything else.
                assert response.status_code in (302, 400), (method, url)
            else:
                assert response.status_code == 302, (method, url)
                assert "/login" in response.headers["Location"], url
            checked += 1
    assert checked >= 30


def test_every_console_route_naming_an_object_is_closed_to_other_communities(
    app, client, make, session, community_a
):
    outsider = make.user(Role.COMMUNITY_MODERATOR, make.community(name="Громада Б"))
    sign_in(client, outsider)
    before = snapshot(session)
    audit_before = session.scalar(select(func.count()).select_from(AuditEvent))
    checked = 0
    for rule, methods in rules(app, "/console"):
        if not rule.arguments:
            continue
        unknown = set(rule.arguments) - set(community_a)
        assert not unknown, f"{rule.rule}: add {unknown} to the community_a fixture"
        admin_only = set(rule.arguments) & ADMIN_ONLY_PARAMETERS and rule.endpoint not in COMMUNITY_PAGES
        expected = 403 if admin_only else 404
        url = fill(rule, community_a)
        for method in methods:
            form = {
                "csrf_token": TOKEN,
                "title": "Захоплено",
                "name": "Захоплено",
                "reason": "x",
                "number": "1",
                "cost": "1",
                "budget": "1",
                "slug": "zakhopleno",
                "class_name": "6-Б",
                "count": "5",
                "grades": "1-12",
                "max_choices": "1",
            }
            response = client.open(url, method=method, data=form)
            assert response.status_code == expected, (method, url, response.status_code)
            checked += 1
    assert checked >= 20
    assert snapshot(session) == before
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before


def test_every_api_route_needs_a_token(app, client, community_a):
    for rule, methods in rules(app, "/api/"):
        url = fill(rule, community_a | {"vote_id": "00000000-0000-4000-8000-000000000000"})
        for method in methods:
            response = client.open(url, method=method, json={"votes": []})
            if rule.endpoint in PUBLIC_API:
                assert response.status_code == 200
            else:
                assert response.status_code == 401, (method, url)
                assert response.get_json()["error"]["code"]
