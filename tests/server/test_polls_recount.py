"""A poll recounted from its raw answers (server/polls/recount.py) agrees with what is
stored and published, and each kind of change made behind the server's back shows:
a record, a standing, an item, a device's log, an answer no device sent."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update

from server.models import DeviceLogEntry, PollAnswer, PollAnswerItem
from server.polls.recount import recount_poll
from spilno.cli import main as cli

from .test_sync_poll_answers import a_poll, answer_body, log_answer, online
from .test_sync_support import enrolled_device


@pytest.fixture
def cli_env(app, monkeypatch):
    """The command line's settings, pointing at the test's database."""
    for name, value in (
        ("SPILNO_DATABASE_URL", app.config["DATABASE_URL"]),
        ("SPILNO_SECRET_KEY", "s" * 32),
        ("SPILNO_VOTER_KEY_SECRET", "ab" * 32),
        ("SPILNO_SIGNING_KEY", app.config["SIGNING_KEY"]),
    ):
        monkeypatch.setenv(name, value)


def _answered(client, make, session):
    """A poll answered at a terminal (one resident twice), at a support point and online."""
    community = make.community()
    poll = a_poll(session, community)
    terminal = enrolled_device(client, session, make, community)
    log_answer(terminal, answer_body(session, poll, terminal, voter=1, minutes_ago=20))
    log_answer(terminal, answer_body(session, poll, terminal, voter=1, minutes_ago=10, pick=1))
    log_answer(terminal, answer_body(session, poll, terminal, voter=2, pick=2))
    assert terminal.push().status_code == 200
    point = enrolled_device(client, session, make, community, kind="support_point")
    sheet = f"sheet_{point.code.replace('-', '')}-000001"
    log_answer(point, answer_body(session, poll, point, voter=None, code_id=sheet, pick=3))
    assert point.push().status_code == 200
    online(session, poll, voter=2, minutes_ago=60)  # counts instead of the terminal's
    online(session, poll, voter=3, minutes_ago=5)
    return poll, terminal


def test_an_untouched_poll_recounts_to_what_is_stored_and_published(cli_env, client, make, session):
    poll, terminal = _answered(client, make, session)
    report = recount_poll(session, poll.id)
    assert report.ok, list(report.json_lines())
    assert report.answers == 6 and [c.device for c in report.chains] == sorted([terminal.code, "S-0002"])

    result = CliRunner().invoke(cli, ["server", "polls", "recount", str(poll.id), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["ok"] is True and summary["answers"] == 6
    plain = CliRunner().invoke(cli, ["server", "polls", "recount", str(poll.id)])
    assert plain.exit_code == 0 and "збігається / agrees" in plain.output
    unknown = CliRunner().invoke(cli, ["server", "polls", "recount", "999999"])
    assert unknown.exit_code == 1 and "Опитування #999999 немає" in unknown.output


def _first_kiosk_answer(session) -> PollAnswer:
    return session.scalars(
        select(PollAnswer).where(PollAnswer.channel == "kiosk").order_by(PollAnswer.cast_at)
    ).first()


def test_a_changed_record_shows(client, make, session):
    poll, _terminal = _answered(client, make, session)
    target = _first_kiosk_answer(session)
    body = dict(target.body, cast_at="2020-01-01T00:00:00.000Z")
    session.execute(update(PollAnswer).where(PollAnswer.id == target.id).values(body=body))
    session.commit()
    report = recount_poll(session, poll.id)
    assert not report.ok
    assert any(target.id in p and "content hash" in p for p in report.record_problems)


def test_a_flipped_standing_and_a_moved_item_show_and_the_count_disagrees(cli_env, client, make, session):
    poll, _terminal = _answered(client, make, session)
    counted = session.scalars(select(PollAnswer).where(PollAnswer.status == "counted")).first()
    session.execute(update(PollAnswer).where(PollAnswer.id == counted.id).values(status="duplicate"))
    item = session.scalars(
        select(PollAnswerItem).where(PollAnswerItem.counted.is_(True), PollAnswerItem.option_id.is_not(None))
    ).first()
    session.execute(update(PollAnswerItem).where(PollAnswerItem.id == item.id).values(value=item.value + 7))
    session.commit()
    report = recount_poll(session, poll.id)
    assert [m.answer_id for m in report.status_mismatches] == [counted.id]
    assert any(item.answer_id in p for p in report.item_problems)
    assert report.count_agrees is False
    result = CliRunner().invoke(cli, ["server", "polls", "recount", str(poll.id)])
    assert result.exit_code == 1 and "НЕ збігається" in result.output


def test_a_device_answer_rewritten_in_its_log_or_added_without_one_shows(client, make, session):
    poll, terminal = _answered(client, make, session)
    # The log row's payload changed behind the server's back (its append-only trigger
    # switched off, as someone with the database's keys could); the device's signature
    # cannot be redone.
    row = session.scalars(select(DeviceLogEntry).where(DeviceLogEntry.kind == "poll_answer")).first()
    session.execute(text("ALTER TABLE device_log_entry DISABLE TRIGGER USER"))
    session.execute(
        update(DeviceLogEntry)
        .where(DeviceLogEntry.id == row.id)
        .values(payload=dict(row.payload, cast_at="2020-01-01T00:00:00.000Z"))
    )
    session.execute(text("ALTER TABLE device_log_entry ENABLE TRIGGER USER"))
    # An answer written into the table in the terminal's name, with no log entry.
    added = answer_body(session, poll, terminal, voter=9)
    session.execute(
        text(
            "INSERT INTO poll_answer (id, community_id, poll_id, voter, channel, device_id, cast_at,"
            " received_at, content_hash, body, source, status, counted_answer_id)"
            " SELECT :id, community_id, poll_id, :voter, 'kiosk', device_id, cast_at, received_at,"
            " content_hash, body, source, 'counted', NULL FROM poll_answer WHERE id = :copy"
        ),
        {"id": added["id"], "voter": f"key:{added['voter_key']}", "copy": row.vote_id},
    )
    session.commit()
    report = recount_poll(session, poll.id)
    chain = next(c for c in report.chains if c.device == terminal.code)
    assert not chain.ok and any("hash" in p for p in chain.problems)
    assert any(f"differs from entry {row.seq}" in p for p in report.record_problems)
    assert any(f"from {terminal.code} without a log entry" in p for p in report.record_problems)
