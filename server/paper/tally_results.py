"""Tally sheets as the results show them: one line per support point's current sheet,
and the optional `paper_tallies` section of the results' JSON (server.services.results_shape)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.paper.tally import StoredTally


@dataclass(frozen=True, slots=True)
class TallySheetTotals:
    """One support point's current tally sheet, as the results count it."""

    device_id: str  # the support point's code, e.g. "S-0042"
    name: str
    ballots_issued: int | None
    ballots_cast: int
    ballots_spoiled: int
    votes: int  # all its project votes together
    entered_at: datetime

    @property
    def valid_ballots(self) -> int:
        return self.ballots_cast - self.ballots_spoiled

    def as_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "name": self.name,
            "ballots_issued": self.ballots_issued,
            "ballots_cast": self.ballots_cast,
            "ballots_spoiled": self.ballots_spoiled,
            "votes": self.votes,
            "entered_at": self.entered_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }


def sheet_totals(stored: StoredTally) -> TallySheetTotals:
    return TallySheetTotals(
        device_id=stored.device_code,
        name=stored.device_name,
        ballots_issued=stored.tally.ballots_issued,
        ballots_cast=stored.tally.ballots_cast,
        ballots_spoiled=stored.tally.ballots_spoiled,
        votes=sum(stored.votes.values()),
        entered_at=stored.tally.entered_at,
    )


def paper_tallies_section(sheets: Sequence[TallySheetTotals], votes: Mapping[int, int]) -> dict[str, Any]:
    """The results' `paper_tallies` key. `deduplicated` is always false: a sheet has no
    voter keys, so its votes cannot be matched with the same residents' other votes."""
    return {
        "deduplicated": False,
        "ballots_cast": sum(s.ballots_cast for s in sheets),
        "ballots_spoiled": sum(s.ballots_spoiled for s in sheets),
        "sheets": [s.as_dict() for s in sheets],
        "projects": [{"project_id": pid, "votes": n} for pid, n in sorted(votes.items())],
    }
