"""The device log's entries: entry k carries the hash of entry k-1, so the log is a
chain; an entry the device can no longer read travels as a DamagedEntry in its place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sync.wire import DEVICE_CODE, HEX64, ProtocolError, canonical_json, sha256_hex

# sync.log_records reads what each kind carries.
ENTRY_KINDS = frozenset({"vote", "poll_answer"})
ENTRY_KEYS = frozenset(
    {"device", "seq", "kind", "payload", "package_version", "clock_offset_ms", "prev_hash"}
)


def _json_string(value: str) -> bytes:
    # What canonical_json writes for a string (json.dumps with ensure_ascii uses this).
    return json.encoder.encode_basestring_ascii(value).encode()


def genesis_hash(device_code: str) -> str:
    """What the first entry of a device's log points back to."""
    return sha256_hex(b"spilno/device-log/v1/" + device_code.encode())


@dataclass(frozen=True)
class LogEntry:
    device: str
    seq: int  # 1, 2, 3... per device, no gaps
    kind: str  # "vote" or "poll_answer"
    payload: dict[str, Any]  # VoteRecord.canonical_body() or PollAnswerRecord.canonical_body()
    package_version: int  # the package the vote was cast under
    clock_offset_ms: int  # device clock minus server clock, as last learned (0 if never)
    prev_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "seq": self.seq,
            "kind": self.kind,
            "payload": self.payload,
            "package_version": self.package_version,
            "clock_offset_ms": self.clock_offset_ms,
            "prev_hash": self.prev_hash,
        }

    def entry_hash(self) -> str:
        # Computed once per entry: a batch is checked against its checkpoint, its chain
        # and the stored rows, and canonical JSON is most of the server's work per vote.
        # Entries are frozen; their payload must not be changed after hashing either.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = sha256_hex(self.canonical_bytes())
            object.__setattr__(self, "_hash", cached)
        return cached

    def payload_bytes(self) -> bytes:
        """canonical_json(self.payload), encoded once per entry: the entry's own hash
        covers it, and the server stores it and hashes the vote record from it."""
        cached = self.__dict__.get("_payload_bytes")
        if cached is None:
            cached = canonical_json(self.payload)
            object.__setattr__(self, "_payload_bytes", cached)
        return cached

    def canonical_bytes(self) -> bytes:
        """canonical_json(self.as_dict()), byte for byte, around the payload's text as
        payload_bytes() encoded it (sorted keys: the payload sits between
        package_version and prev_hash), instead of encoding the payload a second time.
        Fields of other types than a received entry can have take the plain way."""
        seq, version, offset = self.seq, self.package_version, self.clock_offset_ms
        device, kind, prev_hash = self.device, self.kind, self.prev_hash
        if not (
            type(seq) is int
            and type(version) is int
            and type(offset) is int
            and type(device) is str
            and type(kind) is str
            and type(prev_hash) is str
        ):
            return canonical_json(self.as_dict())
        return b"".join(
            (
                b'{"clock_offset_ms":',
                str(offset).encode(),
                b',"device":',
                _json_string(device),
                b',"kind":',
                _json_string(kind),
                b',"package_version":',
                str(version).encode(),
                b',"payload":',
                self.payload_bytes(),
                b',"prev_hash":',
                _json_string(prev_hash),
                b',"seq":',
                str(seq).encode(),
                b"}",
            )
        )

    @classmethod
    def from_dict(cls, data: Any) -> LogEntry:
        """Read an entry as received, refusing anything malformed (ProtocolError)."""
        if not isinstance(data, dict) or set(data) != ENTRY_KEYS:
            raise ProtocolError("entry.shape")
        device, seq, kind = data["device"], data["seq"], data["kind"]
        if not isinstance(device, str) or not DEVICE_CODE.fullmatch(device):
            raise ProtocolError("entry.device")
        if type(seq) is not int or not 1 <= seq < 2**62:
            raise ProtocolError("entry.seq")
        if kind not in ENTRY_KINDS:
            raise ProtocolError("entry.kind")
        if not isinstance(data["payload"], dict):
            raise ProtocolError("entry.payload")
        version, offset = data["package_version"], data["clock_offset_ms"]
        if type(version) is not int or not 0 <= version < 2**31:
            raise ProtocolError("entry.package_version")
        if type(offset) is not int or abs(offset) > 10 * 365 * 24 * 3600 * 1000:
            raise ProtocolError("entry.clock_offset_ms")
        if not isinstance(data["prev_hash"], str) or not HEX64.fullmatch(data["prev_hash"]):
            raise ProtocolError("entry.prev_hash")
        return cls(device, seq, kind, data["payload"], version, offset, data["prev_hash"])


MAX_EVIDENCE_CHARS = 20_000  # far above an honest entry (about 1 KB); bounds a hostile one


@dataclass(frozen=True)
class DamagedEntry:
    """An entry the device can no longer read as it wrote it (a damaged disk sector, a
    changed byte): sent in its place so the intact entries after it still link. It
    carries the hash the entry had when written (the one the next entry points back
    to, and what the signed checkpoint covers) and what is left of its text as
    evidence. It is never counted; the server keeps it and raises an alarm."""

    device: str
    seq: int
    recorded_hash: str
    evidence: str
    kind: str = "damaged"

    @property
    def prev_hash(self) -> None:
        return None  # unknown: the link into a damaged entry cannot be checked

    def entry_hash(self) -> str:
        return self.recorded_hash

    def as_dict(self) -> dict[str, Any]:
        return {
            "damaged": {
                "device": self.device,
                "seq": self.seq,
                "hash": self.recorded_hash,
                "evidence": self.evidence,
            }
        }

    @classmethod
    def from_dict(cls, data: Any) -> DamagedEntry:
        inner = data.get("damaged") if isinstance(data, dict) and set(data) == {"damaged"} else None
        if not isinstance(inner, dict) or set(inner) != {"device", "seq", "hash", "evidence"}:
            raise ProtocolError("entry.shape")
        device, seq, recorded, evidence = inner["device"], inner["seq"], inner["hash"], inner["evidence"]
        if not isinstance(device, str) or not DEVICE_CODE.fullmatch(device):
            raise ProtocolError("entry.device")
        if type(seq) is not int or not 1 <= seq < 2**62:
            raise ProtocolError("entry.seq")
        if not isinstance(recorded, str) or not HEX64.fullmatch(recorded):
            raise ProtocolError("entry.hash")
        if not isinstance(evidence, str) or len(evidence) > MAX_EVIDENCE_CHARS:
            raise ProtocolError("entry.evidence")
        return cls(device, seq, recorded, evidence)


AnyEntry = LogEntry | DamagedEntry


def read_any_entry(data: Any) -> AnyEntry:
    if isinstance(data, dict) and "damaged" in data:
        return DamagedEntry.from_dict(data)
    return LogEntry.from_dict(data)


def entry_after(
    prev_seq: int,
    prev_hash: str,
    device: str,
    kind: str,
    payload: dict[str, Any],
    package_version: int,
    clock_offset_ms: int,
) -> LogEntry:
    """The entry that follows entry `prev_seq` whose hash, as recorded when it was
    written, is `prev_hash` (0 and the genesis hash for a new log). Linking to the
    recorded hash, not to a hash of the stored text, keeps a later change to that
    text from breaking every entry after it."""
    return LogEntry(device, prev_seq + 1, kind, payload, package_version, clock_offset_ms, prev_hash)


def next_entry(
    previous: LogEntry | None,
    device: str,
    kind: str,
    payload: dict[str, Any],
    package_version: int,
    clock_offset_ms: int,
) -> LogEntry:
    """The entry that follows `previous` (None: the device's first entry)."""
    if previous is None:
        return LogEntry(device, 1, kind, payload, package_version, clock_offset_ms, genesis_hash(device))
    return LogEntry(
        device, previous.seq + 1, kind, payload, package_version, clock_offset_ms, previous.entry_hash()
    )


def check_chain(entries: list[AnyEntry], device: str, prev_seq: int, prev_hash: str) -> str:
    """Check that `entries` continue a chain whose entry `prev_seq` has hash `prev_hash`
    (0 and the genesis hash for a new log). Returns the last entry's hash."""
    expected_seq, expected_prev = prev_seq + 1, prev_hash
    for entry in entries:
        if entry.device != device:
            raise ProtocolError("chain.device", f"entry {entry.seq} names {entry.device}")
        if entry.seq != expected_seq:
            raise ProtocolError("chain.seq", f"expected {expected_seq}, got {entry.seq}")
        # A damaged entry's own link cannot be read; the next entry still checks its hash.
        if not isinstance(entry, DamagedEntry) and entry.prev_hash != expected_prev:
            raise ProtocolError("chain.broken", f"entry {entry.seq} does not follow entry {entry.seq - 1}")
        expected_prev = entry.entry_hash()
        expected_seq += 1
    return expected_prev
