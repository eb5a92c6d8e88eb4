# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""In a real Chromium: a moderator publishes a poll's results with the two-step
confirmation and follows the link to the public page; a resident finds them from the
front page on a 360 px phone, in Ukrainian and in English: nothing scrolls sideways,
every wide table is a scroll region the keyboard reaches, axe-core finds no WCAG 2.1
A/AA violation."""

from __future__ import annotations

import copy
import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from server.models import Role
from tests.axe_check import assert_accessible
from tests.factories import PASSWORD
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401

from .test_polls import SPEC
from .test_polls_results import _poll, _records, _store
from .test_results_phone_browser import scroll_regions_out_of_reach, sideways_overflow, small_targets

no_axe_violations = functools.partial(assert_accessible, folder="poll-results")
PHONE = {"width": 360, "height": 740}
LONG_OPTION = (
    "Облаштувати безбар’єрний вхід до парку з пандусом, поручнями й тактильною плиткою "
    "від зупинки громадського транспорту"
)


@pytest.fixture
def desk(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def check_phone_screen(page, name: str) -> None:
    assert sideways_overflow(page) <= 0, f"{name}: the page scrolls sideways"
    assert scroll_regions_out_of_reach(page) == [], name
    assert small_targets(page) == [], name
    no_axe_violations(page, name)


def test_a_moderator_publishes_and_a_resident_reads_on_a_phone_in_both_languages(
    desk, phone, server_url, session, make
):
    community = make.community(slug="poll-hromada")
    user = make.user(Role.COMMUNITY_MODERATOR, community, login="poll-results@example.org")
    questions = copy.deepcopy(SPEC["questions"])
    questions[1]["options"][0] = LONG_OPTION
    questions[3]["max_points"] = 10  # a wide distribution: 0 to 10 points
    poll = _poll(session, community, questions=questions, title="Що робити з парком?")
    _store(session, poll, _records(session, poll, 60))

    desk.goto(f"{server_url}/login")
    desk.fill("#login", user.login)
    desk.fill("#password", PASSWORD)
    desk.click("button[type=submit]")
    desk.goto(f"{server_url}/console/polls/{poll.id}")
    expect(desk.locator("svg[role=img]")).to_have_count(4)
    no_axe_violations(desk, "console-unpublished")
    desk.click("#publish-poll-results-open")
    desk.check("#publish-poll-results-check")
    desk.click("#publish-poll-results-submit")
    expect(desk.locator("#unpublish-poll-results-open")).to_have_count(1)
    no_axe_violations(desk, "console-published")
    desk.click("#poll-public-page")
    expect(desk.locator("h1")).to_have_text("Що робити з парком?")
    no_axe_violations(desk, "public-desk")

    page = phone
    page.goto(f"{server_url}/")
    page.locator(f"#poll-results a[href='/polls/poll-hromada/{poll.id}']").click()
    expect(page.locator("h1")).to_have_text("Що робити з парком?")
    expect(page.locator("svg[role=img]")).to_have_count(4)
    expect(page.locator(".poll-residents")).to_contain_text("Зараховано")
    check_phone_screen(page, "public-uk-360")

    page.goto(f"{server_url}/polls/poll-hromada/{poll.id}?lang=en")
    expect(page.locator(".poll-residents")).to_contain_text("answers counted")
    expect(page.locator("#poll-channels")).to_contain_text("none")
    check_phone_screen(page, "public-en-360")

    page.locator(".results-breadcrumb a").nth(1).click()
    expect(page.locator("#poll-results-list a")).to_have_count(1)
    check_phone_screen(page, "list-en-360")
