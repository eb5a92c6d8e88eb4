"""The community's list of residents who may vote: changed by uploads, read by
terminals as increments.

Every upload (and every switch on or off) is one change with the next version
number; each key it changes carries that number. Uploads of one community take the
list row's lock, so versions commit in order and a terminal that has read up to
version v never misses a key changed at v or before.

A terminal that starts from nothing reads only listed keys; one that has read before
reads every change after its cursor, removals included.

An entry may name the resident's district (for district categories, voting.district).
A file with a `district` column sets it for every resident in the file (an empty cell:
none); a file without one leaves the districts of residents already listed as they are,
and the residents it adds have none. A resident moved to another district is a change
like any other: their entry gets the upload's version, so terminals read it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.models import Community, EligibilityList, EligibleVoter, User, utcnow

from . import audit
from .eligibility_file import ListFileCheck, ListProblem, read_list_file

PAGE = 20_000  # ~1.4 MB of JSON: a million residents arrive in 50 requests
_CURSOR = re.compile(r"(?P<seq>[0-9]{1,18}):(?P<key>[0-9a-f]{0,64})")


class ListMode(StrEnum):
    REPLACE = "replace"  # the file is the whole list: keys not in it are removed
    ADD = "add"
    REMOVE = "remove"


class BadCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ListChange:
    added: int
    removed: int
    version: int
    listed_count: int
    moved: int = 0  # residents already listed whose district the file changed


@dataclass(frozen=True, slots=True)
class ChangesPage:
    enabled: bool
    version: int
    listed: list[str]
    unlisted: list[str]
    cursor: str
    more: bool
    districts: dict[str, str] = field(default_factory=dict)  # listed key -> its district, where named


def list_state(session: Session, community_id: int) -> EligibilityList | None:
    return session.get(EligibilityList, community_id)


def _locked_list(session: Session, community_id: int) -> EligibilityList:
    """The community's list row, created if missing, locked until the transaction ends."""
    insert = postgresql.insert if _postgres(session) else sqlite.insert
    session.execute(
        insert(EligibilityList)
        .values(community_id=community_id, enabled=False, version=0, listed_count=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["community_id"])
    )
    row = session.execute(
        select(EligibilityList)
        .where(EligibilityList.community_id == community_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return row


def _stage(session: Session) -> None:
    # Temporary tables per connection: keys of the file being read, never kept.
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS eligibility_staging "
            "(voter_key VARCHAR(64) PRIMARY KEY, district VARCHAR(100))"
        )
    )
    session.execute(text("DELETE FROM eligibility_staging"))
    # The keys as they come (a file may repeat a resident), unindexed; _unstage folds
    # them into the staging table once, and finds a resident given two districts.
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS eligibility_copy "
            "(voter_key VARCHAR(64), district VARCHAR(100))"
        )
    )
    session.execute(text("DELETE FROM eligibility_copy"))


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _stage_keys(session: Session, rows: list[tuple[str, str | None]]) -> None:
    if _postgres(session):
        # COPY rather than an INSERT per key: a register of a million residents streams in.
        driver = session.connection().connection.driver_connection
        assert driver is not None  # a live connection: psycopg's
        statement = "COPY eligibility_copy (voter_key, district) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        session.execute(
            text("INSERT INTO eligibility_copy VALUES (:k, :d)"), [{"k": k, "d": d} for k, d in rows]
        )


def _unstage(session: Session, with_districts: bool) -> int:
    """Fold the copied rows into the staging table, one per key; how many keys the file
    gave different districts (then nothing is folded: the file is refused). A file with
    no district column is folded in one pass, as before districts existed."""
    if with_districts:
        conflicts = session.scalar(
            text(
                "SELECT count(*) FROM (SELECT voter_key FROM eligibility_copy GROUP BY voter_key "
                "HAVING count(DISTINCT coalesce(district, '')) > 1) AS twice"
            )
        )
        if conflicts:
            return int(conflicts)
        fold = "SELECT voter_key, max(district) FROM eligibility_copy GROUP BY voter_key"
    else:
        fold = "SELECT DISTINCT voter_key, NULL FROM eligibility_copy"
    session.execute(text(f"INSERT INTO eligibility_staging (voter_key, district) {fold}"))
    session.execute(text("DELETE FROM eligibility_copy"))
    if _postgres(session):
        session.execute(text("ANALYZE eligibility_staging"))
    return 0


def apply_list_file(
    session: Session,
    community: Community,
    data: bytes,
    mode: ListMode,
    *,
    voter_secret: bytes,
    default_kind: str | None = None,
    skip_bad_rows: bool = False,
    user: User | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[ListFileCheck, ListChange | None]:
    """Read the file and change the list by it, in the caller's transaction; None as the
    change (and nothing to commit) when the file is refused or has bad rows the
    moderator did not agree to skip. `on_progress(keys)` is told how many good rows are
    read after each chunk; an exception it raises stops the reading (the caller rolls
    back: a job cancelled midway)."""
    listing = _locked_list(session, community.id)
    _stage(session)
    staged = 0

    def stage(rows: list) -> None:
        nonlocal staged
        _stage_keys(session, rows)
        staged += len(rows)
        if on_progress is not None:
            on_progress(staged)

    check = read_list_file(data, voter_secret, stage, default_kind=default_kind, with_districts=True)
    if check.file_refused or check.good_rows == 0 or (check.bad_rows and not skip_bad_rows):
        return check, None  # the caller rolls back: the staged keys go with it
    conflicts = _unstage(session, check.has_district)
    if conflicts:
        check.add(ListProblem(None, "district", "list.district_conflict", {"count": conflicts}))
        return check, None
    version = listing.version + 1
    # With the column every listed resident's district is the file's; without it, only
    # the residents the file (re)lists get one, none.
    params = {"c": community.id, "v": version, "d": check.has_district}
    differs = "IS DISTINCT FROM" if _postgres(session) else "IS NOT"
    added = removed = moved = 0
    if mode in (ListMode.REPLACE, ListMode.ADD):
        if check.has_district:
            moved = session.scalar(
                text(
                    "SELECT count(*) FROM eligibility_staging s JOIN eligible_voter e "
                    "ON e.community_id = :c AND e.voter_key = s.voter_key "
                    f"WHERE e.listed AND e.district {differs} s.district"
                ),
                params,
            )
        changed = session.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
            text(
                "INSERT INTO eligible_voter (community_id, voter_key, listed, seq, district) "
                "SELECT :c, voter_key, TRUE, :v, CASE WHEN :d THEN district END "
                "FROM eligibility_staging WHERE TRUE ORDER BY voter_key "
                "ON CONFLICT (community_id, voter_key) DO UPDATE SET listed = TRUE, seq = excluded.seq, "
                "district = CASE WHEN :d OR NOT eligible_voter.listed THEN excluded.district "
                "ELSE eligible_voter.district END "
                "WHERE eligible_voter.listed = FALSE "
                f"OR (:d AND eligible_voter.district {differs} excluded.district)"
            ),
            params,
        ).rowcount
        added = changed - moved
    if mode is ListMode.REPLACE:
        removed = session.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
            text(
                "UPDATE eligible_voter SET listed = FALSE, seq = :v "
                "WHERE community_id = :c AND listed AND NOT EXISTS "
                "(SELECT 1 FROM eligibility_staging s WHERE s.voter_key = eligible_voter.voter_key)"
            ),
            params,
        ).rowcount
    if mode is ListMode.REMOVE:
        removed = session.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
            text(
                "UPDATE eligible_voter SET listed = FALSE, seq = :v "
                "WHERE community_id = :c AND listed "
                "AND voter_key IN (SELECT voter_key FROM eligibility_staging)"
            ),
            params,
        ).rowcount
    session.execute(text("DELETE FROM eligibility_staging"))
    if added or removed or moved:
        listing.version = version
        listing.listed_count += added - removed
        listing.updated_at = utcnow()
    audit.record(
        session,
        "eligibility.upload",
        user=user,
        community_id=community.id,
        target=("community", community.id),
        details={
            "mode": mode.value,
            "file_sha256": check.sha256,
            "rows": check.rows,
            "skipped_rows": check.bad_rows,
            "added": added,
            "removed": removed,
            "moved": moved,
            "district_column": check.has_district,
            "version": listing.version,
        },
    )
    return check, ListChange(added, removed, listing.version, listing.listed_count, moved)


def set_enabled(session: Session, community: Community, enabled: bool, *, user: User | None = None) -> int:
    """Switch the list on or off for the community's terminals; the new version."""
    listing = _locked_list(session, community.id)
    if listing.enabled != enabled:
        listing.enabled = enabled
        listing.version += 1
        listing.updated_at = utcnow()
        audit.record(
            session,
            "eligibility.enable" if enabled else "eligibility.disable",
            user=user,
            community_id=community.id,
            target=("community", community.id),
            details={"version": listing.version, "listed": listing.listed_count},
        )
    return listing.version


def unlisted_keys(session: Session, community_id: int, keys: list[str]) -> set[str] | None:
    """Which of `keys` the community's list does not hold, or None when no list is on."""
    listing = session.get(EligibilityList, community_id)
    if listing is None or not listing.enabled:
        return None
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        found.update(
            session.scalars(
                select(EligibleVoter.voter_key).where(
                    EligibleVoter.community_id == community_id,
                    EligibleVoter.listed.is_(True),
                    EligibleVoter.voter_key.in_(chunk),
                )
            )
        )
    return set(keys) - found


def _read_cursor(raw: str) -> tuple[int, str]:
    if not raw:
        return 0, ""
    match = _CURSOR.fullmatch(raw)
    if match is None:
        raise BadCursor(raw[:40])
    return int(match["seq"]), match["key"]


def changes_since(session: Session, community_id: int, cursor: str, limit: int | None = None) -> ChangesPage:
    """The list's changes after `cursor` ("" for a terminal that holds nothing yet)."""
    limit = limit or PAGE
    seq, key = _read_cursor(cursor)
    # Read the state first: changes committed after it only make the page newer.
    listing = session.get(EligibilityList, community_id, populate_existing=True)
    if listing is None:
        return ChangesPage(False, 0, [], [], cursor, more=False)
    query = (
        select(EligibleVoter.voter_key, EligibleVoter.listed, EligibleVoter.seq, EligibleVoter.district)
        .where(EligibleVoter.community_id == community_id)
        .order_by(EligibleVoter.seq, EligibleVoter.voter_key)
        .limit(limit)
    )
    if seq == 0 and not key:
        query = query.where(EligibleVoter.listed.is_(True))  # nothing to remove on an empty device
    else:
        query = query.where(
            (EligibleVoter.seq > seq) | ((EligibleVoter.seq == seq) & (EligibleVoter.voter_key > key))
        )
    rows = session.execute(query).all()
    listed = [r.voter_key for r in rows if r.listed]
    unlisted = [r.voter_key for r in rows if not r.listed]
    districts = {r.voter_key: r.district for r in rows if r.listed and r.district}
    next_cursor = f"{rows[-1].seq}:{rows[-1].voter_key}" if rows else cursor or f"{listing.version}:"
    return ChangesPage(
        listing.enabled, listing.version, listed, unlisted, next_cursor, len(rows) == limit, districts
    )


def districts_of(session: Session, community_id: int, keys: list[str]) -> dict[str, str | None]:
    """The district the community's list names for each of `keys` that it lists (None:
    listed with no district); keys it does not list are absent. Whether the list is
    switched on does not matter: the district is where the resident lives."""
    found: dict[str, str | None] = {}
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        rows = session.execute(
            select(EligibleVoter.voter_key, EligibleVoter.district).where(
                EligibleVoter.community_id == community_id,
                EligibleVoter.listed.is_(True),
                EligibleVoter.voter_key.in_(chunk),
            )
        )
        found.update((key, district) for key, district in rows)
    return found
