"""A small sync server for device tests: a real HTTP server on 127.0.0.1 that speaks the
sync contract and checks every signature with the protocol modules of sync/, with control methods
(`issue_code`, `publish`, `fail_next`, `lose_next_answer`, `revoke`, `set_time`,
`change_eligibility`) so
tests never reach into internals. It is not the real server (server/ builds that); it
keeps just enough state in memory to answer as the contract says.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sync import log_batches, log_entries, package_envelope, signed_answers, signed_requests, signing
from sync.log_entries import LogEntry
from sync.wire import ProtocolError
from voting import VoteRecord

COMMUNITY = {"id": 7, "slug": "bila-tserkva", "name": "Біла Церква"}
VOTER_KEY_SECRET = "5a" * 32


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_package(
    server_key: str, version: int, community: dict = COMMUNITY, *, open_now: bool = True
) -> dict:
    """A package with one cycle: two categories (one budget-limited), five projects."""
    now = datetime.now(UTC)
    starts = now - timedelta(days=1) if open_now else now + timedelta(days=10)
    return {
        "format": 1,
        "version": version,
        "issued_at": iso(now),
        "community": community,
        "server_key": server_key,
        "voter_key_secret": VOTER_KEY_SECRET,
        "cycles": [
            {
                "id": 11,
                "title": "Громадський бюджет 2027",
                "slug": "gb-2027",
                "kind": "community",
                "voting_starts_at": iso(starts),
                "voting_ends_at": iso(starts + timedelta(days=30)),
                "timezone": "Europe/Kyiv",
                "min_total": 1,
                "max_total": 3,
                "categories": [
                    _category(1, "Малі", budget=50_000_000, max_choices=2, budget_limited=True),
                    _category(2, "Великі", budget=300_000_000, max_choices=1, budget_limited=False),
                ],
                "projects": [
                    _project(101, "Лавки в парку", 25_000_000, category=1),
                    _project(102, "Велостоянка", 30_000_000, category=1),
                    _project(103, "Книжкова шафа", 10_000_000, category=1),
                    _project(201, "Сквер", 250_000_000, category=2),
                    _project(202, "Спортмайданчик", 200_000_000, category=2),
                ],
            }
        ],
    }


def _category(category_id: int, name: str, *, budget: int, max_choices: int, budget_limited: bool) -> dict:
    return {
        "id": category_id,
        "name": name,
        "budget": budget,
        "min_choices": 0,
        "max_choices": max_choices,
        "budget_limited": budget_limited,
        "max_project_cost": None,
        "min_votes_to_fund": 1,
        "position": category_id,
    }


def _project(project_id: int, title: str, cost: int, *, category: int) -> dict:
    return {
        "id": project_id,
        "number": project_id % 100,
        "title": title,
        "description": "",
        "cost": cost,
        "district": None,
        "category_id": category,
    }


class DeviceRecord:
    def __init__(self, code: str, kind: str, public_key: str) -> None:
        self.code, self.kind, self.public_key = code, kind, public_key
        self.revoked = False
        self.hashes: dict[int, str] = {}  # seq -> entry hash, for acknowledged entries
        self.acked_seq = 0
        self.statuses: dict[int, dict] = {}
        self.set_aside: dict[int, dict] = {}  # entries after a gap: kept, never dropped
        self.clock_offsets: list[int] = []  # device time minus server time, per request
        self.entries: dict[int, dict] = {}  # seq -> the entry as received
        self.checkpoints: dict[int, dict] = {}  # seq -> {"seq", "hash", "signature"}


class FakeSyncServer:
    def __init__(self) -> None:
        self.key = signing.generate_private_key()
        self.server_key = signing.public_key_b64(self.key)
        self.community = COMMUNITY
        self.lock = threading.RLock()
        self.codes: dict[str, str] = {}  # normalised code -> device kind
        self.devices: dict[str, DeviceRecord] = {}
        self.envelopes: list[dict] = []
        self.votes: dict[str, str] = {}  # vote id -> content hash
        self.first_vote_of: dict[tuple[int, str], str] = {}  # (cycle, voter) -> counted vote id
        self.requests: list[dict] = []  # what arrived: method, path, headers
        self.failures: list[tuple[int, str]] = []  # answers to give before doing anything
        self.statuses_in_ack = True
        # Residents who voted elsewhere, by arrival: (cycle id, voter key); served in pages.
        self.voted_elsewhere: list[tuple[int, str]] = []
        self.voters_page = 1000
        # The eligibility list: every change (version, key, listed), in version order.
        self.eligibility_enabled = False
        self.eligibility_version = 0
        self.eligibility_changes: list[tuple[int, str, bool]] = []
        self.eligibility_page = 1000
        self.eligibility_districts: dict[str, str] = {}
        self.lose_next = False
        # Rewrites an answer (status, body, headers) after it is signed, as a proxy would.
        self.tamper: Callable[[int, bytes, dict], tuple[int, bytes, dict]] | None = None
        self.answers: list[tuple[int, bytes, dict]] = []  # every answer as sent
        self.answer_key = self.key  # what signs answers: another host's key, in a test
        self.now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000
        self._http: ThreadingHTTPServer | None = None

    # --- control methods ----------------------------------------------------------------

    def issue_code(self, code: str = "K7QM-2XPD-9RTA", kind: str = "terminal") -> str:
        self.codes[_normalise(code)] = kind
        return code

    def publish(self, package: dict | None = None) -> dict:
        """Sign and publish a package (by default the next version of the standard one)."""
        package = package or make_package(self.server_key, len(self.envelopes) + 1)
        envelope = package_envelope.sign_package(self.key, package)
        with self.lock:
            self.envelopes.append(envelope)
        return envelope

    def fail_next(self, status: int, times: int = 1, code: str = "server.unavailable") -> None:
        """Answer the next `times` requests with `status` and error `code`, doing nothing."""
        self.failures.extend([(status, code)] * times)

    def lose_next_answer(self) -> None:
        """Do the next request's work, then hang up without answering."""
        self.lose_next = True

    def revoke(self, device: str) -> None:
        self.devices[device].revoked = True

    def set_time(self, now_ms: Callable[[], int]) -> None:
        self.now_ms = now_ms

    def enrol_offline(self, store: Any, kind: str = "terminal") -> str:
        """Register a device and write its enrolment into `store` without HTTP, for tests
        of the store alone. Returns the device code."""
        key = signing.generate_private_key()
        code = self._register(kind, signing.public_key_b64(key))
        store.save_enrolment(
            device=code,
            kind=kind,
            community=self.community,
            private_key_pem=signing.private_key_to_pem(key),
            server_url=self.url if self._http else "http://127.0.0.1:9",
            server_key=self.server_key,
        )
        return code

    def device(self, code: str) -> DeviceRecord:
        return self.devices[code]

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def start(self) -> FakeSyncServer:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    # --- the contract -----------------------------------------------------------------------

    def _register(self, kind: str, public_key: str) -> str:
        prefix = "T" if kind == "terminal" else "S"
        code = f"{prefix}-{len(self.devices) + 1:04d}"
        self.devices[code] = DeviceRecord(code, kind, public_key)
        return code

    def handle_enrol(self, body: Any) -> tuple[int, dict]:
        if not isinstance(body, dict) or not isinstance(body.get("code"), str):
            return 422, {"error": {"code": "request.invalid"}}
        kind = self.codes.pop(_normalise(body["code"]), None)
        if kind is None:
            return 403, {"error": {"code": "enrolment.invalid"}}
        signing.load_public_key(body["public_key"])
        code = self._register(kind, body["public_key"])
        return 200, {
            "device": code,
            "kind": kind,
            "community": self.community,
            "server_key": self.server_key,
            "server_time_ms": self.now_ms(),
        }

    def authenticate(
        self, method: str, path: str, body: bytes, headers: Any
    ) -> DeviceRecord | tuple[int, dict]:
        code, device_time, signature = (headers.get(h) for h in signed_requests.REQUEST_HEADERS)
        device = self.devices.get(code or "")
        try:
            device_time_ms = int(device_time)
        except (TypeError, ValueError):
            device_time_ms = None
        if device is None or device_time_ms is None:
            return 401, {"error": {"code": "device.signature"}}
        raw_counter = headers.get(signed_requests.COUNTER_HEADER)
        counter = int(raw_counter) if raw_counter and raw_counter.isdigit() else None
        raw_last_seq = headers.get(signed_requests.LAST_SEQ_HEADER)
        last_seq = int(raw_last_seq) if raw_last_seq and raw_last_seq.isdigit() else None
        signed = signed_requests.request_bytes(
            method, path, body, device.code, device_time_ms, counter, last_seq
        )
        if not signing.verify(device.public_key, signed, signature):
            return 401, {"error": {"code": "device.signature"}}
        if device.revoked:
            return 403, {"error": {"code": "device.revoked"}}
        device.clock_offsets.append(device_time_ms - self.now_ms())
        return device

    def handle_package(self, device: DeviceRecord, query: dict) -> tuple[int, dict]:
        have = int(query.get("have", ["0"])[0])
        newest = len(self.envelopes)
        envelope = self.envelopes[-1] if newest > have else None
        return 200, {"envelope": envelope, "version": newest, "server_time_ms": self.now_ms()}

    def handle_log(self, device: DeviceRecord, body: Any) -> tuple[int, dict]:
        try:
            batch = log_batches.read_batch(body)
        except ProtocolError:
            return 422, {"error": {"code": "entry.invalid"}}
        last = batch.entries[-1]
        if batch.device != device.code or not signing.verify(
            device.public_key,
            log_batches.checkpoint_bytes(device.code, last.seq, last.entry_hash()),
            batch.signature,
        ):
            return 401, {"error": {"code": "device.signature"}}
        for entry in batch.entries:
            if entry.seq <= device.acked_seq and device.hashes[entry.seq] != entry.entry_hash():
                return 409, {"error": {"code": "chain.conflict", "seq": entry.seq}}
        new = [e for e in batch.entries if e.seq > device.acked_seq]
        if new and new[0].seq > device.acked_seq + 1:
            for entry in new:
                device.set_aside[entry.seq] = entry.as_dict()
            return 200, self._ack(device, [], gap=True)
        previous = device.hashes.get(device.acked_seq, log_entries.genesis_hash(device.code))
        try:
            log_entries.check_chain(new, device.code, device.acked_seq, previous)
        except ProtocolError:
            return 422, {"error": {"code": "chain.broken"}}
        records = []
        for entry in new:
            try:
                record = VoteRecord.from_canonical_body(entry.payload)
            except ValueError:
                return 422, {"error": {"code": "entry.invalid"}}
            if record.device_id != device.code:
                return 422, {"error": {"code": "entry.invalid"}}
            if self.votes.get(record.vote_id, record.content_hash()) != record.content_hash():
                return 409, {"error": {"code": "vote.conflict"}}
            records.append((entry, record))
        if records:
            device.checkpoints[last.seq] = {
                "seq": last.seq,
                "hash": last.entry_hash(),
                "signature": batch.signature,
            }
        for entry, record in records:  # "one transaction": nothing above changed state
            device.entries[entry.seq] = entry.as_dict()
            device.hashes[entry.seq] = entry.entry_hash()
            self.votes[record.vote_id] = record.content_hash()
            counted = self.first_vote_of.setdefault((record.cycle_id, record.voter), record.vote_id)
            device.statuses[entry.seq] = {
                "seq": entry.seq,
                "vote_id": record.vote_id,
                "status": "counted" if counted == record.vote_id else "duplicate",
                "reason": None if counted == record.vote_id else "voter.already_voted",
                "counted_vote_id": counted,
            }
            device.acked_seq = entry.seq
        # A filled gap lets the entries set aside after it through, as the real server does.
        while device.acked_seq + 1 in device.set_aside:
            waiting = LogEntry.from_dict(device.set_aside.pop(device.acked_seq + 1))
            device.hashes[waiting.seq] = waiting.entry_hash()
            device.acked_seq = waiting.seq
        return 200, self._ack(device, batch.entries, gap=False)

    def _ack(self, device: DeviceRecord, entries: list, *, gap: bool) -> dict:
        return {
            "acked_seq": device.acked_seq,
            "acked_hash": device.hashes.get(device.acked_seq),
            "gap": gap,
            "statuses": [device.statuses[e.seq] for e in entries if e.seq in device.statuses]
            if self.statuses_in_ack
            else [],
            "server_time_ms": self.now_ms(),
        }

    def handle_read_log(self, device: DeviceRecord, query: dict) -> tuple[int, dict]:
        start = int(query.get("from", ["1"])[0])
        seqs = [s for s in sorted(device.entries) if s >= start][:500]
        inside = [s for s in device.checkpoints if seqs and seqs[0] <= s <= seqs[-1]]
        return 200, {
            "entries": [device.entries[s] for s in seqs],
            "checkpoint": device.checkpoints[max(inside)] if inside else None,
            "acked_seq": device.acked_seq,
            "server_time_ms": self.now_ms(),
        }

    def handle_statuses(self, device: DeviceRecord, query: dict) -> tuple[int, dict]:
        since = int(query.get("since_seq", ["0"])[0])
        found = [device.statuses[s] for s in sorted(device.statuses) if s > since][:1000]
        return 200, {"statuses": found, "server_time_ms": self.now_ms()}

    def change_eligibility(
        self,
        *,
        listed: list[str] = (),
        unlisted: list[str] = (),
        enabled: bool | None = None,
        districts: dict[str, str] | None = None,
    ) -> None:
        """One change of the list, as an upload or a switch in the console makes it
        (`districts`: where some of the listed residents live)."""
        with self.lock:
            for key in (*listed, *unlisted):
                self.eligibility_districts.pop(key, None)
            self.eligibility_districts.update(districts or {})
            self.eligibility_version += 1
            if enabled is not None:
                self.eligibility_enabled = enabled
            changed = {k: True for k in listed} | {k: False for k in unlisted}
            self.eligibility_changes = [c for c in self.eligibility_changes if c[1] not in changed]
            self.eligibility_changes += [(self.eligibility_version, k, v) for k, v in sorted(changed.items())]

    def handle_eligibility(self, query: dict) -> tuple[int, dict]:
        cursor = query.get("since", [""])[0]
        seq, _, key = cursor.partition(":")
        after = (int(seq), key) if seq else (0, "")
        rows = [c for c in self.eligibility_changes if (c[0], c[1]) > after and (seq or c[2])]
        page = rows[: self.eligibility_page]
        last = f"{page[-1][0]}:{page[-1][1]}" if page else cursor or f"{self.eligibility_version}:"
        return 200, {
            "enabled": self.eligibility_enabled,
            "version": self.eligibility_version,
            "listed": [k for _v, k, on in page if on],
            "unlisted": [k for _v, k, on in page if not on],
            "districts": {
                k: self.eligibility_districts[k]
                for _v, k, on in page
                if on and k in self.eligibility_districts
            },
            "cursor": last,
            "more": len(rows) > len(page),
            "server_time_ms": self.now_ms(),
        }

    def handle_voters(self, query: dict) -> tuple[int, dict]:
        start = int(query.get("since", ["0"])[0] or 0)
        page = self.voted_elsewhere[start : start + self.voters_page]
        groups: dict[int, list[str]] = {}
        for cycle_id, key in page:
            groups.setdefault(cycle_id, []).append(key)
        return 200, {
            "voted": [{"cycle_id": c, "voter_keys": keys} for c, keys in groups.items()],
            "voted_codes": [],
            "cursor": str(start + len(page)),
            "more": start + len(page) < len(self.voted_elsewhere),
            "server_time_ms": self.now_ms(),
        }


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _handler_for(server: FakeSyncServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with server.lock:
                server.requests.append(
                    {"method": method, "path": self.path, "headers": dict(self.headers), "body": raw}
                )
                if server.failures:
                    status, code = server.failures.pop(0)
                    return self._answer(status, {"error": {"code": code}}, raw)
                status, payload = self._route(method, raw)
                if server.lose_next:
                    server.lose_next = False
                    self.close_connection = True
                    return None
            return self._answer(status, payload, raw)

        def _route(self, method: str, raw: bytes) -> tuple[int, dict]:
            url = urlsplit(self.path)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return 422, {"error": {"code": "request.not_json"}}
            if (method, url.path) == ("POST", "/api/v1/sync/enrol"):
                return server.handle_enrol(body)
            device = server.authenticate(method, self.path, raw, self.headers)
            if isinstance(device, tuple):
                return device
            query = parse_qs(url.query)
            if (method, url.path) == ("GET", "/api/v1/sync/package"):
                return server.handle_package(device, query)
            if (method, url.path) == ("POST", "/api/v1/sync/log"):
                return server.handle_log(device, body)
            if (method, url.path) == ("GET", "/api/v1/sync/log"):
                return server.handle_read_log(device, query)
            if (method, url.path) == ("GET", "/api/v1/sync/statuses"):
                return server.handle_statuses(device, query)
            if (method, url.path) == ("GET", "/api/v1/sync/voters"):
                return server.handle_voters(query)
            if (method, url.path) == ("GET", "/api/v1/sync/eligibility"):
                return server.handle_eligibility(query)
            return 404, {"error": {"code": "not_found"}}

        def _answer(self, status: int, payload: dict, raw: bytes) -> None:
            data = json.dumps(payload).encode()
            binding = signed_answers.request_binding(self.headers.get("X-Spilno-Signature"), raw)
            signed = signed_answers.sign_answer(server.answer_key, binding, status, data, server.now_ms())
            if server.tamper is not None:
                status, data, signed = server.tamper(status, data, dict(signed))
            server.answers.append((status, data, signed))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in signed.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
