"""A category's funding rule travels to terminals in the signed cycle package and reads
back as the same rule, offline."""

from __future__ import annotations

from server.services.cycle_rules import load_cycle_rules
from server.sync.packages import cycle_body
from sync.package_parser import parse_cycle


def test_the_package_carries_the_funding_rule_and_the_terminal_reads_it_back(make, session):
    cycle = make.cycle(make.community())
    small = make.category(cycle, name="Малі", budget=1_000_000_00, max_choices=3)
    large = make.category(cycle, name="Великі", budget=3_000_000_00)
    one, two, _three = (make.project(small, cost=100_000_00) for _ in range(3))
    small.funding_method, small.tie_break, small.lot_seed = "equal_shares", "lot", "a" * 32
    small.min_votes_share, small.min_project_cost, small.leftover_to_id = 250, 50_000_00, large.id
    small.exclusive_groups, small.completion_step = f"{one.number}, {two.number}", 200
    session.flush()

    body = cycle_body(session, cycle)
    packaged = next(c for c in body["categories"] if c["id"] == small.id)["funding"]
    assert packaged["exclusive_groups"] == [[one.id, two.id]]
    on_terminal = parse_cycle(body).ballot()
    on_server = load_cycle_rules(session, cycle).ballot
    assert list(on_terminal.categories) == list(on_server.categories)
    assert {p.number for p in on_terminal.projects} == {p.number for p in on_server.projects}


def test_a_package_from_before_the_funding_rules_reads_as_todays_default(make, session):
    cycle = make.cycle(make.community())
    make.project(make.category(cycle), cost=100_00)
    body = cycle_body(session, cycle)
    for category in body["categories"]:
        del category["funding"]
    [rule] = parse_cycle(body).ballot().categories
    assert (rule.method, rule.tie_break, rule.exclusive_groups, rule.leftover_to) == (
        "greedy",
        "cheaper",
        (),
        None,
    )
