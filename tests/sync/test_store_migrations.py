"""A terminal upgraded in the field keeps its store: numbered migrations, once each."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from sync import store_schema
from sync.device_store import DeviceStore
from sync.store_migrations import Schema, StoreTooNew, bring_up_to_date, user_version
from sync.store_schema import SCHEMA

RELEASE_STORE = Path(__file__).parent / "fixtures" / "store-2026-12-release.db"
RELEASE_VOTES = [f"00000000-0000-4000-8000-{n:012d}" for n in range(5)]


def _schema_of(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    # Spacing aside: a table made by the baseline script and one made by a migration
    # are the same table.
    return [
        (t, n, tbl, " ".join((sql or "").split()).replace("IF NOT EXISTS ", "")) for t, n, tbl, sql in rows
    ]


@pytest.fixture
def release_store(tmp_path: Path) -> Path:
    """A copy of a store made by the December 2026 release (schema 1): enrolled, a
    signed package, five votes in its log (tests/sync/fixtures/make_release_store.py)."""
    path = tmp_path / "terminal.db"
    shutil.copy(RELEASE_STORE, path)
    with sqlite3.connect(path) as db:
        assert user_version(db) == 1
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'photo'").fetchone() is None
    return path


def test_a_store_from_the_last_release_is_upgraded_with_its_votes_and_chain_intact(release_store, tmp_path):
    store = DeviceStore(release_store)
    try:
        assert store.verify_log() is None, "the chain still verifies"
        assert [e.payload["id"] for e in store.entries_from(1, 100)] == RELEASE_VOTES
        assert store.summary()["last_seq"] == 5 and store.summary()["backlog"] == 5
        assert store.package() is not None and store.package().version == 1  # the signature still checks
        assert store.photo("0" * 64) is None  # the new table is there and empty
        identity = store.require_identity()
        assert identity.device == "T-0042"
        # It goes on working: a sixth vote links to the fifth.
        before = store.summary()["last_seq"]
        entry = store.entries_from(5, 1)[0]
        store.append_vote(_record_like(entry.payload, "00000000-0000-4000-8000-000000000005"))
        assert store.summary()["last_seq"] == before + 1 and store.verify_log() is None
    finally:
        store.close()
    with sqlite3.connect(release_store) as db:
        assert user_version(db) == SCHEMA.version
    # Upgraded, it is the same store a new terminal starts with.
    fresh = DeviceStore(tmp_path / "new.db")
    fresh.close()
    assert _schema_of(release_store) == _schema_of(tmp_path / "new.db")


def _record_like(payload: dict, vote_id: str):
    from voting import VoteRecord

    return VoteRecord.from_canonical_body({**payload, "id": vote_id})


def test_opening_again_runs_nothing_twice(release_store, monkeypatch):
    DeviceStore(release_store).close()
    ran = []
    monkeypatch.setitem(SCHEMA.migrations, 2, lambda db: ran.append(db))
    DeviceStore(release_store).close()
    assert ran == []


def test_a_store_from_a_newer_release_is_refused_and_left_as_it_is(release_store):
    with sqlite3.connect(release_store) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA.version + 1}")
    before = release_store.read_bytes()
    with pytest.raises(StoreTooNew) as refused:
        DeviceStore(release_store)
    assert "оновіть програму" in str(refused.value) and "upgrade the software" in str(refused.value)
    assert release_store.read_bytes() == before


def test_a_migration_that_fails_leaves_the_store_at_its_old_version(release_store, monkeypatch):
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    schema = Schema(SCHEMA.baseline, {**SCHEMA.migrations, SCHEMA.version + 1: broken})
    monkeypatch.setattr(store_schema, "SCHEMA", schema)
    with pytest.raises(sqlite3.OperationalError):
        DeviceStore(release_store)
    with sqlite3.connect(release_store) as db:
        assert user_version(db) == 1
        assert (
            db.execute("SELECT name FROM sqlite_master WHERE name IN ('half_done', 'photo')").fetchall() == []
        )
    monkeypatch.undo()
    store = DeviceStore(release_store)  # the next start, with the working release
    assert store.verify_log() is None
    store.close()


def test_two_processes_opening_an_old_store_at_once_migrate_it_once(release_store, monkeypatch):
    calls = []
    original = SCHEMA.migrations[2]

    def counted(db: sqlite3.Connection) -> None:
        calls.append(1)
        original(db)

    monkeypatch.setitem(SCHEMA.migrations, 2, counted)
    start = threading.Barrier(4)
    errors = []

    def open_it() -> None:
        start.wait()
        db = sqlite3.connect(release_store, isolation_level=None, timeout=10)
        try:
            bring_up_to_date(db, SCHEMA, release_store)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == [] and calls == [1]


def test_migrations_are_numbered_without_gaps():
    with pytest.raises(ValueError, match="without gaps"):
        Schema(("CREATE TABLE IF NOT EXISTS t (x);",), {2: lambda db: None, 4: lambda db: None})
    assert sorted(SCHEMA.migrations) == list(range(2, SCHEMA.version + 1))


def test_a_terminal_rolled_back_to_the_last_release_and_upgraded_again_runs_no_step_twice(
    release_store, monkeypatch
):
    DeviceStore(release_store).close()
    # The release before migrations, started on the upgraded file, writes its number.
    with sqlite3.connect(release_store) as db:
        db.execute("PRAGMA user_version = 1")

    def must_not_run(db: sqlite3.Connection) -> None:
        raise AssertionError("step 2 ran twice")

    monkeypatch.setitem(SCHEMA.migrations, 2, must_not_run)
    store = DeviceStore(release_store)
    assert store.verify_log() is None
    store.close()
    with sqlite3.connect(release_store) as db:
        assert user_version(db) == SCHEMA.version


def test_a_newer_file_is_refused_before_a_byte_of_it_is_written(tmp_path):
    """Not even the journal mode: a file of a newer release in rollback-journal mode
    stays in it."""
    path = tmp_path / "newer.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute(f"PRAGMA user_version = {SCHEMA.version + 5}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreTooNew):
        DeviceStore(path)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()
