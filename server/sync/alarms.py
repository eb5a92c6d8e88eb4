"""Alarms raised by sync: what a moderator must look at on the fleet page.

Every tampering sign becomes an alarm (server.models.Alarm) with the device code as its
source. A device that keeps retrying the same refused request would otherwise bury the
page in copies, so an open alarm with the same kind and the same details is counted up
(details "repeats", "last_at") instead of repeated. What an alarm says is kept as
parameters and rendered in the reader's language (server/sync/alarm_texts.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Alarm, utcnow
from server.sync.alarm_texts import render

CHAIN_CONFLICT = "chain.conflict"
CHAIN_BROKEN = "chain.broken"
ENTRY_INVALID = "entry.invalid"
ENTRY_DAMAGED = "entry.damaged"  # kept as evidence, never counted; the rest of the log is taken
CHECKPOINT_SIGNATURE = "checkpoint.signature"
VOTE_CONFLICT = "vote_conflict"  # the kind the integration API raises too
REVOKED_PUSH = "device.revoked_push"
FORGED_REQUEST = "device.forged_request"  # a request in a device's name it did not sign
CLOCK_STEP = "clock.step"  # votes cast under an offset far from the device's true one
VOTES_HELD = "votes.held"  # late votes for published results, or a revoked device's: a moderator decides
# A device's poll answers that are kept as evidence and not counted (server.sync.entry_answers).
ANSWERS_REFUSED = "poll_answers.refused"
PACKAGE_AHEAD = "package.ahead"  # a device holds a package this server never issued: a restore
# A store the device was enrolled past (an earlier key) delivered votes, or asked for more.
SUPERSEDED_STORE = "device.superseded_store"
# Kinds that mean the device's log, as the server sees it, cannot be trusted.
CHAIN_KINDS = frozenset({CHAIN_CONFLICT, CHAIN_BROKEN, CHECKPOINT_SIGNATURE})

# How many open alarms of one kind from one device are compared for a repeat.
_REPEAT_WINDOW = 20


def raise_alarm(
    session: Session,
    *,
    community_id: int,
    source: str,
    kind: str,
    text: dict[str, Any],
    details: dict[str, Any],
    now: datetime | None = None,
) -> Alarm:
    """Add an alarm to the session (the caller commits), or count up an open identical one.

    `text`: what it says, as server.sync.alarm_texts.text_of(...) makes it; kept in the
    details and rendered in the reader's language. Not part of what makes two alarms the
    same: a repeat keeps the first one's text."""
    now = now or utcnow()
    recent = session.scalars(
        select(Alarm)
        .where(
            Alarm.community_id == community_id,
            Alarm.source == source,
            Alarm.kind == kind,
            Alarm.acknowledged_at.is_(None),
        )
        .order_by(Alarm.id.desc())
        .limit(_REPEAT_WINDOW)
    ).all()
    for alarm in recent:
        evidence = {k: v for k, v in alarm.details.items() if k not in ("repeats", "last_at", "text")}
        if evidence == details:
            # A new dict, so the JSON column is seen as changed.
            alarm.details = {
                **alarm.details,
                "repeats": int(alarm.details.get("repeats", 1)) + 1,
                "last_at": now.isoformat(),
            }
            return alarm
    alarm = Alarm(
        community_id=community_id,
        at=now,
        kind=kind,
        source=source,
        details={**details, "text": text},
        message=render(text, "uk"),
    )
    session.add(alarm)
    return alarm
