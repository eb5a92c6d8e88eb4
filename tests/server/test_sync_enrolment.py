"""A moderator gives a terminal a one-time code; the terminal enrols with its own key."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.auth.sessions import session_fields
from server.models import AuditEvent, Device, DeviceEnrolment, Role
from server.sync.enrolment import ALPHABET, code_hash, issue_enrolment_code
from sync import signing

from .test_sync_support import FakeDevice

TOKEN = "e" * 43


def sign_in(client, user):
    with client.session_transaction() as sess:
        sess.update(session_fields(user, client.application.secret_key))
        sess["csrf"] = TOKEN


def code_from_page(html: str) -> str:
    return re.search(r'id="code" class="token" value="([^"]+)"', html).group(1)


def test_a_moderator_gets_a_readable_one_time_code_that_is_stored_only_as_a_hash(client, make, session):
    community = make.community()
    device = make.device(community, code="T-0001")
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)

    page = client.post(f"/console/devices/{device.id}/enrolment-code", data={"csrf_token": TOKEN})
    assert page.status_code == 200
    code = code_from_page(page.get_data(as_text=True))
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert not set(code.replace("-", "")) & set("01OI")
    assert len(ALPHABET) == 32 and 12 * math.log2(len(ALPHABET)) >= 60

    [row] = session.scalars(select(DeviceEnrolment)).all()
    assert row.code_hash == code_hash(code) and code not in row.code_hash
    assert timedelta(hours=23, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=24)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "device.enrolment_code"))
    assert event.user_id == moderator.id and event.target_id == "T-0001"
    assert code not in str(event.details) and code.replace("-", "") not in str(event.details)


def test_a_terminal_enrols_once_with_the_code_as_typed(client, make, session):
    community = make.community(slug="bila-tserkva", name="Біла Церква")
    row = make.device(community, code="T-0007")
    issued = issue_enrolment_code(session, row)
    session.commit()
    terminal = FakeDevice(client, "T-0007")

    typed = " " + issued.code.lower().replace("-", " - ") + " "
    response = terminal.enrol(typed)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["device"] == "T-0007" and body["kind"] == "terminal"
    assert body["community"] == {"id": community.id, "slug": "bila-tserkva", "name": "Біла Церква"}
    assert abs(body["server_time_ms"] - int(response.headers["X-Spilno-Server-Time"])) < 5000
    key = signing.load_public_key(body["server_key"])  # a real Ed25519 key
    assert key is not None
    session.refresh(row)
    assert row.public_key == signing.public_key_b64(terminal.key) and row.software == "spilno-kiosk 1.0"

    again = FakeDevice(client, "T-0007").enrol(issued.code)
    assert again.status_code == 403
    assert again.get_json()["error"]["code"] == "enrolment.invalid"
    session.refresh(row)
    assert row.public_key == signing.public_key_b64(terminal.key)


def test_a_terminal_whose_enrolment_answer_was_lost_can_ask_again_with_the_same_key(client, make, session):
    row = make.device(make.community(), code="T-0008")
    issued = issue_enrolment_code(session, row)
    session.commit()
    terminal = FakeDevice(client, "T-0008")
    first = terminal.enrol(issued.code)
    again = terminal.enrol(issued.code)  # same key: the first answer never arrived
    assert first.status_code == again.status_code == 200
    assert {k: v for k, v in again.get_json().items() if k != "server_time_ms"} == {
        k: v for k, v in first.get_json().items() if k != "server_time_ms"
    }


def test_an_expired_code_is_refused(client, make, session):
    row = make.device(make.community(), code="T-0001")
    issued = issue_enrolment_code(session, row)
    # As if the 24 hours had passed.
    session.execute(
        update(DeviceEnrolment).values(expires_at=issued.expires_at - timedelta(hours=24, seconds=1))
    )
    session.commit()
    response = FakeDevice(client, "T-0001").enrol(issued.code)
    assert (response.status_code, response.get_json()["error"]["code"]) == (403, "enrolment.invalid")
    assert session.scalar(select(Device.public_key)) is None


@pytest.mark.parametrize("code", ["K7QM-2XPD-9RTA", "K7QM-2XPD-9RT", "0000-0000-0000", "Ж" * 12, "x" * 5000])
def test_a_wrong_code_is_refused_and_changes_nothing(client, make, session, code):
    row = make.device(make.community(), code="T-0001")
    issue_enrolment_code(session, row)
    session.commit()
    response = FakeDevice(client, "T-0001").enrol(code)
    assert (response.status_code, response.get_json()["error"]["code"]) == (403, "enrolment.invalid")
    assert session.scalar(select(Device.public_key)) is None
    assert session.scalar(select(func.count()).where(DeviceEnrolment.used_at.is_not(None))) == 0


def test_a_revoked_device_cannot_enrol_and_its_codes_stop_working(client, make, session):
    community = make.community()
    row = make.device(community, code="T-0001")
    issued = issue_enrolment_code(session, row)
    session.commit()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert (
        client.post(
            f"/console/devices/{row.id}/revoke", data={"csrf_token": TOKEN, "confirm": "yes"}
        ).status_code
        == 302
    )
    response = FakeDevice(client, "T-0001").enrol(issued.code)
    assert (response.status_code, response.get_json()["error"]["code"]) == (403, "enrolment.invalid")
    # And the console gives no new one.
    refused = client.post(f"/console/devices/{row.id}/enrolment-code", data={"csrf_token": TOKEN})
    assert refused.status_code == 302
    assert session.scalar(select(func.count()).select_from(DeviceEnrolment)) == 1


def test_a_new_code_withdraws_the_old_one_and_re_enrolling_replaces_the_key(client, make, session):
    row = make.device(make.community(), code="T-0001")
    first = issue_enrolment_code(session, row)
    second = issue_enrolment_code(session, row)
    session.commit()
    assert FakeDevice(client, "T-0001").enrol(first.code).status_code == 403
    old, new = FakeDevice(client, "T-0001"), FakeDevice(client, "T-0001")
    assert old.enrol(second.code).status_code == 200
    third = issue_enrolment_code(session, row)
    session.commit()
    assert new.enrol(third.code).status_code == 200
    assert new.get("/api/v1/sync/statuses").status_code == 200
    # The old key's store may still read its standing and deliver (server.sync.device_keys),
    # but gets nothing to vote with: it is told it was superseded.
    assert old.get("/api/v1/sync/statuses").status_code == 200
    refused = old.get("/api/v1/sync/package")
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "device.superseded")
    assert old.get("/api/v1/sync/voters").status_code == 403
    assert FakeDevice(client, "T-0001").get("/api/v1/sync/statuses").status_code == 401, "never enrolled"
    log = new.get("/api/v1/sync/log?from=1").get_json()
    keys = [signing.public_key_b64(d.key) for d in (new, old)]
    assert log["device_keys"] == keys and log["superseded"] is False


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 401, "enrolment.code_required"),
        ({"public_key": "AAAA"}, 401, "enrolment.code_required"),
        ({"code": ""}, 401, "enrolment.code_required"),
        ({"code": 12345}, 401, "enrolment.code_required"),
        ([1, 2], 422, "enrolment.malformed"),
        ({"code": "K7QM-2XPD-9RTA"}, 422, "enrolment.malformed"),
        ({"code": "K7QM-2XPD-9RTA", "public_key": "AAAA", "admin": True}, 422, "enrolment.malformed"),
        ({"code": "K7QM-2XPD-9RTA", "public_key": "not base64!"}, 422, "enrolment.public_key"),
        ({"code": "K7QM-2XPD-9RTA", "public_key": "AAAA"}, 422, "enrolment.public_key"),
        ({"code": "K7QM-2XPD-9RTA", "public_key": None}, 422, "enrolment.public_key"),
        ({"code": "K7QM-2XPD-9RTA", "public_key": "A" * 10_000}, 422, "enrolment.public_key"),
    ],
)
def test_malformed_enrolment_requests_get_clear_errors_and_do_not_use_the_code(
    client, make, session, body, status, code
):
    row = make.device(make.community(), code="T-0001")
    issue_enrolment_code(session, row)
    session.commit()
    response = client.post("/api/v1/sync/enrol", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert "X-Spilno-Server-Time" in response.headers
    assert session.scalar(select(func.count()).where(DeviceEnrolment.used_at.is_not(None))) == 0


def test_a_bad_software_field_is_refused_without_using_the_code(client, make, session):
    row = make.device(make.community(), code="T-0001")
    issued = issue_enrolment_code(session, row)
    session.commit()
    device = FakeDevice(client, "T-0001")
    for software in ["x" * 101, "kiosk\u202e1.0", 7]:
        response = device.enrol(issued.code, software=software)
        assert (response.status_code, response.get_json()["error"]["code"]) == (422, "enrolment.software")
    assert device.enrol(issued.code).status_code == 200


def test_enrolment_needs_json(client):
    not_json = client.post(
        "/api/v1/sync/enrol", data="code=K7QM", content_type="application/x-www-form-urlencoded"
    )
    assert not_json.status_code == 415
    broken = client.post("/api/v1/sync/enrol", data="{", content_type="application/json")
    assert (broken.status_code, broken.get_json()["error"]["code"]) == (400, "malformed_json")
    english = client.post("/api/v1/sync/enrol?lang=en", json={})
    assert "enrolment code is required" in english.get_json()["error"]["message"]


def test_guessing_enrolment_codes_is_slowed_down_per_address(app, client, make, session):
    """A few wrong codes, then growing delays (Retry-After); simultaneous guesses cannot
    pass the count, and another address enrols as usual."""
    import threading

    app.config["ENROL_MAX_FAILURES_PER_IP"] = 3
    row = make.device(make.community(), code="T-0001")
    issued = issue_enrolment_code(session, row)
    session.commit()
    guessers = []
    for _ in range(12):
        guesser = app.test_client()
        guesser.environ_base["REMOTE_ADDR"] = "203.0.113.5"
        guessers.append(FakeDevice(guesser, "T-0001"))
    start = threading.Barrier(len(guessers))
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def guess(device) -> None:
        start.wait()
        response = device.enrol("K7QM-2XPD-9RTA")
        with lock:
            answers.append((response.status_code, response.get_json()["error"]["code"]))

    threads = [threading.Thread(target=guess, args=(d,)) for d in guessers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [(403, "enrolment.invalid")] * 3 + [(429, "enrolment.too_many_attempts")] * 9
    refused = guessers[0].enrol(issued.code)  # even the right code waits at this address
    error = refused.get_json()["error"]
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(error["retry_after"]) == "5"
    assert "Забагато спроб реєстрації" in error["message"]
    assert session.scalar(select(Device.public_key)) is None
    # The technician at the support point, elsewhere, enrols the device.
    assert FakeDevice(client, "T-0001").enrol(issued.code).status_code == 200


def test_a_right_enrolment_code_is_not_counted_against_the_address(app, client, make, session):
    app.config["ENROL_MAX_FAILURES_PER_IP"] = 2
    community = make.community()
    for n in range(4):
        row = make.device(community, code=f"T-000{n + 1}")
        issued = issue_enrolment_code(session, row)
        session.commit()
        assert FakeDevice(client, row.code).enrol(issued.code).status_code == 200
    assert FakeDevice(client, "T-0001").enrol("K7QM-2XPD-9RTA").status_code == 403
