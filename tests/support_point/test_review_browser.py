"""The support point's review page in a real Chromium: the operator signs in with the
PIN, opens a sheet a phone's shadow made an overvote of, and corrects it box by box,
each time with a reason (the browser itself refuses an empty one); axe-core finds no
WCAG 2.1 A/AA violation before or after, and every picture on the page loads."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from werkzeug.serving import make_server

from paper.review import keep_reading
from tests.axe_check import run_axe
from tests.paper.test_review import SHADOW, shadow_reading
from tests.paper.test_sheet_store import T0, point  # noqa: F401 (the fixture)
from tests.support_point.test_review_app import PIN, app, monotonic  # noqa: F401 (fixtures)


def box_picture(project_id: int) -> bytes:
    """A real PNG (the core's tests use placeholder bytes, which a browser cannot show)."""
    picture = np.full((60, 60), 240, np.uint8)
    cv2.rectangle(picture, (15, 15), (45, 45), 30, 2)
    cv2.putText(picture, str(project_id % 100), (18, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 30)
    return cv2.imencode(".png", picture)[1].tobytes()


@pytest.fixture
def served(app):  # noqa: F811
    reading = shadow_reading(SHADOW, cropped=(101, 102, 103, 104, 105))  # 106: no zoom, a link
    reading.crops = {project: box_picture(project) for project in reading.crops}
    keep_reading(app.point.sheets, reading, None, cycles=app.point.cycles, serial_prefix="S0001", now_ms=T0)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def settled(page, action) -> None:
    with page.expect_navigation(wait_until="load"):
        action()


def no_violations_and_no_broken_images(page, name: str) -> None:
    results = run_axe(page)
    assert results.violations_count == 0, f"{name}:\n{results.generate_report()}"
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    broken = page.evaluate("() => [...document.images].filter(i => i.naturalWidth === 0).map(i => i.src)")
    assert broken == [], name


def test_an_operator_corrects_a_shadow_overvote_in_the_browser(served, page):
    base, review = served
    page.goto(base + "/")
    page.fill("#pin", PIN)
    settled(page, lambda: page.click("#pin-form button"))
    page.fill("#operator", "Олена Коваль")
    settled(page, lambda: page.click("#operator-form button"))
    page.goto(f"{base}/sheet/31/{SHADOW}")
    expect(page.locator("#state")).not_to_have_text("готовий")
    no_violations_and_no_broken_images(page, "shadow-overvote")

    for project in (101, 103, 104, 105):
        box = page.locator(f"#box-{project}")
        button = box.locator("button[value=unmarked]")
        button.click()  # no reason: the browser keeps the form, nothing is sent
        expect(box.locator("input[name=reason]")).to_have_js_property("validity.valueMissing", True)
        assert all(d.project_id != project for d in review.point.sheets.decisions(31, SHADOW))
        box.locator("input[name=reason]").fill("тінь від телефону")
        settled(page, button.click)
        expect(page.locator(f"#box-{project}")).to_have_class("box overridden")
    expect(page.locator("#state")).to_have_text("готовий")
    no_violations_and_no_broken_images(page, "shadow-corrected")
    decisions = review.point.sheets.decisions(31, SHADOW)
    assert [(d.project_id, d.verdict, d.reason) for d in decisions] == [
        (p, "unmarked", "тінь від телефону") for p in (101, 103, 104, 105)
    ]
