"""The community's list of residents who may vote, as a device holds it offline.

The server sends the list in increments (server/services/eligibility.py): listed keys
to add, unlisted keys to drop, a cursor to continue from. The device applies the list
only once it has read to the end at least once: a half-read list would turn away the
residents in its unread half, by the thousand, for as long as the read takes. Until
then (and whenever the community has no list) the list does not apply at all. A list
read to the end once stays in force while later increments arrive: it is complete as
of its version, only not yet the newest.

Voter keys are stored as their 64 hex characters, as the server sends them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sync.cycle_package import PackagedCycle
from voting.eligibility import EligibilityRules, refusal_code

if TYPE_CHECKING:
    from sync.device_store import DeviceStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS eligible (voter_key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eligibility_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    enabled INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,  -- the server's version at the last page read
    cursor TEXT NOT NULL DEFAULT '',
    complete INTEGER NOT NULL DEFAULT 0,  -- read to the end at least once
    listed_count INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO eligibility_state (id) VALUES (1);
-- Where the list places a resident, for district categories (voting.district); only
-- residents with a district have a row.
CREATE TABLE IF NOT EXISTS eligible_district (
    voter_key TEXT PRIMARY KEY,
    district TEXT NOT NULL
) WITHOUT ROWID;
-- A store that read its list before districts were sent reads it again from the start,
-- keeping the list it has in force meanwhile. The cursor "0:0" asks for every entry,
-- removals included (the empty cursor of an empty store skips those).
CREATE TABLE IF NOT EXISTS eligibility_format (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    districts INTEGER NOT NULL
);
UPDATE eligibility_state SET cursor = '0:0'
    WHERE id = 1 AND cursor != '' AND NOT EXISTS (SELECT 1 FROM eligibility_format);
INSERT OR IGNORE INTO eligibility_format VALUES (1, 1);
"""

_KEY = re.compile(r"[0-9a-f]{64}")
MAX_DISTRICT = 100  # as the server's column


@dataclass(frozen=True, slots=True)
class EligibilityState:
    enabled: bool  # the community has a list switched on (as of the last page read)
    version: int
    cursor: str
    complete: bool
    listed_count: int

    @property
    def applies(self) -> bool:
        return self.enabled and self.complete


class DeviceEligibility:
    def __init__(self, store: DeviceStore) -> None:
        self._store = store

    def state(self) -> EligibilityState:
        row = self._store.query_one(
            "SELECT enabled, version, cursor, complete, listed_count FROM eligibility_state WHERE id = 1"
        )
        return EligibilityState(bool(row[0]), row[1], row[2], bool(row[3]), row[4])

    def applies(self) -> bool:
        return self.state().applies

    def is_listed(self, voter_key: str) -> bool:
        return self._store.query_one("SELECT 1 FROM eligible WHERE voter_key = ?", (voter_key,)) is not None

    def district_of(self, voter_key: str) -> str | None:
        """Where the list places a resident (None: nowhere, or not listed). Used even
        while the list itself is off: districts record where people live."""
        row = self._store.query_one(
            "SELECT district FROM eligible_district WHERE voter_key = ?", (voter_key,)
        )
        return row[0] if row else None

    def refusal(
        self,
        cycle: PackagedCycle,
        voter_key: str,
        *,
        born: date | None,
        age_confirmed: bool,
        server_now: datetime,
        check_age: bool = True,
    ) -> tuple[str, int | None] | None:
        """Why a resident may not vote in a packaged cycle by the community's rules (the
        list as held here, the cycle's minimum age on today's date in its time zone): a
        voting.messages code and the minimum age, or None. Terminals and support points
        ask the same question here."""
        rules = EligibilityRules(min_age=cycle.min_age if check_age else None, list_applies=self.applies())
        listed = rules.list_applies and self.is_listed(voter_key)
        day = server_now.astimezone(cycle.zone).date()
        code = refusal_code(rules, born=born, listed=listed, day=day, age_confirmed=age_confirmed)
        return None if code is None else (code, rules.min_age)

    def apply_page(
        self,
        *,
        enabled: bool,
        version: int,
        listed: Iterable[str],
        unlisted: Iterable[str],
        cursor: str,
        more: bool,
        districts: Mapping[str, str] | None = None,
    ) -> None:
        """Take one page of changes, all of it or nothing (ValueError for a key that is
        not one, or a district that is not a listed key's short text: the page is not
        taken and the cursor stays). `districts`: where the page's listed residents
        live; a listed resident not in it lives in no district (any older one goes)."""
        listed, unlisted = list(listed), list(unlisted)
        for key in (*listed, *unlisted):
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise ValueError(f"not a voter key: {key!r:.80}")
        districts = dict(districts or {})
        page_keys = set(listed)
        for key, district in districts.items():
            if key not in page_keys or not isinstance(district, str) or not _district_text(district):
                raise ValueError(f"not a district of a listed key: {key!r:.80} {district!r:.120}")
        with self._store.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO eligible VALUES (?)", ((k,) for k in listed))
            db.executemany("DELETE FROM eligible WHERE voter_key = ?", ((k,) for k in unlisted))
            db.executemany(
                "DELETE FROM eligible_district WHERE voter_key = ?",
                ((k,) for k in (*unlisted, *(k for k in listed if k not in districts))),
            )
            db.executemany("INSERT OR REPLACE INTO eligible_district VALUES (?, ?)", districts.items())
            count = db.execute("SELECT count(*) FROM eligible").fetchone()[0]
            db.execute(
                "UPDATE eligibility_state SET enabled = ?, version = ?, cursor = ?, "
                "complete = complete OR ?, listed_count = ? WHERE id = 1",
                (int(enabled), version, cursor, int(not more), count),
            )

    def reset(self) -> None:
        """Forget the list (the server's list started again, say after a restore)."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM eligible")
            db.execute("DELETE FROM eligible_district")
            db.execute(
                "UPDATE eligibility_state SET enabled = 0, version = 0, cursor = '', complete = 0, "
                "listed_count = 0 WHERE id = 1"
            )


def _district_text(district: str) -> bool:
    """A district name as the server sends it: short, printable, one line (the server
    has normalised it: voting.district)."""
    return 0 < len(district) <= MAX_DISTRICT and district.isprintable() and district == district.strip()
