"""One signed exchange with the server: the request signed with the device's key, the
answer acted on only once the server's signature over it is checked, the clock offset
learned from it, and whatever stops it written down for the maintenance screen."""

from __future__ import annotations

import json
import random as random_module
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sync import signed_answers, signed_requests, wire
from sync.clock import Clock, offset_from_exchange, system_clock_ms
from sync.device_store import DeviceStore
from sync.http_transport import DEFAULT_ATTEMPTS, HttpAnswer, HttpTransport
from sync.store_file import StoreError
from sync.sync_errors import REFUSALS, DeviceRefused, SyncError, SyncRefused

# Offsets within this of the stored one are round-trip noise; not worth a disk write.
CLOCK_NOISE_MS = 250
MAX_CLOCK_OFFSET_MS = 10 * 365 * 24 * 3600 * 1000  # what log_entries.LogEntry accepts


class SignedExchange:
    def __init__(
        self,
        store: DeviceStore,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        clock: Clock = system_clock_ms,
        max_attempts: int = DEFAULT_ATTEMPTS,
        random: Callable[[], float] = random_module.random,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if base_url is None:
            base_url = store.require_identity().server_url
        self.store = store
        self.clock = clock
        self._clock_complaint_recorded = False
        self.transport = HttpTransport(
            base_url, timeout=timeout, max_attempts=max_attempts, random=random, sleep=sleep, clock=clock
        )

    # --- plumbing ------------------------------------------------------------------------

    def _signed(
        self,
        method: str,
        endpoint: str,
        body: bytes = b"",
        query: Mapping[str, int | str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> tuple[HttpAnswer, dict[str, Any]]:
        identity, key = self.store.require_identity(), self.store.private_key()
        path = self.transport.path(endpoint, query)

        def headers() -> dict[str, str]:
            now = self.clock()
            counter = self.store.next_request_counter(now)
            last_seq = self.store.last_seq()
            signed = signed_requests.sign_request(
                key, method, path, body, identity.device, now, counter, last_seq
            )
            return {"Content-Type": "application/json", **(extra_headers or {}), **signed}

        answer = self.transport.request(method, path, body, headers)
        server_ms = self._verified(
            answer, identity.server_key, signed_answers.request_binding(answer.request_signature, body)
        )
        self._learn_clock(answer, server_ms)
        if answer.status >= 300:
            try:
                self._refusal(answer)
            except DeviceRefused as refused:
                if refused.code == "device.revoked":  # signed: the server really said so
                    self._note_revoked()
                elif refused.code == "device.superseded":
                    self._note_superseded()
                raise
        data = answer.json()
        if not isinstance(data, dict):
            raise SyncError("response.shape", f"expected a JSON object from {path}")
        return answer, data

    def _note_revoked(self) -> None:
        """The server revoked this device: it takes no more votes from now on."""
        if not self.store.revoked():
            now = self.clock()
            self.store.mark_revoked(now)
            self.store.raise_alarm(
                "device.revoked", "the server revoked this device; it takes no more votes", now
            )

    def _note_superseded(self) -> None:
        """The device was enrolled again on another store: this one delivers what it
        holds (a moderator decides on its new votes) and takes no more."""
        if not self.store.revoked():
            now = self.clock()
            self.store.mark_revoked(now)
            self.store.raise_alarm(
                "device.superseded",
                "the device was enrolled again with another store; this store only delivers its votes",
                now,
            )

    def _verified(self, answer: HttpAnswer, server_key: str, binding: str) -> int:
        """The server's signed clock, if the server signed this answer to this request.
        Otherwise nothing is acted on: an alarm for the maintenance screen, and
        SyncError. An answer a proxy or an attacker made up, or one the server gave to
        another request, fails here."""
        try:
            return signed_answers.verify_answer(
                server_key, binding, answer.status, answer.body, dict(answer.headers)
            )
        except wire.ProtocolError as exc:
            now = self.clock()
            self.store.raise_alarm(exc.code, f"HTTP {answer.status}: {exc.detail}"[:300], now)
            raise SyncError(exc.code, exc.detail, answer.status) from None

    @staticmethod
    def _refusal(answer: HttpAnswer) -> None:
        """Turn a refusal into its typed exception."""
        try:
            error = answer.json().get("error") or {}
        except (SyncError, AttributeError):
            error = {}
        code = error.get("code")
        if not isinstance(code, str):
            code = f"http.{answer.status}"
        detail = f"HTTP {answer.status} " + json.dumps(error, ensure_ascii=False)[:300]
        raise REFUSALS.get(answer.status, SyncRefused)(code, detail, answer.status)

    def _learn_clock(self, answer: HttpAnswer, server_ms: int) -> None:
        """Learn the clock offset from a verified answer's signed server time."""
        offset = offset_from_exchange(answer.sent_ms, answer.received_ms, server_ms)
        if abs(offset) > MAX_CLOCK_OFFSET_MS:
            # Log entries cannot carry it (the server would refuse them); keep the old
            # offset and let the technician see why the clock needs setting.
            if not self._clock_complaint_recorded:
                self._clock_complaint_recorded = True
                self.store.record_sync_error(f"clock.way_off: device clock is {offset} ms off", self.clock())
            return
        if abs(offset - self.store.clock_offset_ms()) >= CLOCK_NOISE_MS:
            self.store.save_clock_offset(offset, answer.received_ms)

    @contextmanager
    def _recording_errors(self) -> Iterator[None]:
        """Whatever stops an exchange is written down for the maintenance screen, then raised."""
        try:
            yield
        except (SyncError, StoreError, wire.ProtocolError) as exc:
            self.store.record_sync_error(str(exc), self.clock())
            raise
