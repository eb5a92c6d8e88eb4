"""Votes pushed by the online e-democracy platform, stored once.

A batch read strictly (server.services.pushed_votes) goes to the ballot box in one
transaction; a vote choosing in a district category its voter does not live in waits
for a moderator instead. A vote id re-sent with other content raises an alarm.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import Alarm, HeldVote, Vote, utcnow
from server.sync.alarm_texts import render, text_of
from server.sync.held import COUNTED as COUNTED_DECISION
from server.sync.held import WRONG_DISTRICT, batch_districts, hold_pushed, wrong_district
from voting import Channel, VoteRecord, VoteStatus, canonical_vote_id

from .ballot_box import Conflict, StoredVote, VoteConflict, store_votes
from .pushed_votes import ReadBatch


def api_source(client_id: int) -> str:
    """How votes and alarms name the client that delivered them."""
    return f"api:{client_id}"


class StoreBusy(Exception):
    """Concurrent pushes kept colliding; the platform should simply send again."""


def accept_votes(
    session: Session, batch: ReadBatch, *, client_id: int, community_id: int
) -> list[StoredVote]:
    """Store the batch and commit; each vote's standing, in the order given.

    On VoteConflict nothing of the batch is kept, an alarm is committed on its own, and
    the conflict is raised again for the caller to answer.
    """
    source = api_source(client_id)
    for attempt in (1, 2):
        try:
            results = _store_or_hold(session, batch, source, community_id)
            session.commit()
            return results
        except VoteConflict as conflict:
            session.rollback()
            # The batch's transaction is gone; the alarm gets one of its own, so a
            # moderator hears about the conflict even though nothing was stored.
            record_conflict_alarm(session, community_id, source, conflict.conflicts)
            session.commit()
            raise
        except IntegrityError:
            # The ballot box locks per voter, not per vote id. Two pushes of the same
            # new id at once (a platform retrying after a timeout while the first try
            # is still running, possibly with a different voter) can both find the id
            # absent and both insert; the later insert then fails on the primary key.
            # Trying once more sees the committed row and answers "already stored" or
            # a conflict, as for any re-push. A second collision means a storm of
            # concurrent retries: tell the client to send again rather than loop.
            session.rollback()
            if attempt == 2:
                raise StoreBusy from None
    raise AssertionError("unreachable")


def _store_or_hold(session: Session, batch: ReadBatch, source: str, community_id: int) -> list[StoredVote]:
    """Store the batch's votes, except those that choose in a district category their
    voter does not live in by the community's list: those wait for a moderator
    (server.sync.held, reason wrong_district) and are answered "held". A vote sent again
    gets the answer it got before."""
    if not any(c.district for rules in batch.rules.values() for c in rules.ballot.categories):
        # No district category (nearly every cycle): nothing is ever held on this channel.
        return store_votes(session, batch.rules, batch.records, source)
    districts = batch_districts(session, community_id, batch.rules, batch.records)
    ids = sorted({r.vote_id for r in batch.records})
    held_before = {
        h.vote_id: h
        for h in session.scalars(
            select(HeldVote).where(HeldVote.community_id == community_id, HeldVote.vote_id.in_(ids))
        )
    }
    conflicts = []
    answers: dict[str, StoredVote] = {}
    to_store, to_hold = [], []
    for record in batch.records:
        earlier = held_before.get(record.vote_id)
        if earlier is not None and earlier.decision != COUNTED_DECISION:
            offered = record.content_hash()
            kept = VoteRecord.from_canonical_body(earlier.record).content_hash()
            if offered != kept:
                conflicts.append(Conflict(record.vote_id, kept, offered))
            waiting = earlier.decision is None
            answers[record.vote_id] = StoredVote(
                record.vote_id,
                "held" if waiting else VoteStatus.INVALID.value,
                f"held.{earlier.reason}" + ("" if waiting else ".rejected"),
                None,
            )
        elif earlier is None and wrong_district(batch.rules[record.cycle_id].ballot, record, districts):
            to_hold.append(record)
        else:
            to_store.append(record)  # counted by a moderator: answered from the ballot box
    if conflicts:
        raise VoteConflict(conflicts)
    if to_hold:
        # Stored on an earlier push, before the list moved its voter: that decision stands.
        in_box = set(
            session.scalars(
                select(Vote.id).where(
                    Vote.community_id == community_id, Vote.id.in_([r.vote_id for r in to_hold])
                )
            )
        )
        to_store += [r for r in to_hold if r.vote_id in in_box]
        to_hold = [r for r in to_hold if r.vote_id not in in_box]
    stored = store_votes(session, batch.rules, to_store, source) if to_store else []
    hold_pushed(session, community_id, source, to_hold, utcnow())
    answers.update({s.vote_id: s for s in stored})
    answers.update(
        {r.vote_id: StoredVote(r.vote_id, "held", f"held.{WRONG_DISTRICT}", None) for r in to_hold}
    )
    return [answers[r.vote_id] for r in batch.records]


def pushed_held_vote(session: Session, community_id: int, vote_id: str) -> HeldVote | None:
    """A vote the community's platform pushed that waits (or waited) for a moderator and
    is not in the vote table: held, or rejected."""
    try:
        vote_id = canonical_vote_id(vote_id)
    except ValueError:
        return None
    return session.scalar(
        select(HeldVote).where(
            HeldVote.vote_id == vote_id,
            HeldVote.community_id == community_id,
            HeldVote.device_id.is_(None),
        )
    )


def record_conflict_alarm(
    session: Session, community_id: int, source: str, conflicts: Sequence[Conflict]
) -> Alarm:
    """An alarm for votes re-sent with other content: ids and hashes, never identities."""
    text = text_of("vote_conflict.api", code=source, n=len(conflicts))
    alarm = Alarm(
        community_id=community_id,
        at=utcnow(),
        kind="vote_conflict",
        source=source,
        details={
            "conflicts": [
                {"vote_id": c.vote_id, "stored_hash": c.stored_hash, "offered_hash": c.offered_hash}
                for c in conflicts
            ],
            "text": text,
        },
        message=render(text, "uk"),
    )
    session.add(alarm)
    return alarm


def pushed_vote(session: Session, community_id: int, vote_id: str) -> Vote | None:
    """A vote the community's platform pushed, by id; None for anything else."""
    try:
        vote_id = canonical_vote_id(vote_id)
    except ValueError:
        return None
    return session.scalar(
        select(Vote).where(
            Vote.id == vote_id,
            Vote.community_id == community_id,
            Vote.channel == Channel.WEB.value,
        )
    )
