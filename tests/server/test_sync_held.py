# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""Votes that may not move the count by themselves wait for a moderator: late votes for
published results, and a revoked terminal's backlog. Nothing they carry counts until a
moderator decides, with a note, in the audit log; votes a revoked device cast after its
revocation never count. Then the device hears the final status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import (
    Alarm,
    AuditEvent,
    Community,
    Device,
    EligibilityList,
    EligibleVoter,
    HeldVote,
    Role,
    utcnow,
)
from server.results.publishing import publish_results
from server.services.devices import revoke_device
from server.services.tally import running_tally
from tests.axe_check import run_axe
from tests.factories import CSRF_TOKEN, PASSWORD, sign_in, stored_vote
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401

from .test_sync_support import enrolled_device, project_ids, voter_key


def _setup(client, make, session):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    terminal = enrolled_device(client, session, make, community)
    return cycle, community, terminal, project_ids(session, cycle)


def _device(session, terminal) -> Device:
    return session.scalar(select(Device).where(Device.code == terminal.code))


def _decide(client, device_id: int, cycle_id: int, reason: str, decision: str, note: str = "перевірено"):
    form = {"csrf_token": CSRF_TOKEN, "cycle_id": str(cycle_id), "reason": reason, "decision": decision}
    if note is not None:
        form["note"] = note
    return client.post(f"/console/devices/{device_id}/held-votes", data=form)


def test_late_votes_for_published_results_wait_and_count_only_by_a_moderators_decision(client, make, session):
    cycle, community, terminal, p = _setup(client, make, session)
    terminal.cast(cycle.id, [p[0]], voter=1)
    assert terminal.push().status_code == 200
    publish_results(session, cycle)
    session.commit()

    late = [terminal.cast(cycle.id, [p[2]], voter=v, minutes_ago=30) for v in (2, 3)]
    answer = terminal.push().get_json()
    assert [s["status"] for s in answer["statuses"]] == ["counted", "held", "held"]
    assert running_tally(session, cycle.id) == {p[0]: 1}, "published figures do not move by themselves"
    assert stored_vote(session, late[0].payload["id"]) is None
    (alarm,) = session.scalars(select(Alarm)).all()
    assert alarm.kind == "votes.held" and "оприлюднено" in alarm.message

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    page = client.get("/console/held-votes").get_data(as_text=True)
    assert terminal.code in page and "результати вже оприлюднено" in page
    device = _device(session, terminal)
    assert _decide(client, device.id, cycle.id, "results_published", "count", note="").status_code == 302
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[0]: 1}, "no note, no decision"

    assert (
        _decide(client, device.id, cycle.id, "results_published", "count", "акт комісії № 7").status_code
        == 302
    )
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[0]: 1, p[2]: 2}
    assert {h.decision for h in session.scalars(select(HeldVote))} == {"counted"}
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "held_votes.count")).all()
    assert event.details["counted"] == 2 and event.details["note"] == "акт комісії № 7"
    statuses = terminal.get("/api/v1/sync/statuses").get_json()["statuses"]
    assert [s["status"] for s in statuses] == ["counted", "counted", "counted"]
    # Decided once: the same form again changes nothing.
    _decide(client, device.id, cycle.id, "results_published", "reject")
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[0]: 1, p[2]: 2}
    assert "Жоден голос не чекає рішення." in client.get("/console/held-votes").get_data(as_text=True)


def test_rejected_late_votes_never_count_and_the_device_hears_so(client, make, session):
    cycle, community, terminal, p = _setup(client, make, session)
    publish_results(session, cycle)
    session.commit()
    terminal.cast(cycle.id, [p[0]], voter=1, minutes_ago=30)
    assert terminal.push().status_code == 200
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    _decide(client, _device(session, terminal).id, cycle.id, "results_published", "reject", "після закриття")
    session.expire_all()
    assert running_tally(session, cycle.id) == {}
    (status,) = terminal.get("/api/v1/sync/statuses").get_json()["statuses"]
    assert (status["status"], status["reason"]) == ("invalid", "held.results_published.rejected")


def test_a_revoked_terminals_votes_before_the_revocation_count_and_after_it_never(client, make, session):
    cycle, community, terminal, p = _setup(client, make, session)
    terminal.cast(cycle.id, [p[0]], voter=1, minutes_ago=20)  # thanked, never sent
    device = _device(session, terminal)
    revoke_device(session, device)
    session.commit()
    device.revoked_at = utcnow() - timedelta(minutes=10)  # revoked ten minutes ago
    session.commit()
    terminal.cast(cycle.id, [p[0]], voter=2, minutes_ago=1)  # cast after the revocation
    answer = terminal.push().get_json()
    assert answer["revoked"] is True and answer["acked_seq"] == 2
    assert running_tally(session, cycle.id) == {}

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    page = client.get("/console/held-votes").get_data(as_text=True)
    assert "після відкликання: 1" in page
    _decide(client, device.id, cycle.id, "device_revoked", "count", "термінал викрадено після 14:00")
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[0]: 1}
    decisions = dict(session.execute(select(HeldVote.seq, HeldVote.decision)).all())
    assert decisions == {1: "counted", 2: "rejected"}


@pytest.mark.parametrize(
    ("form_change", "why"),
    [
        ({"cycle_id": "999999"}, "no such cycle"),
        ({"cycle_id": "1" * 30}, "not an id"),
        ({"reason": "because"}, "no such reason"),
        ({"decision": "maybe"}, "no such decision"),
        ({"note": "x" * 501}, "a note too long"),
        ({"note": "   "}, "a blank note"),
    ],
)
def test_a_decision_that_is_not_one_changes_nothing(client, make, session, form_change, why):
    cycle, community, terminal, p = _setup(client, make, session)
    publish_results(session, cycle)
    session.commit()
    terminal.cast(cycle.id, [p[0]], voter=1, minutes_ago=30)
    terminal.push()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    form = {
        "csrf_token": CSRF_TOKEN,
        "cycle_id": str(cycle.id),
        "reason": "results_published",
        "decision": "count",
        "note": "ок",
    } | form_change
    response = client.post(f"/console/devices/{_device(session, terminal).id}/held-votes", data=form)
    assert response.status_code == 302, why
    session.expire_all()
    assert [h.decision for h in session.scalars(select(HeldVote))] == [None], why
    assert running_tally(session, cycle.id) == {}, why


def test_a_moderator_counts_held_votes_in_the_browser(chromium, server_url, make, session, client):
    cycle, community, terminal, p = _setup(client, make, session)
    publish_results(session, cycle)
    session.commit()
    terminal.cast(cycle.id, [p[1]], voter=1, minutes_ago=30)
    terminal.push()
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    session.commit()
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    page = context.new_page()
    try:
        page.goto(f"{server_url}/login")
        page.fill("#login", moderator.login)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("link", name="Голоси на розгляді").click()
        group = page.locator(f'tr.held-group[data-device="{terminal.code}"]')
        expect(group).to_contain_text("результати вже оприлюднено")
        assert run_axe(page).violations_count == 0
        group.get_by_role("button", name="Зарахувати").click()  # no note: the browser keeps the form
        expect(group.get_by_label("Чому (потрапить до журналу дій)")).to_have_js_property(
            "validity.valueMissing", True
        )
        group.get_by_label("Чому (потрапить до журналу дій)").fill("рішення комісії")
        group.get_by_role("button", name="Зарахувати").click()
        expect(page.locator(".flash").first).to_contain_text("зараховано 1")
        expect(page.locator("#nothing-held")).to_be_visible()
        assert run_axe(page).violations_count == 0
    finally:
        context.close()
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[1]: 1}


def test_a_resident_not_on_the_servers_list_is_held_whatever_the_terminals_copy_said(client, make, session):
    cycle, community, terminal, p = _setup(client, make, session)
    # The community's list: resident 1 is on it, resident 2 was removed (a terminal that
    # missed the removal, or was shown an old list answer, still let them vote).
    session.add(EligibilityList(community_id=community.id, enabled=True, version=2, listed_count=1))
    session.add(EligibleVoter(community_id=community.id, voter_key=voter_key(1), listed=True, seq=1))
    session.add(EligibleVoter(community_id=community.id, voter_key=voter_key(2), listed=False, seq=2))
    session.commit()
    terminal.cast(cycle.id, [p[0]], voter=1)
    removed = terminal.cast(cycle.id, [p[0]], voter=2)
    answer = terminal.push().get_json()
    assert [(s["status"], s["reason"]) for s in answer["statuses"]] == [
        ("counted", None),
        ("held", "held.not_listed"),
    ]
    assert running_tally(session, cycle.id) == {p[0]: 1}
    assert stored_vote(session, removed.payload["id"]) is None
    (alarm,) = session.scalars(select(Alarm)).all()
    assert alarm.kind == "votes.held" and "немає в списку" in alarm.message
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert "виборців немає в списку громади" in client.get("/console/held-votes").get_data(as_text=True)
    _decide(client, _device(session, terminal).id, cycle.id, "not_listed", "reject", "вибув з громади")
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[0]: 1}
    statuses = terminal.get("/api/v1/sync/statuses").get_json()["statuses"]
    assert statuses[-1]["status"] == "invalid" and statuses[-1]["reason"] == "held.not_listed.rejected"


def test_a_vote_in_time_only_by_a_drifting_clock_is_held_not_counted(client, make, session):
    cycle, _community, terminal, p = _setup(client, make, session)
    cycle.voting_ends_at = utcnow() - timedelta(minutes=1)  # closed a minute ago
    session.commit()
    in_time = terminal.cast(cycle.id, [p[0]], voter=1, minutes_ago=20)
    drifted = terminal.cast(cycle.id, [p[0]], voter=2, minutes_ago=2)  # by its clock: before the close
    terminal.clock_skew_ms = -3 * 60_000  # ...but that clock had fallen three minutes behind
    answer = terminal.push().get_json()
    assert [(s["status"], s["reason"]) for s in answer["statuses"]] == [
        ("counted", None),
        ("held", "held.after_close"),
    ]
    assert stored_vote(session, in_time.payload["id"]) is not None
    assert stored_vote(session, drifted.payload["id"]) is None
    assert running_tally(session, cycle.id) == {p[0]: 1}
