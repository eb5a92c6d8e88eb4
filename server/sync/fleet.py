"""The state of a community's terminals and support points, as the fleet page shows it,
and acknowledging their alarms. A handful of grouped queries, whatever the fleet's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.models import Alarm, Community, Device, DeviceLogEntry, PendingBatch, TurnoutTally, User, utcnow
from server.services import audit
from voting import VoteStatus

from .alarms import CHAIN_KINDS

RECENT_ALARMS_PER_DEVICE = 5
_RECENT_ALARMS_SCANNED = 1000


@dataclass
class DeviceState:
    device: Device
    community_name: str
    votes_received: int = 0  # vote entries of its log the server stored
    # Its votes counted in every cycle of its community: the figure the results give
    # for the device (server.services.results, votes by device).
    votes_counted: int = 0
    pending_batches: int = 0
    open_alarms: int = 0
    recent_alarms: list[Alarm] = field(default_factory=list)
    chain_broken: bool = False  # an open alarm says the log cannot be trusted


def fleet_state(session: Session, community_ids: list[int] | None) -> list[DeviceState]:
    """Every device of these communities (None: all), by community name and code."""
    query = (
        select(Device, Community.name)
        .join(Community, Community.id == Device.community_id)
        .order_by(Community.name, Device.code)
    )
    if community_ids is not None:
        query = query.where(Device.community_id.in_(community_ids))
    states = [DeviceState(device, name) for device, name in session.execute(query)]
    if not states:
        return states
    by_id = {s.device.id: s for s in states}
    by_code = {s.device.code: s for s in states}
    ids = sorted(by_id)

    for device_id, count in session.execute(
        select(DeviceLogEntry.device_id, func.count())
        .where(DeviceLogEntry.device_id.in_(ids), DeviceLogEntry.vote_id.is_not(None))
        .group_by(DeviceLogEntry.device_id)
    ):
        by_id[device_id].votes_received = count
    by_community_code = {(s.device.community_id, s.device.code): s for s in states}
    for community_id, code, votes in session.execute(
        select(TurnoutTally.community_id, TurnoutTally.device_id, func.sum(TurnoutTally.votes))
        .where(
            TurnoutTally.community_id.in_(sorted({c for c, _ in by_community_code})),
            TurnoutTally.device_id.in_(sorted(by_code)),
            TurnoutTally.status == VoteStatus.COUNTED.value,
        )
        .group_by(TurnoutTally.community_id, TurnoutTally.device_id)
    ):
        state = by_community_code.get((community_id, code))
        if state is not None:
            state.votes_counted = int(votes or 0)
    for device_id, count in session.execute(
        select(PendingBatch.device_id, func.count())
        .where(PendingBatch.device_id.in_(ids))
        .group_by(PendingBatch.device_id)
    ):
        by_id[device_id].pending_batches = count

    open_alarms = (
        Alarm.acknowledged_at.is_(None),
        Alarm.source.in_(sorted(by_code)),
        Alarm.community_id.in_(sorted({s.device.community_id for s in states})),
    )
    for source, kind, count in session.execute(
        select(Alarm.source, Alarm.kind, func.count()).where(*open_alarms).group_by(Alarm.source, Alarm.kind)
    ):
        state = by_code[source]
        state.open_alarms += count
        state.chain_broken = state.chain_broken or kind in CHAIN_KINDS
    recent = session.scalars(
        select(Alarm)
        .where(*open_alarms)
        .order_by(Alarm.at.desc(), Alarm.id.desc())
        .limit(_RECENT_ALARMS_SCANNED)
    )
    shown: dict[str, int] = defaultdict(int)
    for alarm in recent:
        state = by_code[alarm.source]
        # A device's code names it in every community, but an alarm belongs to one.
        if alarm.community_id == state.device.community_id and shown[alarm.source] < RECENT_ALARMS_PER_DEVICE:
            state.recent_alarms.append(alarm)
            shown[alarm.source] += 1
    return states


def acknowledge_alarms(session: Session, device: Device, user: User | None, alarm_id: int | None) -> int:
    """Mark one open alarm of the device (or, with None, all of them) as seen. Returns
    how many were acknowledged; an id that is not this device's open alarm counts 0."""
    query = update(Alarm).where(
        Alarm.community_id == device.community_id,
        Alarm.source == device.code,
        Alarm.acknowledged_at.is_(None),
    )
    if alarm_id is not None:
        query = query.where(Alarm.id == alarm_id)
    result = session.execute(
        query.values(acknowledged_at=utcnow(), acknowledged_by=user.id if user else None),
        execution_options={"synchronize_session": False},
    )
    count = result.rowcount or 0  # type: ignore[attr-defined]  # DML gives a CursorResult
    if count:
        audit.record(
            session,
            "alarm.acknowledge",
            user=user,
            community_id=device.community_id,
            target=("device", device.code),
            details={"alarm_id": alarm_id if alarm_id is not None else "all", "count": count},
        )
    return count
