"""The two keys that protect voting codes, both derived from the server's master secret
(never stored in the database):

- the verifier key: HMAC of a code, what the database and terminal packages hold and a
  vote by code carries. Terminals get it so they can check codes offline; a code has
  93 random bits, so knowing the key does not make guessing feasible.
- the sealing key: AES-GCM over the code, so an unspent card can be printed again.
  Terminals never get it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qr_codes.codes import verifier

if TYPE_CHECKING:
    from flask import Flask

_NONCE = 12
_AAD = b"spilno/voting_code"


def _derive(master_secret: bytes, purpose: str) -> bytes:
    return hmac.new(master_secret, f"spilno/school-codes/{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class CodeKeys:
    verifier_key: bytes
    sealing_key: bytes

    @classmethod
    def from_master(cls, master_secret: bytes) -> CodeKeys:
        if len(master_secret) < 32:
            raise ValueError("the master secret must be at least 32 bytes")
        return cls(_derive(master_secret, "verifier"), _derive(master_secret, "seal"))

    def verifier(self, compact_code: str) -> str:
        return verifier(self.verifier_key, compact_code)

    def seal(self, compact_code: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.sealing_key).encrypt(nonce, compact_code.encode(), _AAD)

    def unseal(self, sealed: bytes) -> str:
        """The code; ValueError when the bytes were not sealed with this key."""
        try:
            return AESGCM(self.sealing_key).decrypt(sealed[:_NONCE], sealed[_NONCE:], _AAD).decode()
        except (InvalidTag, ValueError) as exc:
            raise ValueError("sealed code does not open with this server's key") from exc


def app_code_keys(app: Flask) -> CodeKeys:
    """The code keys of a server Flask app (its master secret is checked at start)."""
    return CodeKeys.from_master(app.config["VOTER_KEY_SECRET_BYTES"])
