"""The server's package-signing key, from configuration (SPILNO_SIGNING_KEY, PEM text).

Devices trust packages only when this key signed them, so the server refuses to start
without it rather than make one up: a key generated at start would change on every
restart and on every worker, and no device could follow it.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app

from sync import signing

EXTENSION = "spilno.signing_key"


def read_signing_key(pem: object) -> Ed25519PrivateKey:
    """The Ed25519 private key in `pem`, or RuntimeError naming the setting (never its value)."""
    if isinstance(pem, bytes):
        pem = pem.decode("ascii", "replace")
    if not isinstance(pem, str) or not pem.strip():
        raise RuntimeError("SPILNO_SIGNING_KEY is not set: the server refuses to start without it")
    # Environment variables often carry a PEM on one line with literal "\n".
    text = pem.replace("\\n", "\n") if "\n" not in pem else pem
    try:
        return signing.private_key_from_pem(text.strip().encode("ascii"))
    # Whatever the cryptography library finds wrong (not PEM, encrypted, another
    # algorithm), the answer is the same, and it must not echo the text.
    except Exception:
        raise RuntimeError(
            "SPILNO_SIGNING_KEY must be an unencrypted Ed25519 private key in PEM (PKCS#8) form"
        ) from None


def load_signing_key(app: Flask) -> None:
    app.extensions[EXTENSION] = read_signing_key(app.config.get("SIGNING_KEY"))


def signing_key() -> Ed25519PrivateKey:
    return current_app.extensions[EXTENSION]


def server_public_key() -> str:
    return signing.public_key_b64(signing_key())
