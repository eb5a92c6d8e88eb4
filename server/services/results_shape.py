"""What a cycle's results hold, and the JSON they are given as: a contract the
integration API and the public export keep (CycleResults.as_dict). Read from the
tallies by server.services.results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from server.models import utcnow
from server.paper.tally_results import TallySheetTotals, paper_tallies_section
from server.services.results_funding import CategoryResult, category_dict, project_dict

# Above three days an hourly chart has too many points to read; show days instead.
LONG_CYCLE_HOURS = 72
# Tally sheets' totals, listed after the vote channels when a cycle has any.
PAPER_TALLY_CHANNEL = "paper_tally"


@dataclass(frozen=True, slots=True)
class StatusCounts:
    counted: int = 0
    duplicate: int = 0
    invalid: int = 0

    @property
    def total(self) -> int:
        return self.counted + self.duplicate + self.invalid

    def as_dict(self) -> dict[str, int]:
        return {"counted": self.counted, "duplicate": self.duplicate, "invalid": self.invalid}


@dataclass(frozen=True, slots=True)
class ChannelTotals:
    channel: str
    votes: StatusCounts


@dataclass(frozen=True, slots=True)
class DeviceTotals:
    device_id: str  # the code the device writes into its votes, e.g. "T-0003"
    name: str | None  # None when no Device row of this community has that code
    kind: str | None
    votes: StatusCounts


@dataclass(frozen=True, slots=True)
class TurnoutPoint:
    start: datetime  # Kyiv time, the start of the hour (or of the day)
    counted: dict[str, int]  # channel -> counted votes cast in this hour or day

    @property
    def total(self) -> int:
        return sum(self.counted.values())


@dataclass(frozen=True)
class CycleResults:
    """Everything the results pages, exports and the integration API show."""

    cycle_id: int
    community_id: int
    title: str
    slug: str
    kind: str
    voting_starts_at: datetime
    voting_ends_at: datetime
    published_at: datetime | None
    voters: StatusCounts
    categories: tuple[CategoryResult, ...]
    channels: tuple[ChannelTotals, ...]
    devices: tuple[DeviceTotals, ...]
    hourly: tuple[TurnoutPoint, ...]
    daily: tuple[TurnoutPoint, ...]
    computed_at: datetime = field(default_factory=utcnow)
    paper_tallies: tuple[TallySheetTotals, ...] = ()
    paper_tally_votes: dict[int, int] = field(default_factory=dict)  # project id -> votes from sheets

    @property
    def budget(self) -> int:
        return sum(c.budget for c in self.categories)

    @property
    def allocated(self) -> int:
        return sum(c.allocated for c in self.categories)

    @property
    def left(self) -> int:
        return self.budget - self.allocated

    @property
    def is_long(self) -> bool:
        return len(self.hourly) > LONG_CYCLE_HOURS

    def turnout(self) -> tuple[tuple[TurnoutPoint, ...], str]:
        """The series worth charting and its step, "hour" or "day"."""
        return (self.daily, "day") if self.is_long else (self.hourly, "hour")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready results. The shape is a contract (integration API, public export):

        {
          "cycle": {"id", "community_id", "title", "slug", "kind",
                    "voting_starts_at", "voting_ends_at", "results_published_at"},
          "computed_at": ISO 8601 UTC,
          "voters": {"counted", "duplicate", "invalid"},   # votes by status
          "budget": {"total", "allocated", "left"},        # integer kopiykas
          "categories": [{"id", "name", "district", "budget", "allocated", "left", "min_votes_to_fund",
                          "method", "tie_break", "lot_seed", "threshold", "valid_ballots",
                          "moved_in", "moved_out", "moved_to",
                          ["equal_shares": {"voter_budget", "completion_steps",
                                            "rounds": [{"round", "project_id", "number", "cost",
                                                        "price", "full_payers", "partial_payers",
                                                        "supporters"}]}],
                          ["comparison": {"prefer_equal_shares", "prefer_greedy", "chosen"}],
                          "projects": [{"rank", "project_id", "number", "title", "district",
                                        "cost", "votes", "share", "outcome", "funded",
                                        "budget_left_after", "reason": {"code", ...},
                                        "threshold", ["excluded_by"], ["stopped_at"],
                                        ["round", "price"], ["supporters_money"]}]}],
          "channels": [{"channel", "counted", "duplicate", "invalid"}],  # every channel
          "devices": [{"device_id", "name", "kind", "counted", "duplicate", "invalid"}],
          "turnout": {"timezone": "Europe/Kyiv",
                      "hourly": [{"start", "counted": {channel: n}, "total"}],
                      "daily": [{"date", "counted": {channel: n}, "total"}]}
        }

        Dates are ISO 8601 (UTC with "Z"; turnout starts in Kyiv time with the offset),
        money is integer kopiykas, `share` is the project's votes over counted voters
        (0..1, six decimals), `outcome` is one of funded / over_budget / too_few_votes /
        stopped / excluded / cost_out_of_bounds / supporters_short, and `reason` is the
        message code (voting.messages, "funding.*") with its parameters: money in
        kopiykas, other projects by their public number. `threshold` is the fewest
        votes that applied (`min_votes_to_fund`, or the share of valid ballots if higher).
        `district`: only residents of this district voted in the category (None: all).
        `left` is what stayed unspent in the category after any leftover moved on
        (`moved_out` to category `moved_to`); Equal Shares' prices are in kopiykas.
        Turnout counts counted votes only, so its totals equal `voters.counted` (less the
        "paper_tally" channel, below).

        A cycle with support points' tally sheets has one more channel, "paper_tally"
        (counted: valid ballots on the sheets, invalid: spoiled ones; sheets have no
        time, so turnout leaves them out), its projects' `votes` include the sheets, and
        one more key says how much came from them; these votes are not deduplicated:

          "paper_tallies": {"deduplicated": false, "ballots_cast", "ballots_spoiled",
                            "sheets": [{"device_id", "name", "ballots_issued", "ballots_cast",
                                        "ballots_spoiled", "votes", "entered_at"}],
                            "projects": [{"project_id", "votes"}]}
        """
        data = self._as_dict()
        if self.paper_tallies:
            data["paper_tallies"] = paper_tallies_section(self.paper_tallies, self.paper_tally_votes)
        return data

    def _as_dict(self) -> dict[str, Any]:
        return {
            "cycle": {
                "id": self.cycle_id,
                "community_id": self.community_id,
                "title": self.title,
                "slug": self.slug,
                "kind": self.kind,
                "voting_starts_at": iso_utc(self.voting_starts_at),
                "voting_ends_at": iso_utc(self.voting_ends_at),
                "results_published_at": iso_utc(self.published_at),
            },
            "computed_at": iso_utc(self.computed_at),
            "voters": self.voters.as_dict(),
            "budget": {"total": self.budget, "allocated": self.allocated, "left": self.left},
            "categories": [
                {
                    "id": c.category_id,
                    "name": c.name,
                    "district": c.district or None,
                    "budget": c.budget,
                    "allocated": c.allocated,
                    "left": c.left,
                    "min_votes_to_fund": c.min_votes_to_fund,
                    **category_dict(c),
                    "projects": [
                        {
                            "rank": p.rank,
                            "project_id": p.project_id,
                            "number": p.number,
                            "title": p.title,
                            "district": p.district,
                            "cost": p.cost,
                            "votes": p.votes,
                            "share": round(p.share, 6),
                            "outcome": p.outcome.value,
                            "funded": p.funded,
                            "budget_left_after": p.budget_left_after,
                            **project_dict(c, p),
                        }
                        for p in c.projects
                    ],
                }
                for c in self.categories
            ],
            "channels": [{"channel": c.channel, **c.votes.as_dict()} for c in self.channels],
            "devices": [
                {"device_id": d.device_id, "name": d.name, "kind": d.kind, **d.votes.as_dict()}
                for d in self.devices
            ],
            "turnout": {
                "timezone": "Europe/Kyiv",
                "hourly": [
                    {"start": p.start.isoformat(), "counted": dict(p.counted), "total": p.total}
                    for p in self.hourly
                ],
                "daily": [
                    {"date": p.start.date().isoformat(), "counted": dict(p.counted), "total": p.total}
                    for p in self.daily
                ],
            },
        }


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
