# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""A moderator in a real Chromium: signs in, uploads a support point's scans, opens the
unclear sheet, decides each unclear box by its zoomed crop, corrects a clearly read box
with a reason, and stores the ready sheets as votes. Every picture on the sheet page
loads (a box without a crop points to its page instead). axe-core finds no WCAG 2.1 A/AA
violation on the scans page or the sheet page; screenshots are kept under
test-artifacts/paper-scans/.

Under CI (CI=true) a missing Chromium fails this test instead of skipping it.
"""

from __future__ import annotations

import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select

from server.models import PaperScanDecision, Vote
from tests.axe_check import assert_accessible
from tests.factories import PASSWORD
from tests.paper.corpus import MarkKind
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401
from tests.server.test_paper_scans import png, setup, sheet_key  # noqa: F401

no_axe_violations = functools.partial(assert_accessible, folder="paper-scans")


@pytest.fixture
def desk(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def no_broken_images(page) -> None:
    # Every image has loaded or failed by the load event; before it, an image still
    # coming looks broken (a click returns once the next page is committed).
    page.wait_for_load_state("load")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    broken = page.evaluate(
        "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == []


def test_a_moderator_reviews_scans_in_the_browser(desk, server_url, session, setup, tmp_path):
    small, large = setup["small"], setup["large"]
    clear = tmp_path / "clear.png"
    clear.write_bytes(png(setup, {small[0]: MarkKind.TICK, large[0]: MarkKind.TICK}, serial="S0042-000011"))
    unclear = tmp_path / "unclear.png"
    unclear.write_bytes(
        png(setup, {small[3]: MarkKind.CANCELLED, large[2]: MarkKind.TICK}, serial="S0042-000012")
    )

    page = desk
    page.goto(f"{server_url}/login")
    page.fill("#login", setup["user"].login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server_url}/console/cycles/{setup['cycle'].id}/paper-scans")
    no_axe_violations(page, "scans-empty")
    page.set_input_files("#f-files", [str(clear), str(unclear)])
    page.click("form.grid-form button[type=submit]")
    # The upload is a job (run in the request here): its page shows what became of the pages.
    expect(page.locator("#job")).to_have_attribute("data-state", "done")
    expect(page.locator("[data-outcome-count=accepted]")).to_have_text("1")
    expect(page.locator("#scan-pages tr[data-outcome=needs_review]")).to_have_count(1)
    no_axe_violations(page, "scans-uploaded")
    page.get_by_role("link", name="До сканованих бюлетенів").click()

    page.get_by_role("link", name="S0042-000012").click()
    expect(page.locator("#state")).to_have_attribute("data-state", "review")
    no_axe_violations(page, "sheet-unclear")
    no_broken_images(page)
    boxes = page.locator(".scan-box.marginal")
    assert 0 < boxes.count() < page.locator(".scan-box").count()  # every box listed, unclear first
    for n in range(boxes.count()):
        box = page.locator(".scan-box.marginal").nth(n)
        project = int(box.get_attribute("id").removeprefix("box-"))
        expect(box.locator("img.scan-crop")).to_be_visible()
        label = "Позначено" if project == large[2] else "Не позначено"
        box.get_by_role("button", name=label, exact=True).click()
        expect(page.locator(".flash").first).to_be_visible()
    expect(page.locator("#state")).to_have_attribute("data-state", "ready")
    no_axe_violations(page, "sheet-decided")

    # The reader read small[0] clearly as unmarked; the moderator sees a mark and says why.
    box = page.locator(f"#box-{small[0]}")
    change = box.get_by_role("button", name="Змінити на «позначено»")
    change.click()  # no reason: the browser keeps the form, nothing is sent
    expect(box.get_by_label("Причина зміни (обов'язково)")).to_have_js_property("validity.valueMissing", True)
    session.expire_all()
    decided = session.scalar(select(func.count()).select_from(PaperScanDecision))
    box.get_by_label("Причина зміни (обов'язково)").fill("ледь помітна галочка олівцем")
    change.click()
    box = page.locator(f"#box-{small[0]}")
    expect(box).to_have_class("scan-box overridden")
    expect(box.locator(".decided")).to_contain_text("ледь помітна галочка олівцем")
    expect(page.locator("#state")).to_have_attribute("data-state", "ready")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) == decided + 1
    no_broken_images(page)
    no_axe_violations(page, "sheet-corrected")

    page.get_by_role("link", name="← Скановані бюлетені").click()
    page.get_by_role("button", name="Зберегти готові аркуші як голоси (2)").click()
    # A job too (run in the request here): its page says what was stored, and leads back.
    expect(page.locator("#job")).to_have_attribute("data-state", "done")
    expect(page.locator("#commit-result")).to_contain_text("Збережено 2 голоси з аркушів.")
    no_axe_violations(page, "commit-job")
    page.get_by_role("link", name="До сканованих бюлетенів").click()
    expect(page.locator("td[data-state=committed]")).to_have_text("2")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Vote).where(Vote.channel == "paper")) == 2
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) >= 1
