"""What the server decided about this device's votes (their statuses), and which
residents it said have voted elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from sync.store_alarms import StoreAlarms
from sync.wire import ProtocolError

VOTE_STATUSES = frozenset({"counted", "duplicate", "invalid", "held"})
NOT_COUNTED = frozenset({"invalid", "held"})  # not a resident's other vote: staff should know
# "held": waiting for a moderator (late for published results, or from a revoked device);
# asked about again until it is decided.


class KnownStatus(TypedDict):
    """What the server said about one of our votes, as its answers carry it."""

    seq: int
    vote_id: str
    status: str  # one of VOTE_STATUSES
    reason: str | None
    counted_vote_id: str | None  # a duplicate: the resident's vote that counts


class VoteStatuses(StoreAlarms):
    def save_statuses(self, statuses: Iterable[object], now_ms: int | None = None) -> int:
        """Store what the server decided about our votes; returns how many matched one.
        Statuses may change later (an earlier vote by the same resident arrives from
        another channel), so a newer answer replaces an older one. A vote the terminal
        thanked a resident for that the server holds for a moderator or finds invalid
        raises the alarm `votes.not_counted` (with `now_ms`), so staff hear of it."""
        rows = []
        for item in statuses:
            if (
                not isinstance(item, dict)
                or type(item.get("seq")) is not int
                or not isinstance(item.get("vote_id"), str)
                or item.get("status") not in VOTE_STATUSES
                or not isinstance(item.get("reason"), str | None)
                or not isinstance(item.get("counted_vote_id"), str | None)
            ):
                raise ProtocolError("status.shape", f"{item!r:.200}")
            rows.append(
                (item["status"], item["reason"], item["counted_vote_id"], item["seq"], item["vote_id"])
            )
        if not rows:
            return 0
        with self._write() as db:
            # Usually none: only votes turning held or invalid are looked up first.
            turning = [r for r in rows if r[0] in NOT_COUNTED]
            newly: dict[tuple[str, str | None], int] = {}
            for status, reason, _counted, seq, vote_id in turning:
                was = db.execute("SELECT status FROM log WHERE seq = ? AND vote_id = ?", (seq, vote_id))
                found = was.fetchone()
                if found is not None and found[0] != status:
                    newly[(status, reason)] = newly.get((status, reason), 0) + 1
            before = db.total_changes
            db.executemany(
                "UPDATE log SET status = ?, status_reason = ?, counted_vote_id = ?"
                " WHERE seq = ? AND vote_id = ?",
                rows,
            )
            changed = db.total_changes - before
        if newly and now_ms is not None:
            counts = sorted((status, reason or "-", n) for (status, reason), n in newly.items())
            parts = ", ".join(f"{n} {status} ({reason})" for status, reason, n in counts)
            self.raise_alarm(
                "votes.not_counted",
                f"the server did not count votes this terminal took: {parts}",
                now_ms,
            )
        return changed

    def status_refresh_due(self, now_ms: int, every_ms: int) -> bool:
        """Whether every known status should be asked again (never asked, or long ago,
        or the clock went back)."""
        row = self._one("SELECT at_ms FROM status_refresh WHERE id = 1")
        return row is None or not 0 <= now_ms - row[0] < every_ms

    def note_status_refresh(self, now_ms: int) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO status_refresh VALUES (1, ?)", (now_ms,))

    def status_of(self, vote_id: str) -> KnownStatus | None:
        """What the server said about a vote: None while it is unknown (or not ours)."""
        row = self._one(
            "SELECT seq, status, status_reason, counted_vote_id FROM log WHERE vote_id = ?", (vote_id,)
        )
        if row is None or row[1] is None:
            return None
        return {
            "seq": row[0],
            "vote_id": vote_id,
            "status": row[1],
            "reason": row[2],
            "counted_vote_id": row[3],
        }

    def first_unknown_status_seq(self) -> int | None:
        """The oldest acknowledged vote whose final status the server has not told us
        (unknown, or held for a moderator)."""
        unknown = self._one(
            "SELECT MIN(seq) FROM log WHERE status IS NULL AND seq <= (SELECT acked_seq FROM sync_state)"
        )[0]
        # A held vote's final status comes later; without the index, but rare.
        held = self._one(
            "SELECT MIN(seq) FROM log WHERE status = 'held' AND seq <= (SELECT acked_seq FROM sync_state)"
        )[0]
        return min((s for s in (unknown, held) if s is not None), default=None)

    def add_voted_elsewhere(self, voters: Iterable[tuple[int, str]], cursor: str) -> None:
        """Remember (cycle id, voter) pairs and where the server's list goes on, together."""
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO voted_elsewhere VALUES (?, ?)", voters)
            db.execute("INSERT OR REPLACE INTO voters_cursor VALUES (1, ?)", (cursor,))

    def voters_cursor(self) -> str:
        row = self._one("SELECT cursor FROM voters_cursor WHERE id = 1")
        return row[0] if row else ""

    def voted_elsewhere(self, cycle_id: int, voter: str) -> bool:
        """Whether the server said this voter ("key:..." or "code:...") has a counted
        vote in the cycle."""
        row = self._one("SELECT 1 FROM voted_elsewhere WHERE cycle_id = ? AND voter = ?", (cycle_id, voter))
        return row is not None
