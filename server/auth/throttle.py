"""Slowing down guessing with growing delays, kept in the database so it holds across
server processes and cannot be raced.

A rule gives each subject (a login at an address, an address, a browser) a few free
attempts back to back; after them each attempt must wait: `first_delay`, then twice
that, and so on up to `max_delay`. A subject left alone for `forget_after` (counted
from the end of its last delay) starts afresh. An attempt that arrives while its
subject must wait is refused without being looked at, and is not counted: hammering a
blocked subject does not make its delay grow.

Subjects are chosen so that nobody can slow down anyone but themselves: sign-in counts
per (login, address) and per address, never per login alone, so a stranger's wrong
passwords cannot lock a moderator out of their account.

Races: `take` counts an attempt *before* the caller checks it, under a row lock
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite lets one writer at a time), and the
caller commits at once, before the slow check (scrypt). So 24 simultaneous wrong
passwords with 5 free get exactly 5 checks, never more. An attempt that turns out
right is then `forget`-ten (the login at that address starts afresh) or `refund`-ed
(the address is not charged for it).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.models import ThrottleBucket

# An IPv6 client usually has a whole /64 to itself: counting each of its 2^64 addresses
# apart would give it 2^64 fresh allowances.
IPV6_PREFIX = 64
# Now and then a take also deletes buckets nobody has touched for a day (longer than any
# rule remembers), so addresses that came once do not pile up.
SWEEP_ONE_IN = 64
SWEEP_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    """How many attempts a subject may make back to back, and how long it then waits."""

    name: str
    free: int
    first_delay: float  # seconds, after the free attempts are used
    max_delay: float  # seconds: the delay grows no further
    forget_after: float  # seconds of quiet after which the subject starts afresh

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any], prefix: str, free_key: str) -> Rule:
        """A rule from settings PREFIX_WINDOW_SECONDS, PREFIX_FIRST_DELAY_SECONDS,
        PREFIX_MAX_DELAY_SECONDS and the count `free_key`."""
        return cls(
            name=name,
            free=int(config[free_key]),
            first_delay=float(config[f"{prefix}_FIRST_DELAY_SECONDS"]),
            max_delay=float(config[f"{prefix}_MAX_DELAY_SECONDS"]),
            forget_after=float(config[f"{prefix}_WINDOW_SECONDS"]),
        )

    def delay(self, over: int) -> timedelta:
        """The wait after the `over`-th attempt beyond the free ones (1, 2, ...)."""
        seconds = self.first_delay * 2 ** min(max(over - 1, 0), 40)
        return timedelta(seconds=min(seconds, self.max_delay))

    def key(self, subject: str) -> str:
        digest = hashlib.sha256(f"spilno/throttle/{self.name}\n{subject}".encode()).hexdigest()
        return f"{self.name}:{digest[:64]}"[:80]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    wait_seconds: int = 0  # when refused: how long until the next attempt is taken


def address_subject(ip: str) -> str:
    """What an address counts as: itself, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def _locked(session: Session, key: str, now: datetime) -> ThrottleBucket:
    """The bucket row, created if new, locked until the caller's transaction ends."""
    dialect = session.get_bind().dialect.name
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(ThrottleBucket)
        .values(key=key, failures=0, last_at=now, blocked_until=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    bucket = session.scalars(
        select(ThrottleBucket)
        .where(ThrottleBucket.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return bucket


def _fresh(bucket: ThrottleBucket, rule: Rule, now: datetime) -> None:
    quiet_since = max(bucket.last_at, bucket.blocked_until or bucket.last_at)
    if now - quiet_since > timedelta(seconds=rule.forget_after):
        bucket.failures = 0
        bucket.blocked_until = None


def take(session: Session, subjects: Sequence[tuple[Rule, str]], now: datetime) -> Verdict:
    """Count one attempt against every (rule, subject), or against none of them when any
    must still wait. Commit right after, before checking the attempt."""
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        sweep(session, now, SWEEP_AFTER)
    # One lock order for everyone, so two requests never wait on each other in a circle.
    ordered = sorted(((rule.key(subject), rule) for rule, subject in subjects), key=lambda kr: kr[0])
    buckets = [(rule, _locked(session, key, now)) for key, rule in ordered]
    wait = 0.0
    for rule, bucket in buckets:
        _fresh(bucket, rule, now)
        if bucket.blocked_until is not None and bucket.blocked_until > now:
            wait = max(wait, (bucket.blocked_until - now).total_seconds())
    if wait > 0:
        return Verdict(False, max(1, int(wait + 0.999)))
    for rule, bucket in buckets:
        bucket.failures += 1
        bucket.last_at = now
        if bucket.failures >= rule.free:
            bucket.blocked_until = now + rule.delay(bucket.failures - rule.free + 1)
    session.flush()
    return Verdict(True)


def refund(session: Session, rule: Rule, subject: str, now: datetime) -> None:
    """Take back one attempt that turned out right: it was no failure. The caller commits."""
    bucket = session.get(ThrottleBucket, rule.key(subject), with_for_update=True, populate_existing=True)
    if bucket is None or bucket.failures <= 0:
        return
    bucket.failures -= 1
    if bucket.failures < rule.free:
        bucket.blocked_until = None


def forget(session: Session, rule: Rule, subject: str) -> None:
    """The subject starts afresh (a right password for the login at this address)."""
    session.execute(delete(ThrottleBucket).where(ThrottleBucket.key == rule.key(subject)))


def sweep(session: Session, now: datetime, older_than: timedelta) -> int:
    """Delete buckets quiet for longer than any rule remembers; the number deleted.
    Rows another request holds are skipped, so sweeping never waits or deadlocks."""
    cutoff = now - older_than
    quiet = (
        select(ThrottleBucket.key)
        .where(
            ThrottleBucket.last_at < cutoff,
            ThrottleBucket.blocked_until.is_(None) | (ThrottleBucket.blocked_until < cutoff),
        )
        .with_for_update(skip_locked=True)
    )
    keys = list(session.scalars(quiet))
    if keys:
        session.execute(delete(ThrottleBucket).where(ThrottleBucket.key.in_(keys)))
    return len(keys)
