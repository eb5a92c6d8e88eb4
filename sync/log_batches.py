"""Batches: consecutive log entries going up, with a checkpoint the device signs over
the last one's hash (which vouches for every entry before it)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.log_entries import AnyEntry, read_any_entry
from sync.signing import sign
from sync.wire import DEVICE_CODE, PROTOCOL_VERSION, ProtocolError, canonical_json

MAX_BATCH_ENTRIES = 500  # a batch stays under ~1 MB, so a request is always bounded


def checkpoint_bytes(device: str, seq: int, entry_hash: str) -> bytes:
    return canonical_json({"checkpoint": PROTOCOL_VERSION, "device": device, "seq": seq, "hash": entry_hash})


def make_batch(
    key: Ed25519PrivateKey, device: str, entries: list[AnyEntry], checkpoint_hash: str | None = None
) -> dict[str, Any]:
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
