"""Signed answers: every answer of the server (errors too) is signed over its status,
its body's hash and the server's clock, and bound to the request it answers. A device
acts on an answer only after checking that signature: a forged or replayed answer
changes nothing."""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.signing import public_key_b64, sign, verify
from sync.wire import PROTOCOL_VERSION, ProtocolError, canonical_json, sha256_hex

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


def sign_answer(
    key: Ed25519PrivateKey, binding: str, status: int, body: bytes, server_time_ms: int
) -> dict[str, str]:
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
