"""Who the device is: its code, kind and community, its signing key and the server's
key, written once at enrolment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import signing, wire
from sync.clock import system_clock_ms
from sync.store_file import StoreError, StoreFile

DEVICE_KINDS = frozenset({"terminal", "support_point"})


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    device: str  # e.g. "T-0001": written into every vote and log entry
    kind: str  # "terminal" or "support_point"
    community_id: int
    community_slug: str
    community_name: str
    server_url: str
    server_key: str  # b64 Ed25519 key that must have signed every package
    enrolled_at_ms: int


class StoreIdentity(StoreFile):
    _key: Ed25519PrivateKey | None  # loaded from the file once, when first needed

    def enrolled(self) -> bool:
        return self.identity() is not None

    def identity(self) -> DeviceIdentity | None:
        row = self._one(
            "SELECT device, kind, community_id, community_slug, community_name, server_url,"
            " server_key, enrolled_at_ms FROM identity"
        )
        return DeviceIdentity(*row) if row else None

    def require_identity(self) -> DeviceIdentity:
        identity = self.identity()
        if identity is None:
            raise StoreError("device.not_enrolled", f"{self.path} holds no enrolment")
        return identity

    def save_enrolment(
        self,
        *,
        device: str,
        kind: str,
        community: dict[str, Any],
        private_key_pem: bytes,
        server_url: str,
        server_key: str,
        now_ms: int | None = None,
    ) -> DeviceIdentity:
        """Remember who this device is. Once only: a second enrolment would start a
        second log under another code in the same file."""
        if not wire.DEVICE_CODE.fullmatch(device):
            raise StoreError("enrolment.device", f"{device!r} is not a device code")
        if kind not in DEVICE_KINDS:
            raise StoreError("enrolment.kind", f"{kind!r} is not one of {sorted(DEVICE_KINDS)}")
        signing.private_key_from_pem(private_key_pem)  # refuse a key we could not use
        signing.load_public_key(server_key)
        with self._write() as db:
            if db.execute("SELECT 1 FROM identity").fetchone():
                raise StoreError("device.already_enrolled", f"{self.path} is already enrolled")
            db.execute(
                "INSERT INTO identity VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    device,
                    kind,
                    int(community["id"]),
                    str(community["slug"]),
                    str(community["name"]),
                    private_key_pem.decode(),
                    server_url,
                    server_key,
                    system_clock_ms() if now_ms is None else now_ms,
                ),
            )
        os.chmod(self.path, 0o600)
        return self.require_identity()

    def private_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            row = self._one("SELECT private_key_pem FROM identity")
            if row is None:
                raise StoreError("device.not_enrolled", f"{self.path} holds no enrolment")
            self._key = signing.private_key_from_pem(row[0].encode())
        return self._key
