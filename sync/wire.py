"""The sync wire format, shared by devices and the server: canonical JSON, hashes, the
protocol version and the codes every message names. Pure: no I/O, no Flask.

The protocol itself, in its own modules: signing (keys and signatures), log_entries
(the device log), log_batches (entries going up, with their checkpoint),
signed_requests, signed_answers and package_envelope (packages coming down).

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

import hashlib
import json
import re
from typing import Any

PROTOCOL_VERSION = 1
DEVICE_CODE = re.compile(r"[A-Z]-[0-9]{4,8}")
HEX64 = re.compile(r"[0-9a-f]{64}")


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
