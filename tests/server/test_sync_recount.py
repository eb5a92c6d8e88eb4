"""A recount verifies every device's chain and signature from the first entry and
recounts the cycle from the raw votes; it agrees after honest syncing and finds any
record changed in the database afterwards."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server.models import Community
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.sync.cli import recount_command
from server.sync.recount import recount_cycle
from sync import log_entries
from voting import VoteRecord

from .test_sync_support import enrolled_device, project_ids, voter_key


@pytest.fixture
def mixed_run(client, make, session):
    """Two terminals and a support point sync with gaps, repeats and duplicates across
    channels; the online platform pushes votes too."""
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    community = session.get(Community, cycle.community_id)
    north = enrolled_device(client, session, make, community)
    south = enrolled_device(client, session, make, community)
    point = enrolled_device(client, session, make, community, kind="support_point")
    for voter in range(12):
        north.cast(cycle.id, [p[voter % 3 * 2]], voter=voter, minutes_ago=60 - voter)
    for voter in range(6, 18):  # 6..11 voted at north too, some earlier here
        south.cast(cycle.id, [p[2]], voter=voter, minutes_ago=120 if voter % 2 else 5)
    south.cast(cycle.id, [p[0], p[2], p[4]], voter=99)  # breaks the ballot rule
    for voter in range(15, 20):
        point.cast(cycle.id, [p[1]], voter=voter, minutes_ago=200)

    assert north.push(north.batch(6, 12)).get_json()["gap"] is True
    assert north.push(north.batch(1, 5)).get_json()["acked_seq"] == 12
    assert south.push(south.batch(1, 7)).status_code == 200
    assert south.push(south.batch(1, 13)).get_json()["acked_seq"] == 13
    assert point.push().status_code == 200
    online = [
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=cycle.id,
            selections=[p[3]],
            channel="web",
            cast_at=datetime.now(UTC) - timedelta(minutes=300),
            voter_key=voter_key(voter),
        )
        for voter in (1, 16, 50)
    ]
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, online, source="api:1")
    session.commit()
    return cycle, north, south, point


def test_a_recount_after_a_mixed_run_agrees_with_everything_stored(session, mixed_run):
    cycle, north, south, point = mixed_run
    report = recount_cycle(session, cycle.id)
    assert report.ok, list(report.json_lines())
    assert report.votes == 12 + 13 + 5 + 3
    assert [(c.device, c.entries, c.verified_up_to) for c in report.chains] == [
        (point.code, 5, 5),
        (north.code, 12, 12),
        (south.code, 13, 13),
    ]
    assert report.tally == report.running_tally and sum(report.tally.values()) > 0


def _tamper(engine, table, statement):
    """Change a row behind the server's back, as someone with database access could."""
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        conn.execute(text(statement))
        conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


TAMPERING = [
    (
        "an entry's payload",
        "device_log_entry",
        "UPDATE device_log_entry SET payload = jsonb_set(payload::jsonb, '{selections}', '[1]')::json "
        "WHERE seq = 3 AND device_id = (SELECT id FROM device WHERE code = :code)",
        "entry 3 does not hash to its recorded hash",
    ),
    (
        "an entry's clock offset",
        "device_log_entry",
        "UPDATE device_log_entry SET clock_offset_ms = 1 "
        "WHERE seq = 12 AND device_id = (SELECT id FROM device WHERE code = :code)",
        "entry 12 does not hash",
    ),
    (
        "a checkpoint's signature",
        "device_checkpoint",
        "UPDATE device_checkpoint SET signature = "
        "(SELECT signature FROM device_checkpoint ORDER BY id LIMIT 1) "
        "WHERE seq = 12 AND device_id = (SELECT id FROM device WHERE code = :code)",
        "checkpoint 12 is not signed by the device's key",
    ),
    (
        "a deleted entry",
        "device_log_entry",
        "DELETE FROM device_log_entry "
        "WHERE seq = 4 AND device_id = (SELECT id FROM device WHERE code = :code)",
        "entry 4 is missing",
    ),
]


@pytest.mark.parametrize(
    ("table", "statement", "finding"), [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING]
)
def test_a_record_changed_in_the_database_breaks_the_chain_in_the_recount(
    engine, session, mixed_run, table, statement, finding
):
    cycle, north, _south, _point = mixed_run
    _tamper(engine, table, statement.replace(":code", f"'{north.code}'"))
    session.expire_all()
    report = recount_cycle(session, cycle.id)
    assert not report.ok
    chain = next(c for c in report.chains if c.device == north.code)
    assert not chain.ok and any(finding in problem for problem in chain.problems), chain.problems
    assert all(c.ok for c in report.chains if c.device != north.code)


def test_rewriting_an_entry_with_a_matching_hash_still_fails_the_device_signature(engine, session, mixed_run):
    cycle, north, _south, _point = mixed_run
    last = north.log[-1]
    forged = log_entries.LogEntry(**{**last.as_dict(), "payload": {**last.payload, "selections": [1]}})
    statement = (
        "UPDATE device_log_entry SET payload = CAST(:payload AS json), hash = :hash "
        "WHERE seq = :seq AND device_id = (SELECT id FROM device WHERE code = :code)"
    )
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE device_log_entry DISABLE TRIGGER USER"))
        conn.execute(
            text(statement),
            {
                "payload": json.dumps(forged.payload),
                "hash": forged.entry_hash(),
                "seq": last.seq,
                "code": north.code,
            },
        )
        conn.execute(text("ALTER TABLE device_log_entry ENABLE TRIGGER USER"))
    session.expire_all()
    [chain] = [c for c in recount_cycle(session, cycle.id).chains if c.device == north.code]
    assert f"checkpoint {last.seq} does not match entry {last.seq}" in chain.problems
    # North pushed 6..12 before 1..5: only the checkpoint at 5 still vouches for anything.
    assert chain.verified_up_to == 5


def test_the_log_tables_refuse_changes_without_tampering_rights(engine, mixed_run):
    for statement in ("UPDATE device_log_entry SET kind = 'vote'", "DELETE FROM device_checkpoint"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_a_changed_vote_row_and_a_drifted_tally_are_reported(engine, session, mixed_run):
    cycle, north, _south, _point = mixed_run
    first_vote = north.log[0].payload["id"]
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE vote SET status = 'invalid', status_reason = 'x' WHERE id = :id"), {"id": first_vote}
        )
        conn.execute(text("UPDATE project_tally SET votes = votes + 5 WHERE cycle_id = :c"), {"c": cycle.id})
        conn.execute(
            text("UPDATE vote SET selections = ARRAY[1] WHERE id = :id"), {"id": north.log[1].payload["id"]}
        )
    session.expire_all()
    report = recount_cycle(session, cycle.id)
    assert not report.ok and not report.tally_agrees
    assert first_vote in {m.vote_id for m in report.status_mismatches}
    second = north.log[1].payload["id"]
    assert any(second in problem for problem in report.record_problems)


def test_the_recount_command_prints_json_lines_and_fails_on_a_broken_chain(app, engine, session, mixed_run):
    cycle, north, _south, _point = mixed_run
    runner = app.test_cli_runner()
    agreed = runner.invoke(recount_command, [str(cycle.id), "--json"])
    assert agreed.exit_code == 0, agreed.output
    lines = [json.loads(line) for line in agreed.output.splitlines()]
    assert lines[-1]["type"] == "summary" and lines[-1]["ok"] is True and lines[-1]["devices"] == 3
    assert {line["type"] for line in lines} == {"chain", "tally", "summary"}

    _tamper(engine, "device_log_entry", TAMPERING[0][2].replace(":code", f"'{north.code}'"))
    broken = runner.invoke(recount_command, [str(cycle.id), "--json"])
    assert broken.exit_code == 1
    summary = json.loads(broken.output.splitlines()[-1])
    assert (summary["ok"], summary["broken_chains"]) == (False, 1)
    text_output = runner.invoke(recount_command, [str(cycle.id)])
    assert text_output.exit_code == 1 and "CHAIN BROKEN" in text_output.output
    missing = runner.invoke(recount_command, ["999999"])
    assert missing.exit_code == 1 and "no cycle 999999" in missing.output


def test_a_drifted_tally_that_changes_what_is_funded_is_named_by_category(engine, session, mixed_run):
    cycle, *_ = mixed_run
    clean = recount_cycle(session, cycle.id)
    assert clean.funding == []
    # The project with the most votes drops to nothing in the running tally that the
    # published results are funded from; the recount funds it from the raw records.
    top = max(clean.tally, key=lambda p: clean.tally[p])
    with engine.begin() as conn:
        conn.execute(text("UPDATE project_tally SET votes = 0 WHERE project_id = :p"), {"p": top})
    session.expire_all()
    report = recount_cycle(session, cycle.id)
    assert not report.ok
    (difference,) = report.funding
    assert top in difference.recounted and top not in difference.published
    assert {"type": "funding", "category_id": difference.category_id}.items() <= difference.as_dict().items()
    assert next(line for line in report.json_lines() if line["type"] == "summary")["funding_differences"] == 1
