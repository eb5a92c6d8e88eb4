"""A student at a school's terminal, in a real Chromium: the code card shown to the
camera, the school contest's ballot, the receipt, and the same card shown again."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from kiosk.eligibility import ALREADY_VOTED_HERE
from qr_codes.codes import normalise

from .conftest import PORTRAIT, screenshot
from .terminal_setup import DEVICE, SCHOOL, card_url, code_id, fixed_code, logged_votes, school_contest_cycle
from .test_browser_accessibility import check_screen

CODE = fixed_code("browser school vote")
CONTEST = 61
POLL_WAIT_MS = 3000


def test_a_student_votes_with_a_code_card_shown_to_the_camera(make_kiosk, serve, new_page):
    kiosk = serve(
        make_kiosk(
            package_options={"cycles": [school_contest_cycle(CONTEST, [CODE])]},
            SCHOOL_ID=SCHOOL["id"],
        )
    )
    page = new_page(PORTRAIT)
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    expect(page.locator("h1")).to_have_text("Покажіть картку з кодом камері")
    expect(page.locator("main")).to_contain_text("Шкільний бюджет 2027 — Ліцей № 3")
    check_screen(page, "school-attract")

    kiosk.scanner.show_code(card_url(CODE))
    expect(page).to_have_url(re.compile(r"/ballot$"), timeout=POLL_WAIT_MS)
    expect(page.locator("h1")).to_have_text("Проєкти школи")
    page.locator("#project-612").click()
    expect(page.locator("#project-612")).to_contain_text("Обрано")
    page.locator("#project-614").click()
    screenshot(page, "school-ballot-portrait")
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("Перевірте свій вибір")
    expect(page.locator("main")).to_contain_text("Книжковий куточок")
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("Записати ваш голос?")
    page.locator("#cast").click()

    expect(page.locator("h1")).to_have_text("Дякуємо! Ваш голос записано.")
    receipt = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", receipt)  # no I, L, O, U
    content = page.content()
    assert CODE not in content and normalise(CODE) not in content and code_id(CODE) not in content
    screenshot(page, "school-receipt-portrait")
    [vote] = logged_votes(kiosk.store)
    assert vote["cycle"] == CONTEST and vote["selections"] == [612, 614]
    assert vote["channel"] == "school_code" and vote["code"] == code_id(CODE) and vote["device"] == DEVICE
    assert [r.receipt_code for r in kiosk.printer.printed] == [receipt]

    page.locator("#done").click()
    expect(page.locator("h1")).to_have_text("Покажіть картку з кодом камері")
    kiosk.scanner.show_code(card_url(CODE))  # the same card again
    expect(page.locator("h1")).to_have_text("Зараз проголосувати не вийде", timeout=POLL_WAIT_MS)
    expect(page.locator("#notice")).to_have_text(ALREADY_VOTED_HERE)
    screenshot(page, "school-refused-voted-here-portrait")
    assert len(logged_votes(kiosk.store)) == 1
