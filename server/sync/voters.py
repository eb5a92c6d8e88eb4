"""Who has already voted: the voter keys (and school codes) with a counted vote in the
device's community's open cycles, sent to terminals in increments so a resident who
voted online is told so at the terminal, even while the terminal is offline later.

Increments follow the votes' arrival (received_at, id). A transaction that started
before another but commits after it can land behind a cursor already handed out, so
every caught-up answer is re-read from a minute before now (never further back than its
end): devices keep the keys as a set, and the repeats stay within that one minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from server.models import Cycle, Vote
from voting import VoteStatus

PAGE = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OVERLAP = timedelta(seconds=60)  # far longer than any vote transaction takes
# Microseconds since the epoch (what the database keeps), then the last vote id of a page.
_CURSOR = re.compile(r"(?P<us>[0-9]{1,18})(?::(?P<id>[0-9a-f-]{36}))?")


class BadCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class VotedPage:
    cycle_voters: dict[int, list[str]]  # cycle id -> voter keys with a counted vote
    cycle_codes: dict[int, list[str]]  # cycle id -> school code ids with a counted vote
    cursor: str
    more: bool


def _read_cursor(raw: str) -> tuple[datetime, str]:
    if not raw:
        return datetime(2000, 1, 1, tzinfo=UTC), ""
    match = _CURSOR.fullmatch(raw)
    if match is None:
        raise BadCursor(raw[:40])
    try:
        moment = EPOCH + timedelta(microseconds=int(match["us"]))
    except OverflowError:
        raise BadCursor(raw[:40]) from None
    return moment, match["id"] or ""


def _micros(moment: datetime) -> int:
    # Exact integer arithmetic: a float timestamp would round away the microseconds
    # that tell two votes of one transaction apart at a page boundary.
    return (moment - EPOCH) // timedelta(microseconds=1)


def _cursor(moment: datetime, vote_id: str) -> str:
    return f"{_micros(moment)}:{vote_id}"


def voted_since(session: Session, community_id: int, cursor: str, now: datetime) -> VotedPage:
    since, since_id = _read_cursor(cursor)
    open_cycles = select(Cycle.id).where(Cycle.community_id == community_id, Cycle.voting_ends_at > now)
    after = or_(Vote.received_at > since, and_(Vote.received_at == since, Vote.id > since_id))
    rows = session.execute(
        select(Vote.cycle_id, Vote.voter_key, Vote.code_id, Vote.received_at, Vote.id)
        .where(Vote.cycle_id.in_(open_cycles), Vote.status == VoteStatus.COUNTED.value, after)
        .order_by(Vote.received_at, Vote.id)
        .limit(PAGE)
    ).all()
    voters: dict[int, list[str]] = {}
    codes: dict[int, list[str]] = {}
    for cycle_id, voter_key, code_id, _received, _id in rows:
        if voter_key is not None:
            voters.setdefault(cycle_id, []).append(voter_key)
        else:
            assert code_id is not None  # a vote has one of the two (VoteRecord.create)
            codes.setdefault(cycle_id, []).append(code_id)
    if len(rows) == PAGE:
        return VotedPage(voters, codes, _cursor(rows[-1].received_at, rows[-1].id), more=True)
    # Caught up. Votes that arrived over a minute ago have all committed, so the cursor
    # moves past them for good; only the last minute is re-read next time (see the
    # module's docstring). A big push is thus re-sent for at most a minute, not on every
    # round for as long as nothing newer arrives.
    horizon = now - OVERLAP
    if not rows:
        return VotedPage(voters, codes, cursor or str(_micros(since)), more=False)
    if rows[-1].received_at <= horizon:
        return VotedPage(voters, codes, _cursor(rows[-1].received_at, rows[-1].id), more=False)
    return VotedPage(voters, codes, str(_micros(max(horizon, since))), more=False)
