"""A resident opens a project's detail on the ballot, offline, in a real Chromium: its
photo with its description, address, budget breakdown and text, from the signed package;
in Ukrainian and English, with axe-core finding nothing, and by keyboard alone. Back
returns to the ballot with the choices as they were."""

from __future__ import annotations

import base64
import io

from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect

from server.services.photo_images import encode_photo
from tests.axe_check import assert_accessible

from .terminal_setup import make_package
from .test_browser_accessibility import check_screen

POLL_WAIT_MS = 3000


def with_details(kiosk) -> str:
    """A newer package in which project 101 has an address, a breakdown and three
    photos; the first photo's digest."""
    photos = []
    for shade in (80, 140, 200):
        out = io.BytesIO()
        Image.new("RGB", (800, 600), (40, shade, 80)).save(out, "JPEG")
        photos.append(encode_photo(out.getvalue()))
    package = make_package(kiosk.server.public_key, version=2)
    benches = next(p for p in package["cycles"][0]["projects"] if p["id"] == 101)
    benches["address"] = "вул. Слави, 1, парк"
    benches["budget"] = [
        {"item": "Лавки, 20 шт.", "amount": 200_000_00},
        {"item": "Монтаж", "amount": 50_000_00},
    ]
    alts = [
        ("Алея парку, де стоятимуть лавки", "The park alley where the benches will stand"),
        ("Зразок лавки", "A sample bench"),
        ("План розміщення", ""),
    ]
    benches["photos"] = [
        {
            "sha256": photo.sha256,
            "width": photo.width,
            "height": photo.height,
            "size": len(photo.data),
            "alt": {"uk": uk, "en": en},
        }
        for photo, (uk, en) in zip(photos, alts, strict=True)
    ]
    store = kiosk.app.extensions["spilno.kiosk"].store
    sent = {photo.sha256: base64.b64encode(photo.data).decode() for photo in photos}
    store.store_package(kiosk.server.envelope(package), photos=sent)
    return photos[0].sha256


def tab_to(page, element_id: str) -> None:
    page.wait_for_load_state()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_a_resident_reads_a_project_in_full_and_returns_to_the_ballot(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    digest = with_details(kiosk)
    page = new_page()
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(kiosk.url())
    kiosk.reader.insert_card("04A1B2C3D4E5F6")
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    page.locator("#project-103").click()
    expect(page.locator("#project-103")).to_contain_text("Обрано")

    # By keyboard: the card's «Детальніше» opens the detail.
    tab_to(page, "details-101")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Лавки в парку Слави")
    main = page.locator("main")
    expect(main).to_contain_text("вул. Слави, 1, парк")
    expect(main).to_contain_text("Лавки, 20 шт.")
    expect(main.locator("table.budget tfoot")).to_contain_text("250")
    expect(page.locator(".photos img")).to_have_count(3)
    photo = page.locator(".photos img").first
    expect(photo).to_have_attribute("alt", "Алея парку, де стоятимуть лавки")
    expect(photo).to_have_attribute("src", f"/photo/{digest}.jpg")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.photos img')].every(i => i.naturalWidth > 0)"
    )
    # Portrait and landscape: no axe violation, every control at least 48 px.
    check_screen(page, "project-detail-uk")

    # In English the page stays where it is, with the photo's English description.
    page.locator("#switch-language").click()
    expect(page.locator("#back-to-ballot")).to_have_text("Back to the ballot")
    english_alt = "The park alley where the benches will stand"
    expect(page.locator(".photos img").first).to_have_attribute("alt", english_alt)
    last = page.locator(".photos img").last  # no English given: Ukrainian, marked as such
    expect(last).to_have_attribute("alt", "План розміщення")
    expect(last).to_have_attribute("lang", "uk")
    expect(page.locator("main")).to_contain_text("Budget breakdown")
    # The project's own texts stay Ukrainian and say so, for a screen reader's voice.
    expect(page.locator('h1 span[lang="uk"]')).to_have_text("Лавки в парку Слави")
    expect(page.locator('table.budget td[lang="uk"]').first).to_have_text("Лавки, 20 шт.")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page, "project-detail-en", folder="kiosk")

    tab_to(page, "back-to-ballot")
    page.keyboard.press("Enter")
    expect(page.locator("#project-103")).to_contain_text("Chosen")  # the choice is kept
    expect(page.locator("#details-101")).to_be_focused()  # back at the card it came from
    expect(page.locator('#title-101 span[lang="uk"]')).to_have_text("Лавки в парку Слави")

    # A project with no details opens too, and can be chosen from its detail.
    page.locator("#details-102").click()
    expect(page.locator("h1")).to_contain_text("Велостоянки біля шкіл")
    expect(page.locator(".photos")).to_have_count(0)
    page.locator("#detail-choose").click()
    expect(page.locator("#project-102")).to_contain_text("Chosen")
    expect(page.locator("#project-103")).to_contain_text("Chosen")
