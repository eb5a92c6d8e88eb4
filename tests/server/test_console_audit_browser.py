# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""A moderator reads the audit log in a real Chromium, on a 1 366 px screen and on a
360 px phone: it fits without sideways scrolling (a long file name and a long project
title wrap), every target on the phone is at least 44×44 CSS px, the stored event opens
from its entry, and axe-core finds no WCAG 2.1 A/AA violation, in Ukrainian and English.

Under CI (CI=true) a missing Chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Category, Role
from server.services import audit
from tests.axe_check import assert_accessible
from tests.factories import PASSWORD
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401

from .test_results_phone_browser import sideways_overflow, small_targets

no_axe_violations = functools.partial(assert_accessible, folder="console-audit")
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}
LONG_FILE = "bundle-" + "T0042" * 30 + ".spilno"


@pytest.fixture
def moderator(make, session):
    community = make.community(name="Бучанська громада")
    user = make.user(
        Role.COMMUNITY_MODERATOR, community, login="olena@example.org", display_name="Олена Петренко"
    )
    cycle = make.ballot_cycle(community)
    category = session.scalars(select(Category).where(Category.cycle_id == cycle.id)).first()
    project = make.project(
        category, cost=800_000, title="Облаштування безбар’єрного скверу з лавками і питним фонтанчиком " * 2
    )
    device = make.device(community, code="T-0042", name="ЦНАП «Центральний»")
    where = {"user": user, "community_id": community.id}
    audit.record(session, "auth.login", target=("user", user.id), **where)
    audit.record(
        session,
        "project.update",
        target=("project", project.id),
        details={"cost": [800_000, 950_000], "district": [None, "Поділ"]},
        **where,
    )
    audit.record(
        session,
        "device.bundle_import",
        target=("device", device.code),
        details={"file": LONG_FILE, "device": device.code, "stored": 120, "already_known": 3, "ok": True},
        **where,
    )
    audit.record(session, "results.publish", target=("cycle", cycle.id), **where)
    session.commit()
    return user


def sign_in(page, server_url: str, login: str) -> None:
    page.goto(f"{server_url}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#login")).to_have_count(0)


@pytest.fixture
def browser_context(chromium):
    contexts = []

    def open_page(viewport: dict, **options):
        context = chromium.new_context(viewport=viewport, locale="uk-UA", **options)
        context.set_default_timeout(10_000)
        context.add_init_script(script=Axe().axe_script)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_the_audit_log_reads_as_sentences_on_a_desk_and_a_phone(browser_context, server_url, moderator):
    page = browser_context(DESK)
    sign_in(page, server_url, moderator.login)
    page.goto(f"{server_url}/console/audit")
    entries = page.locator(".audit-entry")
    expect(entries).to_have_count(5)  # the four above and this sign-in
    expect(page.locator(".audit-entry[data-action='project.update']")).to_contain_text(
        "Зміна проєкту", use_inner_text=True
    )
    expect(page.locator(".audit-entry[data-action='project.update'] .audit-lines")).to_contain_text(
        "8 000 грн → 9 500 грн"
    )
    expect(page.locator("main")).not_to_contain_text("None")
    expect(page.locator("main")).to_contain_text("Хто: Олена Петренко (olena@example.org)")
    assert sideways_overflow(page) <= 0, "the log scrolls sideways at 1 366 px"
    no_axe_violations(page, "uk-desk")

    # The stored event, for an expert, opens from its entry and still fits.
    bundle = page.locator(".audit-entry[data-action='device.bundle_import']")
    raw = bundle.locator("details")
    expect(raw.locator("code", has_text="device.bundle_import")).to_be_hidden()
    raw.locator("summary").click()
    expect(raw.locator("code", has_text="device.bundle_import")).to_be_visible()
    assert sideways_overflow(page) <= 0
    no_axe_violations(page, "uk-desk-raw-open")

    phone = browser_context(PHONE, is_mobile=True, has_touch=True)
    sign_in(phone, server_url, moderator.login)
    phone.goto(f"{server_url}/console/audit")
    phone.locator(".audit-entry[data-action='device.bundle_import'] summary").click()
    assert sideways_overflow(phone) <= 0, "the log scrolls sideways on a phone"
    assert small_targets(phone) == []
    no_axe_violations(phone, "uk-phone")

    phone.get_by_role("link", name="EN").click()
    expect(phone.locator("h1")).to_have_text("Audit log")
    expect(phone.locator(".audit-entry[data-action='results.publish']")).to_contain_text("Results published")
    expect(phone.locator("main")).not_to_contain_text("None")
    assert sideways_overflow(phone) <= 0
    assert small_targets(phone) == []
    no_axe_violations(phone, "en-phone")
