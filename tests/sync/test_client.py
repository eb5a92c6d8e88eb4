"""A terminal talks to the server: enrols, pulls packages, pushes its log exactly once,
rides out network trouble, and stops at refusals a person has to look at."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from sync import signed_requests, signing, wire
from sync.client import SyncClient
from sync.clock import skewed_clock
from sync.device_store import DeviceStore
from sync.packages import package_digest
from sync.store_log import AckMismatch
from sync.sync_errors import DeviceRefused, LogConflict, LogRejected, SyncUnavailable

from .conftest import cast_votes

HOUR_MS = 3_600_000


class Sleeps(list):
    """An injected sleep that records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(store, url=None, **options) -> SyncClient:
    options.setdefault("sleep", Sleeps())
    return SyncClient(store, url, **options)


def log_requests(server) -> list[dict]:
    return [r for r in server.requests if r["path"].startswith("/api/v1/sync/log")]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: connection refused


# --- enrolment ---------------------------------------------------------------------------


def test_enrolment_with_a_one_time_code_gives_the_device_its_identity(store, server):
    server.issue_code("K7QM-2XPD-9RTA")
    identity = client_for(store, server.url).enrol("k7qm 2xpd 9rta")
    assert identity.device == "T-0001"
    assert identity.kind == "terminal"
    assert identity.community_slug == "bila-tserkva"
    assert identity.server_key == server.server_key
    assert identity.server_url == server.url
    assert store.enrolled()


def test_only_the_public_key_leaves_the_device_at_enrolment(store, server):
    server.issue_code("K7QM-2XPD-9RTA")
    client_for(store, server.url).enrol("K7QM-2XPD-9RTA")
    [request] = server.requests
    sent = json.loads(request["body"])
    assert set(sent) == {"code", "public_key", "software"}
    assert sent["public_key"] == signing.public_key_b64(store.private_key())
    assert server.device("T-0001").public_key == sent["public_key"]
    assert b"PRIVATE KEY" not in request["body"]


def test_an_unknown_enrolment_code_is_refused_and_the_device_stays_unenrolled(store, server):
    with pytest.raises(DeviceRefused) as refused:
        client_for(store, server.url).enrol("NOPE-NOPE-NOPE")
    assert refused.value.code == "enrolment.invalid"
    assert not store.enrolled()
    assert "enrolment.invalid" in store.summary()["last_error"]
    assert len(server.requests) == 1  # a refusal is not retried


# --- packages ------------------------------------------------------------------------------


def test_pulling_stores_a_newer_package_and_then_has_nothing_to_do(store, server):
    server.enrol_offline(store)
    server.publish()
    client = client_for(store, server.url)
    assert client.pull_package() == 1
    assert client.pull_package() is None
    held = store.package()
    assert held is not None
    digest = package_digest(held.package)
    assert server.requests[-1]["path"] == f"/api/v1/sync/package?have=1&digest={digest}"
    server.publish()
    assert client.pull_package() == 2


def test_a_tampered_package_from_the_network_is_refused_and_recorded(store, server):
    server.enrol_offline(store)
    envelope = server.publish()
    envelope["package"] = envelope["package"].replace("gb-2027", "gb-2099")
    with pytest.raises(wire.ProtocolError):
        client_for(store, server.url).pull_package()
    assert store.package() is None
    assert "package.signature" in store.summary()["last_error"]


# --- pushing the log -------------------------------------------------------------------------


def test_a_backlog_goes_up_in_signed_batches_and_is_marked_sent_from_the_answers(enrolled, server):
    cast_votes(enrolled, 1_200)
    result = client_for(enrolled, server.url).push_all(batch_size=500)

    assert (result.sent, result.acked_seq, result.backlog, result.gap) == (1_200, 1_200, 0, False)
    assert enrolled.pending(10) == []
    device = server.device(enrolled.require_identity().device)
    assert device.acked_seq == 1_200
    # Every request says, signed, how far the log goes: the server works out the backlog.
    assert {r["headers"]["X-Spilno-Last-Seq"] for r in server.requests} == {"1200"}
    assert enrolled.summary()["last_sync_result"] == "ok"


def test_every_request_is_signed_by_the_device_key(enrolled, server):
    cast_votes(enrolled, 3)
    client_for(enrolled, server.url).sync_round()
    assert {r["path"].split("?")[0] for r in server.requests} == {
        "/api/v1/sync/package",
        "/api/v1/sync/voters",
        "/api/v1/sync/eligibility",
        "/api/v1/sync/log",
        "/api/v1/sync/statuses",  # the first full pass over every known status
    }
    for request in server.requests:
        assert set(signed_requests.REQUEST_HEADERS) <= set(request["headers"])


def test_a_lost_answer_means_the_same_batch_again_and_the_same_acknowledgement(enrolled, server):
    cast_votes(enrolled, 20)
    server.lose_next_answer()  # the server commits, then the network drops the answer
    sleeps = Sleeps()
    result = client_for(enrolled, server.url, sleep=sleeps).push_once()
    assert result.acked_seq == 20
    assert len(sleeps) == 1 and len(log_requests(server)) == 2
    assert len(server.votes) == 20  # stored once


def test_nothing_pending_sends_nothing(enrolled, server):
    assert client_for(enrolled, server.url).push_once().sent == 0
    assert server.requests == []


def test_statuses_come_back_with_the_acknowledgement(enrolled, server):
    records = cast_votes(enrolled, 3)
    resident_again = records[0].__class__.create(
        cycle_id=11,
        selections=[201],
        channel="kiosk",
        cast_at=records[0].cast_at,
        voter_key=records[0].voter_key,
        device_id=records[0].device_id,
    )
    enrolled.append_vote(resident_again)
    result = client_for(enrolled, server.url).push_once()
    assert result.statuses == 4
    assert enrolled.status_of(records[1].vote_id)["status"] == "counted"
    second = enrolled.status_of(resident_again.vote_id)
    assert second["status"] == "duplicate" and second["counted_vote_id"] == records[0].vote_id


def test_statuses_missing_from_acknowledgements_are_fetched_page_by_page(enrolled, server):
    server.statuses_in_ack = False
    cast_votes(enrolled, 1_100)
    client = client_for(enrolled, server.url)
    client.push_all()
    assert enrolled.first_unknown_status_seq() == 1
    assert client.refresh_statuses() == 1_100
    status_paths = [r["path"] for r in server.requests if "statuses" in r["path"]]
    assert status_paths == ["/api/v1/sync/statuses?since_seq=0", "/api/v1/sync/statuses?since_seq=1000"]
    assert enrolled.first_unknown_status_seq() is None
    assert client.refresh_statuses() == 0  # nothing unknown: no request


# --- network trouble -------------------------------------------------------------------------


def test_a_busy_server_is_retried_with_growing_jittered_pauses(enrolled, server):
    cast_votes(enrolled, 5)
    server.fail_next(503, times=3)
    sleeps = Sleeps()
    result = client_for(enrolled, server.url, sleep=sleeps, random=lambda: 1.0).push_once()
    assert result.acked_seq == 5
    assert sleeps == [0.5, 1.0, 2.0]  # the top of each full-jitter range


def test_a_refused_connection_is_retried_then_reported_as_unavailable(enrolled):
    cast_votes(enrolled, 5)
    sleeps = Sleeps()
    client = client_for(enrolled, closed_port_url(), sleep=sleeps, max_attempts=4, random=lambda: 1.0)
    with pytest.raises(SyncUnavailable):
        client.push_once()
    assert sleeps == [0.5, 1.0, 2.0]
    assert enrolled.backlog_count() == 5  # nothing marked sent
    assert "ConnectionRefusedError" in enrolled.summary()["last_error"]


def test_full_jitter_pauses_stay_within_the_exponential_step_and_the_cap(enrolled):
    import random

    sleeps = Sleeps()
    client = client_for(
        enrolled, closed_port_url(), sleep=sleeps, max_attempts=12, random=random.Random(7).random
    )
    with pytest.raises(SyncUnavailable):
        client.pull_package()
    assert len(sleeps) == 11
    for retry, pause in enumerate(sleeps):
        assert 0 <= pause <= min(60.0, 0.5 * 2**retry)
    assert len(set(sleeps)) == len(sleeps)  # jittered, not in step with other terminals
    always_top = client_for(enrolled, "http://127.0.0.1:9", random=lambda: 1.0).transport
    assert [always_top.backoff_delay(r) for r in (6, 7, 10)] == [32.0, 60.0, 60.0]


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (409, "chain.conflict", LogConflict),
        (409, "vote.conflict", LogConflict),
        (422, "chain.broken", LogRejected),
        (422, "entry.invalid", LogRejected),
        (403, "device.revoked", DeviceRefused),
    ],
)
def test_a_refusal_is_not_retried_and_is_left_for_the_maintenance_screen(
    enrolled, server, status, code, raised
):
    cast_votes(enrolled, 5)
    server.fail_next(status, code=code)
    sleeps = Sleeps()
    with pytest.raises(raised) as refused:
        client_for(enrolled, server.url, sleep=sleeps).push_once()
    assert (refused.value.status, refused.value.code) == (status, code)
    assert sleeps == [] and len(log_requests(server)) == 1
    assert enrolled.backlog_count() == 5
    summary = enrolled.summary()
    assert summary["last_sync_result"] == "error" and code in summary["last_error"]


def test_a_cloned_terminal_is_caught_by_the_chain_conflict(enrolled, server, tmp_path):
    enrolled.close()
    shutil.copy(tmp_path / "terminal.db", tmp_path / "clone.db")  # one disk image, two kiosks
    original, clone = DeviceStore(tmp_path / "terminal.db"), DeviceStore(tmp_path / "clone.db")
    cast_votes(original, 3, seed=1)
    cast_votes(clone, 3, seed=2)
    client_for(original, server.url).push_once()
    with pytest.raises(LogConflict) as refused:
        client_for(clone, server.url).push_once()
    assert refused.value.code == "chain.conflict"
    assert clone.backlog_count() == 3
    original.close()
    clone.close()


def test_a_request_signed_with_a_key_the_server_does_not_know_is_refused(enrolled, server):
    server.device(enrolled.require_identity().device).public_key = signing.public_key_b64(
        signing.generate_private_key()
    )
    with pytest.raises(DeviceRefused) as refused:
        client_for(enrolled, server.url).pull_package()
    assert (refused.value.status, refused.value.code) == (401, "device.signature")


def test_a_server_that_lost_entries_gets_them_again_and_nothing_is_lost(enrolled, server):
    cast_votes(enrolled, 10)
    client = client_for(enrolled, server.url)
    client.push_all()
    device = server.device(enrolled.require_identity().device)
    device.acked_seq = 4  # the server was restored from an older backup
    cast_votes(enrolled, 5, seed=9)

    result = client.push_all(batch_size=3)
    assert not result.gap
    assert device.acked_seq == 15 and not device.set_aside  # the hole filled, nothing set aside left
    assert enrolled.backlog_count() == 0 and enrolled.acked_seq() == 15


def test_a_gap_the_server_cannot_fill_stays_on_the_maintenance_screen(enrolled, server):
    cast_votes(enrolled, 6)
    client = client_for(enrolled, server.url)
    client.push_all()
    device = server.device(enrolled.require_identity().device)
    device.acked_seq = 2
    device.hashes[2] = "f" * 64  # the server's copy of entry 2 is not ours: no chain can follow it
    cast_votes(enrolled, 2, seed=4)
    with pytest.raises(AckMismatch):  # the server and this device disagree: a person must look
        client.push_all(batch_size=3)
    assert enrolled.backlog_count() == 2


# --- clocks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("skew_ms", [HOUR_MS, -HOUR_MS])
def test_the_clock_offset_is_learned_from_the_server_and_written_into_new_entries(enrolled, server, skew_ms):
    cast_votes(enrolled, 2)
    client = client_for(enrolled, server.url, clock=skewed_clock(skew_ms))
    client.push_all()
    assert abs(enrolled.clock_offset_ms() - skew_ms) < 1_000
    assert abs(server.device(enrolled.require_identity().device).clock_offsets[-1] - skew_ms) < 1_000

    cast_votes(enrolled, 1, seed=4)
    [entry] = enrolled.pending(10)
    assert entry.seq == 3
    assert abs(entry.clock_offset_ms - skew_ms) < 1_000
    client.push_all()  # the server accepts entries from a terminal an hour off
    assert enrolled.backlog_count() == 0


def test_a_sync_round_learns_who_voted_elsewhere_in_pages_and_remembers_it(enrolled, server):
    server.voters_page = 2
    server.voted_elsewhere = [(7, f"{n:064x}") for n in range(5)]
    client = client_for(enrolled, server.url)
    client.sync_round()
    assert all(enrolled.voted_elsewhere(7, f"key:{n:064x}") for n in range(5))
    assert not enrolled.voted_elsewhere(8, f"key:{0:064x}")
    server.voted_elsewhere.append((7, "f" * 64))
    assert client.pull_voters() == 1  # only what is new, from the remembered cursor
    assert enrolled.voted_elsewhere(7, "key:" + "f" * 64)
