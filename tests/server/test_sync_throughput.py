"""A push costs the same whatever the device's log length and the batch size (issue #4:
20 terminals pushing at once, and one terminal catching up on 100 000 votes)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import event, text

from server.db import bulk_insert
from server.models import Community, DeviceCheckpoint
from server.services.pg_batch import array_literal
from server.services.tally import running_tally

from .test_sync_support import enrolled_device, project_ids

HOSTILE_VALUES = [
    "plain",
    'a"quote',
    "back\\slash",
    "with,comma",
    "{brace}",
    " spaced ",
    "NULL",
    "",
    "ї\u202e",
]


class StatementLog:
    """Every SQL statement the app's engine runs while `recording`; with `monkeypatch`,
    the COPY statements too (rows go in by COPY on the driver's connection, which
    SQLAlchemy's events do not see: server.services.pg_batch.insert_rows)."""

    def __init__(self, engine, monkeypatch=None) -> None:
        self.statements: list[str] = []
        self.recording = False
        event.listen(engine, "before_cursor_execute", self._seen)
        if monkeypatch is not None:
            copy = psycopg.Cursor.copy

            def recorded_copy(cursor, statement, *args, **kwargs):
                self._seen(None, cursor, str(statement), None, None, False)
                return copy(cursor, statement, *args, **kwargs)

            monkeypatch.setattr(psycopg.Cursor, "copy", recorded_copy)

    def _seen(self, _conn, _cursor, statement, _params, _context, _executemany) -> None:
        if self.recording:
            self.statements.append(" ".join(statement.split()))

    def during(self, action):
        self.statements, self.recording = [], True
        try:
            return action()
        finally:
            self.recording = False


def _terminal_with_votes(client, session, make, cycle, votes: int):
    community = session.get(Community, cycle.community_id)
    terminal = enrolled_device(client, session, make, community)
    p = project_ids(session, cycle)
    for voter in range(votes):
        terminal.cast(cycle.id, [p[voter % 3]], voter=voter)
    return terminal


def test_statements_are_planned_for_their_parameters(engine):
    # A generic plan chosen while the vote table was nearly empty (a sequential scan)
    # was kept per connection and made each batch slower as votes accumulated.
    with engine.connect() as conn:
        assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"


def test_a_push_runs_the_same_statements_whatever_the_log_length_and_batch_size(
    client, make, session, engine
):
    cycle = make.ballot_cycle()
    log = StatementLog(engine)
    short = _terminal_with_votes(client, session, make, cycle, 3)
    long = _terminal_with_votes(client, session, make, cycle, 260)
    assert long.push(long.batch(1, 200)).status_code == 200

    first = log.during(lambda: short.push(short.batch(1, 3)))
    short_log = log.statements
    later = log.during(lambda: long.push(long.batch(201, 260)))

    assert (first.status_code, later.status_code) == (200, 200)
    assert len(later.get_json()["statuses"]) == 60
    # No statement per entry, nothing that reads the log from its start: the 60-entry
    # batch after 200 stored entries runs exactly what a 3-entry first batch runs.
    assert len(log.statements) == len(short_log) < 25, log.statements


def test_the_shared_tally_rows_are_written_last_before_the_commit(client, make, session, engine, monkeypatch):
    cycle = make.ballot_cycle()
    terminal = _terminal_with_votes(client, session, make, cycle, 5)
    log = StatementLog(engine, monkeypatch)
    response = log.during(terminal.push)
    assert response.status_code == 200

    tally_at = next(i for i, s in enumerate(log.statements) if s.startswith("INSERT INTO project_tally"))
    after = log.statements[tally_at + 1 :]
    # Only the device's own row (its position and last contact) is written after them.
    assert all(s.startswith(("INSERT INTO turnout_tally", "UPDATE device SET")) for s in after), after
    before = " ".join(log.statements[:tally_at])
    assert 'COPY "vote"' in before and 'COPY "device_log_entry"' in before
    assert "INSERT INTO device_checkpoint" in before
    p = project_ids(session, cycle)
    assert running_tally(session, cycle.id) == {p[0]: 2, p[1]: 2, p[2]: 1}


def test_the_answer_to_a_fresh_batch_is_what_the_server_stored(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = _terminal_with_votes(client, session, make, cycle, 2)
    # The first resident again, with a vote cast earlier (a clock set back): the earlier
    # one counts, so the first vote's standing changes within the batch.
    terminal.cast(cycle.id, [p[1]], voter=0, minutes_ago=30)
    terminal.cast(cycle.id, [p[0], p[2], p[4]], voter=7)  # too many in one category
    pushed = terminal.push().get_json()["statuses"]
    asked = terminal.get("/api/v1/sync/statuses?since_seq=0").get_json()["statuses"]
    assert pushed == asked
    assert [s["status"] for s in pushed] == ["duplicate", "counted", "counted", "invalid"]
    assert pushed[0]["counted_vote_id"] == pushed[2]["vote_id"]


@pytest.mark.parametrize("values", [HOSTILE_VALUES, [2**62, -(2**62), 0, 7]])
def test_array_parameters_reach_postgresql_unchanged(session, values):
    as_text = isinstance(values[0], str)
    column_type = "varchar[]" if as_text else "bigint[]"
    stored = session.execute(
        text(f"SELECT CAST(:values AS {column_type})"), {"values": array_literal(values)}
    ).scalar()
    assert stored == values


def test_bulk_rows_must_all_name_the_same_columns(session, make):
    community = make.community()
    row = {"community_id": community.id, "device_id": 1, "enrolment_id": 1, "seq": 1, "hash": "0" * 64}
    with pytest.raises(ValueError, match="differ"):
        bulk_insert(session, DeviceCheckpoint.__table__, [row | {"signature": "s"}, row])
