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

What the results hold and their JSON: server.services.results_shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Cycle, Device, Project, ProjectStatus, TurnoutTally
from server.paper.tally import current_tallies
from server.paper.tally_results import sheet_totals
from server.services.results_funding import CategoryResult, category_results
from server.services.results_shape import (
    PAPER_TALLY_CHANNEL,
    ChannelTotals,
    CycleResults,
    DeviceTotals,
    StatusCounts,
    TurnoutPoint,
)
from server.services.tally import add_counts, running_tally
from voting import Channel, VoteStatus

KYIV = ZoneInfo("Europe/Kyiv")
CHANNELS = tuple(c.value for c in Channel)


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
