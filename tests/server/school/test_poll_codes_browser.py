"""A student answers the school's poll on a small phone (360×740, touch), in a real
Chromium, with the keyboard and plain form controls only: one option, up to N, a
ranking and points, a mistake shown beside its question, then thanks; in Ukrainian and
in English. Every page fits the screen, has touch targets of 48 px or more and text of
16 px or more, and axe-core finds no WCAG 2.1 A/AA violation on it. Screenshots are kept
under test-artifacts/student/ beside the ballot's.

Under CI (CI=true) a missing Chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import PollAnswer
from server.polls.store import questions_of
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from tests.axe_check import run_axe

from .test_poll_codes import make_poll
from .test_student_browser import ARTIFACTS, PHONE, SMALL_TEXT, chromium, phone, server_url  # noqa: F401

# A radio button or checkbox is tapped through its whole option card; a place list and
# a points field are targets of their own.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'button, a[href], select, input:not([type=hidden])'))
  .map(el => (el.type === 'checkbox' || el.type === 'radio') ? el.closest('label') : el)
  .filter(el => el && el.offsetParent !== null && el.getBoundingClientRect().left >= 0)
  .map(el => [el.id || el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
  .filter(([, box]) => box.width < 48 || box.height < 48)
  .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""


@pytest.fixture
def school_poll(app, session, make):
    contest = make.school_contest()
    poll = make_poll(session, contest.school, title="Що змінити на шкільному подвір'ї цієї весни?")
    codes = [c.code for c in issue_codes(session, contest, "8-А", 2, app_code_keys(app))]
    session.commit()
    return poll, questions_of(session, poll), codes


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


def answer_with_the_keyboard(page, questions, *, ranks: tuple[str, str]) -> None:
    """The first option; the first two; two options ranked; points typed in."""
    one, up_to, rank, points = questions
    page.locator(f"#q-{one.id}-o-{one.options[0][0]}").focus()
    page.keyboard.press("Space")
    for option, _text in up_to.options[:2]:
        page.locator(f"#q-{up_to.id}-o-{option}").focus()
        page.keyboard.press("Space")
    page.locator(f"#q-{rank.id}-o-{rank.options[1][0]}").select_option(ranks[0])
    page.locator(f"#q-{rank.id}-o-{rank.options[0][0]}").select_option(ranks[1])
    page.locator(f"#q-{points.id}-o-{points.options[0][0]}").fill("4")
    page.locator(f"#q-{points.id}-o-{points.options[2][0]}").fill("1")


def test_a_student_answers_the_schools_poll_on_a_small_phone(phone, server_url, school_poll, session):  # noqa: F811
    poll, questions, (code, _spare) = school_poll
    phone.goto(f"{server_url}/s/{code}")
    expect(phone).to_have_url(f"{server_url}/s/ballot")
    phone.goto(f"{server_url}/s/polls")
    expect(phone.locator("h1")).to_have_text("Опитування школи")
    check_page(phone, "polls")
    phone.get_by_role("link", name=poll.title).tap()

    expect(phone).to_have_url(f"{server_url}/s/polls/{poll.id}")
    expect(phone.locator("fieldset.question")).to_have_count(4)
    expect(phone.locator("fieldset.question legend").first).to_contain_text("Питання 1.")
    check_page(phone, "poll")

    answer_with_the_keyboard(phone, questions, ranks=("1", "1"))  # one place twice: a mistake
    phone.locator("#send").focus()
    phone.keyboard.press("Enter")
    rank = questions[2]
    expect(phone.locator(f"#q-{rank.id}-error")).to_have_text("Кожне місце можна дати лише одному варіанту.")
    expect(phone.locator(f"#q-{questions[0].id}-o-{questions[0].options[0][0]}")).to_be_checked()
    check_page(phone, "poll-mistake")

    phone.locator(f"#q-{rank.id}-o-{rank.options[0][0]}").select_option("2")
    phone.locator("#send").tap()
    expect(phone.locator("h1")).to_have_text("Дякуємо! Вашу відповідь зараховано.")
    check_page(phone, "poll-thanks")
    session.expire_all()
    (answer,) = session.scalars(select(PollAnswer)).all()
    assert answer.channel == "school_code" and answer.status == "counted"
    assert answer.body["answers"][str(rank.id)] == [rank.options[1][0], rank.options[0][0]]

    phone.goto(f"{server_url}/s/polls/{poll.id}")
    expect(phone.locator("#refusal")).to_contain_text("Цим кодом уже відповіли на це опитування.")
    check_page(phone, "poll-answered")


def test_the_poll_in_english_fits_the_phone_too(phone, server_url, school_poll):  # noqa: F811
    poll, questions, (_used, code) = school_poll
    phone.goto(f"{server_url}/s/")
    phone.get_by_role("link", name="English").tap()
    phone.get_by_label("Code from your card").fill(code)
    phone.locator("#next").tap()
    expect(phone).to_have_url(f"{server_url}/s/ballot")
    phone.goto(f"{server_url}/s/polls/{poll.id}")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("#send")).to_have_text("Send answers")
    phone.locator("#send").tap()  # nothing answered
    expect(phone.locator("#poll-error")).to_contain_text("Answer at least one question.")
    check_page(phone, "poll-error-english")
    answer_with_the_keyboard(phone, questions, ranks=("1", "2"))
    phone.locator("#send").tap()
    expect(phone.locator("h1")).to_have_text("Thank you! Your answer has been counted.")
    check_page(phone, "poll-thanks-english")
