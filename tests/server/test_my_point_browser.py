# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""A support-point operator signs in, in a real Chromium, and lands on «Мій пункт»: every
link of the workspace is reached with the Tab key and followed with Enter, nothing
scrolls sideways on a 1 366 px desk or a 360 px phone, and axe-core finds no WCAG 2.1
A/AA violation (Ukrainian and English); screenshots under test-artifacts/my-point/.

Under CI (CI=true) a missing Chromium fails this test instead of skipping it."""

from __future__ import annotations

import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.axe_check import assert_accessible
from tests.factories import PASSWORD
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401
from tests.server.test_my_point import point_world  # noqa: F401

no_axe_violations = functools.partial(assert_accessible, folder="my-point")
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def desk(chromium):
    context = chromium.new_context(viewport=DESK, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def sideways_overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def tab_to(page, href: str, limit: int = 40) -> None:
    """Press Tab until the link to `href` has the focus (it must, within `limit`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == href:
            return
    raise AssertionError(f"{href} is not reached with the Tab key")


def test_the_operator_works_from_their_point_with_a_keyboard_on_a_desk_and_a_phone(
    desk, server_url, point_world
):
    page, cycle = desk, point_world["cycle"]
    page.goto(f"{server_url}/login")
    page.fill("#login", point_world["operator"].login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Мій пункт")
    assert page.url.endswith("/console/my-point")
    assert sideways_overflow(page) <= 0
    no_axe_violations(page, "uk-1366")

    # Every link of the workspace is on the Tab key's path, in reading order.
    links = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert f"/console/cycles/{cycle.id}/paper-tally" in links and len(links) >= 5
    for href in links:
        tab_to(page, href)
    page.goto(f"{server_url}/console/my-point")
    tab_to(page, f"/console/cycles/{cycle.id}/paper-tally")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Імпорт протоколу підрахунку")
    page.go_back()

    page.set_viewport_size(PHONE)
    expect(page.locator("h1")).to_have_text("Мій пункт")
    assert sideways_overflow(page) <= 0
    no_axe_violations(page, "uk-360")
    page.get_by_role("link", name="EN").click()
    expect(page.locator("h1")).to_have_text("My point")
    assert sideways_overflow(page) <= 0
    no_axe_violations(page, "en-360")
