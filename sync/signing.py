"""Ed25519 keys and signatures: the device's and the server's, as they travel (PEM on
disk, base64 on the wire)."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.wire import ProtocolError


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


def _decode_b64(value: object, length: int, code: str) -> bytes:
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


def verify(public_key: str | Ed25519PublicKey, message: bytes, signature: object) -> bool:
    """True only for a well-formed, valid signature; never raises on bad input."""
    try:
        key = load_public_key(public_key) if isinstance(public_key, str) else public_key
        key.verify(_decode_b64(signature, 64, "signature.malformed"), message)
        return True
    except (InvalidSignature, ProtocolError, ValueError):
        return False
