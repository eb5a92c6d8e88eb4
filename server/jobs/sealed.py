"""Job files sealed at rest. Some inputs and outputs hold what the database otherwise
never keeps in the clear: a paper-vote spreadsheet holds residents' document numbers
(kept only as voter keys), a PDF of code cards holds live codes (kept only sealed,
server.school.keys). Such a file is sealed with a key of its own, derived from the
server's master secret, and bound to its job (a sealed file copied onto another job's
row does not open); a database dump or backup alone does not show it."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["open_sealed", "seal"]

_NONCE = 12


def _key(master_secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"spilno job file v1").derive(
        master_secret
    )


def _bound_to(job_id: int) -> bytes:
    return f"spilno job {job_id}".encode()


def seal(master_secret: bytes, job_id: int, data: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(_key(master_secret)).encrypt(nonce, data, _bound_to(job_id))


def open_sealed(master_secret: bytes, job_id: int, sealed: bytes) -> bytes:
    """The file; ValueError when it was not sealed for this job with this server's key."""
    try:
        return AESGCM(_key(master_secret)).decrypt(sealed[:_NONCE], sealed[_NONCE:], _bound_to(job_id))
    except (InvalidTag, ValueError) as exc:  # not ours, or too short to hold a nonce and a tag
        raise ValueError(f"a file of job {job_id} does not open with this server's key") from exc
