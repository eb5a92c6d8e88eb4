"""The sync wire protocol, shared by devices and the server. Pure: no I/O, no Flask.

WHAT TRAVELS
- Up: a device's append-only log. Entry k carries the hash of entry k-1, so the log is
  a chain; the device signs *checkpoints* (its code, a sequence number and the hash of
  the entry at that number) with its Ed25519 key. A valid checkpoint signature over the
  last entry of a batch vouches for every entry before it, because each entry's hash
  covers the previous hash. The server verifies the chain link by link and the
  signature once per batch, and keeps every checkpoint, so a recount can verify the
  whole chain again from the first entry.
- Down: packages (cycle, categories, projects, rules, the server's public key...),
  signed by the server's Ed25519 key. A device verifies the signature before using one.
- Requests: every device request is signed (method, path, body hash, device code and
  the device's clock); the server learns the device's clock offset from it.
- Answers: every answer of the server (errors too) is signed with the same key as the
  packages, over its status, its body's hash and the server's clock, and bound to the
  request it answers (the hash of that request's signature, or of the enrolment body).
  A device acts on an answer (marks votes sent, stores statuses, learns the time) only
  after checking that signature: a forged or replayed answer changes nothing.

All signed bytes are canonical JSON: sorted keys, no spaces, ASCII only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROTOCOL_VERSION = 1
MAX_BATCH_ENTRIES = 500  # a batch stays under ~1 MB, so a request is always bounded
DEVICE_CODE = re.compile(r"[A-Z]-[0-9]{4,8}")
HEX64 = re.compile(r"[0-9a-f]{64}")
ENTRY_KINDS = frozenset({"vote"})
ENTRY_KEYS = frozenset(
    {"device", "seq", "kind", "payload", "package_version", "clock_offset_ms", "prev_hash"}
)


class ProtocolError(ValueError):
    """Something received does not follow the protocol. `code` names the rule broken."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_string(value: str) -> bytes:
    # What canonical_json writes for a string (json.dumps with ensure_ascii uses this).
    return json.encoder.encode_basestring_ascii(value).encode()


# --- keys and signatures -------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_key_from_pem(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ProtocolError("key.not_ed25519")
    return key


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _decode_b64(value: Any, length: int, code: str) -> bytes:
    if not isinstance(value, str) or len(value) > 200:
        raise ProtocolError(code)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(code) from None
    if len(raw) != length:
        raise ProtocolError(code)
    return raw


def load_public_key(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_decode_b64(value, 32, "key.malformed"))


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def verify(public_key: str | Ed25519PublicKey, message: bytes, signature: Any) -> bool:
    """True only for a well-formed, valid signature; never raises on bad input."""
    try:
        key = load_public_key(public_key) if isinstance(public_key, str) else public_key
        key.verify(_decode_b64(signature, 64, "signature.malformed"), message)
        return True
    except (InvalidSignature, ProtocolError, ValueError):
        return False


# --- the device log ------------------------------------------------------------------


def genesis_hash(device_code: str) -> str:
    """What the first entry of a device's log points back to."""
    return sha256_hex(b"spilno/device-log/v1/" + device_code.encode())


@dataclass(frozen=True)
class LogEntry:
    device: str
    seq: int  # 1, 2, 3... per device, no gaps
    kind: str  # "vote"
    payload: dict  # for votes: VoteRecord.canonical_body()
    package_version: int  # the package the vote was cast under
    clock_offset_ms: int  # device clock minus server clock, as last learned (0 if never)
    prev_hash: str

    def as_dict(self) -> dict:
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

    def as_dict(self) -> dict:
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
    payload: dict,
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
    payload: dict,
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


def checkpoint_bytes(device: str, seq: int, entry_hash: str) -> bytes:
    return canonical_json({"checkpoint": PROTOCOL_VERSION, "device": device, "seq": seq, "hash": entry_hash})


# --- batches (up) ----------------------------------------------------------------------


def make_batch(
    key: Ed25519PrivateKey, device: str, entries: list[AnyEntry], checkpoint_hash: str | None = None
) -> dict:
    """A signed batch of consecutive entries, ready to send as JSON. `checkpoint_hash`
    is the last entry's hash as the device recorded it when writing it (default: as
    computed now); a difference means the entry was changed since."""
    if not entries or len(entries) > MAX_BATCH_ENTRIES:
        raise ValueError(f"a batch holds 1..{MAX_BATCH_ENTRIES} entries")
    last = entries[-1]
    last_hash = checkpoint_hash or last.entry_hash()
    return {
        "protocol": PROTOCOL_VERSION,
        "device": device,
        "entries": [e.as_dict() for e in entries],
        "checkpoint": {
            "seq": last.seq,
            "hash": last_hash,
            "signature": sign(key, checkpoint_bytes(device, last.seq, last_hash)),
        },
    }


@dataclass(frozen=True, slots=True)
class Batch:
    device: str
    entries: list[AnyEntry]
    checkpoint_seq: int
    checkpoint_hash: str
    signature: str


def read_batch(data: Any) -> Batch:
    """Parse a received batch strictly. The caller checks the chain and the signature
    against what it knows of the device."""
    if not isinstance(data, dict) or set(data) != {"protocol", "device", "entries", "checkpoint"}:
        raise ProtocolError("batch.shape")
    if data["protocol"] != PROTOCOL_VERSION:
        raise ProtocolError("batch.protocol")
    device = data["device"]
    if not isinstance(device, str) or not DEVICE_CODE.fullmatch(device):
        raise ProtocolError("batch.device")
    raw_entries = data["entries"]
    if not isinstance(raw_entries, list) or not 1 <= len(raw_entries) <= MAX_BATCH_ENTRIES:
        raise ProtocolError("batch.entries")
    entries = [read_any_entry(e) for e in raw_entries]
    for earlier, later in itertools.pairwise(entries):
        if later.seq != earlier.seq + 1:
            raise ProtocolError("batch.not_consecutive")
    checkpoint = data["checkpoint"]
    if not isinstance(checkpoint, dict) or set(checkpoint) != {"seq", "hash", "signature"}:
        raise ProtocolError("batch.checkpoint")
    if checkpoint["seq"] != entries[-1].seq or checkpoint["hash"] != entries[-1].entry_hash():
        raise ProtocolError("batch.checkpoint_mismatch")
    if not isinstance(checkpoint["signature"], str):
        raise ProtocolError("batch.signature")
    return Batch(device, entries, checkpoint["seq"], checkpoint["hash"], checkpoint["signature"])


# --- signed requests --------------------------------------------------------------------


def request_bytes(
    method: str,
    path: str,
    body: bytes,
    device: str,
    device_time_ms: int,
    counter: int | None = None,
    last_seq: int | None = None,
) -> bytes:
    fields = {
        "request": PROTOCOL_VERSION,
        "method": method.upper(),
        "path": path,
        "body_sha256": sha256_hex(body),
        "device": device,
        "time_ms": device_time_ms,
    }
    if counter is not None:
        fields["counter"] = counter
    if last_seq is not None:
        fields["last_seq"] = last_seq
    return canonical_json(fields)


REQUEST_HEADERS = ("X-Spilno-Device", "X-Spilno-Time", "X-Spilno-Signature")
# A number that grows with every request a device sends (signed with it), so the server
# can tell a request sent again by someone who captured it from the device's newest one.
COUNTER_HEADER = "X-Spilno-Request"
# The newest entry in the device's log (signed with the request): with what the server
# holds, it gives the device's true backlog on the fleet page after every request.
LAST_SEQ_HEADER = "X-Spilno-Last-Seq"


def sign_request(
    key: Ed25519PrivateKey,
    method: str,
    path: str,
    body: bytes,
    device: str,
    device_time_ms: int,
    counter: int | None = None,
    last_seq: int | None = None,
) -> dict[str, str]:
    """Headers that authenticate a device's request."""
    message = request_bytes(method, path, body, device, device_time_ms, counter, last_seq)
    headers = {
        "X-Spilno-Device": device,
        "X-Spilno-Time": str(device_time_ms),
        "X-Spilno-Signature": sign(key, message),
    }
    if counter is not None:
        headers[COUNTER_HEADER] = str(counter)
    if last_seq is not None:
        headers[LAST_SEQ_HEADER] = str(last_seq)
    return headers


# --- packages (down) --------------------------------------------------------------------


def sign_package(key: Ed25519PrivateKey, package: dict) -> dict:
    """Wrap a package with the server's signature. The package travels as the exact
    canonical text that was signed, so nothing is lost in re-encoding."""
    text = canonical_json(package).decode()
    return {"package": text, "signature": sign(key, text.encode()), "key": public_key_b64(key)}


def open_package(envelope: Any, trusted_key: str) -> dict:
    """The package inside `envelope`, only if `trusted_key` signed it (ProtocolError)."""
    if not isinstance(envelope, dict) or set(envelope) != {"package", "signature", "key"}:
        raise ProtocolError("package.shape")
    text = envelope["package"]
    if not isinstance(text, str) or not verify(trusted_key, text.encode(), envelope["signature"]):
        raise ProtocolError("package.signature")
    package = json.loads(text)
    if not isinstance(package, dict) or package.get("format") != PROTOCOL_VERSION:
        raise ProtocolError("package.format")
    return package


# --- signed answers (down) -------------------------------------------------------------

ANSWER_SIGNATURE_HEADER = "X-Spilno-Answer-Signature"
ANSWER_KEY_HEADER = "X-Spilno-Answer-Key"  # which key signed: tells a forgery from a host with another key
SERVER_TIME_HEADER = "X-Spilno-Server-Time"


def request_binding(request_signature: str | None, body: bytes) -> str:
    """What ties an answer to its request: the request's own signature (unique, since it
    covers the device's growing counter and clock), or for the one unsigned request,
    enrolment, the hash of its body (which holds the new device's public key)."""
    if request_signature:
        return sha256_hex(b"request-signature:" + request_signature.encode("ascii", "replace"))
    return sha256_hex(b"request-body:" + body)


def answer_bytes(binding: str, status: int, body: bytes, server_time_ms: int) -> bytes:
    return canonical_json(
        {
            "answer": PROTOCOL_VERSION,
            "request": binding,
            "status": status,
            "body_sha256": sha256_hex(body),
            "time_ms": server_time_ms,
        }
    )


def sign_answer(key: Ed25519PrivateKey, binding: str, status: int, body: bytes, server_time_ms: int) -> dict:
    """The headers that make an answer verifiable by the device that asked."""
    return {
        SERVER_TIME_HEADER: str(server_time_ms),
        ANSWER_SIGNATURE_HEADER: sign(key, answer_bytes(binding, status, body, server_time_ms)),
        ANSWER_KEY_HEADER: public_key_b64(key),
    }


def verify_answer(server_key: str, binding: str, status: int, body: bytes, headers: dict[str, str]) -> int:
    """The server's signed clock (ms) if `server_key` signed this very answer to the
    request behind `binding`; ProtocolError otherwise: "answer.unsigned" (no signature),
    "answer.other_key" (signed, but by a key this device does not trust: another host's,
    or a forger's) or "answer.forged" (a signature that does not match). `headers` are
    keyed in lower case."""
    signature = headers.get(ANSWER_SIGNATURE_HEADER.lower())
    raw_time = headers.get(SERVER_TIME_HEADER.lower(), "")
    if not signature:
        raise ProtocolError("answer.unsigned", f"HTTP {status} without a signature")
    if not re.fullmatch(r"-?[0-9]{1,15}", raw_time):
        raise ProtocolError("answer.forged", "the server time is missing or malformed")
    server_time_ms = int(raw_time)
    if verify(server_key, answer_bytes(binding, status, body, server_time_ms), signature):
        return server_time_ms
    signer = headers.get(ANSWER_KEY_HEADER.lower(), "")
    if (
        signer
        and signer != server_key
        and verify(signer, answer_bytes(binding, status, body, server_time_ms), signature)
    ):
        raise ProtocolError("answer.other_key", f"signed by {signer[:12]}…, not by {server_key[:12]}…")
    raise ProtocolError("answer.forged", f"HTTP {status}: the signature does not match the answer")
