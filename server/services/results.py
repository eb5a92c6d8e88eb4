"""A cycle's results, read from the running tallies, never from the vote rows.

The ballot box keeps `ProjectTally` (counted votes per project) and `TurnoutTally`
(votes per hour, channel, device and status) current in the same transaction as every
vote, so a results page reads a few hundred tally rows instead of scanning a million
votes. `server.results.publishing.verify_against_records` is the slow, independent
check: it recounts from the raw rows and says whether the tallies agree.

Support points' tally sheets (server.paper.tally) add their per-project totals
and appear as a channel of their own, "paper_tally". They carry no voter keys, so a
resident who also voted in another channel cannot be found: these votes are not
deduplicated, and the pages and exports say so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Cycle, Device, Project, ProjectStatus, TurnoutTally, utcnow
from server.paper.tally import current_tallies
from server.paper.tally_results import TallySheetTotals, paper_tallies_section, sheet_totals
from server.services.results_funding import (
    CategoryResult,
    ProjectResult,
    category_dict,
    category_results,
    project_dict,
)
from server.services.tally import add_counts, running_tally
from voting import Channel, VoteStatus

__all__ = ["CategoryResult", "CycleResults", "ProjectResult", "cycle_results"]

KYIV = ZoneInfo("Europe/Kyiv")
# Above three days an hourly chart has too many points to read; show days instead.
LONG_CYCLE_HOURS = 72
CHANNELS = tuple(c.value for c in Channel)
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


def _status_counts(by_status: dict[str, int]) -> StatusCounts:
    return StatusCounts(
        counted=by_status.get(VoteStatus.COUNTED, 0),
        duplicate=by_status.get(VoteStatus.DUPLICATE, 0),
        invalid=by_status.get(VoteStatus.INVALID, 0),
    )


def counted_participants(session: Session, cycle_ids: Iterable[int]) -> dict[int, int]:
    """cycle id -> participants with a counted vote, as its results say it
    (`voters.counted`): counted votes of every channel plus the valid ballots of the
    cycle's tally sheets. Every page that gives a cycle's count takes it from here, so
    the overview and the results cannot disagree."""
    ids = sorted(set(cycle_ids))
    if not ids:
        return {}
    totals = dict.fromkeys(ids, 0)
    for cycle_id, votes in session.execute(
        select(TurnoutTally.cycle_id, func.sum(TurnoutTally.votes))
        .where(TurnoutTally.cycle_id.in_(ids), TurnoutTally.status == VoteStatus.COUNTED.value)
        .group_by(TurnoutTally.cycle_id)
    ):
        totals[cycle_id] += int(votes or 0)
    for cycle_id in ids:
        totals[cycle_id] += sum(s.tally.valid_ballots for s in current_tallies(session, cycle_id))
    return totals


def cycle_results(session: Session, cycle: Cycle) -> CycleResults:
    """The cycle's results from its tallies: a handful of small grouped queries."""
    sheets = current_tallies(session, cycle.id)
    by_channel: dict[str, dict[str, int]] = {c: {} for c in CHANNELS}
    for channel, status, votes in session.execute(
        select(TurnoutTally.channel, TurnoutTally.status, func.sum(TurnoutTally.votes))
        .where(TurnoutTally.cycle_id == cycle.id)
        .group_by(TurnoutTally.channel, TurnoutTally.status)
    ):
        by_channel.setdefault(channel, {})[status] = int(votes)
    channels = tuple(ChannelTotals(c, _status_counts(s)) for c, s in by_channel.items())
    if sheets:
        # A sheet's valid ballots are its participants; spoiled ones are its invalid votes.
        counts = StatusCounts(
            counted=sum(s.tally.valid_ballots for s in sheets),
            invalid=sum(s.tally.ballots_spoiled for s in sheets),
        )
        channels += (ChannelTotals(PAPER_TALLY_CHANNEL, counts),)
    paper_votes = add_counts(*(s.votes for s in sheets))
    voters = StatusCounts(
        counted=sum(c.votes.counted for c in channels),
        duplicate=sum(c.votes.duplicate for c in channels),
        invalid=sum(c.votes.invalid for c in channels),
    )
    sheet_ballots = sum(s.tally.valid_ballots for s in sheets)
    categories = _category_results(session, cycle, voters.counted, paper_votes, sheet_ballots)
    hourly = _hourly_turnout(session, cycle)
    return CycleResults(
        cycle_id=cycle.id,
        community_id=cycle.community_id,
        title=cycle.title,
        slug=cycle.slug,
        kind=cycle.kind,
        voting_starts_at=cycle.voting_starts_at,
        voting_ends_at=cycle.voting_ends_at,
        published_at=cycle.results_published_at,
        voters=voters,
        categories=categories,
        channels=channels,
        devices=_device_totals(session, cycle),
        hourly=hourly,
        daily=_daily(hourly),
        paper_tallies=tuple(sheet_totals(s) for s in sheets),
        paper_tally_votes=paper_votes,
    )


def _category_results(
    session: Session, cycle: Cycle, counted_voters: int, paper_votes: dict[int, int], sheet_ballots: int
) -> tuple[CategoryResult, ...]:
    titles = {
        p.id: (p.title, p.district)
        for p in session.scalars(
            select(Project).where(
                Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value
            )
        )
    }
    votes = add_counts(running_tally(session, cycle.id), paper_votes)
    return category_results(session, cycle, counted_voters, votes, sheet_ballots, titles)


def _device_totals(session: Session, cycle: Cycle) -> tuple[DeviceTotals, ...]:
    by_device: dict[str, dict[str, int]] = defaultdict(dict)
    for device_id, status, votes in session.execute(
        select(TurnoutTally.device_id, TurnoutTally.status, func.sum(TurnoutTally.votes))
        .where(TurnoutTally.cycle_id == cycle.id, TurnoutTally.device_id != "")
        .group_by(TurnoutTally.device_id, TurnoutTally.status)
    ):
        by_device[device_id][status] = int(votes)
    by_device = {d: s for d, s in by_device.items() if any(s.values())}
    known: dict[str, Device] = {}
    if by_device:
        # Only this community's devices: a code alone must not reveal another's names.
        known = {
            d.code: d
            for d in session.scalars(
                select(Device).where(
                    Device.community_id == cycle.community_id, Device.code.in_(list(by_device))
                )
            )
        }
    return tuple(
        DeviceTotals(
            device_id=code,
            name=known[code].name if code in known else None,
            kind=known[code].kind if code in known else None,
            votes=_status_counts(by_device[code]),
        )
        for code in sorted(by_device)
    )


def _hourly_turnout(session: Session, cycle: Cycle) -> tuple[TurnoutPoint, ...]:
    per_hour: dict[datetime, dict[str, int]] = defaultdict(dict)
    for hour, channel, votes in session.execute(
        select(TurnoutTally.hour, TurnoutTally.channel, func.sum(TurnoutTally.votes))
        .where(TurnoutTally.cycle_id == cycle.id, TurnoutTally.status == VoteStatus.COUNTED.value)
        .group_by(TurnoutTally.hour, TurnoutTally.channel)
    ):
        if votes:
            per_hour[hour][channel] = int(votes)
    if not per_hour:
        return ()
    # From the window's first hour (zeros before the first vote are part of the story)
    # to the last hour with votes, so an open cycle does not show an empty future.
    start = min(min(per_hour), _floor_hour(cycle.voting_starts_at))
    end = max(per_hour)
    points = []
    hour = start
    while hour <= end:
        counts = per_hour.get(hour, {})
        points.append(TurnoutPoint(hour.astimezone(KYIV), {c: counts.get(c, 0) for c in CHANNELS}))
        hour += timedelta(hours=1)
    return tuple(points)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _daily(hourly: Iterable[TurnoutPoint]) -> tuple[TurnoutPoint, ...]:
    # Kyiv is a whole number of hours from UTC, so each UTC hour falls in one Kyiv day.
    days: dict[date, dict[str, int]] = {}
    for point in hourly:
        day = days.setdefault(point.start.date(), {c: 0 for c in CHANNELS})
        for channel, votes in point.counted.items():
            day[channel] = day.get(channel, 0) + votes
    return tuple(
        TurnoutPoint(datetime(d.year, d.month, d.day, tzinfo=KYIV), counts) for d, counts in days.items()
    )
