"""A community moderator watches the community's terminals and support points on the
fleet page, and acknowledges their alarms."""

from __future__ import annotations

import copy
import re

import pytest
from sqlalchemy import select

from server.auth.sessions import session_fields
from server.console.fleet import skew_text
from server.models import Alarm, AuditEvent, Community, Device, Role
from server.services.devices import revoke_device

from .test_sync_support import enrolled_device, project_ids

TOKEN = "f" * 43
HOUR_MS = 3600 * 1000


def sign_in(client, user):
    with client.session_transaction() as sess:
        sess.update(session_fields(user, client.application.secret_key))
        sess["csrf"] = TOKEN


def row_of(html: str, code: str) -> str:
    return re.search(rf"<tr>\s*<td><code>{code}</code>.*?</tr>", html, re.S).group(0)


@pytest.fixture
def busy_fleet(client, make, session):
    """A terminal an hour fast with a backlog, one whose forged batch raised an alarm,
    a revoked one that still tries, and one never enrolled."""
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    p = project_ids(session, cycle)
    fast = enrolled_device(client, session, make, community)
    fast.clock_skew_ms = HOUR_MS + 2 * 60 * 1000 + 30_000  # half a minute from any rounding edge
    for voter in range(3):
        fast.cast(cycle.id, [p[0]], voter=voter)
    assert fast.push(last_seq=45).status_code == 200  # 42 more than the three it sends

    forger = enrolled_device(client, session, make, community)
    forger.cast(cycle.id, [p[0]], voter=10)
    batch = copy.deepcopy(forger.batch())  # tamper with what is sent, not the device's own log
    batch["entries"][0]["payload"]["selections"] = [p[2]]
    assert forger.push(batch).status_code == 422
    forged_signature = forger.batch()
    forged_signature["checkpoint"]["signature"] = fast.batch()["checkpoint"]["signature"]
    assert forger.push(forged_signature).status_code == 422  # a second, different tampering

    gone = enrolled_device(client, session, make, community)
    revoke_device(session, session.scalar(select(Device).where(Device.code == gone.code)))
    session.commit()
    gone.cast(cycle.id, [p[0]], voter=20)
    assert gone.push().get_json()["revoked"] is True  # taken, and held for a moderator
    never = make.device(community, code="S-0100", kind="support_point", name="Пункт у бібліотеці")
    return community, fast, forger, gone, never


def test_the_fleet_page_shows_contact_votes_backlog_clock_chain_and_alarms(client, make, busy_fleet):
    community, fast, forger, gone, never = busy_fleet
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    page = client.get("/console/fleet")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<a href="/console/fleet">Термінали й пункти: стан</a>' in html

    fast_row = row_of(html, fast.code)
    assert "+1 год 02 хв" in fast_row and "42" in fast_row
    assert "перевірено до запису 3" in fast_row and "badge warn" in fast_row
    assert ">3<" in fast_row.replace(" ", "")  # votes received

    forger_row = row_of(html, forger.code)
    assert "порушено" in forger_row and "відкритих: 2" in forger_row
    assert "chain.broken" in forger_row and "розірвано" in forger_row

    gone_row = row_of(html, gone.code)
    assert "відкликано" in gone_row and "votes.held" in gone_row
    assert "не зареєстровано" in row_of(html, never.code)

    english = client.get("/console/fleet?lang=en").get_data(as_text=True)
    assert "+1 h 02 min" in row_of(english, fast.code) and "Terminals and points: status" in english


def test_the_fleet_page_shows_only_the_moderators_own_community(client, make, session, busy_fleet):
    community, fast, *_ = busy_fleet
    elsewhere = make.community(name="Інша громада")
    make.device(elsewhere, code="T-0777")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, elsewhere))
    html = client.get("/console/fleet").get_data(as_text=True)
    assert "T-0777" in html and fast.code not in html
    forger_alarm = session.scalars(select(Alarm)).first()
    device = session.scalar(select(Device).where(Device.code == forger_alarm.source))
    form = {"csrf_token": TOKEN, "alarm_id": str(forger_alarm.id)}
    assert client.post(f"/console/devices/{device.id}/alarms/acknowledge", data=form).status_code == 404
    session.refresh(forger_alarm)
    assert forger_alarm.acknowledged_at is None

    sign_in(client, make.user(Role.ADMINISTRATOR))
    html = client.get("/console/fleet").get_data(as_text=True)
    assert "T-0777" in html and fast.code in html and "Інша громада" in html
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, community))
    assert client.get("/console/fleet").status_code == 403


def test_a_moderator_acknowledges_one_alarm_then_all(client, make, session, busy_fleet):
    community, _fast, forger, gone, _never = busy_fleet
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)
    device = session.scalar(select(Device).where(Device.code == forger.code))
    first, second = session.scalars(select(Alarm).where(Alarm.source == forger.code).order_by(Alarm.id)).all()
    url = f"/console/devices/{device.id}/alarms/acknowledge"

    assert client.post(url, data={"csrf_token": TOKEN, "alarm_id": str(first.id)}).status_code == 302
    session.refresh(first), session.refresh(second)
    assert first.acknowledged_by == moderator.id and first.acknowledged_at is not None
    assert second.acknowledged_at is None
    # Another device's alarm cannot be acknowledged through this device.
    revoked_alarm = session.scalar(select(Alarm).where(Alarm.source == gone.code))
    client.post(url, data={"csrf_token": TOKEN, "alarm_id": str(revoked_alarm.id)})
    session.refresh(revoked_alarm)
    assert revoked_alarm.acknowledged_at is None
    for junk in ["abc", "-1", "9" * 30]:
        assert client.post(url, data={"csrf_token": TOKEN, "alarm_id": junk}).status_code == 302

    client.post(url, data={"csrf_token": TOKEN})
    session.refresh(second)
    assert second.acknowledged_at is not None
    html = client.get("/console/fleet").get_data(as_text=True)
    assert "відкритих" not in row_of(html, forger.code) and "порушено" not in row_of(html, forger.code)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "alarm.acknowledge")).all()
    assert len(actions) == 2


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (None, "—"),
        (0, "0 с"),
        (-400, "0 с"),
        (12_400, "+12 с"),
        (-5 * 60 * 1000, "−5 хв"),
        (HOUR_MS + 2 * 60 * 1000, "+1 год 02 хв"),
        (-(26 * HOUR_MS + 59 * 60 * 1000 + 59_999), "−26 год 59 хв"),
    ],
)
def test_clock_skew_reads_like_a_person_would_say_it(app, offset, text):
    with app.test_request_context("/console/fleet"):
        assert skew_text(offset) == text
