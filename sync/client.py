"""The device side of the sync contract: enrol, pull packages, push the log, learn statuses.

The exchanges live in their own modules (signed_exchange, log_push, server_pulls,
http_transport, sync_errors); SyncClient is all of them, with enrolment and the round
a terminal runs whenever it can.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sync import log_batches, signed_answers, signing, wire
from sync.log_push import LogPush, PushResult
from sync.server_pulls import ServerPulls
from sync.store_file import StoreError
from sync.store_identity import DeviceIdentity
from sync.sync_errors import DeviceRefused, SyncError, SyncRefused, SyncUnavailable

SOFTWARE = "spilno-kiosk device sync"
FULL_STATUS_REFRESH_MS = 10 * 60 * 1000  # every status asked again this often (a page per 1 000 votes)


@dataclass(frozen=True, slots=True)
class RoundResult:
    package_version: int | None  # a newly stored package, if any
    push: PushResult
    statuses: int


class SyncClient(LogPush, ServerPulls):
    def enrol(self, code: str, software: str = SOFTWARE) -> DeviceIdentity:
        """Exchange a one-time enrolment code for an identity. The key pair is made
        here; only its public half leaves the device."""
        if self.store.enrolled():
            raise StoreError("device.already_enrolled", f"{self.store.path} is already enrolled")
        key = signing.generate_private_key()
        body = json.dumps(
            {"code": code, "public_key": signing.public_key_b64(key), "software": software[:100]}
        )
        with self._recording_errors():
            answer = self.transport.request(
                "POST",
                self.transport.path("/enrol"),
                body.encode(),
                lambda: {"Content-Type": "application/json"},
            )
            if answer.status >= 300:
                self._refusal(answer)  # nothing to verify it with yet; it changes nothing
            data = answer.json()
            server_key = data.get("server_key") if isinstance(data, dict) else None
            if not isinstance(server_key, str):
                raise SyncError("enrolment.answer", "the enrolment answer names no server key")
            # The key comes in this very answer (the one-time code is what makes it
            # trustworthy); checking it still binds the answer to our own request.
            server_ms = self._verified(
                answer, server_key, signed_answers.request_binding(None, body.encode())
            )
            try:
                identity = self.store.save_enrolment(
                    device=data["device"],
                    kind=data["kind"],
                    community=data["community"],
                    private_key_pem=signing.private_key_to_pem(key),
                    server_url=self.transport.base_url,
                    server_key=server_key,
                    now_ms=answer.received_ms,
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise SyncError("enrolment.answer", f"malformed enrolment answer: {exc}") from None
            self._learn_clock(answer, server_ms)
        return identity

    def sync_round(self, batch_size: int = log_batches.MAX_BATCH_ENTRIES) -> RoundResult:
        """What a terminal does whenever it can: newest package, every pending entry up,
        statuses down, who has voted elsewhere, and the community's eligibility list."""
        revoked: DeviceRefused | None = None
        try:
            version = self.pull_package()
        except DeviceRefused as refused:
            if refused.code not in ("device.revoked", "device.superseded"):
                raise
            # Revoked: no package, no more votes; but what it holds still goes up, to
            # be held for a moderator, and its fate comes back as statuses.
            revoked, version = refused, None
        except (SyncUnavailable, SyncRefused):
            raise  # no server to push to, or one that refused the request itself
        except (SyncError, StoreError, wire.ProtocolError) as exc:
            # A package this device cannot take (forged on the way, another community's,
            # older than ours) must never hold back the votes: they go up regardless.
            self.store.raise_alarm("package.refused", str(exc)[:300], self.clock())
            version = None
        pushed = self.push_all(batch_size)
        if not pushed.gap:
            self.catch_up_with_server()
        if self.store.acked_seq() and self.store.status_refresh_due(self.clock(), FULL_STATUS_REFRESH_MS):
            # Now and then every status again: a counted vote becomes a duplicate when an
            # earlier one of the same resident arrives later from another channel.
            statuses = self.refresh_statuses(since_seq=0)
            self.store.note_status_refresh(self.clock())
        else:
            statuses = self.refresh_statuses()
        if revoked is not None:
            raise revoked
        self.pull_voters()
        self.pull_eligibility()
        if not pushed.gap:  # a gap stays on the maintenance screen until it is resolved
            self.store.record_sync_success(self.clock())
        return RoundResult(version, pushed, pushed.statuses + statuses)
