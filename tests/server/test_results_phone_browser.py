# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""A resident reads published results on a phone, in a real Chromium: nothing scrolls
sideways at 360 and 390 px (the winning bar's number stays on screen, a long project
title wraps), every chart and table is either no scroll region at all or one the
keyboard reaches, and every link, button and summary is at least 44×44 CSS px. The
same page on a 1 366 px screen, the front page and the receipt check too; Ukrainian,
then English; axe-core finds no WCAG 2.1 A/AA violation.

Under CI (CI=true) a missing Chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Project, utcnow
from tests.axe_check import assert_accessible, run_axe
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401
from voting import Channel

from .test_results import store

no_axe_violations = functools.partial(assert_accessible, folder="results-phone")
PHONE = {"width": 360, "height": 740}
LONG_TITLE = (
    "Облаштування безбар’єрного скверу з лавками, питним фонтанчиком і тінистими деревами "
    "біля Центрального ринку на вулиці Великої Васильківської"
)
# Every element a finger or a keyboard can act on.
TARGETS = "a[href], button, summary, input, select, textarea, [tabindex]"


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


@pytest.fixture
def published(make, session):
    """A published cycle: a long-titled winner, an Equal Shares category (its rounds and
    its rule explained), votes from a terminal and online over two days."""
    community = make.community(slug="phone-hromada")
    cycle = make.ballot_cycle(community)
    projects = {p.title: p for p in session.scalars(select(Project).where(Project.cycle_id == cycle.id))}
    projects["Сквер 1"].title = LONG_TITLE
    shares = make.category(cycle, name="Зелені", budget=1_000_00, max_choices=3, position=3)
    shares.funding_method = "equal_shares"
    a, b, c = (make.project(shares, cost=cost) for cost in (600_00, 300_00, 500_00))
    make.device(community, code="T-0100", name="ЦНАП «Центральний»")
    session.commit()
    winner, stadium = projects["Сквер 1"], projects["Стадіон 2"]
    store(
        session,
        cycle,
        [
            (voter, [winner, stadium, a if voter % 2 else b, c], 50 * voter, Channel.KIOSK, "T-0100")
            if voter % 3
            else (voter, [winner, c], 50 * voter, Channel.WEB, None)
            for voter in range(1, 40)
        ],
    )
    cycle.results_published_at = utcnow()
    session.commit()
    return cycle


def sideways_overflow(page) -> int:
    """How many CSS px the page scrolls sideways (0: none), once its styles are in: a
    click returns when the next page is committed, before its stylesheets load."""
    page.wait_for_load_state("load")
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def small_targets(page) -> list[str]:
    """Visible targets smaller than 44×44 CSS px, named for the failure message."""
    page.wait_for_load_state("load")
    return page.evaluate(
        """selector => [...document.querySelectorAll(selector)]
            .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
            .map(e => [e, e.getBoundingClientRect()])
            .filter(([e, box]) => box.right > 0 && box.left < window.innerWidth)
            .filter(([e, box]) => box.width < 44 || box.height < 44)
            .map(([e, box]) => `${e.tagName} «${(e.textContent || e.name || '').trim().slice(0, 30)}» `
                + `${Math.round(box.width)}×${Math.round(box.height)}`)""",
        TARGETS,
    )


def scroll_regions_out_of_reach(page) -> list:
    """axe-core's `scrollable-region-focusable`: a region that scrolls but no key reaches."""
    options = {"runOnly": {"type": "rule", "values": ["scrollable-region-focusable"]}}
    return [n["target"] for v in run_axe(page, options).response["violations"] for n in v["nodes"]]


def check_phone_screen(page, name: str) -> None:
    assert sideways_overflow(page) <= 0, f"{name}: the page scrolls sideways"
    assert small_targets(page) == [], name
    assert scroll_regions_out_of_reach(page) == [], name
    no_axe_violations(page, name)


def test_published_results_fit_a_phone_and_a_desk_in_both_languages(phone, server_url, published):
    page = phone
    page.goto(f"{server_url}/")
    check_phone_screen(page, "uk-home")
    page.locator(f"a[href='/results/phone-hromada/{published.slug}']").click()
    expect(page.locator("h1")).to_have_text(published.title)
    check_phone_screen(page, "uk-results-360")

    # The winning bar's number is on screen, and the long title wraps inside the page.
    winner = page.locator("svg.bar-chart g.bar").first.locator("text").last
    box = winner.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]
    title = page.locator("td", has_text=LONG_TITLE).first
    title_box = title.bounding_box()
    assert title_box["height"] > 2 * 20 and title_box["x"] + title_box["width"] <= PHONE["width"]
    expect(page.locator(".funding-rule").first).to_be_visible()

    # On a phone the ranking is cards, no scroll region; the tables that still scroll
    # sideways inside their region are reached and moved with the keyboard.
    ranking = page.locator(".results-table.ranking").first.locator("xpath=..")
    assert not ranking.evaluate("e => e.scrollWidth > e.clientWidth")
    wide = page.locator(".table-scroll").filter(has=page.locator("table")).all()
    wide = [r for r in wide if r.evaluate("e => e.scrollWidth > e.clientWidth")]
    assert wide, "the rounds or channel tables should be wider than a phone"
    wide[0].focus()
    expect(wide[0]).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("e => e.scrollLeft > 0", arg=wide[0].element_handle())

    page.set_viewport_size({"width": 390, "height": 844})
    assert sideways_overflow(page) <= 0

    page.get_by_role("link", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check_phone_screen(page, "en-results-390")

    page.set_viewport_size({"width": 1366, "height": 900})
    assert sideways_overflow(page) <= 0
    # On a desk every table shows whole, none scrolls inside its region.
    scrolling = "[...document.querySelectorAll('.table-scroll')].filter(e => e.scrollWidth > e.clientWidth)"
    assert page.evaluate(f"{scrolling}.length") == 0
    no_axe_violations(page, "en-results-1366")

    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="Check your vote").click()
    check_phone_screen(page, "en-check")
