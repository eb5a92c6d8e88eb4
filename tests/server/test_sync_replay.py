"""A captured request sent again is answered, but it does not move what the server
records about the device: its clock, when it was last heard from, its backlog."""

from __future__ import annotations

from sqlalchemy import select

from server.models import Community, Device
from server.sync.enrolment import issue_enrolment_code
from sync import signed_requests, signing

from .test_sync_support import enrolled_device, now_ms


def signed(
    terminal, path: str, counter: int | None, device_time_ms: int, last_seq: int | None = None
) -> dict:
    return signed_requests.sign_request(
        terminal.key, "GET", path, b"", terminal.code, device_time_ms, counter, last_seq
    )


def recorded(session, terminal) -> Device:
    session.expire_all()
    return session.scalars(select(Device).where(Device.code == terminal.code)).one()


def test_a_replayed_request_is_answered_but_not_noted(client, session, make):
    community = session.get(Community, make.ballot_cycle().community_id)
    terminal = enrolled_device(client, session, make, community)
    path = "/api/v1/sync/statuses"
    old = signed(terminal, path, 100, now_ms() - 60_000, last_seq=7)
    assert client.get(path, headers=old).status_code == 200
    assert client.get(path, headers=signed(terminal, path, 101, now_ms())).status_code == 200
    newest = recorded(session, terminal)
    assert abs(newest.clock_offset_ms) < 5_000 and newest.request_counter == 101

    replay = client.get(path, headers=old)  # the minute-old request, captured and sent again
    assert replay.status_code == 200
    after = recorded(session, terminal)
    assert (after.clock_offset_ms, after.last_seen_at, after.backlog, after.request_counter) == (
        newest.clock_offset_ms,
        newest.last_seen_at,
        newest.backlog,
        101,
    )


def test_the_counter_is_signed_so_it_cannot_be_raised_by_someone_else(client, session, make):
    community = session.get(Community, make.ballot_cycle().community_id)
    terminal = enrolled_device(client, session, make, community)
    path = "/api/v1/sync/statuses"
    headers = signed(terminal, path, 5, now_ms())
    for forged in ("6", "99999999999", "-1", "1e9", "x", "1" * 19):
        answer = client.get(path, headers={**headers, signed_requests.COUNTER_HEADER: forged})
        assert answer.status_code == 401, forged
    stripped = {k: v for k, v in headers.items() if k != signed_requests.COUNTER_HEADER}
    assert client.get(path, headers=stripped).status_code == 401


def test_re_enrolling_counts_requests_afresh(client, session, make):
    community = session.get(Community, make.ballot_cycle().community_id)
    terminal = enrolled_device(client, session, make, community)
    path = "/api/v1/sync/statuses"
    assert client.get(path, headers=signed(terminal, path, 10**15, now_ms())).status_code == 200
    issued = issue_enrolment_code(session, recorded(session, terminal))
    session.commit()
    terminal.key = signing.generate_private_key()  # a reinstalled terminal
    assert terminal.enrol(issued.code).status_code == 200
    assert recorded(session, terminal).request_counter is None
    assert client.get(path, headers=signed(terminal, path, 1, now_ms())).status_code == 200
    assert recorded(session, terminal).request_counter == 1
