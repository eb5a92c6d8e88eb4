"""A resident with a passport booklet votes with staff help at a touch-only terminal: the
document keypad has the series letters as well as the digits, large enough for a finger
and usable from a keyboard, in a real Chromium."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from voting import IdentityKind, VoterKey

from .conftest import SERVICE_PIN
from .terminal_setup import VOTER_KEY_SECRET, logged_votes
from .test_browser_accessibility import check_screen

PASSPORT = "КВ123456"
UKRAINIAN_CAPITALS = "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ"


def open_document_screen(kiosk, new_page):
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    page.locator("#start-staff").click()
    page.locator("#pin").fill(SERVICE_PIN)
    page.locator("#pin-submit").click()
    expect(page.locator("h1")).to_have_text("Документ виборця")
    return page


def test_staff_type_a_passport_series_and_number_on_the_screen_alone(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = open_document_screen(kiosk, new_page)
    letters = page.get_by_role("group", name="Літери серії паспорта")
    assert letters.locator("[data-key]").all_inner_texts() == list(UKRAINIAN_CAPITALS)
    check_screen(page, "staff-document-passport-keys")  # axe, and every key at least 48 px

    page.get_by_label("Паспорт-книжечка").check()
    for key in PASSPORT:
        page.locator(f'.keypad [data-key="{key}"]').click()
    expect(page.locator("#number")).to_have_value(PASSPORT)
    page.locator("#document-submit").click()
    expect(page.locator("h1")).to_have_text("Малі проєкти")
    assert PASSPORT not in page.content()
    page.locator("#project-102").click()
    for _ in range(3):
        page.locator("#next").click()
    page.locator("#cast").click()
    expect(page.locator("#receipt-code")).to_be_visible()

    [vote] = logged_votes(kiosk.store)
    assert vote["channel"] == "staff_assisted"
    expected = VoterKey.derive(bytes.fromhex(VOTER_KEY_SECRET), IdentityKind.PASSPORT, PASSPORT)
    assert vote["voter_key"] == expected.hex


def test_the_letter_keys_work_from_a_keyboard(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = open_document_screen(kiosk, new_page)
    page.locator("#number").focus()
    pressed = []
    for key, press in (("К", "Enter"), ("В", "Space")):
        for _ in range(60):  # Tab forward until the key has focus
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.key") == key:
                break
        else:
            raise AssertionError(f"Tab never reached the key {key}")
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        page.keyboard.press(press)
        pressed.append(key)
        expect(page.locator("#number")).to_have_value("".join(pressed))


def test_the_letter_keys_are_named_in_english_too(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = open_document_screen(kiosk, new_page)
    page.locator("#switch-language").click()
    expect(page.get_by_role("group", name="Passport series letters")).to_be_visible()
    expect(page.locator("#letters-hint")).to_contain_text("the two series letters, then six digits")
