"""The envelope a package comes down in: the exact canonical text the server signed, its
signature and the signing key. A device opens it only with the key it learned at
enrolment."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.signing import public_key_b64, sign, verify
from sync.wire import PROTOCOL_VERSION, ProtocolError, canonical_json


def sign_package(key: Ed25519PrivateKey, package: dict[str, Any]) -> dict[str, str]:
    """Wrap a package with the server's signature. The package travels as the exact
    canonical text that was signed, so nothing is lost in re-encoding."""
    text = canonical_json(package).decode()
    return {"package": text, "signature": sign(key, text.encode()), "key": public_key_b64(key)}


def open_package(envelope: Any, trusted_key: str) -> dict[str, Any]:
    """The package inside `envelope`, only if `trusted_key` signed it (ProtocolError)."""
    if not isinstance(envelope, dict) or set(envelope) != {"package", "signature", "key"}:
        raise ProtocolError("package.shape")
    text = envelope["package"]
    if not isinstance(text, str) or not verify(trusted_key, text.encode(), envelope["signature"]):
        raise ProtocolError("package.signature")
    try:
        package = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        raise ProtocolError("package.format") from None
    if not isinstance(package, dict) or package.get("format") != PROTOCOL_VERSION:
        raise ProtocolError("package.format")
    return package
