"""Votes held for a moderator's decision instead of being counted on arrival.

Two cases, both of which used to go wrong silently:
- the cycle's results are published: a terminal that was offline through the close and
  syncs afterwards would move published figures (and flip other votes to duplicate)
  with nobody deciding it. Its votes now wait here; published results move only when a
  moderator counts them, and that decision is in the audit log.
- the device is revoked: its honest backlog (votes thanked before the revocation) was
  refused for ever and lost. It is now taken, verified like any push, and waits here;
  a moderator counts the votes cast before the revocation, and those cast after it are
  never counted.

- the vote chooses projects in a district category (voting.district) while the voter's
  entry in the community's list names another district, or none (an anonymous paper
  sheet has none): a terminal's list may be older than the server's, a support point
  cannot see a blank sheet's voter, and the online platform does not hold the list.
  Nothing of such a vote counts until a moderator decides; the same holds for votes
  the platform pushes (they have no device: their group is named by their source).

The log entries are stored as usual (the chain stays whole and the device moves on);
only the votes wait. A device learns the status "held" for them, and the final one
after the decision.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Cycle, Device, HeldVote, User, utcnow
from server.services import audit, eligibility
from server.services.ballot_box import store_votes
from server.services.cycle_rules import CycleRules, load_cycle_rules, resolve_codes
from sync.log_entries import LogEntry
from voting import Ballot, VoteRecord
from voting.district import district_problems

from . import alarms
from .alarm_texts import text_of

RESULTS_PUBLISHED = "results_published"
DEVICE_REVOKED = "device_revoked"
# The resident is not on the community's voter list as the server holds it: the
# terminal's copy was older (or replayed), or incomplete when the vote was cast.
NOT_LISTED = "not_listed"
# Cast before the close by the terminal's clock, after it once that clock's drift since
# its last sync is taken out (the server learns the drift from the push itself).
AFTER_CLOSE = "after_close"
# Delivered by a store the device was enrolled past (its key is an earlier enrolment's):
# honest votes it never sent, or a lost or stolen store's; a person decides.
STORE_SUPERSEDED = "store_superseded"
# Chooses in a district category, and the server's list gives the voter another
# district or none (voting.district).
WRONG_DISTRICT = "wrong_district"
REASONS = (RESULTS_PUBLISHED, DEVICE_REVOKED, NOT_LISTED, AFTER_CLOSE, STORE_SUPERSEDED, WRONG_DISTRICT)
COUNTED, REJECTED = "counted", "rejected"
MAX_NOTE = 500


class DecisionRefused(ValueError):
    """The decision cannot be taken (nothing open, no note); `code` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def hold_reason(
    device: Device,
    cycle: Cycle,
    record: VoteRecord,
    unlisted: Collection[str],
    drift_ms: int = 0,
    *,
    superseded: bool = False,
    ballot: Ballot | None = None,
    districts: Mapping[str, str | None] | None = None,
) -> str | None:
    """Why a vote from `device` for `cycle` must wait for a moderator, or None.
    `unlisted`: the voter keys among the batch's that the community's list, enabled,
    does not hold (empty when no list applies). `drift_ms`: how far the device's clock
    offset moved between the vote and this push (its true offset now less the one the
    vote was placed by): the vote's true time is its cast time plus that. `superseded`:
    the vote came signed by an earlier enrolment's key. `ballot` and `districts`
    (batch_districts): the district check, skipped when the ballot is not given."""
    if device.revoked_at is not None:
        return DEVICE_REVOKED
    if superseded:
        return STORE_SUPERSEDED
    if cycle.results_published_at is not None:
        return RESULTS_PUBLISHED
    if record.voter_key is not None and record.voter_key in unlisted:
        return NOT_LISTED
    if ballot is not None and wrong_district(ballot, record, districts or {}):
        return WRONG_DISTRICT
    if record.cast_at < cycle.voting_ends_at <= record.cast_at + timedelta(milliseconds=drift_ms):
        return AFTER_CLOSE
    return None


def wrong_district(ballot: Ballot, record: VoteRecord, districts: Mapping[str, str | None]) -> bool:
    """Does the vote choose in a district category its voter does not live in?"""
    resident = districts.get(record.voter_key) if record.voter_key is not None else None
    return bool(district_problems(ballot, record.selections, resident))


def batch_districts(
    session: Session, community_id: int, rules: Mapping[int, CycleRules], records: Sequence[VoteRecord]
) -> dict[str, str | None]:
    """The list's districts for the voters of `records` whose cycle has a district
    category (no query at all when none has)."""
    district_cycles = {i for i, r in rules.items() if any(c.district for c in r.ballot.categories)}
    keys = sorted({r.voter_key for r in records if r.cycle_id in district_cycles and r.voter_key is not None})
    return eligibility.districts_of(session, community_id, keys) if keys else {}


def hold(
    session: Session,
    device: Device,
    held: Sequence[tuple[LogEntry, VoteRecord, str]],
    now: datetime,
) -> None:
    """Keep these votes (entry, record, reason) for a decision, and raise an alarm per
    cycle and reason so the moderators see that something waits."""
    _hold(
        session,
        device.community_id,
        device.code,
        device.id,
        [(entry.seq, record, reason) for entry, record, reason in held],
        now,
    )


def hold_pushed(
    session: Session, community_id: int, source: str, held: Sequence[VoteRecord], now: datetime
) -> None:
    """Keep votes the online platform pushed (`source`: "api:<client id>") that choose
    in a district category their voter does not live in."""
    _hold(session, community_id, source, None, [(None, r, WRONG_DISTRICT) for r in held], now)


def _hold(
    session: Session,
    community_id: int,
    source: str,
    device_id: int | None,
    held: Sequence[tuple[int | None, VoteRecord, str]],
    now: datetime,
) -> None:
    if not held:
        return
    known = set(
        session.scalars(
            select(HeldVote.vote_id).where(
                HeldVote.community_id == community_id,
                HeldVote.vote_id.in_([r.vote_id for _e, r, _w in held]),
            )
        )
    )
    waiting: dict[tuple[int, str], int] = {}
    for seq, record, reason in held:
        if record.vote_id in known:
            continue  # the same vote sent again (its entry was answered as known)
        known.add(record.vote_id)
        session.add(
            HeldVote(
                community_id=community_id,
                cycle_id=record.cycle_id,
                device_id=device_id,
                seq=seq,
                source=source,
                vote_id=record.vote_id,
                record=record.canonical_body(),
                cast_at=record.cast_at,
                reason=reason,
                held_at=now,
            )
        )
        waiting[(record.cycle_id, reason)] = waiting.get((record.cycle_id, reason), 0) + 1
    for (cycle_id, reason), count in sorted(waiting.items()):
        key = "votes.held.device" if device_id is not None else "votes.held.api"
        alarms.raise_alarm(
            session,
            community_id=community_id,
            source=source,
            kind=alarms.VOTES_HELD,
            text=text_of(key, code=source, n=count, why=reason),
            details={"cycle_id": cycle_id, "reason": reason},
            now=now,
        )


@dataclass(frozen=True)
class HeldGroup:
    """Votes waiting for one decision: one device (or, for votes the online platform
    pushed, one source), one cycle, one reason."""

    device_id: int | None  # None: pushed by the platform, `device_code` is "api:<client id>"
    device_code: str
    cycle_id: int
    cycle_title: str
    reason: str
    votes: int
    first_cast_at: datetime
    last_cast_at: datetime
    revoked_at: datetime | None  # for a revoked device: votes cast after this never count
    cast_after_revocation: int


def open_groups(session: Session, community_ids: Collection[int] | None) -> list[HeldGroup]:
    """Every group of votes still waiting, in the communities given (None: all)."""
    query = (
        select(
            HeldVote.device_id,
            HeldVote.source,
            HeldVote.cycle_id,
            Cycle.title,
            HeldVote.reason,
            func.count(),
            func.min(HeldVote.cast_at),
            func.max(HeldVote.cast_at),
            Device.revoked_at,
        )
        .outerjoin(Device, Device.id == HeldVote.device_id)
        .join(Cycle, Cycle.id == HeldVote.cycle_id)
        .where(HeldVote.decision.is_(None))
        .group_by(
            HeldVote.device_id,
            HeldVote.source,
            HeldVote.cycle_id,
            Cycle.title,
            HeldVote.reason,
            Device.revoked_at,
        )
        .order_by(HeldVote.source, HeldVote.cycle_id, HeldVote.reason)
    )
    if community_ids is not None:
        query = query.where(HeldVote.community_id.in_(sorted(community_ids)))
    groups = []
    for device_id, code, cycle_id, title, reason, count, first, last, revoked_at in session.execute(query):
        late = 0
        if revoked_at is not None:  # these never count, whatever is decided
            late = session.execute(
                select(func.count()).where(
                    HeldVote.device_id == device_id,
                    HeldVote.cycle_id == cycle_id,
                    HeldVote.reason == reason,
                    HeldVote.decision.is_(None),
                    HeldVote.cast_at > revoked_at,
                )
            ).scalar_one()
        groups.append(
            HeldGroup(device_id, code, cycle_id, title, reason, count, first, last, revoked_at, late)
        )
    return groups


@dataclass(frozen=True)
class Decision:
    counted: int  # votes handed to the ballot box (each then counts, or is a duplicate...)
    rejected: int


def decide(
    session: Session,
    *,
    device: Device | None,
    cycle: Cycle,
    reason: str,
    count: bool,
    note: str,
    user: User | None,
    now: datetime | None = None,
    source: str = "",
) -> Decision:
    """Count or reject the open group (device, cycle, reason). Counting stores the votes
    through the ballot box exactly as a push would have (the same counting rule, the
    tally moves); votes a revoked device cast after its revocation are rejected either
    way. The decision, its note and its author are kept on every vote and in the audit
    log. With `device` None, the group is the one the online platform pushed as `source`.
    The caller commits."""
    now = now or utcnow()
    if device is not None:
        group = HeldVote.device_id == device.id
        source = device.code
    else:
        group = HeldVote.device_id.is_(None) & (HeldVote.source == source)
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise DecisionRefused("held.note_required")
    rows = session.scalars(
        select(HeldVote)
        .where(
            group,
            HeldVote.cycle_id == cycle.id,
            HeldVote.reason == reason,
            HeldVote.decision.is_(None),
        )
        .order_by(HeldVote.seq)
        .with_for_update()
    ).all()
    if not rows:
        raise DecisionRefused("held.nothing_open")
    revoked_at = device.revoked_at if device is not None else None
    to_count = [r for r in rows if count and (revoked_at is None or r.cast_at <= revoked_at)]
    counted_ids = {r.id for r in to_count}
    if to_count:
        rules = {cycle.id: resolve_codes(session, load_cycle_rules(session, cycle), None)}
        records = [VoteRecord.from_canonical_body(r.record) for r in to_count]
        store_votes(session, rules, records, source=source, now=now)
    for row in rows:
        row.decision = COUNTED if row.id in counted_ids else REJECTED
        row.decided_at = now
        row.decided_by = user.id if user is not None else None
        row.note = note
    decision = Decision(len(to_count), len(rows) - len(to_count))
    audit.record(
        session,
        "held_votes.count" if count else "held_votes.reject",
        user=user,
        community_id=cycle.community_id,
        target=("device", source) if device is not None else ("api_client", source),
        details={
            "cycle_id": cycle.id,
            "reason": reason,
            "counted": decision.counted,
            "rejected": decision.rejected,
            "note": note,
        },
    )
    session.flush()
    return decision


def held_statuses(
    session: Session, community_id: int, vote_ids: Collection[str]
) -> dict[str, tuple[str, str]]:
    """vote id -> (status, reason) a device of the community is told for a vote that is
    or was held and is not in the vote table: "held" while it waits, "invalid" once
    rejected."""
    if not vote_ids:
        return {}
    found = {}
    for vote_id, reason, decision in session.execute(
        select(HeldVote.vote_id, HeldVote.reason, HeldVote.decision).where(
            HeldVote.community_id == community_id, HeldVote.vote_id.in_(sorted(vote_ids))
        )
    ):
        if decision is None:
            found[vote_id] = ("held", f"held.{reason}")
        elif decision == REJECTED:
            found[vote_id] = ("invalid", f"held.{reason}.rejected")
    return found
