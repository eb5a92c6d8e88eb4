"""Reading a bundle (sync.bundle) that may come from anywhere: a stick found in a
drawer, a file someone edited, a photo copied by mistake. Nothing in it is used before
the file as a whole has been checked:

- it starts with the SQLite header (an empty file would otherwise open as an empty
  database) and passes SQLite's own integrity check, so a truncated copy is refused;
- it is opened read-only and immutable, so a write-protected stick is never touched;
- `meta` and `batch` are plain tables of exactly the expected columns (a view or a
  generated column would run the file author's query), with one meta row whose fields
  agree with each other;
- the batches are numbered 1..n and cover the meta's entries with no hole, each a text
  no longer than a batch can be (SQLite itself refuses to load longer values);
- each batch is parsed as strict JSON (no duplicate keys, no NaN) one at a time.

The signatures are checked by whoever knows the device's key: the server.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from sync import log_batches, wire
from sync.bundle import APPLICATION_ID, BUNDLE_FORMAT, COLUMNS, MAX_BATCH_BYTES, BundleError, BundleMeta
from sync.store_identity import DEVICE_KINDS

__all__ = ["BundleReader", "StoredBatch", "open_bundle"]

SQLITE_HEADER = b"SQLite format 3\x00"
_MAX_INT = 2**62


class StoredBatch(NamedTuple):
    number: int
    first_seq: int
    last_seq: int
    data: Any  # the batch as parsed JSON; log_batches.read_batch and the server judge it


def open_bundle(path: str | os.PathLike[str]) -> BundleReader:
    """A bundle opened read-only and checked as far as it can be without the device's
    key (BundleError otherwise). Use it as a context manager."""
    return BundleReader(Path(path))


class BundleReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise BundleError("bundle.not_sqlite", f"{path.name} is not an SQLite file")
        # immutable: no locks and no journal are read or written, so the file (perhaps
        # on a stick that is write-protected) is never touched.
        self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            self._db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_BATCH_BYTES + 64 * 1024)
            self._db.execute("PRAGMA trusted_schema = OFF")
            self.meta, self.batch_count = self._guarded(self._check)
        except BaseException:
            self._db.close()
            raise

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def batches(self) -> Iterator[StoredBatch]:
        """The batches in order, one in memory at a time. BundleError at a batch that
        cannot be read; the caller stops there."""
        for number in range(1, self.batch_count + 1):
            row = self._guarded(
                lambda n=number: self._db.execute(
                    "SELECT first_seq, last_seq, batch_json FROM batch WHERE number = ?", (n,)
                ).fetchone(),
                batch=number,
            )
            first, last, text = row
            data = _strict_json(text, number)
            if not _index_matches(data, first, last):
                raise BundleError("bundle.index", f"batch {number} is not entries {first}..{last}", number)
            yield StoredBatch(number, first, last, data)

    # --- checks ------------------------------------------------------------------------

    def _guarded(self, read: Callable[..., Any], batch: int | None = None) -> Any:
        try:
            return read()
        except sqlite3.DataError:  # SQLITE_TOOBIG: a value beyond the length limit
            raise BundleError("bundle.row_too_large", "a row is larger than a batch can be", batch) from None
        except sqlite3.Error as error:
            raise BundleError("bundle.damaged", str(error), batch) from None

    def _check(self) -> tuple[BundleMeta, int]:
        db = self._db
        # A truncated or damaged file is refused before anything from it is used.
        if db.execute("PRAGMA quick_check(1)").fetchone() != ("ok",):
            raise BundleError("bundle.damaged", "the SQLite integrity check failed")
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise BundleError("bundle.not_a_bundle", "the file is SQLite but not a Spilno bundle")
        for table, columns in COLUMNS.items():
            kind = db.execute(
                "SELECT type FROM pragma_table_list WHERE schema = 'main' AND name = ?", (table,)
            ).fetchone()
            # Only a plain table: a view or virtual table would run someone else's query.
            found = [(r[1], r[6]) for r in db.execute(f"PRAGMA table_xinfo({table})")]
            if kind != ("table",) or found != [(c, 0) for c in columns]:
                raise BundleError("bundle.not_a_bundle", f"table {table} is missing or of another shape")
        meta = _read_meta(db)
        return meta, _check_index(db, meta)


def _read_meta(db: sqlite3.Connection) -> BundleMeta:
    rows = db.execute(f"SELECT {', '.join(COLUMNS['meta'])} FROM meta LIMIT 2").fetchall()
    if len(rows) != 1:
        raise BundleError("bundle.meta", f"meta holds {len(rows)} rows, not one")
    values = dict(zip(COLUMNS["meta"], rows[0], strict=True))
    if values["format"] != BUNDLE_FORMAT:
        raise BundleError("bundle.format", f"format {values['format']!r}, this reader knows {BUNDLE_FORMAT}")
    created_at = values.pop("created_at")
    meta = BundleMeta(**values)
    ints = (meta.community_id, meta.created_at_ms, meta.first_seq, meta.last_seq, meta.entry_count)
    if not (
        isinstance(meta.device, str)
        and wire.DEVICE_CODE.fullmatch(meta.device)
        and meta.kind in DEVICE_KINDS
        and isinstance(meta.community_slug, str)
        and len(meta.community_slug) <= 200
        and all(type(v) is int and 0 <= v < _MAX_INT for v in ints)
        and 1 <= meta.first_seq <= meta.last_seq
        and meta.entry_count == meta.last_seq - meta.first_seq + 1
        and isinstance(meta.last_hash, str)
        and wire.HEX64.fullmatch(meta.last_hash)
        and isinstance(meta.signature, str)
        and len(meta.signature) <= 200
        and created_at == meta.created_at
    ):
        raise BundleError("bundle.meta", "a meta field is missing, of the wrong type or inconsistent")
    return meta


def _check_index(db: sqlite3.Connection, meta: BundleMeta) -> int:
    """The batches must be numbered 1..n and cover first_seq..last_seq exactly, each a
    text small enough to be a batch. Checked for all before any is imported, so a file
    with a batch missing is refused whole. Returns n."""
    expected_number, expected_seq = 1, meta.first_seq
    rows = db.execute(
        "SELECT number, first_seq, last_seq, typeof(batch_json), length(batch_json)"
        " FROM batch ORDER BY number"
    )
    for number, first, last, value_type, length in rows:
        if (
            number != expected_number
            or first != expected_seq
            or type(last) is not int
            or not first <= last < first + log_batches.MAX_BATCH_ENTRIES
            or last > meta.last_seq
        ):
            raise BundleError("bundle.index", f"batch {number} does not continue the one before", number)
        if value_type != "text" or length > MAX_BATCH_BYTES:
            raise BundleError("bundle.row_too_large", f"batch {number} is not a batch-sized text", number)
        expected_number, expected_seq = number + 1, last + 1
    if expected_seq != meta.last_seq + 1:
        raise BundleError("bundle.index", f"the batches end before entry {meta.last_seq}")
    return expected_number - 1


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"seq": 1, "seq": 2} reads differently in different parsers; the hash would not
    # say which one the device meant.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_json(text: str, number: int) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    # ValueError: bad syntax, huge integers; RecursionError: hostile nesting.
    except (ValueError, RecursionError):
        raise BundleError("bundle.batch_json", f"batch {number} is not valid JSON", number) from None


def _index_matches(data: Any, first: int, last: int) -> bool:
    """Whether a batch holds the entries its row says (the row's numbers are not signed,
    and the report counts by them). Malformed batches pass here: the protocol judges them."""
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        return True
    if not isinstance(entries[0], dict) or not isinstance(entries[-1], dict):
        return True
    return (entries[0].get("seq"), entries[-1].get("seq"), len(entries)) == (first, last, last - first + 1)
