"""Golden tests: real elections counted by our rules fund what the cities funded.

Each file's META names the city's rule, budget and threshold; the project must fund
exactly the projects the file marks `selected;1`, with the tie-break the city used.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from voting import FundingOutcome
from voting.pabulib import PabulibError, count_pabulib, read_pabulib, report
from voting.record import MAX_SELECTIONS

HERE = Path(__file__).parent / "pabulib"

GOLDEN = [
    ("Poland_Warszawa_2020_Rembertow.pb", "cheaper"),
    ("Poland_Lodz_2022.pb", "cheaper"),
    ("Poland_Lodz_2022.pb", "number"),
    ("Poland_Gdynia_2021.pb", "cheaper"),
    ("Poland_Gdynia_2021.pb", "number"),
    ("Poland_Gdynia_2020_Babie_Doly__small.pb", "number"),
    ("Poland_Lodz_2024_Katedralna.pb", "number"),
    ("Poland_Swiecie_2023.pb", "cheaper"),
    ("Netherlands_Assen_2024.pb", "cheaper"),
]


def election(name: str):
    return read_pabulib((HERE / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name, tie_break", GOLDEN)
def test_the_project_funds_what_the_city_funded(name, tie_break):
    real = election(name)
    counted = report(real, count_pabulib(real, tie_break))
    assert sorted(counted["funded"]) == sorted(p.name for p in real.projects if p.selected)
    assert counted["spent"] <= counted["budget"]


@pytest.mark.parametrize(
    "name", ["Poland_Gdynia_2020_Babie_Doly__small.pb", "Poland_Lodz_2024_Katedralna.pb"]
)
def test_these_cities_ties_went_to_the_earlier_project_not_the_cheaper(name):
    real = election(name)
    cheaper = report(real, count_pabulib(real, "cheaper"))["funded"]
    assert sorted(cheaper) != sorted(p.name for p in real.projects if p.selected)


def test_gdynia_stopped_at_the_first_project_that_did_not_fit():
    real = election("Poland_Gdynia_2020_Babie_Doly__small.pb")
    counted = report(real, count_pabulib(real, "number"))
    outcomes = {p["id"]: p["outcome"] for p in counted["projects"]}
    assert outcomes == {"4": "funded", "2": "funded", "1": "funded", "5": "over_budget", "3": "stopped"}
    assert counted["threshold"] == 50


def test_votes_are_counted_from_the_ballots_and_match_the_files_totals():
    real = election("Poland_Warszawa_2020_Rembertow.pb")
    counted = report(real, count_pabulib(real))
    text = (HERE / "Poland_Warszawa_2020_Rembertow.pb").read_text(encoding="utf-8")
    listed = {}
    lines = text.splitlines()
    header = lines[lines.index("PROJECTS") + 1].split(";")
    for line in lines[lines.index("PROJECTS") + 2 : lines.index("VOTES")]:
        fields = dict(zip(header, line.split(";"), strict=False))
        listed[fields["project_id"]] = int(fields["votes"])
    assert {p["id"]: p["votes"] for p in counted["projects"]} == listed


def test_equal_shares_explains_each_round():
    real = election("Netherlands_Assen_2024.pb")
    counted = report(real, count_pabulib(real))
    rounds = counted["equal_shares"]["rounds"]
    assert [r["project"] for r in rounds] == [
        p["id"] for p in sorted(counted["projects"], key=lambda p: p.get("round", 99)) if "round" in p
    ]
    assert all(r["full_payers"] + r["partial_payers"] <= r["supporters"] for r in rounds)
    assert counted["equal_shares"]["completion_steps"] > 0
    unfunded = [p for p in counted["projects"] if p["outcome"] == "supporters_short"]
    assert unfunded and all(p["supporters_money"] < p["cost"] for p in unfunded)


def test_wieliczka_ballots_longer_than_50_are_counted():
    real = election("Poland_Wieliczka_2023_Green_Budget.pb")
    long_ballots = [b for b in real.ballots if len(b) > 50]
    assert len(long_ballots) == 11 and max(map(len, long_ballots)) <= MAX_SELECTIONS
    counted = count_pabulib(real)
    assert counted.comparison is not None and counted.spent <= counted.available


def test_lodz_under_equal_shares_fits_the_budget():
    real = election("Poland_Lodz_2022.pb")
    real = dataclasses.replace(real, meta={**real.meta, "rule": "equalshares/add1"})
    funding = count_pabulib(real)
    assert 0 < funding.spent <= funding.available
    assert all(line.outcome is not FundingOutcome.FUNDED or line.votes >= 100 for line in funding.lines)


GOOD = (
    "META\nkey;value\nbudget;100\nrule;greedy\nPROJECTS\nproject_id;cost\n1;60\n2;50\nVOTES\nvoter_id;vote\n"
)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "missing"),
        ("hello\n" + GOOD, "start with META"),
        (GOOD.replace("budget;100", "budget;1e"), "budget is not a number"),
        (GOOD.replace("budget;100", "budget;10.5"), "whole"),
        (GOOD.replace("2;50", "1;50"), "repeated"),
        (GOOD.replace("2;50", "2;-5"), "whole non-negative"),
        (GOOD + "v1;1,7\n", "does not list"),
        (GOOD.replace("voter_id;vote", "voter_id;ballot"), "no vote column"),
        (GOOD.replace("project_id;cost", "project_id;price"), "no cost column"),
        (GOOD + "META\nkey;value\n", "twice"),
    ],
)
def test_malformed_files_are_refused_with_the_reason(text, message):
    with pytest.raises(PabulibError, match=message):
        read_pabulib(text)


def test_an_unknown_rule_is_refused_rather_than_guessed():
    with pytest.raises(PabulibError, match="not one we count"):
        count_pabulib(read_pabulib(GOOD.replace("greedy", "phragmen") + "v1;1\n"))


def test_a_ballot_naming_a_project_twice_counts_it_once():
    counted = report(*(lambda e: (e, count_pabulib(e)))(read_pabulib(GOOD + "v1;2,2\nv2;1\n")))
    assert {p["id"]: p["votes"] for p in counted["projects"]} == {"1": 1, "2": 1}
    assert counted["funded"] == ["2"]  # equal votes: the cheaper 2 first; then 1 (60) does not fit in 50


def test_reading_an_election_leaves_the_process_csv_limit_as_it_was():
    """The csv module's field limit is process-wide; the server's readers name a field
    over it as too long (server.services.csv_limits), so reading a Pabulib file must
    not raise it for them."""
    import csv

    from voting.pabulib import read_pabulib

    before = csv.field_size_limit()
    text = (
        "META\nkey;value\nbudget;10\nvote_type;approval\nrule;greedy\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv1;"
        + ",".join(["1"] * 70_000)
        + "\n"
    )
    election = read_pabulib(text)
    assert len(election.ballots) == 1
    assert csv.field_size_limit() == before
