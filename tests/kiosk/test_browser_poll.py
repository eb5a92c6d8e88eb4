"""A resident answers a poll at the terminal, in a real Chromium: the card on the reader,
the choice between the budget vote and the poll, one question of each kind (one, up to
N, a ranking, points), the review, the confirmation and the receipt; in Ukrainian and in
English. Every poll screen passes axe (WCAG 2.1 A/AA) with 48 px targets."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .terminal_setup import DEVICE, logged_answers, option_id, packaged_poll, question_id
from .test_browser_accessibility import check_screen

CARD, OTHER_CARD = "04A1B2C3D4E5F6", "04B7C8D9E0F1A2"
POLL = 61
POLL_WAIT_MS = 3000  # the page follows the terminal by long poll; generous for a slow CI machine


def opt(question: int, option: int) -> str:
    return f"#option-{option_id(POLL, question, option)}"


def poll_kiosk(make_kiosk, serve):
    kiosk = serve(make_kiosk(package_options={"polls": [packaged_poll(POLL)]}))
    return kiosk


def answer_the_four_questions(page, *, check=None) -> None:
    """From the first question: one answer to each kind, checking each screen if asked."""
    check = check or (lambda name: None)
    page.locator(opt(1, 2)).click()  # one: the second option
    expect(page.locator(opt(1, 2))).to_have_attribute("aria-pressed", "true")
    page.locator(opt(1, 1)).click()  # another: it replaces the first, as a radio button
    expect(page.locator(opt(1, 1))).to_have_attribute("aria-pressed", "true")
    expect(page.locator(opt(1, 1))).to_be_focused()  # back on the button just tapped
    expect(page.locator(opt(1, 2))).to_have_attribute("aria-pressed", "false")
    check("poll-one")
    page.locator("#next").click()

    page.locator(opt(2, 1)).click()  # up to 2
    page.locator(opt(2, 3)).click()
    expect(page.locator("#chosen-count")).to_have_text("2")
    expect(page.locator(opt(2, 2))).to_be_disabled()  # the third waits for one to be unchosen
    check("poll-up-to-full")
    page.locator("#next").click()

    page.locator(opt(3, 4)).click()  # rank: tapped in order of preference
    page.locator(opt(3, 2)).click()
    page.locator(opt(3, 1)).click()
    expect(page.locator(f"{opt(3, 4)} .place")).to_have_text("1")
    expect(page.locator(f"{opt(3, 1)} .place")).to_have_text("3")
    page.locator("#undo").click()  # the last place goes
    expect(page.locator(f"{opt(3, 1)} .place")).to_have_text("")
    page.locator(opt(3, 3)).click()
    expect(page.locator(f"{opt(3, 3)} .place")).to_have_text("3")
    check("poll-rank")
    page.locator("#next").click()

    points = option_id(POLL, 4, 2)
    expect(page.locator(f"#less-{points}")).to_be_disabled()
    for _ in range(5):
        page.locator(f"#more-{points}").click()
    expect(page.locator(f"#points-{points}")).to_have_text("5")
    expect(page.locator(f"#more-{points}")).to_be_disabled()  # 5 is the most
    expect(page.locator(f"#less-{points}")).to_be_focused()  # focus stays on the row
    page.locator(f"#less-{points}").click()
    expect(page.locator(f"#points-{points}")).to_have_text("4")
    check("poll-points")
    page.locator("#next").click()


def test_a_resident_answers_a_poll_of_every_kind_and_gets_a_receipt(make_kiosk, serve, new_page):
    kiosk = poll_kiosk(make_kiosk, serve)
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    expect(page.locator("#polls-invite")).to_be_visible()

    kiosk.reader.insert_card(CARD)
    expect(page).to_have_url(re.compile(r"/choose$"), timeout=POLL_WAIT_MS)
    expect(page.locator("h1")).to_have_text("Оберіть, у чому взяти участь")
    expect(page.locator(f"#title-poll-{POLL}")).to_have_text("Який вигляд має мати парк біля входу?")
    check_screen(page, "poll-choose")
    page.locator(f"#take-poll-{POLL}").click()

    expect(page.locator(".progress")).to_have_text("Питання 1 з 4")
    answer_the_four_questions(page, check=lambda name: check_screen(page, name))

    expect(page.locator("h1")).to_have_text("Перевірте свої відповіді")
    expect(page.locator("#answer-2")).to_contain_text("1. Велостоянка")
    expect(page.locator("#answer-3")).to_contain_text("4 бали")
    check_screen(page, "poll-review")
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("Записати ваші відповіді?")
    check_screen(page, "poll-confirm")
    page.locator("#cast").click()

    expect(page.locator("h1")).to_have_text("Дякуємо! Ваші відповіді записано.")
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    [answer] = logged_answers(kiosk.store)
    assert answer["channel"] == "kiosk" and answer["device"] == DEVICE
    assert answer["answers"][str(question_id(POLL, 3))] == [
        option_id(POLL, 3, 4),
        option_id(POLL, 3, 2),
        option_id(POLL, 3, 3),
    ]
    assert [r.receipt_code for r in kiosk.printer.printed] == [code]
    assert kiosk.printer.printed[0].cycle_title == "Який вигляд має мати парк біля входу?"
    check_screen(page, "poll-receipt")

    # The budget vote is still open to this resident: back to the list, the poll done.
    page.locator("#continue").click()
    expect(page.locator(f"#why-poll-{POLL}")).to_have_text("Ви вже відповіли тут")
    expect(page.locator("#take-vote-31")).to_be_visible()
    # The ballot opened from the list leads back to it from its first page.
    page.locator("#take-vote-31").click()
    expect(page.locator("#to-choices")).to_be_visible()
    check_screen(page, "ballot-from-choices")
    page.locator("#to-choices").click()
    expect(page).to_have_url(re.compile(r"/choose$"), timeout=POLL_WAIT_MS)
    kiosk.reader.remove_card()
    expect(page).to_have_url(kiosk.url("/"), timeout=POLL_WAIT_MS)


def test_a_resident_answers_the_poll_in_english(make_kiosk, serve, new_page):
    kiosk = poll_kiosk(make_kiosk, serve)
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    page.locator("#switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    kiosk.reader.insert_card(OTHER_CARD)
    expect(page.locator("h1")).to_have_text("Choose what to take part in", timeout=POLL_WAIT_MS)
    page.locator(f"#take-poll-{POLL}").click()
    expect(page.locator(".progress")).to_have_text("Question 1 of 4")
    expect(page.locator("#question-rule")).to_contain_text("Choose one option.")
    check_screen(page, "poll-one-english")
    page.locator("#toggle-contrast").click()
    check_screen(page, "poll-one-high-contrast")
    page.locator("#toggle-contrast").click()
    answer_the_four_questions(page)

    expect(page.locator("h1")).to_have_text("Check your answers")
    expect(page.locator("#answer-3")).to_contain_text("4 points")
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("Record your answers?")
    page.locator("#cast").click()
    expect(page.locator("h1")).to_have_text("Thank you! Your answers have been recorded.")
    expect(page.locator("#print-status")).to_contain_text("printer")
    check_screen(page, "poll-receipt-english")
    assert len(logged_answers(kiosk.store)) == 1

    page.locator("#done").click()  # done for today, though the vote is still open
    expect(page).to_have_url(kiosk.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "uk")  # the next resident: Ukrainian
