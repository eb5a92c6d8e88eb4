"""Trying the terminal as the README says, in a real Chromium: the fake reader's page puts
a test card on the reader and the voter's screen follows; a form on another site (or a
page that hides where it is from) cannot press those buttons."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from hardware import CardPresent, NoCard
from tests.axe_check import run_axe

# Stand-ins for other sites, answered by the test's own route (no network).
ELSEWHERE = "http://elsewhere.test/"


def stranger_page(kiosk_url: str, referrer_policy: str | None = None) -> str:
    meta = f'<meta name="referrer" content="{referrer_policy}">' if referrer_policy else ""
    return (
        f'<!doctype html><html lang="en"><head>{meta}<title>Elsewhere</title></head><body>'
        f'<form method="post" action="{kiosk_url}">'
        '<button name="action" value="a" id="press">Win a prize</button></form></body></html>'
    )


def test_the_fake_card_buttons_work_in_chromium_and_the_screen_follows(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    voter = new_page()
    voter.goto(kiosk.url())
    controls = new_page()
    controls.context.add_init_script(script=Axe().axe_script)
    controls.goto(kiosk.url("/fake-card"))
    assert run_axe(controls).violations_count == 0

    controls.locator("#card-a").click()
    expect(controls.locator("#reader-state")).to_contain_text("CardPresent")
    assert isinstance(kiosk.reader.state(), CardPresent)
    expect(voter.locator("h1")).to_have_text("Малі проєкти")  # the voter's screen took the card

    controls.locator("#card-remove").click()
    expect(controls.locator("#reader-state")).to_have_text("NoCard")
    assert isinstance(kiosk.reader.state(), NoCard)


def test_a_form_on_another_site_cannot_put_a_card_on_the_reader(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.route(
        ELSEWHERE,
        lambda route: route.fulfill(content_type="text/html", body=stranger_page(kiosk.url("/fake-card"))),
    )
    page.goto(ELSEWHERE)
    with page.expect_response(kiosk.url("/fake-card")) as answer:
        page.locator("#press").click()
    assert answer.value.status == 403
    assert answer.value.request.header_value("origin") == "http://elsewhere.test"
    expect(page.locator("#refusal")).to_contain_text("нічого не змінено")
    expect(page.locator("#refusal")).to_contain_text("nothing has changed")
    assert run_axe(page).violations_count == 0
    assert isinstance(kiosk.reader.state(), NoCard)


def test_a_page_that_hides_its_origin_cannot_press_them_either(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    body = stranger_page(kiosk.url("/fake-card"), referrer_policy="no-referrer")
    page.route(ELSEWHERE, lambda route: route.fulfill(content_type="text/html", body=body))
    page.goto(ELSEWHERE)
    with page.expect_response(kiosk.url("/fake-card")) as answer:
        page.locator("#press").click()
    assert answer.value.request.header_value("origin") == "null"
    assert answer.value.status == 403
    assert isinstance(kiosk.reader.state(), NoCard)
