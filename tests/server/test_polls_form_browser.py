# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""In a real Chromium on a 360 px screen: a moderator writes a poll with the keyboard
alone (Tab, typing, arrow keys in the kinds' radio group, Space for the checkbox, Enter
on the buttons), adds a question, creates it and sees it. The form page passes axe-core
and scrolls no sideways, before and after a refused submit."""

from __future__ import annotations

import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Poll, Role
from server.polls.store import questions_of, who_of
from tests.axe_check import assert_accessible
from tests.factories import PASSWORD
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401

from .test_results_phone_browser import sideways_overflow

no_axe_violations = functools.partial(assert_accessible, folder="console-poll-form")
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def narrow(chromium):
    context = chromium.new_context(viewport=PHONE, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def tab_to(page, element_id: str, limit: int = 80) -> None:
    """Press Tab until the element has the focus (as a keyboard user would)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def type_into(page, element_id: str, text: str) -> None:
    tab_to(page, element_id)
    page.keyboard.type(text)


def type_moment(page, element_id: str, date: str, time: str) -> None:
    """A datetime-local field typed as this Chromium's control takes it (its own
    locale's order, not the page's: month, day, year; Tab; hours, minutes, A or P)."""
    tab_to(page, element_id)
    page.keyboard.type(date)
    page.keyboard.press("Tab")  # from the year to the hours: the year may have more digits
    page.keyboard.type(time)


def check_form_page(page, name: str) -> None:
    assert sideways_overflow(page) <= 0, f"{name}: the page scrolls sideways"
    no_axe_violations(page, name)


def test_a_moderator_writes_a_poll_with_the_keyboard_on_a_narrow_screen(narrow, server_url, session, make):
    community = make.community(slug="form-hromada")
    user = make.user(Role.COMMUNITY_MODERATOR, community, login="poll-form@example.org")
    session.commit()
    page = narrow
    page.goto(f"{server_url}/login")
    page.fill("#login", user.login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server_url}/console/polls")
    tab_to(page, "poll-form-link")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Створити опитування")
    check_form_page(page, "form-empty")

    type_into(page, "f-title", "Що робити з парком?")
    type_into(page, "f-description", "Опитування мешканців.")
    type_moment(page, "f-opens_at", "05012027", "0900A")
    assert page.input_value("#f-opens_at") == "2027-05-01T09:00"
    type_moment(page, "f-closes_at", "05312027", "0900P")
    assert page.input_value("#f-closes_at") == "2027-05-31T21:00"
    type_into(page, "f-min_age", "16")
    tab_to(page, "f-voter_list")
    page.keyboard.press("Space")
    type_into(page, "f-q-0-text", "Чи потрібен ремонт?")
    type_into(page, "f-q-0-options", "Так\nНі")
    type_into(page, "f-q-1-text", "Що додати?")
    tab_to(page, "f-q-1-kind-one")
    page.keyboard.press("ArrowDown")  # «Кілька варіантів»
    type_into(page, "f-q-1-max_choices", "2")
    type_into(page, "f-q-1-options", "Лави\nСвітло\nФонтан")
    type_into(page, "f-q-2-text", "Упорядкуйте")
    tab_to(page, "f-q-2-kind-one")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # «Упорядкувати»
    type_into(page, "f-q-2-options", "А\nБ\nВ")

    tab_to(page, "add-question")
    page.keyboard.press("Enter")
    expect(page.locator("#q-3-block")).to_have_count(1)
    assert page.url.endswith("/console/polls/new#q-3-block")  # the new block is where the page opens
    assert page.input_value("#f-title") == "Що робити з парком?"
    assert page.input_value("#f-q-1-options") == "Лави\nСвітло\nФонтан"
    assert page.is_checked("#f-q-2-kind-rank") and page.is_checked("#f-voter_list")
    check_form_page(page, "form-four-blocks")

    type_into(page, "f-q-3-text", "Оцініть")
    tab_to(page, "f-q-3-kind-one")
    page.keyboard.press("ArrowUp")  # wraps round to «Бали»
    type_into(page, "f-q-3-max_points", "500")
    type_into(page, "f-q-3-options", "Чистота\nТінь")
    tab_to(page, "create-poll")
    page.keyboard.press("Enter")
    # Refused beside the field, everything kept; fixed with the keyboard.
    expect(page.locator("#e-q-3-max_points")).to_contain_text("від 1 до 100")
    assert page.input_value("#f-q-3-options") == "Чистота\nТінь"
    check_form_page(page, "form-refused")
    tab_to(page, "f-q-3-max_points")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    tab_to(page, "create-poll")
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Що робити з парком?")
    expect(page.locator(".flash.success")).to_contain_text("Опитування створено як чернетку")
    poll = session.scalar(select(Poll).where(Poll.community_id == community.id))
    assert who_of(poll).min_age == 16 and who_of(poll).voter_list
    assert [
        (q.kind.value, q.max_choices, q.max_points, len(q.options)) for q in questions_of(session, poll)
    ] == [
        ("one", None, None, 2),
        ("up_to", 2, None, 3),
        ("rank", None, None, 3),
        ("points", None, 5, 2),
    ]
