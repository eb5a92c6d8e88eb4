# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""Residents read a public cycle's projects before they vote: from the front page to the
cycle's projects, to one project with its photos, address and budget breakdown. Only
admitted projects of public cycles, and their photos, are shown; on a phone, in a real
Chromium, axe-core finds nothing in Ukrainian or English."""

from __future__ import annotations

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Project
from server.services.project_details import add_photo
from tests.axe_check import assert_accessible
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401


def photo_bytes(colour: tuple[int, int, int] = (200, 160, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def published(make, session):
    community = make.community()
    cycle = make.ballot_cycle(community, projects_per_category=2)
    first, second, *_ = session.scalars(
        select(Project).where(Project.cycle_id == cycle.id).order_by(Project.number)
    )
    first.address = "вул. Шевченка, 12"
    first.budget_lines = [{"item": "Лавки", "amount": first.cost - 50}, {"item": "Фарба", "amount": 50}]
    photo = add_photo(session, first, photo_bytes(), "Сквер біля школи", "The square by the school")
    second.status = "rejected"
    session.commit()
    return community, cycle, first, second, photo


def test_a_resident_finds_a_project_with_its_photo_address_and_breakdown(client, published):
    community, cycle, first, second, photo = published
    home = client.get("/").get_data(as_text=True)
    listing_url = f"/projects/{community.slug}/{cycle.slug}"
    assert listing_url in home
    listing = client.get(listing_url).get_data(as_text=True)
    assert first.title in listing and second.title not in listing  # rejected: not shown
    page = client.get(f"{listing_url}/{first.number}").get_data(as_text=True)
    assert "вул. Шевченка, 12" in page and "Лавки" in page and "Фарба" in page
    assert 'alt="Сквер біля школи"' in page
    english = client.get(f"{listing_url}/{first.number}?lang=en").get_data(as_text=True)
    assert 'alt="The square by the school"' in english and "Budget breakdown" in english
    answer = client.get(f"/project-photos/{first.id}/{photo.id}.jpg")
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg" and answer.data == photo.data


@pytest.mark.parametrize(
    "path",
    [
        "/projects/nowhere/gb-2027",
        "/projects/{community}/{cycle}/999",
        "/projects/{community}/{cycle}/{rejected}",
        "/project-photos/{rejected}/{photo}.jpg",  # the photo is not that project's
        "/project-photos/{first}/99999999999.jpg",
    ],
)
def test_what_is_not_public_is_not_found(client, published, path):
    community, cycle, first, second, photo = published
    url = path.format(
        community=community.slug, cycle=cycle.slug, rejected=second.number, first=first.id, photo=photo.id
    )
    assert client.get(url).status_code == 404


def test_the_project_pages_pass_axe_on_a_phone(chromium, server_url, published):
    _community, cycle, first, _second, _photo = published
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="uk-UA")
    context.add_init_script(script=Axe().axe_script)
    page = context.new_page()
    try:
        page.goto(f"{server_url}/")
        page.get_by_role("link", name=cycle.title).last.click()
        expect(page.locator("h1")).to_contain_text(cycle.title)
        assert_accessible(page, "projects-uk", folder="public-projects")
        page.get_by_role("link", name=first.title).click()
        expect(page.locator("h1")).to_contain_text(first.title)
        page.wait_for_function("() => document.querySelector('.project-photos img').naturalWidth > 0")
        # Measured once the page has loaded, stylesheets included: a click returns when
        # the next page is committed, and a photo laid out before its CSS is its own width.
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
        assert_accessible(page, "project-uk", folder="public-projects")
        page.goto(page.url + "?lang=en")
        expect(page.locator("main")).to_contain_text("Budget breakdown")
        assert_accessible(page, "project-en", folder="public-projects")
    finally:
        context.close()


def test_a_moderator_adds_a_photo_in_the_browser_and_the_form_passes_axe(
    chromium, server_url, make, published, tmp_path
):
    from server.models import Role
    from tests.factories import PASSWORD

    community, _cycle, first, _second, _photo = published
    moderator = make.user(Role.COMMUNITY_MODERATOR, community, login="photos@example.org")
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.add_init_script(script=Axe().axe_script)
    page = context.new_page()
    try:
        page.goto(f"{server_url}/login")
        page.fill("#login", moderator.login)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#login")).to_have_count(0)
        page.goto(f"{server_url}/console/projects/{first.id}/edit")
        not_a_photo = tmp_path / "invoice.png"
        not_a_photo.write_bytes(b"%PDF-1.7 pretending")
        page.set_input_files("#f-photo", str(not_a_photo))
        page.fill("#f-alt_uk", "Рахунок")
        page.locator("#photo-form button[type=submit]").click()
        expect(page.locator("#e-photo")).to_contain_text("JPEG або PNG")
        assert_accessible(page, "console-photo-refused", folder="public-projects")
        real = tmp_path / "square.jpg"
        real.write_bytes(photo_bytes((60, 160, 90)))
        page.set_input_files("#f-photo", str(real))
        page.fill("#f-alt_uk", "Сквер навесні")
        page.locator("#photo-form button[type=submit]").click()
        expect(page.locator(".photo-list img")).to_have_count(2)
        expect(page.locator(".photo-list")).to_contain_text("Сквер навесні")
        assert_accessible(page, "console-photos", folder="public-projects")
    finally:
        context.close()
