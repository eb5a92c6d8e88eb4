"""Storing votes exactly once, deciding which counts, keeping the tallies current.

Every channel ends here: the integration API, terminal and support-point sync, paper
imports. One call stores one batch in the caller's transaction:

1. Lock the batch's voters (PostgreSQL advisory locks, in sorted order so two batches
   never deadlock). Two votes of one voter are then never decided concurrently, and a
   vote id sent twice at once is seen as "already stored" by the second sender.
2. Votes already stored with the same content are answered again; the same id with
   other content raises VoteConflict and nothing of the batch is written.
3. New votes are checked against the cycle's rule, then the counting rule
   (voting.counting) is applied to each voter's old and new votes together; an older
   vote arriving late can take the counted place of a newer one.
4. Tallies move by the difference, in the same transaction.

The tally change is server.services.tally_delta; the rows are written by
server.services.vote_rows (over server.services.pg_batch).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    cast,
    func,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.models import Vote, utcnow
from voting import CountingInput, Decision, VoteRecord, VoteStatus, decide_for_voter

from .cycle_rules import CycleRules, resolve_codes
from .pg_batch import array_literal
from .tally_delta import TallyDelta
from .vote_rows import VOTE_TABLE, insert_votes, refresh_statistics_as_cycles_grow


@dataclass(frozen=True, slots=True)
class StoredVote:
    vote_id: str
    status: str
    reason: str | None
    counted_vote_id: str | None


@dataclass(frozen=True, slots=True)
class Conflict:
    vote_id: str
    stored_hash: str
    offered_hash: str


class VoteConflict(Exception):
    """A vote id already stored (or repeated in the batch) with other content."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} vote id(s) already stored with other content")
        self.conflicts = list(conflicts)


class UnknownCycle(Exception):
    pass


def lock_id(cycle_id: int, voter: str) -> int:
    digest = hashlib.blake2b(f"{cycle_id}/{voter}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_VOTE_COLUMNS = (
    Vote.id,
    Vote.community_id,
    Vote.cycle_id,
    Vote.voter_key,
    Vote.code_id,
    Vote.selections,
    Vote.channel,
    Vote.device_id,
    Vote.cast_at,
    Vote.content_hash,
    Vote.status,
    Vote.status_reason,
    Vote.counted_vote_id,
)


def _one_of(column: InstrumentedAttribute, values: list, is_postgres: bool) -> ColumnElement[bool]:
    """`column` is one of `values`. On PostgreSQL one typed array parameter (= ANY), not
    IN with a parameter per value: a batch's 500 ids made a statement text too long for
    psycopg's query cache and 500 bound values for SQLAlchemy to render."""
    if is_postgres:
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def _votes_of_voters(
    cycle_id: int, column: InstrumentedAttribute, voters: list[str], is_postgres: bool
) -> Select:
    """The cycle's stored votes of these voters (by voter key or by code).

    On PostgreSQL one index probe per voter on (cycle_id, voter), made explicit: asked
    as "cycle_id = c AND voter = ANY(...)", the planner takes the cycle alone from an
    index and filters every vote of the cycle whenever it believes the cycle small,
    which is what it believes until ANALYZE next runs (a new cycle in a large table, or
    autovacuum off): 17 ms a batch at 57 000 votes, growing with every batch."""
    if not is_postgres:
        return select(*_VOTE_COLUMNS).where(Vote.cycle_id == cycle_id, column.in_(voters))
    # The array is read once, as the function's argument (see array_literal).
    voters_text = bindparam(None, array_literal(voters), type_=String)
    wanted = (
        func.unnest(cast(voters_text, postgresql.ARRAY(String)))
        .table_valued("voter")
        .render_derived(name="wanted")
    )
    # OFFSET 0 keeps the subquery from being merged into a plain join, which would give
    # the planner the same choice back.
    per_voter = (
        select(*_VOTE_COLUMNS)
        .where(Vote.cycle_id == cycle_id, column == wanted.c.voter)
        .offset(0)
        .lateral("found")
    )
    return select(per_voter).select_from(wanted).join(per_voter, true())


def _voter_of(row: Mapping) -> str:
    return f"key:{row['voter_key']}" if row["voter_key"] is not None else f"code:{row['code_id']}"


def store_votes(
    session: Session,
    rules: Mapping[int, CycleRules],
    records: Iterable[VoteRecord],
    source: str,
    now: datetime | None = None,
    tally: TallyDelta | None = None,
    content_hashes: Sequence[str] | None = None,
) -> list[StoredVote]:
    """Store a batch; return each vote's current standing, one per record given, in order.

    `rules` maps every cycle id the batch may name to that cycle's rules. The caller
    owns the transaction: commit after this returns, roll back on VoteConflict. The
    tallies move here, unless the caller passes `tally`: then the changes are added to
    it and the caller must `tally.apply(session)` before committing. `content_hashes`:
    each record's content_hash(), in order, when the caller already has them (a device's
    log entry carries the record's canonical text, hashed once: server.sync.entries).
    """
    now = now or utcnow()
    batch: dict[str, VoteRecord] = {}
    hashes: dict[str, str] = {}
    conflicts: list[Conflict] = []
    order: list[str] = []
    given = None if content_hashes is None else list(content_hashes)
    if given is not None:
        records = list(records)
        if len(given) != len(records):
            raise ValueError(f"{len(given)} content hashes for {len(records)} records")
    for n, record in enumerate(records):
        if record.cycle_id not in rules:
            raise UnknownCycle(record.cycle_id)
        digest = record.content_hash() if given is None else given[n]
        order.append(record.vote_id)
        if record.vote_id in batch:
            if hashes[record.vote_id] != digest:
                conflicts.append(Conflict(record.vote_id, hashes[record.vote_id], digest))
            continue
        batch[record.vote_id] = record
        hashes[record.vote_id] = digest
    if conflicts:
        raise VoteConflict(conflicts)
    if not batch:
        return []

    is_postgres = session.get_bind().dialect.name == "postgresql"
    if is_postgres:
        lock_ids = sorted({lock_id(r.cycle_id, r.voter) for r in batch.values()})
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": array_literal(lock_ids)},
        )

    # Ids are each community's own: another community may use the same id for another
    # vote. A batch comes from one device or client, so nearly always one community.
    by_community: dict[int, list[str]] = defaultdict(list)
    for vote_id, record in batch.items():
        by_community[rules[record.cycle_id].community_id].append(vote_id)
    existing = {
        row.id: row
        for community_id, ids in sorted(by_community.items())
        for row in session.execute(
            select(Vote.id, Vote.content_hash, Vote.status, Vote.status_reason, Vote.counted_vote_id).where(
                Vote.community_id == community_id, _one_of(Vote.id, ids, is_postgres)
            )
        )
    }
    for vote_id, stored in existing.items():
        if stored.content_hash != hashes[vote_id]:
            conflicts.append(Conflict(vote_id, stored.content_hash, hashes[vote_id]))
    if conflicts:
        raise VoteConflict(conflicts)

    new = [r for vote_id, r in batch.items() if vote_id not in existing]
    by_cycle: dict[int, list[VoteRecord]] = defaultdict(list)
    for record in new:
        by_cycle[record.cycle_id].append(record)

    delta = TallyDelta()
    new_rows: list[dict] = []
    changed_rows: list[dict] = []
    for cycle_id, cycle_records in by_cycle.items():
        keys = {r.voter_key for r in cycle_records if r.voter_key is not None}
        codes = {r.code_id for r in cycle_records if r.code_id is not None}
        cycle_rules = resolve_codes(session, rules[cycle_id], codes)
        earlier: dict[str, list[dict]] = defaultdict(list)
        for column, values in ((Vote.voter_key, keys), (Vote.code_id, codes)):
            if not values:
                continue
            lookup = _votes_of_voters(cycle_id, column, sorted(values), is_postgres)
            found = session.execute(lookup).mappings()
            for earlier_row in found:
                earlier[_voter_of(earlier_row)].append(dict(earlier_row))

        incoming: dict[str, list[dict]] = defaultdict(list)
        for record in cycle_records:
            incoming[record.voter].append(
                {
                    "id": record.vote_id,
                    "community_id": cycle_rules.community_id,
                    "cycle_id": cycle_id,
                    "voter_key": record.voter_key,
                    "code_id": record.code_id,
                    "selections": list(record.selections),
                    "channel": record.channel.value,
                    "device_id": record.device_id,
                    "cast_at": record.cast_at,
                    "received_at": now,
                    "content_hash": hashes[record.vote_id],
                    "source": source,
                    "_invalid": cycle_rules.invalid_reason(record),
                }
            )

        for voter, fresh in incoming.items():
            old = earlier.get(voter, [])
            decisions = decide_for_voter(
                [_counting_input(row, voter, _stored_invalid_reason(row)) for row in old]
                + [_counting_input(row, voter, row["_invalid"]) for row in fresh]
            )
            for old_row in old:
                decision = decisions[old_row["id"]]
                if (decision.status, decision.counted_vote_id) != (
                    old_row["status"],
                    old_row["counted_vote_id"],
                ):
                    delta.add(old_row, old_row["status"], -1)
                    delta.add(old_row, decision.status, +1)
                    changed_rows.append(
                        {
                            "b_community": old_row["community_id"],
                            "b_id": old_row["id"],
                            "status": decision.status.value,
                            "status_reason": decision.reason,
                            "counted_vote_id": decision.counted_vote_id,
                        }
                    )
            for fresh_row in fresh:
                fresh_row.pop("_invalid")
                decision = decisions[fresh_row["id"]]
                _apply_decision(fresh_row, decision)
                delta.add(fresh_row, decision.status, +1)
                new_rows.append(fresh_row)

    if new_rows:
        if is_postgres:
            refresh_statistics_as_cycles_grow(session, new_rows)
        insert_votes(session, new_rows)
    if changed_rows:
        # Core executemany: an UPDATE by id for each vote whose standing changed.
        table = VOTE_TABLE
        session.connection().execute(
            update(table)
            .where(table.c.community_id == bindparam("b_community"), table.c.id == bindparam("b_id"))
            .values(
                status=bindparam("status"),
                status_reason=bindparam("status_reason"),
                counted_vote_id=bindparam("counted_vote_id"),
            ),
            changed_rows,
        )
    if tally is None:
        delta.apply(session)
    else:
        tally.merge(delta)

    # Every answer is known without asking the database again: repeats as stored (or as
    # changed by this batch), new votes as just decided.
    current = {
        vote_id: StoredVote(vote_id, row.status, row.status_reason, row.counted_vote_id)
        for vote_id, row in existing.items()
    }
    for new_row in new_rows:
        current[new_row["id"]] = StoredVote(
            new_row["id"], new_row["status"], new_row["status_reason"], new_row["counted_vote_id"]
        )
    for change in changed_rows:
        if change["b_id"] in batch:
            current[change["b_id"]] = StoredVote(
                change["b_id"], change["status"], change["status_reason"], change["counted_vote_id"]
            )
    return [current[vote_id] for vote_id in order]


def _counting_input(row: Mapping, voter: str, invalid_reason: str | None) -> CountingInput:
    return CountingInput(row["id"], voter, row["cast_at"], invalid_reason)


def _stored_invalid_reason(row: Mapping) -> str | None:
    return row["status_reason"] if row["status"] == VoteStatus.INVALID else None


def _apply_decision(row: dict, decision: Decision) -> None:
    row["status"] = decision.status.value
    row["status_reason"] = decision.reason
    row["counted_vote_id"] = decision.counted_vote_id
