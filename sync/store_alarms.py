"""Alarms: what the technician must look at on the maintenance screen (a forged answer,
a damaged entry, a clock step), one open row per kind, counted up."""

from __future__ import annotations

from typing import TypedDict

from sync.clock import iso_from_ms
from sync.store_file import StoreFile

MAX_ALARMS = 200  # acknowledged ones beyond this are forgotten, oldest first


class Alarm(TypedDict):
    kind: str
    message: str
    first_at: str | None  # ISO 8601 UTC (sync.clock.iso_from_ms)
    last_at: str | None
    repeats: int
    acknowledged_at: str | None  # None while it is open


class StoreAlarms(StoreFile):
    def raise_alarm(self, kind: str, message: str, now_ms: int) -> None:
        """Record an alarm for the maintenance screen; an open one of the same kind is
        counted up and takes the newest message."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE alarm SET repeats = repeats + 1, last_at_ms = ?, message = ?"
                " WHERE kind = ? AND acknowledged_at_ms IS NULL",
                (now_ms, message[:500], kind[:80]),
            ).rowcount
            if not updated:
                db.execute(
                    "INSERT INTO alarm (kind, message, first_at_ms, last_at_ms) VALUES (?, ?, ?, ?)",
                    (kind[:80], message[:500], now_ms, now_ms),
                )
                db.execute(
                    "DELETE FROM alarm WHERE acknowledged_at_ms IS NOT NULL AND id NOT IN"
                    " (SELECT id FROM alarm ORDER BY id DESC LIMIT ?)",
                    (MAX_ALARMS,),
                )

    def alarms(self, *, open_only: bool = True) -> list[Alarm]:
        where = "WHERE acknowledged_at_ms IS NULL" if open_only else ""
        rows = self._db().execute(
            "SELECT kind, message, first_at_ms, last_at_ms, repeats, acknowledged_at_ms"
            f" FROM alarm {where} ORDER BY id DESC LIMIT {MAX_ALARMS}"
        )
        return [
            {
                "kind": kind,
                "message": message,
                "first_at": iso_from_ms(first),
                "last_at": iso_from_ms(last),
                "repeats": repeats,
                "acknowledged_at": iso_from_ms(acknowledged),
            }
            for kind, message, first, last, repeats, acknowledged in rows
        ]

    def acknowledge_alarms(self, now_ms: int) -> int:
        """The technician has seen the open alarms; how many were open."""
        with self._write() as db:
            return db.execute(
                "UPDATE alarm SET acknowledged_at_ms = ? WHERE acknowledged_at_ms IS NULL", (now_ms,)
            ).rowcount
