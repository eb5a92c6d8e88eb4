"""Votes pushed by the online e-democracy platform: read strictly, then stored once.

The platform sends JSON its own code built, so anything unexpected is a bug on one side
or an attack. We refuse the whole batch, name every problem by item and field, and store
nothing; a well-formed batch goes to the ballot box in one transaction. Rule matters
(too many projects, a vote outside the window, a project chosen twice) are not malformed
input: those votes are stored and answered as `invalid`, like on every other channel.

A resident's document number is turned into a voter key here, on arrival, and dropped:
it is never stored, logged, or echoed back in an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import (
    Alarm,
    ApiClient,
    Category,
    Community,
    Cycle,
    CycleKind,
    HeldVote,
    Project,
    ProjectStatus,
    Vote,
    utcnow,
)
from server.sync.alarm_texts import render, text_of
from server.sync.held import COUNTED as COUNTED_DECISION
from server.sync.held import WRONG_DISTRICT, batch_districts, hold_pushed, wrong_district
from voting import (
    Channel,
    IdentityError,
    IdentityKind,
    VoteRecord,
    VoterKey,
    VoteStatus,
    canonical_vote_id,
    community_voter_secret,
)
from voting.record import MAX_SELECTIONS  # the one limit; the OpenAPI document reads it from here

from .ballot_box import Conflict, StoredVote, VoteConflict, store_votes
from .cycle_rules import CycleRules, load_cycle_rules

MAX_ID = 2**31 - 1  # ids are PostgreSQL `integer`s; a bigger number could never match
# A hostile batch could carry thousands of problems; the first hundred say enough.
MAX_REPORTED_PROBLEMS = 100
MAX_FIELD_NAME = 64

BATCH_FIELDS = frozenset({"votes"})
VOTE_FIELDS = frozenset({"id", "cycle_id", "voter_key", "identity", "selections", "cast_at"})
IDENTITY_FIELDS = frozenset({"kind", "number"})
_VOTER_KEY = re.compile(r"[0-9a-f]{64}")
# RFC 3339, the ISO 8601 profile OpenAPI's "date-time" means; the offset is required so
# a vote's moment never depends on the server's clock settings.
_CAST_AT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
# A vote cast before the system existed or centuries ahead is a bug upstream.
_EARLIEST_CAST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST_CAST = datetime(2100, 1, 1, tzinfo=UTC)


def api_source(client_id: int) -> str:
    """How votes and alarms name the client that delivered them."""
    return f"api:{client_id}"


# Online votes have no device. The delivering client is kept in `source`, outside the
# content hash, so a platform that rotates its token can still re-push old votes and get
# the same answer instead of a conflict.
ONLINE_DEVICE_ID = None


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """One thing wrong with a pushed batch. `index` is None for the batch as a whole.

    `code` is either an "api.*" code (texts in server.api.messages) or a domain code
    (voting.messages) such as "identity.rnokpp_checksum".
    """

    index: int | None
    field: str
    code: str
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)


class InvalidBatch(Exception):
    def __init__(self, problems: Sequence[ItemProblem], total: int) -> None:
        super().__init__(f"{total} problem(s) in the pushed batch")
        self.problems = list(problems)
        self.total = total


class StoreBusy(Exception):
    """Concurrent pushes kept colliding; the platform should simply send again."""


@dataclass(frozen=True)
class ReadBatch:
    records: list[VoteRecord]
    rules: dict[int, CycleRules]


class Problems:
    """What is wrong with a pushed batch, by item and field: every problem counted, the
    first MAX_REPORTED_PROBLEMS kept for the answer (votes and poll answers alike)."""

    def __init__(self) -> None:
        self.kept: list[ItemProblem] = []
        self.total = 0

    def add(self, index: int | None, field_name: str, code: str, **params: Any) -> None:
        self.total += 1
        if len(self.kept) < MAX_REPORTED_PROBLEMS:
            self.kept.append(ItemProblem(index, field_name, code, params))


def _safe_name(name: str) -> str:
    """An unknown key as it may be echoed: short, and no lone surrogates."""
    return name[:MAX_FIELD_NAME].encode("utf-8", "replace").decode("utf-8")


def _is_id(value: Any) -> bool:
    # bool is an int subclass: `true` is not a cycle id.
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def check_fields(
    problems: Problems, index: int | None, prefix: str, given: Mapping, allowed: frozenset
) -> None:
    for key in given:
        if key not in allowed:
            problems.add(index, prefix + _safe_name(str(key)), "api.unknown_field")


def read_cast_at(value: Any) -> datetime | None:
    """An aware datetime in UTC from an RFC 3339 string, or None if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    value = value.upper()  # RFC 3339 allows "t" and "z" too
    if not _CAST_AT.fullmatch(value):
        return None
    head, dot, tail = value.partition(".")
    if dot:
        # Python reads at most 6 fraction digits; votes keep milliseconds anyway.
        match = re.match(r"[0-9]+", tail)
        assert match is not None  # _CAST_AT has digits after the dot
        digits = match.group()
        value = f"{head}.{digits[:6]}{tail[len(digits) :]}"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def read_voter_key(problems: Problems, index: int, item: Mapping, community_secret: bytes) -> str | None:
    has_key, has_identity = "voter_key" in item, "identity" in item
    if has_key == has_identity:
        problems.add(index, "voter_key", "api.voter_one_of")
        return None
    if has_key:
        key = item["voter_key"]
        if not isinstance(key, str) or not _VOTER_KEY.fullmatch(key):
            problems.add(index, "voter_key", "api.voter_key_format")
            return None
        return key
    identity = item["identity"]
    if not isinstance(identity, dict):
        problems.add(index, "identity", "api.not_object")
        return None
    before = problems.total
    check_fields(problems, index, "identity.", identity, IDENTITY_FIELDS)
    kind, number = identity.get("kind"), identity.get("number")
    if not isinstance(kind, str) or kind not in {k.value for k in IdentityKind}:
        problems.add(index, "identity.kind", "identity.unknown_kind")
    if "number" not in identity:
        problems.add(index, "identity.number", "api.required")
    elif not isinstance(number, str):
        problems.add(index, "identity.number", "api.not_string")
    if problems.total > before:
        return None
    assert isinstance(kind, str) and isinstance(number, str)  # checked just above
    try:
        return VoterKey.derive(community_secret, kind, number).hex
    except IdentityError as exc:
        # The error carries a code and the kind, never the number itself.
        problems.add(index, "identity.number", exc.code)
        return None


def _read_item(
    problems: Problems, index: int, item: Any, community_secret: bytes, device_id: str | None
) -> VoteRecord | None:
    if not isinstance(item, dict):
        problems.add(index, "", "api.not_object")
        return None
    before = problems.total
    check_fields(problems, index, "", item, VOTE_FIELDS)
    for name in ("id", "cycle_id", "selections", "cast_at"):
        if name not in item:
            problems.add(index, name, "api.required")

    vote_id = None
    if "id" in item:
        try:
            vote_id = canonical_vote_id(item["id"])
        except (ValueError, TypeError):
            problems.add(index, "id", "api.not_uuid")
    cycle_id = item.get("cycle_id")
    if "cycle_id" in item and not _is_id(cycle_id):
        problems.add(index, "cycle_id", "api.not_id", max=MAX_ID)
    voter_key = read_voter_key(problems, index, item, community_secret)
    selections = item.get("selections")
    if "selections" in item:
        if not isinstance(selections, list):
            problems.add(index, "selections", "api.selections_not_list")
        elif len(selections) > MAX_SELECTIONS:
            problems.add(index, "selections", "api.too_many_selections", max=MAX_SELECTIONS)
        else:
            for position, project_id in enumerate(selections):
                if not _is_id(project_id):
                    problems.add(index, f"selections[{position}]", "api.not_id", max=MAX_ID)
    cast_at = None
    if "cast_at" in item:
        cast_at = read_cast_at(item["cast_at"])
        if cast_at is None:
            problems.add(index, "cast_at", "api.cast_at_format")
        elif not (_EARLIEST_CAST <= cast_at < _LATEST_CAST):
            problems.add(index, "cast_at", "api.cast_at_range")
    if problems.total > before:
        return None
    # No problem: every field is there and of its type.
    assert vote_id is not None and cycle_id is not None and selections is not None and cast_at is not None
    return VoteRecord.create(
        vote_id=vote_id,
        cycle_id=cycle_id,
        selections=selections,
        channel=Channel.WEB,
        cast_at=cast_at,
        voter_key=voter_key,
        # Fixed per client, so the same pushed content always hashes the same.
        device_id=device_id,
    )


def open_cycles_of(session: Session, community_id: int, cycle_ids: set[int]) -> dict[int, Cycle]:
    """The community's public-budget cycles among `cycle_ids`; others are not found."""
    if not cycle_ids:
        return {}
    found = session.scalars(
        select(Cycle).where(
            Cycle.id.in_(sorted(cycle_ids)),
            Cycle.community_id == community_id,
            Cycle.kind == CycleKind.PUBLIC.value,
        )
    )
    return {cycle.id: cycle for cycle in found}


def read_vote_batch(
    session: Session, payload: Any, *, client: ApiClient, master_secret: bytes, max_batch: int
) -> ReadBatch:
    """The batch as canonical records with their cycles' rules, or InvalidBatch naming
    every problem. Reads the database (cycles) but writes nothing."""
    problems = Problems()
    if not isinstance(payload, dict):
        problems.add(None, "", "api.not_object")
        raise InvalidBatch(problems.kept, problems.total)
    check_fields(problems, None, "", payload, BATCH_FIELDS)
    items = payload.get("votes")
    if not isinstance(items, list):
        problems.add(None, "votes", "api.votes_not_list")
    elif not 1 <= len(items) <= max_batch:
        problems.add(None, "votes", "api.batch_size", max=max_batch)
    if problems.total:
        raise InvalidBatch(problems.kept, problems.total)
    assert isinstance(items, list)  # else a problem above

    community = session.get(Community, client.community_id)
    assert community is not None  # the client's own community
    secret = community_voter_secret(master_secret, community.key_id)
    device_id = ONLINE_DEVICE_ID
    records: list[VoteRecord | None] = [
        _read_item(problems, index, item, secret, device_id) for index, item in enumerate(items)
    ]

    # Cycles are checked for every item whose cycle_id is well formed, so one answer
    # lists all problems. Another community's cycle is "unknown", not "forbidden": we
    # do not confirm that it exists.
    wanted = {item["cycle_id"] for item in items if isinstance(item, dict) and _is_id(item.get("cycle_id"))}
    cycles = open_cycles_of(session, client.community_id, wanted)
    for index, item in enumerate(items):
        if isinstance(item, dict) and _is_id(item.get("cycle_id")) and item["cycle_id"] not in cycles:
            problems.add(index, "cycle_id", "api.unknown_cycle")
    if problems.total:
        raise InvalidBatch(problems.kept, problems.total)
    rules = {cycle_id: load_cycle_rules(session, cycle) for cycle_id, cycle in cycles.items()}
    return ReadBatch([r for r in records if r is not None], rules)


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


@dataclass(frozen=True)
class CycleCatalogue:
    """What the platform needs to build its ballot: a cycle, its categories in display
    order, and its admitted projects by number."""

    cycle: Cycle
    categories: list[Category]
    projects: list[Project]


def community_catalogue(session: Session, community_id: int) -> list[CycleCatalogue]:
    """The community's public-budget cycles, newest voting first (three queries in all)."""
    cycles = session.scalars(
        select(Cycle)
        .where(Cycle.community_id == community_id, Cycle.kind == CycleKind.PUBLIC.value)
        .order_by(Cycle.voting_starts_at.desc(), Cycle.id)
    ).all()
    ids = [cycle.id for cycle in cycles]
    categories: dict[int, list[Category]] = {cycle_id: [] for cycle_id in ids}
    projects: dict[int, list[Project]] = {cycle_id: [] for cycle_id in ids}
    if ids:
        for category in session.scalars(
            select(Category).where(Category.cycle_id.in_(ids)).order_by(Category.position, Category.id)
        ):
            categories[category.cycle_id].append(category)
        for project in session.scalars(
            select(Project)
            .where(Project.cycle_id.in_(ids), Project.status == ProjectStatus.ADMITTED.value)
            .order_by(Project.number)
        ):
            projects[project.cycle_id].append(project)
    return [CycleCatalogue(cycle, categories[cycle.id], projects[cycle.id]) for cycle in cycles]
