"""The support point's sheet store: every page reading kept, with the people's decisions.

One SQLite file beside the device store (`<store>.sheets.db`), WAL with
synchronous=FULL like the device store: a decision is on disk before the page says so.

- `pages`: every page ever read, once per image (SHA-256 of the file and the page's
  index in it). The same image again is a no-op (`duplicate`); the same serial and page
  from another image is a second candidate for that page, and a person chooses.
  Kept: per-box scores and verdicts, reasons, every PNG crop the reader made (each
  marginal box; every box of a page that needs review, so any box can be corrected by
  its picture), a downscaled JPEG of the page (~1000 px tall) for the review page.
- `decisions`: append-only (triggers refuse UPDATE and DELETE). The latest decision of
  each kind for a box, a page slot or the sheet is the one that stands; earlier ones
  stay for audit, with who made them and when.
- `sheets`: one row per serial, the state the review core (paper.review) last
  computed: review, ready, spoiled or committed, the reasons, the selections, the moment
  it became ready (the vote's cast time) and, once committed, its vote id.

The same file keeps the serial ledger (paper.issue_store): which serials were
handed out, and which voter key received a personal sheet. A reading of a cancelled
sheet is rejected here (sheet.cancelled), in the transaction that would keep it.

Writes take the lock up front (BEGIN IMMEDIATE): the review page and an import in
another process may write at once, and a check-then-write must see no change between.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from paper import issue_store
from paper.reading import REJECTED, BoxReading, SheetReading
from paper.sheet_records import Decision, SheetRow, StoredPage
from sync.store_file import connect

__all__ = ["SheetStore", "sheets_path_for"]

SHEET_STATES = ("review", "ready", "spoiled", "committed")
DECISION_KINDS = ("box", "page", "spoil", "restore")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    image_sha256 TEXT NOT NULL,
    page_index INTEGER NOT NULL,
    file TEXT NOT NULL,
    read_at_ms INTEGER NOT NULL,
    serial TEXT,                 -- NULL when no valid QR code was read
    page_no INTEGER,             -- 1-based page of the printed sheet
    pages_total INTEGER,
    cycle_id INTEGER,
    outcome TEXT NOT NULL,       -- the reader's: accepted | needs_review | rejected
    reasons_json TEXT NOT NULL,
    boxes_json TEXT NOT NULL,    -- [{project_id, category_id, score, verdict}]
    preview BLOB,                -- JPEG, ~1000 px tall
    CONSTRAINT pages_one_reading_per_image UNIQUE (image_sha256, page_index)
);
CREATE INDEX IF NOT EXISTS pages_by_sheet ON pages (cycle_id, serial, page_no);
CREATE TABLE IF NOT EXISTS crops (
    page_id INTEGER NOT NULL REFERENCES pages (id),
    project_id INTEGER NOT NULL,
    png BLOB NOT NULL,
    PRIMARY KEY (page_id, project_id)
);
-- A serial names a sheet within one cycle: a point may print S0001-000001 again for
-- next year's cycle, and that is another sheet.
CREATE TABLE IF NOT EXISTS sheets (
    cycle_id INTEGER NOT NULL,
    serial TEXT NOT NULL,
    pages_total INTEGER NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('review', 'ready', 'spoiled', 'committed')),
    reasons_json TEXT NOT NULL DEFAULT '[]',
    selections_json TEXT NOT NULL DEFAULT '[]',
    ready_at_ms INTEGER,         -- server-corrected: the vote's cast time
    vote_id TEXT UNIQUE,
    committed_at_ms INTEGER,
    PRIMARY KEY (cycle_id, serial)
);
CREATE INDEX IF NOT EXISTS sheets_by_state ON sheets (state, first_seen_ms);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    serial TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('box', 'page', 'spoil', 'restore')),
    page_id INTEGER REFERENCES pages (id),
    page_no INTEGER,
    project_id INTEGER,
    verdict TEXT,                -- box: marked | unmarked
    reason TEXT,                 -- spoil, or a box changed against what stood: the why
    operator TEXT NOT NULL,
    decided_at_ms INTEGER NOT NULL,
    replaces INTEGER REFERENCES decisions (id),  -- the decision this one explicitly changed
    FOREIGN KEY (cycle_id, serial) REFERENCES sheets (cycle_id, serial)
);
CREATE INDEX IF NOT EXISTS decisions_by_sheet ON decisions (cycle_id, serial, id);
CREATE TRIGGER IF NOT EXISTS decisions_are_never_rewritten BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_are_never_deleted BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS committed_sheets_stay_committed BEFORE UPDATE OF state ON sheets
WHEN OLD.state = 'committed' AND NEW.state != 'committed'
BEGIN SELECT RAISE(ABORT, 'a committed sheet stays committed'); END;
"""


def sheets_path_for(store_path: str | os.PathLike[str]) -> Path:
    """Where a device store's sheets live unless told otherwise."""
    return Path(f"{os.fspath(store_path)}.sheets.db")


_PAGE_COLUMNS = (
    "id, image_sha256, page_index, file, read_at_ms, serial, page_no, pages_total, cycle_id, outcome,"
    " reasons_json, boxes_json, preview IS NOT NULL"
)
_SHEET_COLUMNS = (
    "cycle_id, serial, pages_total, first_seen_ms, state, reasons_json, selections_json, ready_at_ms,"
    " vote_id, committed_at_ms"
)


def _page(row: tuple[Any, ...]) -> StoredPage:
    boxes = tuple(
        BoxReading(b["project_id"], b["category_id"], b["score"], b["verdict"]) for b in json.loads(row[11])
    )
    columns: tuple[Any, ...] = (*row[:10], tuple(json.loads(row[10])), boxes, bool(row[12]))
    return StoredPage(*columns)


def _sheet(row: tuple[Any, ...]) -> SheetRow:
    columns: tuple[Any, ...] = (*row[:5], tuple(json.loads(row[5])), tuple(json.loads(row[6])), *row[7:])
    return SheetRow(*columns)


class SheetStore:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # Private like the device store: scans show how residents voted, by serial.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._db().executescript(_SCHEMA)
        self._db().executescript(issue_store.SCHEMA)

    # --- connections ---------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; nested uses join the outer one, so the review core can read,
        check and write a decision and the sheet's new state all at once."""
        db = self._db()
        if db.in_transaction:
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read, for the modules that keep their own tables in this file."""
        return self._db().execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # --- pages ---------------------------------------------------------------------

    def add_reading(self, reading: SheetReading, preview: bytes | None, now_ms: int) -> StoredPage | None:
        """Keep one page reading; None when this image's page is already kept (nothing
        changes: a re-import never touches what was read or decided before). A reading
        of a cancelled sheet, or of a personal sheet in another cycle, is kept rejected
        (its outcome and reasons are changed in `reading`)."""
        page_no = pages_total = None
        if reading.page:
            first, _, last = reading.page.partition("/")
            page_no, pages_total = int(first), int(last)
        with self.write() as db:
            if reading.outcome != REJECTED and reading.serial:
                refusal = issue_store.reading_refusal(db, reading.serial, reading.cycle_id)
                if refusal is not None:
                    # Told back through the reading itself, as the review core does for a
                    # foreign serial: the caller reports what was kept.
                    reading.outcome, reading.reasons, reading.selections = REJECTED, [refusal], []
            cursor = db.execute(
                "INSERT OR IGNORE INTO pages (image_sha256, page_index, file, read_at_ms, serial, page_no,"
                " pages_total, cycle_id, outcome, reasons_json, boxes_json, preview)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    reading.image_sha256,
                    reading.page_index,
                    reading.file[:1000],
                    now_ms,
                    reading.serial,
                    page_no,
                    pages_total,
                    reading.cycle_id,
                    reading.outcome,
                    json.dumps(reading.reasons),
                    json.dumps([b.to_json() for b in reading.boxes]),
                    preview,
                ),
            )
            if cursor.rowcount == 0:
                return None
            page_id = cursor.lastrowid
            assert page_id is not None  # the row was inserted
            db.executemany(
                "INSERT INTO crops VALUES (?, ?, ?)",
                [(page_id, pid, png) for pid, png in reading.crops.items()],
            )
            if reading.outcome != REJECTED and reading.serial and reading.cycle_id is not None:
                db.execute(
                    "INSERT OR IGNORE INTO sheets (cycle_id, serial, pages_total, first_seen_ms, state)"
                    " VALUES (?, ?, ?, ?, 'review')",
                    (reading.cycle_id, reading.serial, pages_total or 1, now_ms),
                )
            return self.page(page_id)

    def page(self, page_id: int) -> StoredPage | None:
        row = self._db().execute(f"SELECT {_PAGE_COLUMNS} FROM pages WHERE id = ?", (page_id,)).fetchone()
        return _page(row) if row else None

    def pages_of(self, cycle_id: int, serial: str) -> list[StoredPage]:
        """The sheet's page readings that can count (not rejected), oldest first."""
        rows = self._db().execute(
            f"SELECT {_PAGE_COLUMNS} FROM pages WHERE cycle_id = ? AND serial = ? AND outcome != ?"
            " ORDER BY page_no, id",
            (cycle_id, serial, REJECTED),
        )
        return [_page(row) for row in rows]

    def preview(self, page_id: int) -> bytes | None:
        row = self._db().execute("SELECT preview FROM pages WHERE id = ?", (page_id,)).fetchone()
        return row[0] if row else None

    def crop(self, page_id: int, project_id: int) -> bytes | None:
        row = (
            self._db()
            .execute("SELECT png FROM crops WHERE page_id = ? AND project_id = ?", (page_id, project_id))
            .fetchone()
        )
        return row[0] if row else None

    def cropped_boxes(self, page_ids: Iterable[int]) -> set[tuple[int, int]]:
        """(page id, project id) of every kept crop of these pages: the review page shows
        a zoomed picture only where one exists, never a broken image."""
        ids = list(page_ids)
        if not ids:
            return set()
        marks = ", ".join("?" * len(ids))
        rows = self._db().execute(f"SELECT page_id, project_id FROM crops WHERE page_id IN ({marks})", ids)
        return {(page_id, project_id) for page_id, project_id in rows}

    def page_count(self) -> int:
        count: int = self._db().execute("SELECT COUNT(*) FROM pages").fetchone()[0]
        return count

    # --- sheets ----------------------------------------------------------------------

    def sheet(self, cycle_id: int, serial: str) -> SheetRow | None:
        row = (
            self._db()
            .execute(
                f"SELECT {_SHEET_COLUMNS} FROM sheets WHERE cycle_id = ? AND serial = ?", (cycle_id, serial)
            )
            .fetchone()
        )
        return _sheet(row) if row else None

    def sheets(self, state: str | None = None) -> list[SheetRow]:
        """Sheets in `state` (all when None), oldest first: the review queue's order."""
        where, params = ("WHERE state = ?", (state,)) if state else ("", ())
        rows = self._db().execute(
            f"SELECT {_SHEET_COLUMNS} FROM sheets {where} ORDER BY first_seen_ms, serial", params
        )
        return [_sheet(row) for row in rows]

    def counts(self) -> dict[str, int]:
        found = dict(self._db().execute("SELECT state, COUNT(*) FROM sheets GROUP BY state"))
        return {state: found.get(state, 0) for state in SHEET_STATES}

    def save_state(
        self,
        cycle_id: int,
        serial: str,
        state: str,
        reasons: Iterable[str],
        selections: Iterable[int],
        ready_at_ms: int | None,
    ) -> None:
        with self.write() as db:
            db.execute(
                "UPDATE sheets SET state = ?, reasons_json = ?, selections_json = ?, ready_at_ms = ?"
                " WHERE cycle_id = ? AND serial = ? AND state != 'committed'",
                (
                    state,
                    json.dumps(list(reasons)),
                    json.dumps(sorted(selections)),
                    ready_at_ms,
                    cycle_id,
                    serial,
                ),
            )

    def mark_committed(self, votes: Iterable[tuple[int, str, str]], now_ms: int) -> None:
        """Mark (cycle id, serial, vote id) sheets committed, all in one transaction."""
        with self.write() as db:
            db.executemany(
                "UPDATE sheets SET state = 'committed', vote_id = ?, committed_at_ms = ?"
                " WHERE cycle_id = ? AND serial = ? AND state = 'ready'",
                [(vote_id, now_ms, cycle_id, serial) for cycle_id, serial, vote_id in votes],
            )

    # --- decisions -------------------------------------------------------------------

    def decisions(self, cycle_id: int, serial: str) -> list[Decision]:
        rows = self._db().execute(
            "SELECT id, cycle_id, serial, kind, page_id, page_no, project_id, verdict, reason, operator,"
            " decided_at_ms, replaces FROM decisions WHERE cycle_id = ? AND serial = ? ORDER BY id",
            (cycle_id, serial),
        )
        return [Decision(*row) for row in rows]

    def add_decision(
        self,
        cycle_id: int,
        serial: str,
        kind: str,
        *,
        operator: str,
        now_ms: int,
        page_id: int | None = None,
        page_no: int | None = None,
        project_id: int | None = None,
        verdict: str | None = None,
        reason: str | None = None,
        replaces: int | None = None,
    ) -> int:
        if kind not in DECISION_KINDS:
            raise ValueError(f"decision kind {kind!r} is not one of {DECISION_KINDS}")
        with self.write() as db:
            cursor = db.execute(
                "INSERT INTO decisions (cycle_id, serial, kind, page_id, page_no, project_id, verdict,"
                " reason, operator, decided_at_ms, replaces) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cycle_id,
                    serial,
                    kind,
                    page_id,
                    page_no,
                    project_id,
                    verdict,
                    reason,
                    operator,
                    now_ms,
                    replaces,
                ),
            )
            assert cursor.lastrowid is not None  # the row was inserted
            return cursor.lastrowid
