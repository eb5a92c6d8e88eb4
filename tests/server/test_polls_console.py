# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""A community moderator makes a poll from its JSON file in the console, publishes it,
and reads its count with a chart; hostile files change nothing; another community's
poll does not exist for them. The whole path once more in Chromium, with axe."""

from __future__ import annotations

import functools
import io
import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select

from server.models import AuditEvent, Poll, Role
from tests.axe_check import assert_accessible
from tests.factories import CSRF_TOKEN, PASSWORD, post, sign_in
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401

from .test_api_support import make_platform
from .test_polls import SPEC, _answer, _ids, _published


def _upload(client, content: bytes, name: str = "poll.json", **fields):
    data = {"csrf_token": CSRF_TOKEN, **fields, "spec": (io.BytesIO(content), name)}
    return client.post("/console/polls", data=data, content_type="multipart/form-data")


@pytest.fixture
def moderator(make):
    community = make.community()
    return make.user(Role.COMMUNITY_MODERATOR, community), community


def test_a_moderator_makes_a_poll_from_its_file_and_publishes_it(client, session, make, moderator):
    user, community = moderator
    sign_in(client, user)
    made = _upload(client, json.dumps(SPEC, ensure_ascii=False).encode())
    assert made.status_code == 303
    poll = session.scalar(select(Poll))
    assert poll.community_id == community.id and poll.published_at is None
    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert "Упорядкуйте за важливістю" in page and "чернетка" in page
    # Without the confirming tick nothing changes.
    assert post(client, f"/console/polls/{poll.id}/publish").status_code == 303
    session.refresh(poll)
    assert poll.published_at is None
    post(client, f"/console/polls/{poll.id}/publish", confirm="yes")
    session.refresh(poll)
    assert poll.published_at is not None
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["poll.create", "poll.publish"]
    listing = client.get("/console/polls?lang=en").get_data(as_text=True)
    assert SPEC["title"] in listing and "Polls" in listing


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "Оберіть файл"),
        (b"\xff\xfe{\x00", "не JSON"),
        (b'{"title": ', "не JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "не JSON"),
        (b"x" * (1024 * 1024 + 1), "завеликий"),
        (json.dumps({**SPEC, "questions": [{"kind": "essay"}]}).encode(), "questions[0].kind"),
        (json.dumps({**SPEC, "title": "<script>alert(1)</script>" * 20}).encode(), "title"),
    ],
)
def test_a_hostile_file_is_refused_with_reasons_and_stores_nothing(client, session, moderator, content, says):
    user, _community = moderator
    sign_in(client, user)
    response = _upload(client, content)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert says in page and "<script>alert" not in page
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


def test_without_the_csrf_token_nothing_is_made(client, session, moderator):
    user, _community = moderator
    sign_in(client, user)
    data = {"spec": (io.BytesIO(json.dumps(SPEC).encode()), "poll.json")}
    assert client.post("/console/polls", data=data, content_type="multipart/form-data").status_code in (
        400,
        403,
    )
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


def test_another_communitys_poll_does_not_exist_for_a_moderator(client, session, make, moderator):
    user, _community = moderator
    theirs = _published(session, make.community().id)
    sign_in(client, user)
    assert client.get(f"/console/polls/{theirs.id}").status_code == 404
    assert post(client, f"/console/polls/{theirs.id}/publish", confirm="yes").status_code == 404
    assert SPEC["title"] not in client.get("/console/polls").get_data(as_text=True)
    operator = make.user(Role.SUPPORT_OPERATOR, make.community())
    sign_in(client, operator)
    assert client.get("/console/polls").status_code == 403


def test_the_count_shows_with_a_chart_and_a_table_once_answers_arrive(client, session, make, moderator):
    user, community = moderator
    platform = make_platform(session, make, community)
    poll = _published(session, community.id)
    ids = _ids(session, poll)
    answers = [_answer(ids, voter=n, minutes=10 + n, pick=n) for n in range(7)]
    pushed = client.post(
        f"/api/v1/polls/{poll.id}/answers", json={"answers": answers}, headers=platform.headers()
    )
    assert pushed.status_code == 200
    sign_in(client, user)
    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert page.count('role="img"') == 4 and "7 учасників відповіли" in page
    assert "Борда" in page and "у середньому" in page
    english = client.get(f"/console/polls/{poll.id}?lang=en").get_data(as_text=True)
    assert "7 participants answered" in english and "Borda point" in english


# --- in Chromium ---------------------------------------------------------------------

no_axe_violations = functools.partial(assert_accessible, folder="console-polls")


@pytest.fixture
def desk(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def test_in_chromium_a_moderator_uploads_publishes_and_reads_the_count(
    desk, server_url, session, make, tmp_path
):
    community = make.community(slug="polls-hromada")
    user = make.user(Role.COMMUNITY_MODERATOR, community, login="polls@example.org")
    platform = make_platform(session, make, community)
    session.commit()
    spec_file = tmp_path / "poll.json"
    spec_file.write_text(json.dumps(SPEC, ensure_ascii=False), encoding="utf-8")

    desk.goto(f"{server_url}/login")
    desk.fill("#login", user.login)
    desk.fill("#password", PASSWORD)
    desk.click("button[type=submit]")
    desk.goto(f"{server_url}/console/polls")
    no_axe_violations(desk, "polls-empty")
    desk.set_input_files("#spec", str(spec_file))
    desk.click("form[aria-labelledby=new-poll] button[type=submit]")
    expect(desk.locator("h1")).to_have_text(SPEC["title"])
    no_axe_violations(desk, "poll-draft")
    desk.click("#publish-poll-open")
    desk.check("#publish-poll-check")
    desk.click("#publish-poll-submit")
    expect(desk.locator("#publish-poll-open")).to_have_count(0)

    poll = session.scalar(select(Poll).where(Poll.community_id == community.id))
    ids = _ids(session, poll)
    answers = [_answer(ids, voter=n, minutes=5 + n, pick=n) for n in range(12)]
    # The platform pushes its answers to the same running server.
    response = desk.request.post(
        f"{server_url}/api/v1/polls/{poll.id}/answers",
        data=json.dumps({"answers": answers}),
        headers={**platform.headers(), "Content-Type": "application/json"},
    )
    assert response.status == 200
    desk.reload()
    expect(desk.locator("svg[role=img]")).to_have_count(4)
    no_axe_violations(desk, "poll-results")


def test_the_demo_has_an_open_poll_with_answers_counted_in_the_console(app, client, session):
    from server.demo import seed_demo
    from server.models import User
    from server.polls.count import count_poll
    from server.polls.store import poll_rule

    summary = seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=20)
    poll = session.scalar(
        select(Poll).where(Poll.community_id == summary.community.id, Poll.school_id.is_(None))
    )
    assert poll is not None and poll.published_at is not None
    results = count_poll(session, poll_rule(session, poll))
    assert results[0].respondents == 400  # every demo resident answered the first question
    assert [r.kind.value for r in results] == ["one", "up_to", "rank", "points"]
    moderator = session.scalar(select(User).where(User.role == Role.COMMUNITY_MODERATOR.value))
    sign_in(client, moderator)
    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert page.count('role="img"') == 4 and "400 учасників відповіли" in page
