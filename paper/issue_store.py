"""The support point's serial ledger, kept in the sheet store's file (`<store>.sheets.db`).

Two tables, both append-only in spirit:

- `serial_book`: every range of serials ever handed out, blank sheets printed in bulk
  and personal sheets issued one by one alike. The next serial is always past the
  highest one the book, the issues or any kept reading has ever seen, so a serial is
  never handed out twice, whatever hands it out. Rows are never changed or deleted
  (triggers refuse it).
- `issued_sheets`: which voter key received which serial for which cycle, who issued it
  and when; a spoiled sheet's cancellation (when, why, by whom) and the serial that
  replaced it. The facts of an issue never change; the cancellation is written once;
  nothing is deleted (triggers again). At most one live (not cancelled) sheet per voter
  key and cycle: a unique index, so two operators issuing at once cannot both succeed.

Voter keys only (64 hex, the keyed hash of the resident's identifier): no document or
card number is ever written here.

The functions take the SheetStore and join its transaction (SheetStore.write), so the
issue core can check, allocate and record in one BEGIN IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paper.serials import MAX_NUMBER, SerialError

if TYPE_CHECKING:
    import sqlite3

    from paper.sheet_store import SheetStore

__all__ = [
    "SCHEMA",
    "IssuedSheet",
    "hand_out_serials",
    "issued_for",
    "issued_sheet",
    "issued_since",
    "live_sheet",
    "mark_cancelled",
    "reading_refusal",
    "record_issue",
]

PURPOSES = ("blank", "personal")

SCHEMA = """
CREATE TABLE IF NOT EXISTS serial_book (
    id INTEGER PRIMARY KEY,
    prefix TEXT NOT NULL,                 -- the support point's serial prefix, "S0001"
    first_number INTEGER NOT NULL CHECK (first_number >= 1),
    last_number INTEGER NOT NULL CHECK (last_number >= first_number AND last_number <= 999999),
    purpose TEXT NOT NULL CHECK (purpose IN ('blank', 'personal')),
    cycle_id INTEGER NOT NULL,
    handed_at_ms INTEGER NOT NULL,
    handed_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS serial_book_by_prefix ON serial_book (prefix, last_number);
CREATE TRIGGER IF NOT EXISTS serial_book_is_never_rewritten BEFORE UPDATE ON serial_book
BEGIN SELECT RAISE(ABORT, 'the serial book is append-only'); END;
CREATE TRIGGER IF NOT EXISTS serial_book_is_never_deleted BEFORE DELETE ON serial_book
BEGIN SELECT RAISE(ABORT, 'the serial book is append-only'); END;

CREATE TABLE IF NOT EXISTS issued_sheets (
    serial TEXT PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    voter_key TEXT NOT NULL CHECK (length(voter_key) = 64 AND voter_key NOT GLOB '*[^0-9a-f]*'),
    issued_at_ms INTEGER NOT NULL,        -- server-corrected
    issued_by TEXT NOT NULL,              -- the operator's name as typed at sign-in, or "cli"
    cancelled_at_ms INTEGER,
    cancel_reason TEXT,
    cancelled_by TEXT,
    -- Checked at commit: a reissue cancels the old sheet before the new row exists.
    replaced_by TEXT REFERENCES issued_sheets (serial) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT issued_sheets_cancelled_whole CHECK (
        (cancelled_at_ms IS NULL) = (cancel_reason IS NULL)
        AND (cancelled_at_ms IS NULL) = (cancelled_by IS NULL)
    ),
    CONSTRAINT issued_sheets_replaced_when_cancelled
        CHECK (replaced_by IS NULL OR cancelled_at_ms IS NOT NULL)
);
CREATE UNIQUE INDEX IF NOT EXISTS issued_sheets_one_live_per_voter
    ON issued_sheets (cycle_id, voter_key) WHERE cancelled_at_ms IS NULL;
CREATE INDEX IF NOT EXISTS issued_sheets_by_time ON issued_sheets (issued_at_ms);
CREATE TRIGGER IF NOT EXISTS issued_sheets_are_never_deleted BEFORE DELETE ON issued_sheets
BEGIN SELECT RAISE(ABORT, 'issued sheets are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS issued_sheets_keep_their_facts BEFORE UPDATE ON issued_sheets
WHEN NEW.serial IS NOT OLD.serial OR NEW.cycle_id IS NOT OLD.cycle_id
  OR NEW.voter_key IS NOT OLD.voter_key OR NEW.issued_at_ms IS NOT OLD.issued_at_ms
  OR NEW.issued_by IS NOT OLD.issued_by
  OR (OLD.cancelled_at_ms IS NOT NULL AND (NEW.cancelled_at_ms IS NOT OLD.cancelled_at_ms
      OR NEW.cancel_reason IS NOT OLD.cancel_reason OR NEW.cancelled_by IS NOT OLD.cancelled_by))
  OR (OLD.replaced_by IS NOT NULL AND NEW.replaced_by IS NOT OLD.replaced_by)
BEGIN SELECT RAISE(ABORT, 'an issue is recorded once and cancelled at most once'); END;
"""

_COLUMNS = (
    "serial, cycle_id, voter_key, issued_at_ms, issued_by, cancelled_at_ms, cancel_reason, cancelled_by,"
    " replaced_by"
)


@dataclass(frozen=True, slots=True)
class IssuedSheet:
    serial: str
    cycle_id: int
    voter_key: str
    issued_at_ms: int
    issued_by: str
    cancelled_at_ms: int | None
    cancel_reason: str | None
    cancelled_by: str | None
    replaced_by: str | None

    @property
    def live(self) -> bool:
        return self.cancelled_at_ms is None


def _rows(store: SheetStore, sql: str, params: tuple[Any, ...] = ()) -> list[IssuedSheet]:
    return [IssuedSheet(*row) for row in store.query(f"SELECT {_COLUMNS} FROM issued_sheets {sql}", params)]


def issued_sheet(store: SheetStore, serial: str) -> IssuedSheet | None:
    found = _rows(store, "WHERE serial = ?", (serial,))
    return found[0] if found else None


def live_sheet(store: SheetStore, cycle_id: int, voter_key: str) -> IssuedSheet | None:
    """The sheet this voter holds in this cycle and that is not cancelled, if any."""
    found = _rows(
        store, "WHERE cycle_id = ? AND voter_key = ? AND cancelled_at_ms IS NULL", (cycle_id, voter_key)
    )
    return found[0] if found else None


def issued_since(store: SheetStore, since_ms: int) -> list[IssuedSheet]:
    """Sheets issued at or after `since_ms`, newest first (the operator's list of today)."""
    return _rows(store, "WHERE issued_at_ms >= ? ORDER BY issued_at_ms DESC, serial DESC", (since_ms,))


def issued_for(store: SheetStore, serials: Iterable[str]) -> dict[str, IssuedSheet]:
    """The issue records of those of `serials` that were issued personally."""
    wanted = list(dict.fromkeys(serials))
    found: dict[str, IssuedSheet] = {}
    for start in range(0, len(wanted), 500):  # well under SQLite's bound-parameter limit
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update((s.serial, s) for s in _rows(store, f"WHERE serial IN ({marks})", tuple(chunk)))
    return found


def reading_refusal(db: sqlite3.Connection, serial: str, cycle_id: int | None) -> str | None:
    """Why a page reading of `serial` must be rejected because of how it was issued (a
    reason code), or None: a cancelled sheet never counts, and a personal sheet counts
    only in the cycle it was issued for. Called by SheetStore.add_reading inside its
    transaction, so a cancellation and a reading of the same sheet never cross."""
    row = db.execute(
        "SELECT cycle_id, cancelled_at_ms FROM issued_sheets WHERE serial = ?", (serial,)
    ).fetchone()
    if row is None:
        return None  # a blank sheet: it counts once per serial, as before
    if row[1] is not None:
        return "sheet.cancelled"
    return "sheet.wrong_cycle" if row[0] != cycle_id else None


def _highest_seen(db: sqlite3.Connection, prefix: str) -> int:
    """The highest number of `prefix` any table has seen. Serials are fixed width, so
    within one prefix the greatest text is the greatest number; "." sorts right after
    "-", which bounds the prefix's range for the indexes."""
    low, high = f"{prefix}-", f"{prefix}."
    number = "max(CAST(substr(serial, -6) AS INTEGER))"
    highest = db.execute(
        "SELECT max(n) FROM ("
        " SELECT max(last_number) AS n FROM serial_book WHERE prefix = ?"
        f" UNION ALL SELECT {number} FROM issued_sheets WHERE serial >= ? AND serial < ?"
        f" UNION ALL SELECT {number} FROM pages WHERE serial >= ? AND serial < ?"
        f" UNION ALL SELECT {number} FROM sheets WHERE serial >= ? AND serial < ?"
        ")",
        (prefix, low, high, low, high, low, high),
    ).fetchone()[0]
    return int(highest or 0)


def _overlaps(db: sqlite3.Connection, prefix: str, first: int, last: int) -> bool:
    low, high = f"{prefix}-{first:06d}", f"{prefix}-{last:06d}"
    return (
        db.execute(
            "SELECT 1 FROM serial_book WHERE prefix = ? AND first_number <= ? AND last_number >= ?"
            " UNION ALL SELECT 1 FROM issued_sheets WHERE serial BETWEEN ? AND ?"
            " UNION ALL SELECT 1 FROM pages WHERE serial BETWEEN ? AND ?"
            " LIMIT 1",
            (prefix, last, first, low, high, low, high),
        ).fetchone()
        is not None
    )


def hand_out_serials(
    store: SheetStore,
    prefix: str,
    count: int,
    *,
    purpose: str,
    cycle_id: int,
    by: str,
    now_ms: int,
    first: int | None = None,
) -> list[str]:
    """Record and return `count` serials of `prefix` never handed out before: the next
    ones, or from `first` when a person asked for those (SerialError
    "issue.serials_used" when any of them was handed out or seen before, and
    "issue.serials_exhausted" past S….-999999)."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r} is not one of {PURPOSES}")
    if type(count) is not int or count < 1:
        raise SerialError("ballots.count", f"count {count!r:.20} is not positive")
    with store.write() as db:
        if first is None:
            first = _highest_seen(db, prefix) + 1
            if first + count - 1 > MAX_NUMBER:
                raise SerialError("issue.serials_exhausted", f"{prefix}-{first:06d}+{count}")
        else:
            if type(first) is not int or first < 1 or first + count - 1 > MAX_NUMBER:
                raise SerialError("ballots.first", f"sheets {first!r:.20}+{count} leave 1…{MAX_NUMBER}")
            if _overlaps(db, prefix, first, first + count - 1):
                raise SerialError("issue.serials_used", f"{prefix}-{first:06d}+{count}")
        db.execute(
            "INSERT INTO serial_book (prefix, first_number, last_number, purpose, cycle_id, handed_at_ms,"
            " handed_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (prefix, first, first + count - 1, purpose, cycle_id, now_ms, by),
        )
    return [f"{prefix}-{n:06d}" for n in range(first, first + count)]


def record_issue(
    store: SheetStore, serial: str, cycle_id: int, voter_key: str, *, by: str, now_ms: int
) -> IssuedSheet:
    with store.write() as db:
        db.execute(
            "INSERT INTO issued_sheets (serial, cycle_id, voter_key, issued_at_ms, issued_by)"
            " VALUES (?, ?, ?, ?, ?)",
            (serial, cycle_id, voter_key, now_ms, by),
        )
    found = issued_sheet(store, serial)
    assert found is not None
    return found


def mark_cancelled(
    store: SheetStore, serial: str, *, reason: str, by: str, now_ms: int, replaced_by: str | None = None
) -> None:
    """Cancel a live sheet, once (the caller checked that it may be cancelled)."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE issued_sheets SET cancelled_at_ms = ?, cancel_reason = ?, cancelled_by = ?,"
            " replaced_by = ? WHERE serial = ? AND cancelled_at_ms IS NULL",
            (now_ms, reason, by, replaced_by, serial),
        )
        if cursor.rowcount != 1:
            raise SerialError("issue.already_cancelled", serial)
