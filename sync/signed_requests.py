"""Signed requests: every device request carries its device code, clock and a
signature over its method, path and body hash; the server learns the device's clock
offset from it."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.signing import sign
from sync.wire import PROTOCOL_VERSION, canonical_json, sha256_hex


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
