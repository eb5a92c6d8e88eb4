"""The canonical vote record and its content hash.

A vote gets its id where it is cast (kiosk, support point, the online platform), so it
can travel any number of times and still be counted once. The content hash covers
everything that decides what the vote means; the same id with another hash is a
conflict, never a silent overwrite.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .channels import Channel

RECORD_VERSION = 1
_VOTER_KEY = re.compile(r"[0-9a-f]{64}")
_CODE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_CAST_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_BODY_KEYS = {"v", "id", "cycle", "voter_key", "code", "selections", "channel", "device", "cast_at"}
# The most projects one vote may choose, in all categories together. The one limit every
# part reads: the console's category and cycle limits, the ballot rule, this record, a
# device's log check, the server's sync reader and the integration API. A category may
# allow up to this many, so every vote the rule accepts can be recorded and delivered
# (Wieliczka 2023: 11 voters approved more than 50 projects).
MAX_SELECTIONS = 1000


def canonical_vote_id(value: str) -> str:
    """A UUID in its lowercase hyphenated form, or ValueError."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("a vote id is a UUID string")
    return str(uuid.UUID(value))


def canonical_time(moment: datetime) -> datetime:
    """UTC, to the millisecond: what every device can represent the same way."""
    if moment.tzinfo is None:
        raise ValueError("a vote's cast time must carry its time zone")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_time(moment: datetime) -> str:
    return canonical_time(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def check_voter(voter_key: str | None, code_id: str | None, *, what: str = "a vote") -> None:
    """Exactly one of a voter key (residents) or a code (school codes, blank sheets), each
    in its form, or ValueError: every record that speaks for someone (votes, poll answers)."""
    if (voter_key is None) == (code_id is None):
        raise ValueError(f"{what} has exactly one of voter_key and code_id")
    if voter_key is not None and not _VOTER_KEY.fullmatch(voter_key):
        raise ValueError("voter_key must be 64 lowercase hex characters")
    if code_id is not None and not _CODE_ID.fullmatch(code_id):
        raise ValueError("code_id must be 1-64 letters, digits, '-' or '_'")


def check_device(device_id: object) -> None:
    if device_id is not None and (not isinstance(device_id, str) or not _CODE_ID.fullmatch(device_id)):
        raise ValueError("device must be a short code")


def voter_of(voter_key: str | None, code_id: str | None) -> str:
    """Who a record speaks for: the unit of "one counted" ("key:<hex>" or "code:<id>")."""
    return f"key:{voter_key}" if voter_key is not None else f"code:{code_id}"


def read_cast_time(value: object) -> datetime:
    """A canonical body's cast_at ("2027-05-01T09:00:00.123Z") as a datetime, or ValueError."""
    if not isinstance(value, str) or not _CAST_AT.fullmatch(value):
        raise ValueError("cast_at must look like 2027-05-01T09:00:00.123Z")
    return datetime.fromisoformat(value)  # the pattern guarantees "...Z"


def canonical_json(body: dict[str, Any]) -> bytes:
    """The bytes a record's content hash is taken of: sorted keys, no spaces, ASCII."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True, slots=True)
class VoteRecord:
    vote_id: str
    cycle_id: int
    selections: tuple[int, ...]
    channel: Channel
    cast_at: datetime
    voter_key: str | None = None  # residents
    code_id: str | None = None  # school voting codes (one code, one vote)
    device_id: str | None = None  # terminal, support point, or integration client

    @classmethod
    def create(
        cls,
        *,
        vote_id: str | None = None,
        cycle_id: int,
        selections: Iterable[int],
        channel: Channel | str,
        cast_at: datetime,
        voter_key: str | None = None,
        code_id: str | None = None,
        device_id: str | None = None,
    ) -> VoteRecord:
        """Build a record in canonical form, refusing what cannot be one."""
        check_voter(voter_key, code_id)
        chosen = tuple(sorted(int(s) for s in selections))
        if len(chosen) > MAX_SELECTIONS:
            # Refused here, where it is made, not later when the device checks its log.
            raise ValueError(f"a vote chooses at most {MAX_SELECTIONS} projects, not {len(chosen)}")
        return cls(
            vote_id=canonical_vote_id(vote_id or str(uuid.uuid4())),
            cycle_id=int(cycle_id),
            selections=chosen,
            channel=Channel(channel),
            cast_at=canonical_time(cast_at),
            voter_key=voter_key,
            code_id=code_id,
            device_id=device_id,
        )

    @property
    def voter(self) -> str:
        """Who this vote speaks for: the unit of "one counted vote"."""
        return voter_of(self.voter_key, self.code_id)

    def canonical_body(self) -> dict[str, Any]:
        """The record as plain JSON data; `from_canonical_body` reads it back."""
        return {
            "v": RECORD_VERSION,
            "id": self.vote_id,
            "cycle": self.cycle_id,
            "voter_key": self.voter_key,
            "code": self.code_id,
            "selections": list(self.selections),
            "channel": self.channel.value,
            "device": self.device_id,
            "cast_at": format_time(self.cast_at),
        }

    @classmethod
    def from_canonical_body(cls, body: dict[str, Any]) -> VoteRecord:
        """Read a record written by `canonical_body`, refusing anything else (ValueError)."""
        if not isinstance(body, dict) or set(body) != _BODY_KEYS or body["v"] != RECORD_VERSION:
            raise ValueError("not a canonical vote record")
        selections = body["selections"]
        if not isinstance(selections, list) or len(selections) > MAX_SELECTIONS:
            raise ValueError(f"selections must be a list of at most {MAX_SELECTIONS} project ids")
        if any(type(s) is not int for s in selections) or type(body["cycle"]) is not int:
            raise ValueError("cycle and selections must be integers")
        cast_at = read_cast_time(body["cast_at"])
        device = body["device"]
        check_device(device)
        record = cls.create(
            vote_id=body["id"],
            cycle_id=body["cycle"],
            selections=selections,
            channel=body["channel"],
            cast_at=cast_at,
            voter_key=body["voter_key"],
            code_id=body["code"],
            device_id=device,
        )
        if record.canonical_body() != body:
            raise ValueError("vote record is not in canonical form")
        return record

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.canonical_body())

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()
