"""Every kiosk screen, in portrait (1080×1920) and landscape (1920×1080): axe-core finds
no WCAG 2.1 A/AA violation, every control is a touch target of at least 48×48 px, and
a screenshot of each is kept under test-artifacts/kiosk/ for people to look at."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.axe_check import run_axe

from .conftest import LANDSCAPE, PORTRAIT, SERVICE_PIN, screenshot

POLL_WAIT_MS = 3000
# A radio button or checkbox is hit through its label, which is the target measured.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll('button, a[href], input:not([type=hidden])'))
  .map(el => ['radio', 'checkbox'].includes(el.type) ? (el.closest('label') || el) : el)
  .filter(el => el && el.offsetParent !== null)
  .map(el => [el.id || el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
  .filter(([, box]) => box.width < 48 || box.height < 48)
  .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""


def check_screen(page, name: str) -> None:
    """The screen on show, checked as a portrait and as a landscape terminal shows it."""
    page.wait_for_load_state()
    for orientation, viewport in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
        page.set_viewport_size(viewport)
        results = run_axe(page)
        assert results.violations_count == 0, f"{name} ({orientation}):\n{results.generate_report()}"
        assert page.evaluate(SMALL_TARGETS) == [], f"{name} ({orientation}): targets under 48 px"
        screenshot(page, f"{name}-{orientation}")


def test_every_screen_passes_axe_and_has_large_targets(make_kiosk, serve, new_page, clock):
    kiosk = serve(make_kiosk(MONOTONIC=clock))
    kiosk.printer.set_out_of_paper()  # the receipt screen then shows its printer warning too
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    check_screen(page, "attract")

    page.locator("#switch-language").click()
    expect(page.locator("h1")).to_have_text("Vote for public budget projects")
    check_screen(page, "attract-english")
    page.locator("#switch-language").click()

    # A card the reader cannot use: the refusal screen.
    kiosk.reader.insert_card("0A0B")
    expect(page.locator("h1")).to_have_text("Зараз проголосувати не вийде", timeout=POLL_WAIT_MS)
    check_screen(page, "refused")
    kiosk.reader.remove_card()
    page.locator("#done").click()

    kiosk.reader.insert_card("04A1B2C3D4E5F6")
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    clock.advance(46)  # a voter who stopped: the warning comes up over the ballot
    expect(page.locator("#idle-warning")).to_be_visible(timeout=POLL_WAIT_MS)
    check_screen(page, "idle-warning")
    page.locator("#idle-continue").click()
    expect(page.locator("#idle-warning")).to_be_hidden()
    page.locator("#project-101").click()
    page.locator("#project-102").click()  # now full: the other cards are shown blocked
    expect(page.locator("#project-103")).to_be_disabled()
    # This terminal never synced: the ballot and the receipt say the server checks later.
    expect(page.locator("#data-stale-before")).to_be_visible()
    check_screen(page, "ballot-category-full")
    page.locator("#toggle-contrast").click()
    check_screen(page, "ballot-high-contrast")
    page.locator("#toggle-contrast").click()
    page.locator("#toggle-large").click()
    check_screen(page, "ballot-large-text")
    page.locator("#toggle-large").click()
    page.locator("#project-102").click()  # unchoose: 104 now costs more than what is left
    expect(page.locator("#project-104")).to_be_disabled()
    check_screen(page, "ballot-over-budget")
    page.locator("#next").click()
    page.locator("#next").click()
    check_screen(page, "review")
    page.locator("#next").click()
    check_screen(page, "confirm")
    page.locator("#cast").click()
    expect(page.locator("#print-status")).to_have_text("Квитанцію не надруковано, голос записано")
    expect(page.locator("#data-stale")).to_contain_text("Термінал ще не зв’язувався з сервером.")
    check_screen(page, "receipt-printer-failed")
    kiosk.reader.remove_card()
    page.locator("#done").click()

    page.locator("#start-staff").click()
    check_screen(page, "staff-pin")
    page.locator("#pin").fill(SERVICE_PIN)
    page.locator("#pin-submit").click()
    page.locator("#number").fill("1234567890")
    page.locator("#document-submit").click()
    expect(page.locator("#notice")).to_be_visible()
    check_screen(page, "staff-document-error")
    page.locator("#cancel").click()

    page.locator("#start-service").click()
    page.locator("#pin").fill("0000")
    page.locator("#pin-submit").click()
    expect(page.locator("#notice")).to_have_text("Невірний PIN.")
    check_screen(page, "service-pin-wrong")
    page.locator("#pin").fill(SERVICE_PIN)
    page.locator("#pin-submit").click()
    check_screen(page, "maintenance")
    page.locator("#close-voting").click()
    page.locator("#leave-service").click()
    expect(page.locator("h1")).to_have_text("Голосування на цьому терміналі закрито")
    check_screen(page, "attract-closed")


def test_the_axe_check_itself_catches_a_violation(browser):
    page = browser.new_page()
    try:
        page.add_init_script(script=Axe().axe_script)
        page.goto("data:text/html,<html><title>t</title><body><main><button></button></main></body></html>")
        assert run_axe(page).violations_count > 0  # a button with no name
    finally:
        page.close()
