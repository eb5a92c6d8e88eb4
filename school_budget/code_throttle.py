"""Slowing down code guessing, kept in the database so it holds across server processes.

A code has 93 random bits, so guessing one is hopeless anyway; the limits are there so
nobody can hammer the pages trying, and so a flood of wrong codes shows up as rows.

Only wrong codes count (a typo caught by the check symbol, or a code that does not
exist): a real code refused for its state (spent, revoked, voting closed) tells a
guesser nothing new. They count three ways: per browser (a random id kept in the
session cookie, stored here only hashed), per network address, and per school entry
page. A whole school usually reaches us from one address, so that limit is generous:
forty students each making one typo before typing their code right must all get through.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.models import CodeAttempt

CLIENT_ID_BYTES = 16
_IP_LENGTH = 64  # CodeAttempt.ip


@dataclass(frozen=True)
class CodeLimits:
    """Failed codes allowed within `window_seconds`, per browser, address and school page."""

    window_seconds: int
    per_client: int
    per_ip: int
    per_school: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CodeLimits:
        return cls(
            window_seconds=int(config["CODE_WINDOW_SECONDS"]),
            per_client=int(config["CODE_MAX_FAILURES_PER_CLIENT"]),
            per_ip=int(config["CODE_MAX_FAILURES_PER_IP"]),
            per_school=int(config["CODE_MAX_FAILURES_PER_SCHOOL"]),
        )


@dataclass(frozen=True)
class Guesser:
    """Who is typing codes: the browser (hashed id), its address and the school page, if any."""

    client: str
    ip: str
    school_id: int | None = None


def new_client_id() -> str:
    """A random id for a browser, kept in its session cookie."""
    return secrets.token_urlsafe(CLIENT_ID_BYTES)


def client_hash(client_id: str) -> str:
    """What the database keeps of a browser's id (64 hex digits): rows of attempts do not
    give anyone a cookie value to replay."""
    return hashlib.sha256(f"spilno/code-client/{client_id}".encode()).hexdigest()


def _count(session: Session, condition: Any, since: datetime) -> int:
    return session.scalar(select(func.count()).where(condition, CodeAttempt.at >= since)) or 0


def too_many_failures(session: Session, limits: CodeLimits, guesser: Guesser, now: datetime) -> bool:
    """Whether this browser, address or school page has had too many wrong codes lately."""
    since = now - timedelta(seconds=limits.window_seconds)
    if _count(session, CodeAttempt.client == guesser.client, since) >= limits.per_client:
        return True
    if _count(session, CodeAttempt.ip == guesser.ip[:_IP_LENGTH], since) >= limits.per_ip:
        return True
    return (
        guesser.school_id is not None
        and _count(session, CodeAttempt.school_id == guesser.school_id, since) >= limits.per_school
    )


def record_failure(session: Session, limits: CodeLimits, guesser: Guesser, now: datetime) -> None:
    """Count one wrong code (in the caller's transaction: commit after it)."""
    session.add(
        CodeAttempt(at=now, client=guesser.client, ip=guesser.ip[:_IP_LENGTH], school_id=guesser.school_id)
    )
    # Attempts older than the window decide nothing any more; keep the table small.
    expired = now - timedelta(seconds=limits.window_seconds)
    session.execute(delete(CodeAttempt).where(CodeAttempt.at < expired))
