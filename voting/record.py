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

from .channels import Channel

RECORD_VERSION = 1
_VOTER_KEY = re.compile(r"[0-9a-f]{64}")
_CODE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


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
        if (voter_key is None) == (code_id is None):
            raise ValueError("a vote has exactly one of voter_key and code_id")
        if voter_key is not None and not _VOTER_KEY.fullmatch(voter_key):
            raise ValueError("voter_key must be 64 lowercase hex characters")
        if code_id is not None and not _CODE_ID.fullmatch(code_id):
            raise ValueError("code_id must be 1-64 letters, digits, '-' or '_'")
        chosen = tuple(sorted(int(s) for s in selections))
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
        return f"key:{self.voter_key}" if self.voter_key is not None else f"code:{self.code_id}"

    def canonical_bytes(self) -> bytes:
        body = {
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
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()
