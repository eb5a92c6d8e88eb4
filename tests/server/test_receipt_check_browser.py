# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""«Перевірити свій голос» on a phone, in a real Chromium: a resident finds the page from
the public front page, types the receipt code as it comes (small letters, no dash), and
reads the answer; a typo gets a message tied to the field. Ukrainian, then English;
axe-core finds no WCAG 2.1 A/AA violation on any of these screens.
"""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from qr_codes.receipt_codes import receipt_code
from server.models import Project
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from tests.axe_check import assert_accessible
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401
from voting import VoteRecord

no_axe_violations = functools.partial(assert_accessible, folder="receipt-check")
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def test_a_resident_checks_a_receipt_on_a_phone_in_ukrainian_and_english(phone, server_url, session, make):
    cycle = make.ballot_cycle()
    project = session.scalars(select(Project).where(Project.cycle_id == cycle.id)).first()
    record = VoteRecord.create(
        cycle_id=cycle.id,
        selections=[project.id],
        channel="kiosk",
        cast_at=cycle.voting_starts_at + timedelta(hours=1),
        voter_key="d" * 64,
        device_id="T-0001",
    )
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, [record], "T-0001")
    session.commit()

    page = phone
    page.goto(f"{server_url}/")
    page.get_by_role("link", name="Перевірити свій голос").click()
    expect(page.locator("h1")).to_have_text("Перевірити свій голос")
    no_axe_violations(page, "uk-form")

    page.fill("#code", "7KQM-2XP")  # a symbol short
    page.press("#code", "Enter")
    expect(page.locator("#code-error")).to_contain_text("8 символів, а введено 7")
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    no_axe_violations(page, "uk-typo")

    page.fill("#code", receipt_code(record.vote_id).replace("-", "").lower())
    page.get_by_role("button", name="Перевірити").click()
    expect(page.locator("[data-state=counted]")).to_contain_text("Голос дійшов до сервера й зарахований.")
    expect(page.locator("#answer")).not_to_contain_text(project.title)
    no_axe_violations(page, "uk-counted")

    page.get_by_role("link", name="EN").click()
    expect(page.locator("h1")).to_have_text("Check your vote")
    page.fill("#code", receipt_code(str(uuid.uuid4())))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("[data-state=unknown]")).to_contain_text("has not received a vote with this code yet")
    no_axe_violations(page, "en-unknown")
    # Nothing scrolls sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_terminals_poll_receipt_is_checked_on_a_phone_in_both_languages(phone, server_url, session, make):
    from server.models import utcnow
    from server.polls.answers import store_answers
    from server.polls.store import poll_rule
    from voting.polls import PollAnswerRecord

    from .test_sync_poll_answers import a_poll, good_answers

    poll = a_poll(session, make.community())
    rule = poll_rule(session, poll)
    record = PollAnswerRecord.create(
        poll=rule,
        answers=good_answers(session, poll),
        channel="kiosk",
        cast_at=utcnow() - timedelta(minutes=5),
        voter_key="e" * 64,
        device_id="T-0001",
    )
    store_answers(session, poll, rule, [record], source="T-0001")
    session.commit()

    page = phone
    page.goto(f"{server_url}/check")
    page.fill("#code", receipt_code(record.answer_id))
    page.get_by_role("button", name="Перевірити").click()
    answer = page.locator("[data-state=counted]")
    expect(answer).to_contain_text("Відповіді на опитування дійшли до сервера й зараховані.")
    expect(answer).to_contain_text(f"Опитування «{poll.title}»")
    expect(page.locator("#answer")).not_to_contain_text("Голос дійшов")
    no_axe_violations(page, "uk-poll-counted")

    page.get_by_role("link", name="EN").click()
    page.fill("#code", receipt_code(record.answer_id))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("[data-state=counted]")).to_contain_text("Your poll answers reached the server")
    no_axe_violations(page, "en-poll-counted")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
