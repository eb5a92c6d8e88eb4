"""Every route of the app, read from its URL map, is guarded: a route added later is
covered without anyone remembering to list it here.

- Every console route sends a visitor who is not signed in to the sign-in page.
- Every console route that names an object answers 404 to a moderator of another
  community, for each method it accepts, and changes nothing. School routes are in it
  too; tests/server/test_school_access.py closes them to other schools' moderators.
- A support-point operator opens only their point's paper work (OPERATOR_ROUTES, a
  decision made here for every new route): every other console route is 403 to them
  even for their own community, and the paper routes are 404 for another community's
  objects.
- Every integration API route but the OpenAPI document answers 401 without a token.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

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
from server.polls.store import create_poll, publish_poll
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from server.services.api_clients import create_api_client
from tests.factories import CSRF_TOKEN, sign_in

TOKEN = CSRF_TOKEN
PUBLIC_API = {"api.openapi_document"}
# Routes about communities themselves are for administrators: 403 to everyone else.
ADMIN_ONLY_PARAMETERS = {"community_id"}
# ...except a community's own pages its moderators run (another community's: 404).
COMMUNITY_PAGES = {"console.eligibility_page", "console.eligibility_upload", "console.eligibility_switch"}
# What a support-point operator may open: their overview (which is «Мій пункт»), their
# password, and their point's paper work: scans and their review, tally sheets, typed
# paper votes, and the jobs these start. Publishing and verifying results, users,
# devices, voter lists, integration clients, held votes, alarms, bundles: not theirs.
OPERATOR_ROUTES = {
    "console.dashboard",
    "console.my_point",
    "console.change_password_page",
    "console.paper_scans",
    "console.paper_scans_commit",
    "console.paper_scan_sheet",
    "console.paper_scan_box",
    "console.paper_scan_page_choice",
    "console.paper_scan_spoil",
    "console.paper_scan_restore",
    "console.paper_scan_preview",
    "console.paper_scan_crop",
    "console.paper_tally",
    "console.paper_tally_example",
    "console.paper_import",
    "console.paper_import_example",
    "console.job_page",
    "console.job_status",
    "console.job_cancel",
}
HOSTILE_FORM = {
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
    poll = create_poll(
        session,
        community.id,
        {
            "title": "Опитування А",
            "opens_at": "2027-05-01T09:00:00+03:00",
            "closes_at": "2027-05-31T09:00:00+03:00",
            "questions": [{"text": "Так чи ні?", "kind": "one", "options": ["Так", "Ні"]}],
        },
    )
    publish_poll(session, poll)
    session.commit()
    return {
        "community_id": community.id,
        "poll_id": poll.id,
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


def operator_may_open(app, rule) -> bool:
    roles = getattr(app.view_functions[rule.endpoint], "required_roles", None)
    return roles is None or Role.SUPPORT_OPERATOR in roles


@pytest.mark.parametrize("role", [Role.COMMUNITY_MODERATOR, Role.SUPPORT_OPERATOR])
def test_every_console_route_naming_an_object_is_closed_to_other_communities(
    app, client, make, session, community_a, role
):
    outsider = make.user(role, make.community(name="Громада Б"))
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
        not_for_role = role is Role.SUPPORT_OPERATOR and not operator_may_open(app, rule)
        expected = 403 if admin_only or not_for_role else 404
        url = fill(rule, community_a)
        for method in methods:
            response = client.open(url, method=method, data=HOSTILE_FORM)
            assert response.status_code == expected, (method, url, response.status_code)
            checked += 1
    assert checked >= 20
    assert snapshot(session) == before
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before


def test_a_support_operator_is_refused_every_route_but_their_paper_work(
    app, client, make, session, community_a
):
    """Refused even for their own community's objects; the routes left open are exactly
    OPERATOR_ROUTES, so a route opened to operators later is a decision made there."""
    sign_in(client, session.get(User, community_a["user_id"]))  # community A's operator
    before = snapshot(session)
    audit_before = session.scalar(select(func.count()).select_from(AuditEvent))
    open_to_operators, refused = set(), 0
    for rule, methods in rules(app, "/console"):
        if operator_may_open(app, rule):
            open_to_operators.add(rule.endpoint)
            continue
        url = fill(rule, community_a)
        for method in methods:
            response = client.open(url, method=method, data=HOSTILE_FORM)
            assert response.status_code == 403, (method, url, response.status_code)
            refused += 1
    assert open_to_operators == OPERATOR_ROUTES
    assert refused >= 60
    assert snapshot(session) == before
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before


def test_a_support_operator_opens_every_paper_page_of_their_community(app, client, session, community_a):
    """The other side of the 403s and 404s above: their own community's pages open."""
    cycle = session.get(Cycle, community_a["cycle_id"])
    paper_job = create_job(
        session,
        community_id=cycle.community_id,
        kind="paper_tally.import",
        user=None,
        unit="rows",
        params={},
        files=[],
        target=("cycle", cycle.id),
        now=utcnow(),
    )
    session.commit()
    sign_in(client, session.get(User, community_a["user_id"]))
    # No sheet was scanned here: a sheet's page and a page's images are "not found".
    no_scans = {"console.paper_scan_sheet", "console.paper_scan_preview", "console.paper_scan_crop"}
    opened = 0
    for rule, methods in rules(app, "/console"):
        if rule.endpoint not in OPERATOR_ROUTES or "GET" not in methods:
            continue
        response = client.get(fill(rule, community_a | {"job_id": paper_job.id}), follow_redirects=True)
        expected = 404 if rule.endpoint in no_scans else 200
        assert response.status_code == expected, (rule.rule, response.status_code)
        opened += 1
    assert opened >= 10


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
