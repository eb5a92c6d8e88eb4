"""Staff at the terminal, in a real Chromium: a resident without a card votes with an
operator's help; a technician checks the terminal and closes voting on it; and the
whole visit works from a keyboard alone."""

from __future__ import annotations

import re
import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.axe_check import run_axe
from voting import IdentityKind, VoterKey

from .conftest import SERVICE_PIN
from .terminal_setup import VOTER_KEY_SECRET, logged_votes

POLL_WAIT_MS = 3000
GOOD_RNOKPP = "3012409878"  # its check digit (8) is right
BAD_RNOKPP = "3012409871"


def wait_for_polls(page, kiosk, count: int = 2) -> None:
    """Until the terminal has looked at the reader `count` more times for the page's
    waiting /state poll: had that changed the visit, the poll would have answered and
    the page followed it at once."""
    terminal = kiosk.app.extensions["spilno.kiosk"]
    for _ in range(count):
        since, deadline = time.monotonic(), time.monotonic() + 5
        while terminal.observed_at <= since:
            assert time.monotonic() < deadline, "the terminal stopped looking at the reader"
            time.sleep(0.01)
    page.wait_for_timeout(100)  # time to follow an answer, had there been one


def unlock(page, pin: str) -> None:
    page.locator("#pin").fill(pin)
    page.locator("#pin-submit").click()


def test_staff_assisted_vote_with_a_typed_rnokpp(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    page.locator("#start-staff").click()
    expect(page.locator("h1")).to_have_text("Голосування з допомогою працівника")
    unlock(page, SERVICE_PIN)
    expect(page.locator("h1")).to_have_text("Документ виборця")

    page.locator("#number").fill(BAD_RNOKPP)
    page.locator("#document-submit").click()
    expect(page.locator("#notice")).to_have_text("У РНОКПП помилка: контрольна цифра не збігається.")
    expect(page.locator("#number")).to_have_value("")  # the typed number is not shown back
    assert BAD_RNOKPP not in page.content()

    # On-screen digits type the number.
    for digit in GOOD_RNOKPP:
        page.locator(f'.keypad [data-key="{digit}"]').click()
    expect(page.locator("#number")).to_have_value(GOOD_RNOKPP)
    page.locator("#document-submit").click()
    expect(page.locator("h1")).to_have_text("Малі проєкти")
    assert GOOD_RNOKPP not in page.content()
    page.locator("#project-102").click()
    page.locator("#next").click()
    page.locator("#next").click()
    page.locator("#next").click()
    page.locator("#cast").click()
    expect(page.locator("#receipt-code")).to_be_visible()

    [vote] = logged_votes(kiosk.store)
    assert vote["channel"] == "staff_assisted"
    secret = bytes.fromhex(VOTER_KEY_SECRET)
    assert vote["voter_key"] == VoterKey.derive(secret, IdentityKind.RNOKPP, GOOD_RNOKPP).hex
    assert GOOD_RNOKPP not in kiosk.store_path.read_bytes().decode("latin-1")


def test_the_document_error_is_in_the_voters_language(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    page.locator("#switch-language").click()
    page.locator("#start-staff").click()
    unlock(page, SERVICE_PIN)
    page.locator("#number").fill(BAD_RNOKPP)
    page.locator("#document-submit").click()
    expect(page.locator("#notice")).to_have_text(
        "The taxpayer number (RNOKPP) has a typo: its check digit does not match."
    )


def test_maintenance_behind_the_pin_shows_the_terminal_and_closes_voting(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    page.locator("#start-service").click()
    unlock(page, "1111")
    expect(page.locator("#notice")).to_have_text("Невірний PIN.")
    unlock(page, SERVICE_PIN)

    expect(page.locator("h1")).to_have_text("Обслуговування термінала T-0042")
    expect(page.locator("#backlog")).to_have_text("0")
    expect(page.locator("#package-version")).to_have_text("1")
    expect(page.locator("#last-sync")).to_have_text("ще не було")
    expect(page.locator("#voting-state")).to_have_text("Голосування відкрите: Громадський бюджет 2027")
    expect(page.locator("main")).to_contain_text("готовий, картки немає")

    page.locator("#close-voting").click()
    expect(page.locator("#voting-state")).to_have_text("Голосування на цьому терміналі закрито")
    page.locator("#leave-service").click()
    expect(page.locator("h1")).to_have_text("Голосування на цьому терміналі закрито")
    kiosk.reader.insert_card("04A1B2C3D4E5F6")
    wait_for_polls(page, kiosk)  # a closed terminal takes no card
    expect(page).to_have_url(kiosk.url("/"))
    assert str(kiosk.flow.step) == "attract"

    page.locator("#start-service").click()
    unlock(page, SERVICE_PIN)
    page.locator("#open-voting").click()
    page.locator("#leave-service").click()
    # The card lay there while voting was closed: it counts only once lifted and put back.
    wait_for_polls(page, kiosk)
    expect(page).to_have_url(kiosk.url("/"))
    kiosk.reader.remove_card()
    wait_for_polls(page, kiosk)
    kiosk.reader.insert_card("04A1B2C3D4E5F6")
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)


def test_a_whole_vote_works_from_the_keyboard_alone(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    kiosk.reader.insert_card("04A1B2C3D4E5F6")
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)

    def tab_to(element_id: str) -> None:
        page.wait_for_load_state()
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                # The focused control is visibly marked.
                assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("project-103")
    page.keyboard.press("Space")
    expect(page.locator("#project-103")).to_contain_text("Обрано")
    expect(page.locator("#project-103")).to_be_focused()  # focus comes back to the card
    tab_to("next")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Великі проєкти")
    tab_to("next")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Перевірте свій вибір")
    tab_to("next")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Записати ваш голос?")
    tab_to("cast")
    page.keyboard.press("Enter")
    expect(page.locator("#receipt-code")).to_have_text(
        re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
    )
    assert logged_votes(kiosk.store)[0]["selections"] == [103]


def test_staff_confirm_the_age_of_a_resident_with_a_passport(make_kiosk, serve, new_page):
    from axe_playwright_python.sync_playwright import Axe

    from .test_browser_accessibility import check_screen

    kiosk = serve(make_kiosk(package_options={"min_age": 16}))
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    page.locator("#start-staff").click()
    unlock(page, SERVICE_PIN)
    expect(page.locator("label.age-check")).to_contain_text("виповнилося 16 років")
    page.locator('input[name="kind"][value="passport"]').check()
    page.locator("#number").fill("АВ123456")
    page.locator("#document-submit").click()
    expect(page.locator("#notice")).to_contain_text("голосувати можна з 16 років")
    check_screen(page, "staff-document-age")
    page.locator('input[name="kind"][value="passport"]').check()
    page.locator("#number").fill("АВ123456")
    page.locator("#age-confirmed").check()
    page.locator("#document-submit").click()
    expect(page.locator("h1")).to_have_text("Малі проєкти")
    assert logged_votes(kiosk.store) == []  # nothing yet: the vote is cast at confirmation


def test_device_alarms_show_on_the_maintenance_screen_until_seen(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    kiosk.store.raise_alarm(
        "answer.forged", "HTTP 200: the signature does not match the answer", 1_800_000_000_000
    )
    kiosk.store.raise_alarm(
        "answer.forged", "HTTP 200: the signature does not match the answer", 1_800_000_060_000
    )
    kiosk.store.raise_alarm("answer.other_key", "signed by AAAA…, not by BBBB…", 1_800_000_000_000)
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    page.locator("#start-service").click()
    unlock(page, SERVICE_PIN)

    rows = page.locator("#alarms tr.alarm")
    expect(rows).to_have_count(2)
    forged = page.locator('#alarms tr[data-kind="answer.forged"]')
    expect(forged).to_contain_text("змінена дорогою")
    expect(forged.locator("td").first).to_have_text("2")
    expect(page.locator('#alarms tr[data-kind="answer.other_key"]')).to_contain_text("один ключ підпису")
    assert run_axe(page).violations_count == 0

    page.locator("#acknowledge-alarms").click()
    expect(page.locator("h1")).to_have_text("Обслуговування термінала T-0042")
    expect(page.locator("#alarms")).to_have_count(0)
    assert kiosk.store.alarms() == [] and len(kiosk.store.alarms(open_only=False)) == 2
