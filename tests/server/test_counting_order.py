"""End to end: however votes arrive (order, batching, repeats), the stored decisions and
running tallies equal the counting rule applied to all of them at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.models import Project, Vote
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.tally import recount_from_records, running_tally
from voting import Channel, CountingInput, VoteRecord, decide, tally

votes_strategy = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=4),  # voter
        st.integers(min_value=0, max_value=3),  # minute: ties happen
        st.lists(st.integers(min_value=0, max_value=7), min_size=0, max_size=3),  # project indexes
        st.sampled_from([Channel.WEB, Channel.KIOSK, Channel.PAPER]),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=votes_strategy, data=st.data())
def test_arrival_order_and_batching_never_change_the_result(session, make, rows, data):
    cycle = make.ballot_cycle(projects_per_category=4)
    projects = list(session.scalars(select(Project).where(Project.cycle_id == cycle.id).order_by(Project.id)))
    rules = {cycle.id: load_cycle_rules(session, cycle)}
    records = [
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),  # the database is shared across examples
            cycle_id=cycle.id,
            selections=[projects[j].id for j in dict.fromkeys(picks)],
            channel=channel,
            cast_at=cycle.voting_starts_at + timedelta(hours=1, minutes=minute),
            voter_key=f"{voter:064x}",
            device_id=None if channel is Channel.WEB else "D-1",
        )
        for voter, minute, picks, channel in rows
    ]
    arrival = data.draw(st.permutations(records))
    # Some votes are sent twice, as a retrying device would.
    arrival = arrival + data.draw(st.lists(st.sampled_from(records), max_size=3))
    cuts = sorted(data.draw(st.sets(st.integers(min_value=1, max_value=len(arrival)), max_size=4)))
    batches = [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)], strict=True) if arrival[a:b]]
    for batch in batches:
        store_votes(session, rules, batch, source="test")
        session.commit()

    expected = decide(
        CountingInput(r.vote_id, r.voter, r.cast_at, rules[cycle.id].invalid_reason(r)) for r in records
    )
    stored = {
        row.id: (row.status, row.counted_vote_id)
        for row in session.execute(
            select(Vote.id, Vote.status, Vote.counted_vote_id).where(Vote.cycle_id == cycle.id)
        )
    }
    assert stored == {vid: (d.status.value, d.counted_vote_id) for vid, d in expected.items()}
    expected_tally = tally({r.vote_id: r.selections for r in records}, expected)
    assert running_tally(session, cycle.id) == expected_tally == recount_from_records(session, cycle.id)
