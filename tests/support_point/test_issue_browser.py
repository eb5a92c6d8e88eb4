"""«Видати бюлетень» in a real Chromium: the operator signs in, types a document, gets
the sheet's PDF as a download, and reissues a spoiled sheet; axe-core finds no WCAG 2.1
A/AA violation on the page in either state. Screenshots go to test-artifacts/support_point/."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.serving import make_server

from tests.axe_check import run_axe
from tests.support_point.test_issue import ADULT, CHILD, cycle_with, open_point
from tests.support_point.test_issue_app import PIN, make_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "support_point"


@pytest.fixture
def served(tmp_path):
    point = open_point(tmp_path, [cycle_with(min_age=16)])
    app = make_app(point, READER="fake")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", point
    server.shutdown()
    thread.join(5)
    server.server_close()
    point.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="uk-UA", accept_downloads=True
    )
    context.set_default_timeout(5000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def navigate(page, action) -> None:
    """Run `action` (a click that submits a form or follows a link) and wait until the
    next page has loaded: reading the page or running axe earlier races the navigation
    ("Cannot read properties of null (reading 'documentElement')" under load)."""
    with page.expect_navigation(wait_until="load"):
        action()


def check(page, name: str) -> None:
    results = run_axe(page)
    assert results.violations_count == 0, f"{name}:\n{results.generate_report()}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"issue-{name}.png"), full_page=True)


def test_an_operator_issues_and_reissues_a_sheet_in_the_browser(served, page):
    base, _point = served
    page.goto(base + "/")
    page.fill("#pin", PIN)
    navigate(page, lambda: page.click("#pin-form button"))
    page.fill("#operator", "Олена Коваль")
    navigate(page, lambda: page.click("#operator-form button"))
    navigate(page, lambda: page.click("#issue-link"))
    assert page.url == base + "/issue"
    check(page, "empty")

    page.select_option("#kind", "rnokpp")
    page.fill("#number", CHILD)
    navigate(page, lambda: page.click("#document-form button[type=submit]"))
    assert "Мешканцеві ще немає 16 років" in page.inner_text("#notice")
    assert page.input_value("#number") == ""  # the number is not put back
    check(page, "refused")

    page.fill("#number", ADULT)
    navigate(page, lambda: page.click("#document-form button[type=submit]"))
    assert "Видано аркуш S0001-000001" in page.inner_text("#notice")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "ballot-S0001-000001.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    check(page, "issued")

    page.fill("#reason-S0001-000001", "порвав")
    navigate(page, lambda: page.click("#row-S0001-000001 button[value=reissue]"))
    assert "замість нього видано S0001-000002" in page.inner_text("#notice")
    assert "замінено на S0001-000002" in page.inner_text("#row-S0001-000001")
    check(page, "reissued")
    assert ADULT not in page.content()
