"""A new cycle beside a big vote table keeps its per-voter lookups fast: the vote table's
statistics are read again as the cycle grows (server.services.vote_rows.STATISTICS_AT).
PostgreSQL only: the planner this is about is PostgreSQL's."""

from __future__ import annotations

from sqlalchemy import text

from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules

from .test_ballot_box import projects_of, vote


def test_the_vote_tables_statistics_are_read_again_as_a_new_cycle_grows(session, make, engine):
    """The batch that takes a cycle past 1 000 votes runs ANALYZE; one below, or the next
    after, does not."""
    cycle = make.ballot_cycle()
    p1 = projects_of(session, cycle)[0]
    rules = {cycle.id: load_cycle_rules(session, cycle)}

    def analyses() -> int:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'vote'")
            ).scalar_one()

    def batch(first: int, count: int) -> None:
        store_votes(session, rules, [vote(cycle, first + n, [p1.id]) for n in range(count)], "test")
        session.commit()

    batch(0, 999)
    before = analyses()
    batch(999, 1)  # the 1 000th vote of the cycle
    after = analyses()
    batch(1000, 5)
    assert (after - before, analyses() - after) == (1, 0)
