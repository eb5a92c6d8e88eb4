"""The device side of the sync contract: enrol, pull packages, push the log, learn statuses.

Exactly once: entries are marked sent only from the server's answer naming the hash
of the last one it stored, so a lost answer just means the same batch goes again and
is acknowledged again. Network trouble (no route, timeouts, 5xx) is retried with
exponential backoff and full jitter, so a hundred terminals coming back after a power
cut do not knock on the server in step; a 4xx answer is never retried blindly, because
sending the same thing again gets the same refusal.
"""

from __future__ import annotations

import http.client
import json
import random as random_module
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sync import protocol
from sync.clock import Clock, offset_from_exchange, system_clock_ms
from sync.crash import crash_point
from sync.device_store import AckMismatch, DeviceIdentity, DeviceStore, StoreError
from sync.packages import package_digest

API_PREFIX = "/api/v1/sync"
SOFTWARE = "spilno-kiosk device sync"
MAX_REQUEST_BYTES = 2 * 1024 * 1024  # a batch over this (votes of hundreds of selections) is halved
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # a package with every project's description and its photos (6 MB)
RETRY_BASE_S = 0.5
RETRY_CAP_S = 60.0
DEFAULT_ATTEMPTS = 5
STATUS_PAGE = 1000  # the server answers at most this many statuses per request
FULL_STATUS_REFRESH_MS = 10 * 60 * 1000  # every status asked again this often (a page per 1 000 votes)
# Conflicts that mean this store is an older copy of its own log (SyncClient.resume).
RESUMABLE = frozenset({"chain.conflict", "ack.unknown_seq"})
# Offsets within this of the stored one are round-trip noise; not worth a disk write.
CLOCK_NOISE_MS = 250
MAX_CLOCK_OFFSET_MS = 10 * 365 * 24 * 3600 * 1000  # what protocol.LogEntry accepts


class SyncError(Exception):
    """Sync did not complete. `code` names why, for logs and the maintenance screen."""

    def __init__(self, code: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status


class SyncUnavailable(SyncError):
    """No usable answer from the server after every retry: try again later."""


class SyncRefused(SyncError):
    """The server answered 4xx. Sending the same request again would be refused again."""


class DeviceRefused(SyncRefused):
    """401/403: the server does not accept this device (unknown, revoked, bad enrolment code)."""


class LogConflict(SyncRefused):
    """409: our log or a vote id disagrees with what the server stored. An alarm for a person."""


class LogRejected(SyncRefused):
    """422: the server found our chain broken or an entry invalid."""


_REFUSALS: dict[int, type[SyncRefused]] = {
    401: DeviceRefused,
    403: DeviceRefused,
    409: LogConflict,
    422: LogRejected,
}


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    sent_ms: int  # device clock when the request went out
    received_ms: int  # device clock when the answer was read
    request_signature: str | None = None  # the signature of the request it answers

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise SyncError("response.not_json", f"HTTP {self.status}", self.status) from None


class HttpTransport:
    """Plain http.client with bounded sizes, timeouts, and retries for what may pass."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = DEFAULT_ATTEMPTS,
        base_delay_s: float = RETRY_BASE_S,
        cap_s: float = RETRY_CAP_S,
        random: Callable[[], float] = random_module.random,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = system_clock_ms,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server URL must be http(s)://host[:port][/prefix], got {base_url!r}")
        self.base_url = base_url
        self._parts = parts
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.base_delay_s, self.cap_s = base_delay_s, cap_s
        self._random, self._sleep, self._clock = random, sleep, clock

    def path(self, endpoint: str, query: Mapping[str, Any] | None = None) -> str:
        """The path as it goes on the request line, which is also what gets signed."""
        path = f"{self.prefix}{API_PREFIX}{endpoint}"
        return f"{path}?{urllib.parse.urlencode(query)}" if query else path

    def backoff_delay(self, retry: int) -> float:
        """Full jitter: anywhere between 0 and the exponential step, capped."""
        return self._random() * min(self.cap_s, self.base_delay_s * 2**retry)

    def request(
        self, method: str, path: str, body: bytes, headers: Callable[[], dict[str, str]]
    ) -> HttpAnswer:
        """Send, retrying connection errors, timeouts and 5xx. `headers` is called for
        every attempt, so each carries a fresh signed time."""
        if len(body) > MAX_REQUEST_BYTES:
            raise ValueError(f"request body of {len(body)} bytes is over {MAX_REQUEST_BYTES}")
        problem = ""
        for attempt in range(self.max_attempts):
            if attempt:
                self._sleep(self.backoff_delay(attempt - 1))
            sent_headers = headers()
            try:
                answer = self._send_once(method, path, body, sent_headers)
            except ssl.SSLCertVerificationError as exc:
                raise SyncError("tls.certificate", str(exc)) from None  # config, not weather
            except (OSError, http.client.HTTPException) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if answer.status < 500:
                return answer
            problem = f"HTTP {answer.status}"
        raise SyncUnavailable("server.unavailable", f"{self.max_attempts} attempts, last: {problem}")

    def _send_once(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> HttpAnswer:
        connection_class = (
            http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        )
        assert self._parts.hostname is not None  # checked in __init__
        connection = connection_class(self._parts.hostname, self._parts.port, timeout=self.timeout)
        try:
            sent_ms = self._clock()
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read(MAX_RESPONSE_BYTES + 1)
            received_ms = self._clock()
        finally:
            connection.close()
        if len(data) > MAX_RESPONSE_BYTES:
            raise SyncError("response.too_large", f"over {MAX_RESPONSE_BYTES} bytes", response.status)
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return HttpAnswer(
            response.status, answer_headers, data, sent_ms, received_ms, headers.get("X-Spilno-Signature")
        )


@dataclass(frozen=True, slots=True)
class PushResult:
    sent: int  # entries sent (0: nothing was pending)
    acked_seq: int  # the server's acknowledged position afterwards
    statuses: int  # statuses learned with the answer
    backlog: int  # entries still waiting
    gap: bool = False  # the server is missing entries before the ones we sent
    server_acked_seq: int | None = None  # the server's own position, from its answer


@dataclass(frozen=True, slots=True)
class ResumeResult:
    fetched: int  # entries of our log taken from the server
    moved_aside: int  # local entries that differed, kept in log_diverged
    relogged: int  # of their votes, logged again as new entries


@dataclass(frozen=True, slots=True)
class RoundResult:
    package_version: int | None  # a newly stored package, if any
    push: PushResult
    statuses: int


class SyncClient:
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

    # --- enrolment -------------------------------------------------------------------

    def enrol(self, code: str, software: str = SOFTWARE) -> DeviceIdentity:
        """Exchange a one-time enrolment code for an identity. The key pair is made
        here; only its public half leaves the device."""
        if self.store.enrolled():
            raise StoreError("device.already_enrolled", f"{self.store.path} is already enrolled")
        key = protocol.generate_private_key()
        body = json.dumps(
            {"code": code, "public_key": protocol.public_key_b64(key), "software": software[:100]}
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
            server_ms = self._verified(answer, server_key, protocol.request_binding(None, body.encode()))
            try:
                identity = self.store.save_enrolment(
                    device=data["device"],
                    kind=data["kind"],
                    community=data["community"],
                    private_key_pem=protocol.private_key_to_pem(key),
                    server_url=self.transport.base_url,
                    server_key=server_key,
                    now_ms=answer.received_ms,
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise SyncError("enrolment.answer", f"malformed enrolment answer: {exc}") from None
            self._learn_clock(answer, server_ms)
        return identity

    # --- packages, log, statuses -------------------------------------------------------

    def pull_package(self) -> int | None:
        """Fetch and store a newer package; its version, or None when ours is newest."""
        held = self.store.package()
        query: dict[str, Any] = {"have": held.version if held else 0}
        if held is not None:
            # With the version, what it holds: a server restored from a backup can then
            # see a number it issued again with other content, and issue a newer one.
            query["digest"] = package_digest(held.package)
        with self._recording_errors():
            _, data = self._signed("GET", "/package", query=query)
            envelope = data.get("envelope")
            if envelope is None:
                return None
            # Photos come beside the envelope, checked against the digests it signs.
            return self.store.store_package(envelope, photos=data.get("photos")).version

    def push_once(
        self, batch_size: int = protocol.MAX_BATCH_ENTRIES, from_seq: int | None = None
    ) -> PushResult:
        """Send the oldest unsent entries as one signed batch (or, with `from_seq`,
        entries from there on, sent before: to refill a server that lost them)."""
        limit = min(batch_size, protocol.MAX_BATCH_ENTRIES)
        entries = self.store.pending(limit) if from_seq is None else self.store.entries_from(from_seq, limit)
        if not entries:
            return PushResult(0, self.store.acked_seq(), 0, 0)
        identity, key = self.store.require_identity(), self.store.private_key()
        # Damaged entries go as evidence in their places; the intact ones after them still link.
        self.store.damaged_entries(entries, self.clock())
        body = protocol.canonical_json(protocol.make_batch(key, identity.device, entries))
        while len(body) > MAX_REQUEST_BYTES and len(entries) > 1:  # only with very long votes
            entries = entries[: len(entries) // 2]
            body = protocol.canonical_json(protocol.make_batch(key, identity.device, entries))
        with self._recording_errors():
            answer, data = self._signed("POST", "/log", body)
            # A fault drill may kill the device here: the server committed, nothing is marked.
            crash_point("after_answer_before_mark")
            acked_seq, acked_hash, gap = data.get("acked_seq"), data.get("acked_hash"), data.get("gap")
            statuses = data.get("statuses") or []
            if (
                type(acked_seq) is not int
                or acked_seq < 0
                or type(gap) is not bool
                or not isinstance(statuses, list)
            ):
                raise SyncError("response.shape", f"log answer {data!r:.200}")
            if acked_seq > 0:
                self.store.mark_acked(acked_seq, acked_hash)
            learned = self.store.save_statuses(statuses, self.clock())
            if data.get("revoked") is True:  # signed: votes taken for review, no more may come
                self._note_revoked()
            if data.get("superseded") is True:  # signed: the device was enrolled on another store
                self._note_superseded()
        backlog = self.store.backlog_count()
        if gap:
            # The server lacks entries before the ones we sent: it lost data (restored
            # from a backup), or this store is newer than the server's copy. push_all
            # sends them again from the server's position; until it manages, the gap
            # stays on the maintenance screen.
            self.store.record_sync_error(
                f"sync.gap: the server holds our log up to {acked_seq}, we sent from {entries[0].seq}",
                answer.received_ms,
            )
            return PushResult(len(entries), self.store.acked_seq(), learned, backlog, True, acked_seq)
        self.store.record_sync_success(answer.received_ms)
        return PushResult(len(entries), self.store.acked_seq(), learned, backlog, False, acked_seq)

    def resume(self) -> ResumeResult:
        """This store is behind the server's copy of its own log (restored from an older
        backup, or a copy whose twin sent first): read the server's entries from our
        acknowledged position on, check that they continue our chain and that our own
        key signed their checkpoint, take them in place of what we hold at those seqs,
        and log our diverged votes again after them. Nothing is lost: every vote of
        ours the server lacks is sent as a new entry."""
        identity, key = self.store.require_identity(), self.store.private_key()
        ours = protocol.public_key_b64(key)
        from_seq, fetched, moved = self.store.acked_seq() + 1, 0, 0
        others: list[str] = []
        with self._recording_errors():
            for _ in range(100_000 // protocol.MAX_BATCH_ENTRIES + 1):  # bounded: a million entries
                _, data = self._signed("GET", "/log", query={"from": from_seq})
                raw, checkpoint, server_acked = (
                    data.get("entries"),
                    data.get("checkpoint"),
                    data.get("acked_seq"),
                )
                if not isinstance(raw, list) or type(server_acked) is not int:
                    raise SyncError("response.shape", f"log answer {data!r:.200}")
                # The keys of this device's other enrolments, from the server's signed
                # answer: a store enrolled anew takes back what its predecessor signed.
                others = _device_keys(data.get("device_keys"), ours)
                if not raw:
                    break
                entries = [protocol.read_any_entry(e) for e in raw]
                previous = (
                    protocol.genesis_hash(identity.device)
                    if from_seq == 1
                    else self.store.recorded_hash(from_seq - 1)
                )
                protocol.check_chain(entries, identity.device, from_seq - 1, previous)
                if not isinstance(checkpoint, dict) or type(checkpoint.get("seq")) is not int:
                    raise SyncError("resume.unsigned", f"no checkpoint among entries {from_seq}..")
                at = checkpoint["seq"] - from_seq
                signed = protocol.checkpoint_bytes(
                    identity.device, checkpoint["seq"], str(checkpoint.get("hash"))
                )
                if not (
                    0 <= at < len(entries)
                    and entries[at].entry_hash() == checkpoint.get("hash")
                    and any(protocol.verify(k, signed, checkpoint.get("signature")) for k in [ours, *others])
                ):
                    raise SyncError(
                        "resume.signature", f"entries {from_seq}.. are not vouched for by our key"
                    )
                moved += self.store.adopt_server_entries(entries[: at + 1], self.clock())
                fetched += at + 1
                from_seq = checkpoint["seq"] + 1
                if checkpoint["seq"] >= server_acked:
                    break
            relogged = self.store.relog_diverged()
        self.store.raise_alarm(
            "log.resumed",
            f"this store was behind the server's copy of its log (restored from an older copy?):"
            f" {fetched} entries taken from the server, {moved} moved aside, {relogged} votes logged again",
            self.clock(),
        )
        return ResumeResult(fetched, moved, relogged)

    def catch_up_with_server(self) -> ResumeResult | None:
        """Ask whether the server holds more of our own log than we do (this store was
        restored from an older copy and has nothing new to push, so no push would have
        told us); resume if it does. One small signed request a round."""
        with self._recording_errors():
            _, data = self._signed("GET", "/log", query={"from": self.store.last_seq() + 1})
        if isinstance(data.get("entries"), list) and data["entries"]:
            return self.resume()
        return None

    def push_all(self, batch_size: int = protocol.MAX_BATCH_ENTRIES) -> PushResult:
        """Push batch after batch until nothing is pending. When the server reports a
        gap, send our log again from the server's position (we keep every entry), which
        fills the hole and lets the server apply what it set aside. Stops when the
        server takes nothing more (errors propagate)."""
        sent = learned = 0
        result = PushResult(0, self.store.acked_seq(), 0, self.store.backlog_count())
        resend_from: int | None = None
        server_was = -1
        resumed = False
        while result.backlog or resend_from is not None:
            try:
                result = self.push_once(batch_size, from_seq=resend_from)
            except (LogConflict, AckMismatch) as conflict:
                # The server holds other entries of our own log at these seqs, signed by
                # our key, or more of it than we have: this store is an older copy. Once
                # per round, resume behind the server and go on; a second conflict is
                # for a person.
                if resumed or getattr(conflict, "code", "") not in RESUMABLE:
                    raise
                resumed = True
                self.resume()
                resend_from, server_was = None, -1
                result = PushResult(0, self.store.acked_seq(), 0, self.store.backlog_count())
                continue
            sent, learned = sent + result.sent, learned + result.statuses
            server_at = result.server_acked_seq
            if result.sent == 0 or server_at is None or server_at <= server_was:
                break  # the server took nothing: do not spin
            server_was = server_at
            behind = result.gap or server_at < self.store.acked_seq()
            resend_from = server_at + 1 if behind else None
        return PushResult(
            sent, result.acked_seq, learned, result.backlog, result.gap, result.server_acked_seq
        )

    def refresh_statuses(self, since_seq: int | None = None) -> int:
        """Ask for statuses of acknowledged votes after `since_seq` (default: from the
        oldest one we do not know yet); returns how many were stored."""
        if since_seq is None:
            first_unknown = self.store.first_unknown_status_seq()
            if first_unknown is None:
                return 0
            since_seq = first_unknown - 1
        learned = 0
        with self._recording_errors():
            while True:
                _, data = self._signed("GET", "/statuses", query={"since_seq": since_seq})
                page = data.get("statuses")
                if not isinstance(page, list):
                    raise SyncError("response.shape", f"statuses answer {data!r:.200}")
                learned += self.store.save_statuses(page, self.clock())
                if len(page) < STATUS_PAGE or page[-1]["seq"] <= since_seq:
                    return learned
                since_seq = page[-1]["seq"]

    def pull_voters(self, max_pages: int = 100) -> int:
        """Learn who has voted elsewhere since the last time; how many pairs arrived.
        Pages are bounded so one round never holds more than a page in memory."""
        learned = 0
        with self._recording_errors():
            for _ in range(max_pages):
                _, data = self._signed("GET", "/voters", query={"since": self.store.voters_cursor()})
                cursor, more = data.get("cursor"), data.get("more")
                groups, code_groups = data.get("voted") or [], data.get("voted_codes") or []
                if not isinstance(cursor, str) or type(more) is not bool:
                    raise SyncError("response.shape", f"voters answer {data!r:.200}")
                pairs = [(g["cycle_id"], f"key:{k}") for g in groups for k in g["voter_keys"]]
                pairs += [(g["cycle_id"], f"code:{c}") for g in code_groups for c in g["code_ids"]]
                self.store.add_voted_elsewhere(pairs, cursor)
                learned += len(pairs)
                if not more:
                    break
        return learned

    def pull_eligibility(self, max_pages: int = 200) -> int:
        """Read the community's eligibility list's changes since the last time; how many
        keys changed. A page is taken whole or not at all; a list the server started
        again (its version is behind our cursor, as after a restore) is read anew."""
        changed = 0
        eligibility = self.store.eligibility
        with self._recording_errors():
            for _ in range(max_pages):
                cursor = eligibility.state().cursor
                _, data = self._signed("GET", "/eligibility", query={"since": cursor})
                enabled, version = data.get("enabled"), data.get("version")
                listed, unlisted = data.get("listed"), data.get("unlisted")
                districts = data.get("districts", {})
                next_cursor, more = data.get("cursor"), data.get("more")
                if (
                    type(enabled) is not bool
                    or type(version) is not int
                    or not isinstance(listed, list)
                    or not isinstance(unlisted, list)
                    or not isinstance(districts, dict)
                    or not isinstance(next_cursor, str)
                    or type(more) is not bool
                ):
                    raise SyncError("response.shape", f"eligibility answer {data!r:.200}")
                if version < _cursor_version(cursor):
                    eligibility.reset()
                    continue
                try:
                    eligibility.apply_page(
                        enabled=enabled,
                        version=version,
                        listed=listed,
                        unlisted=unlisted,
                        cursor=next_cursor,
                        more=more,
                        districts=districts,
                    )
                except ValueError as exc:
                    raise SyncError("response.shape", str(exc)) from None
                changed += len(listed) + len(unlisted)
                if not more:
                    break
        return changed

    def sync_round(self, batch_size: int = protocol.MAX_BATCH_ENTRIES) -> RoundResult:
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
        except (SyncError, StoreError, protocol.ProtocolError) as exc:
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

    # --- plumbing ------------------------------------------------------------------------

    def _signed(
        self,
        method: str,
        endpoint: str,
        body: bytes = b"",
        query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> tuple[HttpAnswer, Any]:
        identity, key = self.store.require_identity(), self.store.private_key()
        path = self.transport.path(endpoint, query)

        def headers() -> dict[str, str]:
            now = self.clock()
            counter = self.store.next_request_counter(now)
            last_seq = self.store.last_seq()
            signed = protocol.sign_request(key, method, path, body, identity.device, now, counter, last_seq)
            return {"Content-Type": "application/json", **(extra_headers or {}), **signed}

        answer = self.transport.request(method, path, body, headers)
        server_ms = self._verified(
            answer, identity.server_key, protocol.request_binding(answer.request_signature, body)
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
            return protocol.verify_answer(
                server_key, binding, answer.status, answer.body, dict(answer.headers)
            )
        except protocol.ProtocolError as exc:
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
        raise _REFUSALS.get(answer.status, SyncRefused)(code, detail, answer.status)

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
        except (SyncError, StoreError, protocol.ProtocolError) as exc:
            self.store.record_sync_error(str(exc), self.clock())
            raise


def _device_keys(raw: Any, ours: str) -> list[str]:
    """The other keys a signed log answer names for this device (at most 21, each a
    well-formed Ed25519 key); anything else in the list is ignored."""
    if not isinstance(raw, list):
        return []
    keys = []
    for item in raw[:21]:
        if isinstance(item, str) and item != ours:
            try:
                keys.append(protocol.public_key_b64(protocol.load_public_key(item)))
            except (protocol.ProtocolError, ValueError, TypeError):
                continue
    return keys


def _cursor_version(cursor: str) -> int:
    """The list version an eligibility cursor ("<version>:<key>") stands at; 0 for none."""
    head = cursor.split(":", 1)[0]
    return int(head) if head.isdigit() and len(head) <= 18 else 0
