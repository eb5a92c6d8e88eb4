"""Offline transfer: a terminal that never gets a network hands its votes over on a USB
stick, as a *bundle* file that the server imports through the same checks as a push.

A bundle is an SQLite file (stdlib sqlite3) with two tables:

- `meta`, one row: format version, device code and kind, community, when the bundle was
  made (by the device's clock), first and last seq, entry count, the last entry's hash,
  and the device's signature over all of these;
- `batch`, consecutive signed batches (log_batches.make_batch with the device key, at most
  MAX_BATCH_ENTRIES entries each) from the device's acknowledged position + 1 to its
  last entry.

Each batch carries its own checkpoint signature, so the server verifies it exactly as
it verifies a push; the meta signature vouches for the summary a person sees before
anything is imported. The device never learns what an imported bundle delivered, so the
next bundle starts from the same place again: overlaps are expected and harmless.

Writing streams (one batch in memory at a time) into a temporary file beside the target,
renamed only once it is whole and on disk, so a USB stick pulled out early never leaves
half a bundle under the final name. Reading, for files from anywhere, is
sync.bundle_reader.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import log_batches, signing, wire
from sync.clock import Clock, iso_from_ms, system_clock_ms
from sync.device_store import DeviceStore

__all__ = [
    "APPLICATION_ID",
    "BUNDLE_FORMAT",
    "COLUMNS",
    "MAX_BATCH_BYTES",
    "BundleError",
    "BundleMeta",
    "ExportedBundle",
    "export_bundle",
]

BUNDLE_FORMAT = 1
# "SPLB" in the file header: tells a bundle from any other SQLite file at a glance.
APPLICATION_ID = 0x53504C42
# A batch too big to push over HTTP (the server takes 2 MB a request) is too big to
# import; 500 entries stay under 1 MB (sync.log_batches).
MAX_BATCH_BYTES = 2 * 1024 * 1024

_SCHEMA = """
CREATE TABLE meta (
    format INTEGER NOT NULL,
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    community_id INTEGER NOT NULL,
    community_slug TEXT NOT NULL,
    created_at TEXT NOT NULL,  -- ISO 8601 UTC by the device's clock, for people
    created_at_ms INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    entry_count INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    signature TEXT NOT NULL  -- the device's Ed25519 signature over BundleMeta.signed_bytes()
);
CREATE TABLE batch (
    number INTEGER PRIMARY KEY,  -- 1, 2, 3... in log order
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    batch_json TEXT NOT NULL  -- canonical JSON of log_batches.make_batch(...)
);
"""
COLUMNS = {
    "meta": [
        "format",
        "device",
        "kind",
        "community_id",
        "community_slug",
        "created_at",
        "created_at_ms",
        "first_seq",
        "last_seq",
        "entry_count",
        "last_hash",
        "signature",
    ],
    "batch": ["number", "first_seq", "last_seq", "batch_json"],
}


class BundleError(ValueError):
    """A bundle cannot be made or read. `code` names the rule broken; `batch` the
    bundle's batch number when one batch is at fault."""

    def __init__(self, code: str, detail: str = "", batch: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.batch = batch


@dataclass(frozen=True, slots=True)
class BundleMeta:
    format: int
    device: str
    kind: str
    community_id: int
    community_slug: str
    created_at_ms: int  # by the device's clock, which may be off
    first_seq: int
    last_seq: int
    entry_count: int
    last_hash: str
    signature: str

    @property
    def created_at(self) -> str:
        return iso_from_ms(self.created_at_ms) or ""

    def signed_bytes(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k not in ("format", "signature")}
        return wire.canonical_json({"bundle": self.format, **fields})


@dataclass(frozen=True, slots=True)
class ExportedBundle:
    path: Path
    meta: BundleMeta
    batch_count: int
    size_bytes: int


# --- writing (on the device) ----------------------------------------------------------


def export_bundle(
    store: DeviceStore,
    out: str | os.PathLike[str],
    *,
    clock: Clock = system_clock_ms,
    batch_size: int = log_batches.MAX_BATCH_ENTRIES,
) -> ExportedBundle:
    """Write every entry after the device's acknowledged position into a signed bundle
    at `out` (replacing a file there only once the new one is complete)."""
    if not 1 <= batch_size <= log_batches.MAX_BATCH_ENTRIES:
        raise ValueError(f"batch_size must be 1..{log_batches.MAX_BATCH_ENTRIES}, not {batch_size}")
    identity = store.require_identity()
    key = store.private_key()
    # Votes cast while we write go into the next bundle: the range is fixed up front.
    first, last = store.acked_seq() + 1, store.last_seq()
    if first > last:
        raise BundleError("bundle.nothing_to_export", f"every entry up to {last} is acknowledged")
    out = Path(out)
    handle, temp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    os.close(handle)
    temp = Path(temp_name)
    try:
        db = sqlite3.connect(temp, isolation_level=None)
        try:
            # Nothing to roll back to in a file nobody sees until the rename, and one
            # fsync of the whole file below instead of one per page.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.executescript(_SCHEMA)
            db.execute("BEGIN")
            count, last_hash = _write_batches(db, store, key, identity.device, first, last, batch_size)
            created_at_ms = clock()
            unsigned = BundleMeta(
                BUNDLE_FORMAT,
                identity.device,
                identity.kind,
                identity.community_id,
                identity.community_slug,
                created_at_ms,
                first,
                last,
                last - first + 1,
                last_hash,
                "",
            )
            meta = replace(unsigned, signature=signing.sign(key, unsigned.signed_bytes()))
            db.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _meta_row(meta))
            db.execute("COMMIT")
        finally:
            db.close()
        _fsync(temp)
        os.replace(temp, out)
        _fsync_directory(out.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return ExportedBundle(out, meta, count, out.stat().st_size)


def _write_batches(
    db: sqlite3.Connection,
    store: DeviceStore,
    key: Ed25519PrivateKey,
    device: str,
    first: int,
    last: int,
    batch_size: int,
) -> tuple[int, str]:
    """Sign and insert batches first..last, reading one batch of entries at a time."""
    number, seq, last_hash = 0, first, ""
    while seq <= last:
        entries = store.entries_from(seq, min(batch_size, last - seq + 1))
        if not entries or entries[0].seq != seq:
            raise BundleError("bundle.log_gap", f"entry {seq} is missing from the device log")
        store.damaged_entries(entries, system_clock_ms())
        batch = log_batches.make_batch(key, device, entries)
        # Votes of up to 1 000 selections: 500 of them can be over what a reader takes.
        while len(wire.canonical_json(batch)) > MAX_BATCH_BYTES and len(entries) > 1:
            entries = entries[: len(entries) // 2]
            batch = log_batches.make_batch(key, device, entries)
        number += 1
        db.execute(
            "INSERT INTO batch VALUES (?, ?, ?, ?)",
            (number, entries[0].seq, entries[-1].seq, wire.canonical_json(batch).decode()),
        )
        seq, last_hash = entries[-1].seq + 1, batch["checkpoint"]["hash"]
    return number, last_hash


def _meta_row(meta: BundleMeta) -> tuple[object, ...]:
    values = asdict(meta)
    values["created_at"] = meta.created_at
    return tuple(values[name] for name in COLUMNS["meta"])


def _fsync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path: Path) -> None:
    # Makes the rename itself durable; some file systems (FAT on Windows) cannot open a
    # directory, and there the rename is as durable as it gets.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
