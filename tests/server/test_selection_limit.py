"""The selections limit at every door a vote passes: a terminal's log, the server's sync
reader, the integration API and the moderator's form all read voting.record.MAX_SELECTIONS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.api.openapi import build_openapi
from server.services import cycles as cycle_service
from server.services import pushed_fields, pushed_votes
from server.sync.auth import DeviceRef
from server.sync.entries import EntryInvalid, read_vote
from sync.device_store import DeviceStore
from tests.sync.fake_server import FakeSyncServer
from voting import VoteRecord
from voting.record import MAX_SELECTIONS

T = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


def terminal_vote(device: str, count: int) -> VoteRecord:
    return VoteRecord.create(
        cycle_id=1,
        selections=range(1, count + 1),
        channel="kiosk",
        cast_at=T,
        voter_key="b" * 64,
        device_id=device,
    )


@pytest.mark.parametrize("count", [55, MAX_SELECTIONS])
def test_a_terminal_log_with_a_long_vote_stays_intact_and_the_server_reads_it(tmp_path, count):
    server = FakeSyncServer()
    store = DeviceStore(tmp_path / "terminal.db")
    try:
        code = server.enrol_offline(store)
        [entry] = store.append_votes([terminal_vote(code, count)])
        assert store.verify_log() is None
        assert store.pending(10)[0].payload["selections"] == list(range(1, count + 1))
        record = read_vote(entry, DeviceRef(id=1, code=code, community_id=1, kind="terminal"))
        assert len(record.selections) == count
    finally:
        store.close()


def test_the_server_refuses_a_log_entry_over_the_limit(tmp_path):
    server = FakeSyncServer()
    store = DeviceStore(tmp_path / "terminal.db")
    try:
        code = server.enrol_offline(store)
        [entry] = store.append_votes([terminal_vote(code, 3)])
        entry.payload["selections"] = list(range(1, MAX_SELECTIONS + 2))
        with pytest.raises(EntryInvalid):
            read_vote(entry, DeviceRef(id=1, code=code, community_id=1, kind="terminal"))
    finally:
        store.close()


def api_item(count: int) -> dict:
    return {
        "id": "6f1c1e9e-2b7a-4a51-9f0e-1b2c3d4e5f60",
        "cycle_id": 1,
        "voter_key": "c" * 64,
        "selections": list(range(1, count + 1)),
        "cast_at": "2027-05-01T09:00:00Z",
    }


@pytest.mark.parametrize("count, accepted", [(55, True), (MAX_SELECTIONS, True), (MAX_SELECTIONS + 1, False)])
def test_the_integration_api_takes_exactly_what_a_record_can_carry(count, accepted):
    problems = pushed_fields.Problems()
    record = pushed_votes._read_item(problems, 0, api_item(count), b"x" * 32, "online")
    assert (record is not None) is accepted
    if not accepted:
        assert [(p.code, p.params) for p in problems.kept] == [
            ("api.too_many_selections", {"max": MAX_SELECTIONS})
        ]


def test_the_api_document_and_the_console_form_use_the_same_limit():
    document = build_openapi(max_batch=10, max_content_length=1024)
    assert f'"maxItems": {MAX_SELECTIONS}' in str(document).replace("'", '"')
    assert cycle_service.MAX_CHOICES == MAX_SELECTIONS
