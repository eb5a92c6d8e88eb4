# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""A moderator in a real Chromium: revoking a terminal, revoking an integration client,
switching a user off, publishing or unpublishing results (a community's cycle, a school's
contest), replacing or revoking a student's code card and switching the voter list on or
off each take a second, deliberate step. The button opens what will happen and a
checkbox the browser requires; without the tick nothing is sent and nothing changes.
All of it works from the keyboard and with no script, and axe-core finds no WCAG 2.1
A/AA violation, closed or open.

Under CI (CI=true) a missing Chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from server.models import ApiClient, Cycle, Device, Role, User, VotingCode
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from server.services.api_clients import create_api_client
from tests.axe_check import assert_accessible
from tests.factories import PASSWORD
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401
from voting.identity import community_voter_secret

no_axe_violations = functools.partial(assert_accessible, folder="console-confirmations")


@pytest.fixture
def desk(chromium):
    # JavaScript off: the confirmation must not depend on a script.
    context = chromium.new_context(
        viewport={"width": 1366, "height": 900}, locale="uk-UA", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def axe_desk(chromium):
    """A page with script on, for axe-core (which is itself a script)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


@pytest.fixture
def community(make):
    return make.community(slug="confirm-hromada")


@pytest.fixture
def moderator(make, community):
    return make.user(Role.COMMUNITY_MODERATOR, community, login="moderator@example.org")


def sign_in(page, server_url: str, user: User) -> None:
    page.goto(f"{server_url}/login")
    page.fill("#login", user.login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#login")).to_have_count(0)


def press_without_the_tick(page, confirm_id: str, button: str = "submit") -> None:
    """Open the step and press the final button unticked: the browser keeps the form."""
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.locator(f"#{confirm_id}-open").click()
    expect(page.locator(f"#{confirm_id}")).to_have_attribute("open", "")
    page.locator(f"#{confirm_id}-{button}").click()
    expect(page.locator(f"#{confirm_id}-check")).to_have_js_property("validity.valueMissing", True)
    expect(page.locator(f"#{confirm_id}")).to_have_attribute("open", "")  # the same page, still open
    assert posts == []


def confirm_from_the_keyboard(page, confirm_id: str) -> None:
    page.locator(f"#{confirm_id}-check").focus()
    page.keyboard.press("Space")
    expect(page.locator(f"#{confirm_id}-check")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator(f"#{confirm_id}-submit")).to_be_focused()
    page.keyboard.press("Enter")


def test_revoking_a_terminal_asks_first(desk, axe_desk, server_url, session, make, community, moderator):
    device = make.device(community, code="T-0042", name="ЦНАП «Центральний»")
    confirm_id = f"revoke-{device.id}"

    sign_in(axe_desk, server_url, moderator)
    axe_desk.goto(f"{server_url}/console/devices")
    no_axe_violations(axe_desk, "devices")
    axe_desk.locator(f"#{confirm_id}-open").click()
    expect(axe_desk.locator(f"#{confirm_id}-what")).to_contain_text("відкликання не скасувати")
    no_axe_violations(axe_desk, "devices-revoke-open")

    page = desk
    sign_in(page, server_url, moderator)
    page.goto(f"{server_url}/console/devices")
    # The disclosure opens from the keyboard as well.
    page.locator(f"#{confirm_id}-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#{confirm_id}")).to_have_attribute("open", "")
    expect(page.get_by_label("Так, відкликати T-0042")).to_be_visible()
    page.keyboard.press("Enter")  # closes it again: nothing sent
    expect(page.locator(f"#{confirm_id}-check")).to_be_hidden()

    press_without_the_tick(page, confirm_id)
    session.expire_all()
    assert session.get(Device, device.id).revoked_at is None

    confirm_from_the_keyboard(page, confirm_id)
    expect(page.locator(".flash.success")).to_contain_text("Пристрій T-0042 відкликано")
    session.expire_all()
    assert session.get(Device, device.id).revoked_at is not None


def test_publishing_results_mid_vote_warns_and_asks_and_so_does_unpublishing(
    desk, axe_desk, server_url, session, make, community, moderator
):
    cycle = make.ballot_cycle(community)  # voting is open now
    url = f"{server_url}/console/cycles/{cycle.id}/results"

    sign_in(axe_desk, server_url, moderator)
    axe_desk.goto(url)
    axe_desk.locator("#publish-open").click()
    expect(axe_desk.locator("#publish-what")).to_contain_text("Голосування ще триває")
    no_axe_violations(axe_desk, "results-publish-open")

    page = desk
    sign_in(page, server_url, moderator)
    page.goto(url)
    expect(page.locator("#publish-open")).to_have_text("Опублікувати результати…")
    press_without_the_tick(page, "publish")
    session.expire_all()
    assert session.get(Cycle, cycle.id).results_published_at is None

    page.get_by_label("Так, опублікувати проміжні результати, хоча голосування ще триває").check()
    page.locator("#publish-submit").click()
    expect(page.locator("#unpublish-open")).to_have_text("Скасувати публікацію…")
    session.expire_all()
    assert session.get(Cycle, cycle.id).results_published_at is not None

    press_without_the_tick(page, "unpublish")
    session.expire_all()
    assert session.get(Cycle, cycle.id).results_published_at is not None
    confirm_from_the_keyboard(page, "unpublish")
    expect(page.locator("#publish-open")).to_be_visible()
    session.expire_all()
    assert session.get(Cycle, cycle.id).results_published_at is None

    axe_desk.goto(url)
    no_axe_violations(axe_desk, "results-unpublished")


def test_revoking_an_integration_client_asks_first(desk, axe_desk, server_url, session, community, moderator):
    client, _token = create_api_client(session, community_id=community.id, name="Платформа е-демократії")
    session.commit()
    confirm_id = f"revoke-client-{client.id}"

    sign_in(axe_desk, server_url, moderator)
    axe_desk.goto(f"{server_url}/console/api-clients")
    axe_desk.locator(f"#{confirm_id}-open").click()
    no_axe_violations(axe_desk, "api-clients-revoke-open")

    page = desk
    sign_in(page, server_url, moderator)
    page.goto(f"{server_url}/console/api-clients")
    press_without_the_tick(page, confirm_id)
    session.expire_all()
    assert session.get(ApiClient, client.id).revoked_at is None
    page.get_by_label("Так, відкликати «Платформа е-демократії»").check()
    page.locator(f"#{confirm_id}-submit").click()
    expect(page.locator(f"#{confirm_id}")).to_have_count(0)
    session.expire_all()
    assert session.get(ApiClient, client.id).revoked_at is not None


def test_switching_a_user_off_asks_first(desk, axe_desk, server_url, session, make, community, moderator):
    colleague = make.user(
        Role.SUPPORT_OPERATOR, community, login="operator@example.org", display_name="Петро Мельник"
    )
    confirm_id = f"deactivate-{colleague.id}"

    sign_in(axe_desk, server_url, moderator)
    axe_desk.goto(f"{server_url}/console/users")
    axe_desk.locator(f"#{confirm_id}-open").click()
    expect(axe_desk.locator(f"#{confirm_id}-what")).to_contain_text("Петро Мельник не зможе увійти")
    no_axe_violations(axe_desk, "users-deactivate-open")

    page = desk
    sign_in(page, server_url, moderator)
    page.goto(f"{server_url}/console/users")
    press_without_the_tick(page, confirm_id)
    session.expire_all()
    assert session.get(User, colleague.id).active
    page.get_by_label("Так, вимкнути operator@example.org").check()
    page.locator(f"#{confirm_id}-submit").click()
    expect(page.locator(f"#{confirm_id}")).to_have_count(0)
    session.expire_all()
    assert not session.get(User, colleague.id).active


@pytest.fixture
def school_moderator(make, community):
    school = make.school(community, name="Ліцей № 5")
    return make.user(
        Role.SCHOOL_MODERATOR, community, school_id=school.id, login="school@example.org"
    ), school


def test_a_lost_card_is_replaced_or_revoked_only_after_a_tick(
    app, desk, axe_desk, server_url, session, make, school_moderator
):
    teacher, school = school_moderator
    contest = make.school_contest(school, open_now=False)
    first, second = issue_codes(session, contest, "6-А", 2, app_code_keys(app))
    session.commit()
    url = f"{server_url}/console/contests/{contest.id}/classes/6-А"
    card = f"card-{first.code_id}"

    sign_in(axe_desk, server_url, teacher)
    axe_desk.goto(url)
    no_axe_violations(axe_desk, "school-class")
    axe_desk.locator(f"#{card}-open").click()
    no_axe_violations(axe_desk, "school-class-card-open")

    page = desk
    sign_in(page, server_url, teacher)
    page.goto(url)
    press_without_the_tick(page, card, button="revoke")
    page.locator(f"#{card}-replace").click()  # the other button is held back too
    expect(page.locator(f"#{card}-check")).to_have_js_property("validity.valueMissing", True)
    expect(page.locator(f"#{card}")).to_have_attribute("open", "")
    session.expire_all()
    assert session.get(VotingCode, first.code_id).revoked_at is None

    # A refused reason brings the page back with this card's step open and the reason shown.
    page.locator(f"#reason-{first.code_id}").fill("\u202eвтратив")
    page.locator(f"#{card}-check").check()
    page.locator(f"#{card}-revoke").click()
    expect(page.locator(f"#e-card-{first.code_id}")).to_contain_text("недопустимі службові символи")
    expect(page.locator(f"#{card}")).to_have_attribute("open", "")
    session.expire_all()
    assert session.get(VotingCode, first.code_id).revoked_at is None

    page.locator(f"#reason-{first.code_id}").fill("учень вибув")
    page.locator(f"#{card}-check").check()
    page.locator(f"#{card}-revoke").click()
    expect(page.locator(".flash.success")).to_contain_text("відкликано")
    session.expire_all()
    assert session.get(VotingCode, first.code_id).revoked_at is not None
    assert session.get(VotingCode, second.code_id).revoked_at is None


def test_a_school_publishes_its_closed_contest_after_a_tick(
    desk, axe_desk, server_url, session, make, school_moderator
):
    teacher, school = school_moderator
    contest = make.school_contest(school, projects=2)
    cycle = session.get(Cycle, contest.cycle.id)
    cycle.voting_ends_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    url = f"{server_url}/console/contests/{contest.id}/results"

    sign_in(axe_desk, server_url, teacher)
    axe_desk.goto(url)
    axe_desk.locator("#publish-open").click()
    no_axe_violations(axe_desk, "school-results-publish-open")

    page = desk
    sign_in(page, server_url, teacher)
    page.goto(url)
    press_without_the_tick(page, "publish")
    session.expire_all()
    assert session.get(Cycle, cycle.id).results_published_at is None
    page.get_by_label("Так, опублікувати результати").check()
    page.locator("#publish-submit").click()
    expect(page.locator("#unpublish-open")).to_be_visible()
    session.expire_all()
    assert session.get(Cycle, cycle.id).results_published_at is not None
    press_without_the_tick(page, "unpublish")
    confirm_from_the_keyboard(page, "unpublish")
    expect(page.locator("#publish-open")).to_be_visible()
    session.expire_all()
    assert session.get(Cycle, cycle.id).results_published_at is None


def test_switching_the_voter_list_on_and_off_asks_first(
    app, desk, axe_desk, server_url, session, make, community, moderator
):
    from server.models import EligibilityList
    from tests.server.test_eligibility import apply, list_csv, rnokpp

    secret = community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)
    apply(session, community, secret, list_csv([rnokpp(1), rnokpp(2)]))
    session.commit()
    url = f"{server_url}/console/communities/{community.id}/eligibility"

    sign_in(axe_desk, server_url, moderator)
    axe_desk.goto(url)
    axe_desk.locator("#switch-list-open").click()
    expect(axe_desk.locator("#switch-list-what")).to_contain_text("лише мешканців зі списку (2)")
    no_axe_violations(axe_desk, "eligibility-switch-open")

    page = desk
    sign_in(page, server_url, moderator)
    page.goto(url)
    press_without_the_tick(page, "switch-list")
    session.expire_all()
    assert not session.get(EligibilityList, community.id).enabled
    confirm_from_the_keyboard(page, "switch-list")
    expect(page.locator("#switch-list-open")).to_have_text("Вимкнути список…")
    session.expire_all()
    assert session.get(EligibilityList, community.id).enabled

    press_without_the_tick(page, "switch-list")
    page.get_by_label("Так, вимкнути список").check()
    page.locator("#switch-list-submit").click()
    expect(page.locator("#switch-list-open")).to_have_text("Увімкнути список…")
    session.expire_all()
    assert not session.get(EligibilityList, community.id).enabled
