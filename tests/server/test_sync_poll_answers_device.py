"""A real device store and sync client against the real server: a poll arrives in the
signed package, an answer taken offline is durable in the device's log, travels up
with the next round, is counted once, and its standing comes back to the device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.models import PollAnswer
from server.sync.enrolment import issue_enrolment_code
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.http_transport import HttpAnswer
from sync.store_file import StoreError
from sync.voted_here import VotedHere
from voting.polls import PollAnswerRecord

from .test_sync_package_polls import poll as a_poll
from .test_sync_support import voter_key

NOW = datetime.now(UTC).replace(microsecond=0)


def client_through(flask_client, store: DeviceStore, url: str = "http://localhost") -> SyncClient:
    """The device's own sync client, its requests served by the Flask app in-process."""
    sync = SyncClient(store, url, max_attempts=1, sleep=lambda _s: None)

    def send_once(method: str, path: str, body: bytes, headers: dict[str, str]) -> HttpAnswer:
        sent = sync.clock()
        response = flask_client.open(path, method=method, data=body or None, headers=headers)
        return HttpAnswer(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.get_data(),
            sent,
            sync.clock(),
            headers.get("X-Spilno-Signature"),
        )

    sync.transport._send_once = send_once  # type: ignore[method-assign]
    return sync


def test_an_answer_taken_offline_travels_is_counted_once_and_its_standing_comes_back(
    client, make, session, tmp_path
):
    community = make.community()
    published = a_poll(session, community, "Парк", NOW - timedelta(days=1), NOW + timedelta(days=9))
    row = make.device(community, code="T-0101")
    issued = issue_enrolment_code(session, row)
    session.commit()
    store = DeviceStore(tmp_path / "terminal.db")
    try:
        sync = client_through(client, store)
        sync.enrol(issued.code)
        sync.sync_round()
        package = store.package()
        assert package is not None
        [packaged] = package.content.open_polls(datetime.now(UTC))
        assert packaged.id == published.id
        rule = packaged.rule()
        one, up_to, rank, points = packaged.questions
        record = PollAnswerRecord.create(
            poll=rule,
            answers={
                one.id: [one.options[1].id],
                up_to.id: [up_to.options[0].id, up_to.options[3].id],
                rank.id: [rank.options[2].id, rank.options[0].id],
                points.id: [[points.options[1].id, 4]],
            },
            channel="kiosk",
            cast_at=datetime.now(UTC),
            voter_key=voter_key(1),
            device_id="T-0101",
        )
        entry = store.append_poll_answer(record)  # durable before the resident is thanked
        assert (entry.kind, entry.payload) == ("poll_answer", record.canonical_body())
        assert VotedHere(store).answered(published.id, record.voter)
        assert not VotedHere(store).answered(published.id, f"key:{voter_key(2)}")
        assert store.verify_log() is None

        result = sync.sync_round()
        assert (result.push.sent, result.push.acked_seq, result.push.backlog) == (1, 1, 0)
        known = store.status_of(record.answer_id)
        assert known is not None and known["status"] == "counted"
        stored = session.scalars(select(PollAnswer)).all()
        assert [(a.id, a.channel, a.device_id, a.status) for a in stored] == [
            (record.answer_id, "kiosk", "T-0101", "counted")
        ]
        assert stored[0].content_hash == record.content_hash()

        # The same record again, or one naming another device, never reaches the log.
        for bad, code in ((record, "answer.duplicate_id"), (_moved(record), "answer.device")):
            try:
                store.append_poll_answer(bad)
            except StoreError as error:
                assert error.code == code
            else:
                raise AssertionError(f"{code} was not refused")
        assert store.last_seq() == 1
    finally:
        store.close()


def _moved(record: PollAnswerRecord) -> PollAnswerRecord:
    from dataclasses import replace

    return replace(record, answer_id="0b8f1c1e-2d7a-4f5e-9d3c-7a6b5c4d3e2f", device_id="T-9999")
