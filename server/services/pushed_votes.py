"""A batch of votes pushed by the online e-democracy platform, read into records.

We refuse the whole batch, name every problem by item and field, and store nothing;
a well-formed batch goes to the ballot box (server.services.integration). Rule matters
(too many projects, a vote outside the window, a project chosen twice) are not malformed
input: those votes are stored and answered as `invalid`, like on every other channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ApiClient, Community, Cycle, CycleKind
from voting import Channel, VoteRecord, canonical_vote_id, community_voter_secret
from voting.record import MAX_SELECTIONS  # the one limit, as in the OpenAPI document

from .cycle_rules import CycleRules, load_cycle_rules
from .pushed_fields import MAX_ID, InvalidBatch, Problems, check_fields, is_id, read_cast_at, read_voter_key

BATCH_FIELDS = frozenset({"votes"})
VOTE_FIELDS = frozenset({"id", "cycle_id", "voter_key", "identity", "selections", "cast_at"})
# A vote cast before the system existed or centuries ahead is a bug upstream.
_EARLIEST_CAST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST_CAST = datetime(2100, 1, 1, tzinfo=UTC)

# Online votes have no device. The delivering client is kept in `source`, outside the
# content hash, so a platform that rotates its token can still re-push old votes and get
# the same answer instead of a conflict.
ONLINE_DEVICE_ID = None


@dataclass(frozen=True)
class ReadBatch:
    records: list[VoteRecord]
    rules: dict[int, CycleRules]


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
    if "cycle_id" in item and not is_id(cycle_id):
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
                if not is_id(project_id):
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
    wanted = {item["cycle_id"] for item in items if isinstance(item, dict) and is_id(item.get("cycle_id"))}
    cycles = open_cycles_of(session, client.community_id, wanted)
    for index, item in enumerate(items):
        if isinstance(item, dict) and is_id(item.get("cycle_id")) and item["cycle_id"] not in cycles:
            problems.add(index, "cycle_id", "api.unknown_cycle")
    if problems.total:
        raise InvalidBatch(problems.kept, problems.total)
    rules = {cycle_id: load_cycle_rules(session, cycle) for cycle_id, cycle in cycles.items()}
    return ReadBatch([r for r in records if r is not None], rules)
