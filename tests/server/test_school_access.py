"""A school moderator sees their own school and nothing else, read from the URL map so
that a school route added later is covered without anyone listing it here:

- every school route naming another school's school, contest, project, class or code
  answers 404 to a moderator of that other school (same community!) and to a community
  moderator of another community, for each method, and changes nothing;
- the same routes open for the school's own moderator (so the 404s above are about
  scope, not broken pages);
- every community-wide console page stays 403 for school moderators.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from server.jobs.kinds.code_cards import start_code_cards
from server.jobs.runner import run_job
from server.models import (
    AuditEvent,
    Category,
    CodeBatch,
    Cycle,
    Project,
    Role,
    School,
    SchoolContest,
    User,
    Vote,
    VotingCode,
    utcnow,
)
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from tests.factories import CSRF_TOKEN, sign_in

SCHOOL_PARAMETERS = {"school_id", "contest_id", "project_id", "class_name", "code_id", "job_id"}
# Every field any school form reads, with values that would change something if a
# request ever got through.
HOSTILE_FORM = {
    "csrf_token": CSRF_TOKEN,
    "name": "Захоплено",
    "address": "Захоплено",
    "programme_id": "1",
    "budget": "1",
    "max_choices": "1",
    "voting_starts_at": "2090-01-01T09:00",
    "voting_ends_at": "2090-01-02T09:00",
    "grades": "1-12",
    "number": "99",
    "title": "Захоплено",
    "cost": "1",
    "reason": "Захоплено",
    "class_name": "7-В",
    "count": "5",
}


def school_rules(app):
    """(rule, methods) of every console route served by a school module."""
    for rule in app.url_map.iter_rules():
        module = app.view_functions[rule.endpoint].__module__
        if rule.rule.startswith("/console") and module.rsplit(".", 1)[-1].startswith("school"):
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def fill(rule, values):
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<[^>]*:?{name}>", str(values[name]), url)
    return url


def school_with_everything(app, make, session, community, name):
    school = make.school(community, name=name)
    contest = make.school_contest(school, open_now=False)
    codes = issue_codes(session, contest, "6-А", 3, app_code_keys(app))
    session.commit()
    project = session.scalar(select(Project).where(Project.cycle_id == contest.cycle.id).limit(1))
    # A PDF of the contest's cards, made by a job (its page and its download are the school's).
    cards_job = start_code_cards(
        session,
        contest,
        class_name=None,
        layout="10",
        base_url="https://vote.example.ua/",
        locale="uk",
        cards=3,
        user=None,
        now=utcnow(),
    )
    session.commit()
    with app.app_context():
        assert run_job(app, cards_job.id) == "done"
    return {
        "community": community,
        "school": school,
        "school_id": school.id,
        "contest_id": contest.id,
        "project_id": project.id,
        "class_name": "6-А",
        "code_id": codes[0].code_id,
        "job_id": cards_job.id,
    }


@pytest.fixture
def schools(app, make, session):
    """Two schools of one community, each with a contest, projects and codes, and a
    moderator for each."""
    community = make.community(name="Громада")
    a = school_with_everything(app, make, session, community, "Ліцей № 1")
    b = school_with_everything(app, make, session, community, "Гімназія № 2")
    a["moderator"] = make.user(Role.SCHOOL_MODERATOR, community, school_id=a["school_id"])
    b["moderator"] = make.user(Role.SCHOOL_MODERATOR, community, school_id=b["school_id"])
    return a, b


def snapshot(session):
    session.expire_all()
    return (
        [(s.name, s.address) for s in session.scalars(select(School).order_by(School.id))],
        [(c.grades,) for c in session.scalars(select(SchoolContest).order_by(SchoolContest.id))],
        [
            (c.title, c.voting_starts_at, c.voting_ends_at, c.results_published_at)
            for c in session.scalars(select(Cycle).order_by(Cycle.id))
        ],
        [(c.budget, c.max_choices) for c in session.scalars(select(Category).order_by(Category.id))],
        [
            (p.number, p.title, p.status, p.cost)
            for p in session.scalars(select(Project).order_by(Project.id))
        ],
        [(c.id, c.revoked_at) for c in session.scalars(select(VotingCode).order_by(VotingCode.id))],
        [(u.id, u.active, u.school_id) for u in session.scalars(select(User).order_by(User.id))],
        session.scalar(select(func.count()).select_from(CodeBatch)),
        session.scalar(select(func.count()).select_from(Vote)),
        session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def assert_every_school_route_is_not_found(app, client, session, objects):
    before = snapshot(session)
    checked = 0
    for rule, methods in school_rules(app):
        if not rule.arguments:
            continue
        unknown = set(rule.arguments) - SCHOOL_PARAMETERS
        assert not unknown, f"{rule.rule}: add {unknown} to the schools fixture"
        url = fill(rule, objects)
        for method in methods:
            response = client.open(url, method=method, data=HOSTILE_FORM)
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked >= 25
    assert snapshot(session) == before


def test_a_school_moderator_gets_not_found_for_every_route_of_another_school(app, client, session, schools):
    a, b = schools
    sign_in(client, a["moderator"])
    assert_every_school_route_is_not_found(app, client, session, b)


def test_a_community_moderator_of_another_community_gets_not_found_for_every_school_route(
    app, client, make, session, schools
):
    _a, b = schools
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, make.community(name="Інша громада")))
    assert_every_school_route_is_not_found(app, client, session, b)


def test_a_school_moderator_opens_every_page_of_their_own_school(app, client, schools):
    """The other side of the 404s above: the same pages, their own school, all open."""
    a, _b = schools
    sign_in(client, a["moderator"])
    opened = 0
    for rule, methods in school_rules(app):
        if "GET" not in methods or not rule.arguments:
            continue
        response = client.get(fill(rule, a))
        # A school's name and address are the community's to change, even for its own moderator.
        expected = 403 if rule.endpoint == "console.school_edit" else 200
        assert response.status_code == expected, (rule.rule, response.status_code)
        opened += 1
    assert opened >= 10


def test_a_community_moderator_opens_every_school_page_of_their_community(app, client, make, schools):
    a, _b = schools
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, a["community"]))
    opened = 0
    for rule, methods in school_rules(app):
        if "GET" in methods and rule.endpoint != "console.my_school":
            response = client.get(fill(rule, a))
            assert response.status_code == 200, (rule.rule, response.status_code)
            opened += 1
    assert opened >= 12


def test_support_operators_get_no_school_page_at_all(app, client, make, session, schools):
    a, _b = schools
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, a["community"]))
    before = snapshot(session)
    for rule, methods in school_rules(app):
        for method in methods:
            response = client.open(fill(rule, a), method=method, data=HOSTILE_FORM)
            assert response.status_code == 403, (method, rule.rule, response.status_code)
    assert snapshot(session) == before


def test_school_moderators_are_refused_every_community_wide_page(app, client, make, session, schools):
    """Whatever the console adds later for community managers stays closed to schools."""
    a, _b = schools
    sign_in(client, a["moderator"])
    community_objects = {
        "cycle_id": session.scalar(select(SchoolContest.cycle_id).where(SchoolContest.id == a["contest_id"])),
        "project_id": a["project_id"],
        "category_id": session.scalar(select(Category.id).limit(1)),
        "community_id": a["school"].community_id,
        "device_id": 1,
        "user_id": a["moderator"].id,
        "client_id": 1,
        "serial": "S0001-000001",
        "page_id": 1,
        "job_id": 1,
        "photo_id": 1,
        "poll_id": 1,
    } | {k: v for k, v in a.items() if k in SCHOOL_PARAMETERS}
    refused = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "required_roles", None)
        if not rule.rule.startswith("/console") or roles is None or Role.SCHOOL_MODERATOR in roles:
            continue
        if "GET" in rule.methods:
            response = client.get(fill(rule, community_objects))
            assert response.status_code == 403, (rule.rule, response.status_code)
            refused += 1
    assert refused >= 15
