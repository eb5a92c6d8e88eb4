"""A device as the sync tests drive it: built only from the protocol modules of sync/, as a terminal or
support point would be, talking to the server through the Flask test client."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from server.models import Device, DeviceCheckpoint, DeviceLogEntry, Project, Vote
from server.sync.enrolment import issue_enrolment_code
from sync import log_batches, log_entries, signed_requests, signing
from voting import VoteRecord


def voter_key(n: int) -> str:
    return hashlib.sha256(f"resident-{n}".encode()).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


class FakeDevice:
    """Keeps its own key and log; signs what it sends; its clock can be set off."""

    def __init__(self, client: Any, code: str, kind: str = "terminal") -> None:
        self.client = client
        self.code = code
        self.kind = kind
        self.key = signing.generate_private_key()
        self.log: list[log_entries.LogEntry] = []
        self.clock_skew_ms = 0  # how far this device's clock is off the real time
        self.package_version = 0

    # --- requests ---------------------------------------------------------------------

    def headers(
        self, method: str, path: str, body: bytes = b"", last_seq: int | None = None, **extra: str
    ) -> dict[str, str]:
        signed = signed_requests.sign_request(
            self.key, method, path, body, self.code, now_ms() + self.clock_skew_ms, last_seq=last_seq
        )
        return {**signed, **extra}

    def get(self, path: str, **extra: str) -> Any:
        return self.client.get(path, headers=self.headers("GET", path, **extra))

    def post(self, path: str, body: bytes, **extra: str) -> Any:
        headers = self.headers("POST", path, body, **extra)
        return self.client.post(path, data=body, headers=headers, content_type="application/json")

    def enrol(self, code: str, software: str = "spilno-kiosk 1.0") -> Any:
        body = {"code": code, "public_key": signing.public_key_b64(self.key), "software": software}
        return self.client.post("/api/v1/sync/enrol", json=body)

    # --- the log ----------------------------------------------------------------------

    def cast(
        self,
        cycle_id: int,
        selections: list[int],
        *,
        voter: int = 1,
        minutes_ago: int = 0,
        channel: str | None = None,
        vote_id: str | None = None,
    ) -> log_entries.LogEntry:
        """Record a vote in the log, as the device does when a resident votes."""
        record = VoteRecord.create(
            vote_id=vote_id or str(uuid.uuid4()),
            cycle_id=cycle_id,
            selections=selections,
            channel=channel or ("kiosk" if self.kind == "terminal" else "paper"),
            cast_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            voter_key=voter_key(voter),
            device_id=self.code,
        )
        return self.append(record.canonical_body())

    def append(self, payload: dict) -> log_entries.LogEntry:
        previous = self.log[-1] if self.log else None
        entry = log_entries.next_entry(
            previous, self.code, "vote", payload, self.package_version, self.clock_skew_ms
        )
        self.log.append(entry)
        return entry

    def batch(self, first: int = 1, last: int | None = None) -> dict:
        """A signed batch of log entries first..last (seq numbers, inclusive)."""
        last = last if last is not None else len(self.log)
        return log_batches.make_batch(self.key, self.code, self.log[first - 1 : last])

    def push(self, batch: Any = ..., **extra: str) -> Any:
        """POST a batch (by default the whole log) as JSON; any value may be sent."""
        body = json.dumps(self.batch() if batch is ... else batch).encode()
        return self.post("/api/v1/sync/log", body, **extra)


def enrolled_device(
    client: Any, session: Any, make: Any, community: Any = None, kind: str = "terminal"
) -> FakeDevice:
    community = community or make.community()
    prefix = "T" if kind == "terminal" else "S"
    count = session.scalar(select(func.count()).select_from(Device))
    row = make.device(community, kind=kind, code=f"{prefix}-{count + 1:04d}")
    issued = issue_enrolment_code(session, row)
    session.commit()
    device = FakeDevice(client, row.code, kind)
    response = device.enrol(issued.code)
    assert response.status_code == 200, response.get_json()
    device.server_key = response.get_json()["server_key"]
    device.row_id = row.id
    return device


def project_ids(session: Any, cycle: Any) -> list[int]:
    return list(
        session.scalars(select(Project.id).where(Project.cycle_id == cycle.id).order_by(Project.number))
    )


def stored_counts(session: Any) -> tuple[int, int, int]:
    """(log entries, checkpoints, votes) now in the database."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(DeviceLogEntry)),
        session.scalar(select(func.count()).select_from(DeviceCheckpoint)),
        session.scalar(select(func.count()).select_from(Vote)),
    )
