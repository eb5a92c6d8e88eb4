"""A student on a small phone (360×740, touch), in a real Chromium: the card's link, the
ballot, the check, the vote and the thanks; the link again says the card is used. Every
page fits the screen without sideways scrolling, has touch targets of 48 px or more and
text of 16 px or more, and axe-core finds no WCAG 2.1 A/AA violation on it. Screenshots
are kept under test-artifacts/student/ for people to look at.

Under CI (CI=true) a missing Chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from server.models import Project, Vote
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from tests.axe_check import run_axe

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "student"
PHONE = {"width": 360, "height": 740}
# A checkbox is tapped through its whole project card, so the card is its target.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll('button, a[href], input:not([type=hidden])'))
  .map(el => el.type === 'checkbox' ? el.closest('label') : el)
  .filter(el => el && el.offsetParent !== null && el.getBoundingClientRect().left >= 0)
  .map(el => [el.id || el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
  .filter(([, box]) => box.width < 48 || box.height < 48)
  .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""
SMALL_TEXT = """() => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.offsetParent !== null && el.getBoundingClientRect().left >= 0)
  .filter(el => Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(el => [el.tagName + (el.id ? '#' + el.id : ''), parseFloat(getComputedStyle(el).fontSize)])
  .filter(([, size]) => size < 16)
  .map(([name, size]) => `${name}: ${size}px`)"""


@pytest.fixture
def chromium(browser):
    return browser  # the run's one Chromium (tests/conftest.py)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object) -> None:
        pass


@pytest.fixture
def server_url(app) -> Iterator[str]:
    """The server app on a free 127.0.0.1 port, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def phone(chromium) -> Iterator:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="uk-UA")
    context.set_default_timeout(5000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


@pytest.fixture
def cards(app, session, make):
    contest = make.school_contest()
    # A long title and description: a real school's project must still fit a phone.
    first = session.scalar(
        select(Project).where(Project.cycle_id == contest.cycle.id).order_by(Project.number)
    )
    first.title = "Велосипедна парковка біля спортивного майданчика з навісом від дощу"
    first.description = (
        "Поставимо навіс і стійки на 20 велосипедів, щоб учні могли безпечно залишати велосипеди "
        "на весь день.\nАвтор: 7-Б клас."
    )
    session.commit()
    issued = issue_codes(session, contest, "7-Б", 2, app_code_keys(app))
    session.commit()
    return contest, [c.code for c in issued]


def check_page(page, name: str) -> None:
    """The page fits a 360 px phone, is easy to tap and read, and passes axe-core."""
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        f"{name}: scrolls sideways"
    )
    assert page.evaluate(SMALL_TARGETS) == [], f"{name}: touch targets under 48 px"
    assert page.evaluate(SMALL_TEXT) == [], f"{name}: text under 16 px"
    results = run_axe(page)
    assert results.violations_count == 0, f"{name}:\n{results.generate_report()}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_student_votes_from_the_cards_link_on_a_small_phone(phone, server_url, cards, session):
    contest, (code, _spare) = cards
    phone.goto(f"{server_url}/s/{code}")
    expect(phone).to_have_url(f"{server_url}/s/ballot")  # the code left the address bar
    expect(phone.locator("h1")).to_have_text(contest.programme.title)
    expect(phone.locator("legend")).to_have_text("Оберіть від 1 до 2 проєктів")
    check_page(phone, "ballot")

    cards_on_page = phone.locator("label.card")
    cards_on_page.nth(0).tap()
    cards_on_page.nth(2).tap()
    expect(phone.locator("#counter")).to_have_text("Обрано: 2 з 2")
    check_page(phone, "ballot-chosen")
    phone.locator("#next").tap()

    expect(phone).to_have_url(f"{server_url}/s/review")
    expect(phone.locator("h1")).to_have_text("Перевірте свій вибір")
    expect(phone.locator("#chosen li")).to_have_count(2)
    expect(phone.locator("#chosen")).to_contain_text("Велосипедна парковка")
    check_page(phone, "review")
    phone.locator("#cast").tap()

    expect(phone.locator("h1")).to_have_text("Дякуємо! Ваш голос зараховано.")
    check_page(phone, "thanks")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Vote)) == 1

    phone.goto(f"{server_url}/s/{code}")
    expect(phone.locator("h1")).to_have_text("Код уже використано")
    expect(phone.locator("#refusal")).to_have_text("Цим кодом уже проголосували. Кожен код дає один голос.")
    check_page(phone, "refused-spent")


def test_a_student_types_the_code_and_fixes_a_typo(phone, server_url, cards):
    _contest, (_used, code) = cards
    phone.goto(f"{server_url}/s/")
    expect(phone.locator("html")).to_have_attribute("lang", "uk")
    check_page(phone, "code-form")

    typo = ("3" if code[0] != "3" else "4") + code[1:]
    phone.get_by_label("Код з картки").fill(typo.lower())
    phone.locator("#next").tap()
    expect(phone.locator("#code-error")).to_contain_text("У коді помилка")
    expect(phone.locator("#code")).to_have_attribute("aria-invalid", "true")
    check_page(phone, "code-form-typo")

    phone.get_by_label("Код з картки").fill(code.lower().replace("-", " "))
    phone.locator("#next").tap()
    expect(phone).to_have_url(f"{server_url}/s/ballot")
    expect(phone.locator("label.card")).to_have_count(4)


def test_the_pages_in_english_fit_the_phone_too(phone, server_url, cards):
    _contest, (code, _spare) = cards
    phone.goto(f"{server_url}/s/")
    phone.get_by_role("link", name="English").tap()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("h1")).to_have_text("Vote for your school's projects")
    check_page(phone, "code-form-english")
    phone.get_by_label("Code from your card").fill(code)
    phone.locator("#next").tap()
    phone.locator("#next").tap()  # nothing chosen
    expect(phone.locator("#ballot-error")).to_contain_text("You have not chosen any project.")
    check_page(phone, "ballot-error-english")


def test_the_page_check_itself_catches_a_page_too_wide_for_a_phone(phone):
    phone.set_content("<html lang='uk'><title>t</title><main><p style='width:900px'>широко</p></main></html>")
    assert phone.evaluate("document.documentElement.scrollWidth") > PHONE["width"]
    with pytest.raises(AssertionError):
        check_page(phone, "too-wide-check")
