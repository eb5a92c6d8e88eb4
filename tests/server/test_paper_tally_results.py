"""Tally sheets are part of a cycle's results: their votes add to the projects' and decide
funding with them, they show as a channel of their own that is said to be not
deduplicated, in the pages, the CSV and JSON exports and the platform's API, and the
recount and the console's check agree with what is published."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from openapi_schema_validator import validate
from sqlalchemy import select, text

from server.models import Community, Cycle, Project, Role
from server.paper.tally import Outcome, current_tallies, import_tally, tally_ballot
from server.paper.tally_sheet import check_tally_form
from server.results.publishing import publish_results, verify_against_records
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.results import cycle_results
from server.services.tally import published_tally, recount_with_paper_tallies, running_tally
from server.sync.cli import recount_command
from server.sync.recount import recount_cycle
from tests.factories import login, post, sign_in
from voting import Channel, VoteRecord
from voting.funding import FundingOutcome

from .test_api_support import make_platform


def enter_sheet(session, cycle: Cycle, device, numbers: dict[str, str], *, replace: bool = False):
    check = check_tally_form(numbers, tally_ballot(session, cycle))
    assert check.problems == []
    return import_tally(
        session, cycle, device, check, source="form", replace=replace, user=None, now=datetime.now(UTC)
    )


@pytest.fixture
def run(session, make):
    """A cycle where the online votes put Стадіон 4 first, and a support point's sheet
    then gives Стадіон 1 enough votes to take its place and its money."""
    community = make.community(slug="lviv")
    cycle = make.ballot_cycle(community)
    projects = {p.title: p for p in session.scalars(select(Project).where(Project.cycle_id == cycle.id))}
    point = make.device(community, kind="support_point", code="S-0042", name="Пункт у бібліотеці")
    other = make.device(community, kind="support_point", code="S-0043", name="Пункт у ЦНАП")
    s1, l1, l4 = projects["Сквер 1"], projects["Стадіон 1"], projects["Стадіон 4"]
    records = [
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=cycle.id,
            selections=[s1.id, l4.id] if voter <= 3 else [l1.id],
            channel=Channel.WEB,
            cast_at=cycle.voting_starts_at + timedelta(minutes=voter),
            voter_key=f"{voter:064x}",
        )
        for voter in range(1, 5)
    ]
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, records, source="test")
    session.commit()
    return {
        "cycle": cycle,
        "community": community,
        "point": point,
        "other": other,
        "s1": s1,
        "l1": l1,
        "l4": l4,
    }


def sheet_of(run) -> dict[str, str]:
    # 9 ballots, 1 spoiled: Стадіон 1 gets 5, Сквер 1 gets 2.
    return {
        "ballots_issued": "10",
        "ballots_cast": "9",
        "ballots_spoiled": "1",
        f"votes_{run['l1'].number}": "5",
        f"votes_{run['s1'].number}": "2",
    }


def outcome_of(results, project: Project) -> tuple[int, int, FundingOutcome]:
    line = next(p for c in results.categories for p in c.projects if p.project_id == project.id)
    return line.rank, line.votes, line.outcome


def test_sheet_votes_add_to_the_projects_and_decide_funding_with_them(session, run):
    cycle, s1, l1, l4 = run["cycle"], run["s1"], run["l1"], run["l4"]
    before = cycle_results(session, cycle)
    # Online only: Стадіон 4 (3 votes, 2.2 M) first and funded; Стадіон 1 (1 vote) no longer fits.
    assert outcome_of(before, l4) == (1, 3, FundingOutcome.FUNDED)
    assert outcome_of(before, l1) == (2, 1, FundingOutcome.OVER_BUDGET)
    assert "paper_tally" not in [c.channel for c in before.channels]

    assert enter_sheet(session, cycle, run["point"], sheet_of(run)).outcome is Outcome.STORED
    after = cycle_results(session, cycle)
    assert outcome_of(after, l1) == (1, 6, FundingOutcome.FUNDED)
    assert outcome_of(after, l4) == (2, 3, FundingOutcome.OVER_BUDGET)
    assert outcome_of(after, s1)[1] == 5
    assert after.paper_tally_votes == {l1.id: 5, s1.id: 2}
    # The sheet's valid ballots are its participants; its spoiled ones its invalid votes.
    channels = {c.channel: c.votes.as_dict() for c in after.channels}
    assert channels["paper_tally"] == {"counted": 8, "duplicate": 0, "invalid": 1}
    assert after.voters.as_dict() == {"counted": 12, "duplicate": 0, "invalid": 1}
    [sheet] = after.paper_tallies
    assert (sheet.device_id, sheet.name, sheet.ballots_issued, sheet.valid_ballots, sheet.votes) == (
        "S-0042",
        "Пункт у бібліотеці",
        10,
        8,
        7,
    )
    assert {
        p.project_id: p.votes for c in after.categories for p in c.projects if p.votes
    } == published_tally(session, cycle.id)


def test_two_points_add_up_and_a_replaced_sheet_no_longer_counts(session, run):
    cycle, l1 = run["cycle"], run["l1"]
    enter_sheet(session, cycle, run["point"], sheet_of(run))
    enter_sheet(session, cycle, run["other"], {"ballots_cast": "2", f"votes_{l1.number}": "2"})
    assert published_tally(session, cycle.id)[l1.id] == 1 + 5 + 2
    replaced = enter_sheet(
        session, cycle, run["point"], {"ballots_cast": "1", f"votes_{l1.number}": "1"}, replace=True
    )
    assert replaced.outcome is Outcome.REPLACED
    results = cycle_results(session, cycle)
    assert outcome_of(results, l1)[1] == 1 + 1 + 2
    assert [s.device_id for s in results.paper_tallies] == ["S-0042", "S-0043"]
    assert running_tally(session, cycle.id)[l1.id] == 1  # the vote rows' own tally is untouched


def test_json_says_which_votes_came_from_sheets_and_that_they_are_not_deduplicated(client, session, run):
    cycle = run["cycle"]
    untouched = cycle_results(session, cycle).as_dict()
    assert "paper_tallies" not in untouched  # a cycle without sheets keeps its old shape
    enter_sheet(session, cycle, run["point"], sheet_of(run))
    data = json.loads(json.dumps(cycle_results(session, cycle).as_dict()))
    section = data["paper_tallies"]
    assert section["deduplicated"] is False
    assert (section["ballots_cast"], section["ballots_spoiled"]) == (9, 1)
    assert section["projects"] == sorted(
        [{"project_id": run["l1"].id, "votes": 5}, {"project_id": run["s1"].id, "votes": 2}],
        key=lambda p: p["project_id"],
    )
    assert section["sheets"][0]["device_id"] == "S-0042" and section["sheets"][0]["entered_at"].endswith("Z")
    assert data["channels"][-1] == {"channel": "paper_tally", "counted": 8, "duplicate": 0, "invalid": 1}
    assert sum(c["counted"] for c in data["channels"]) == data["voters"]["counted"]


def test_the_platform_pulls_results_with_the_sheets_as_documented(client, session, make, run):
    enter_sheet(session, run["cycle"], run["point"], sheet_of(run))
    platform = make_platform(session, make, run["community"])
    publish_results(session, run["cycle"])  # the API serves published results only
    session.commit()
    response = client.get(f"/api/v1/cycles/{run['cycle'].id}/results", headers=platform.headers())
    assert response.status_code == 200
    body = response.get_json()
    document = client.get("/api/v1/openapi.json").get_json()
    schema = {**document["components"]["schemas"]["CycleResults"], "components": document["components"]}
    validate(body, schema)
    assert "paper_tallies" in schema["properties"] and "paper_tallies" not in schema["required"]
    assert "not deduplicated" in schema["properties"]["paper_tallies"]["description"]
    assert body["paper_tallies"]["deduplicated"] is False
    line = next(p for c in body["categories"] for p in c["projects"] if p["project_id"] == run["l1"].id)
    assert (line["votes"], line["funded"]) == (6, True)


def test_the_pages_and_the_csv_show_the_sheets_as_a_channel_of_their_own(client, session, make, run):
    cycle = run["cycle"]
    enter_sheet(session, cycle, run["point"], sheet_of(run))
    login(client, make.user(Role.COMMUNITY_MODERATOR, run["community"]))
    page = client.get(f"/console/cycles/{cycle.id}/results").get_data(as_text=True)
    assert "Паперові протоколи" in page and "враховано обидва голоси" in page and "S-0042" in page

    answer = client.get(f"/console/cycles/{cycle.id}/results.csv")
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    column = rows[0].index("З них з паперових протоколів (без перевірки повторного голосування)")
    assert rows[0][column - 1] == "Голоси" and rows[0][-2:] == ["Профінансовано", "Причина"]
    by_number = {int(row[2]): row for row in rows[1:]}
    assert by_number[run["l1"].number][column - 1 : column + 1] == ["6", "5"]
    assert by_number[run["l4"].number][column] == "0"

    cycle.results_published_at = datetime.now(UTC)
    session.commit()
    public = client.get(f"/results/lviv/{cycle.slug}?lang=en").get_data(as_text=True)
    assert "Tally sheets" in public and "counted twice" in public
    english_csv = client.get(f"/results/lviv/{cycle.slug}.csv?lang=en").data.decode("utf-8-sig")
    assert "Of these, from tally sheets (not checked for voting twice)" in english_csv.splitlines()[0]


# --- recount == published --------------------------------------------------------------------


def test_the_console_check_and_the_recount_include_the_sheets_and_agree(app, session, run):
    cycle = run["cycle"]
    enter_sheet(session, cycle, run["point"], sheet_of(run))
    published = published_tally(session, cycle.id)
    assert recount_with_paper_tallies(session, cycle.id) == published

    verification = verify_against_records(session, cycle)
    assert verification.agrees and verification.tally_findings == ()
    report = recount_cycle(session, cycle.id)
    assert report.ok, report.record_problems
    assert report.tally == report.running_tally == published
    assert [(s.device, s.ballots_cast, s.votes) for s in report.paper_tallies] == [("S-0042", 9, 7)]

    result = app.test_cli_runner().invoke(recount_command, [str(cycle.id), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    [sheet_line] = [line for line in lines if line["type"] == "paper_tally"]
    assert (sheet_line["device"], sheet_line["votes"]) == ("S-0042", 7)
    tallies = {
        line["project_id"]: (line["votes"], line["running"]) for line in lines if line["type"] == "tally"
    }
    assert tallies[run["l1"].id] == (6, 6)
    assert lines[-1]["ok"] is True and lines[-1]["paper_tallies"] == 1


def test_a_sheet_changed_in_the_database_after_entry_is_found(app, client, engine, session, make, run):
    cycle, l1 = run["cycle"], run["l1"]
    enter_sheet(session, cycle, run["point"], sheet_of(run))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE paper_tally_line SET votes = votes + 3 WHERE project_id = :p"), {"p": l1.id}
        )
    verification = verify_against_records(session, cycle)
    assert not verification.agrees and [f.device for f in verification.tally_findings] == ["S-0042"]
    report = recount_cycle(session, cycle.id)
    assert not report.ok
    assert any("S-0042" in p and "content hash" in p for p in report.record_problems)
    assert app.test_cli_runner().invoke(recount_command, [str(cycle.id)]).exit_code == 1

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, session.get(Community, cycle.community_id)))
    job_page = post(client, f"/console/cycles/{cycle.id}/results/verify").headers["Location"]  # a job
    page = client.get(job_page).get_data(as_text=True)
    assert "Не збігається" in page and "<code>S-0042</code>" in page


def test_a_sheet_over_its_limits_in_the_database_is_found(session, engine, run):
    cycle, l1 = run["cycle"], run["l1"]
    enter_sheet(session, cycle, run["point"], sheet_of(run))
    # Rewrite the line and the hash together: the rule still catches 50 votes on 8 ballots.
    with engine.begin() as conn:
        conn.execute(text("UPDATE paper_tally_line SET votes = 50 WHERE project_id = :p"), {"p": l1.id})
    [stored] = current_tallies(session, cycle.id)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE paper_tally SET content_hash = :h"),
            {"h": stored.sheet().content_hash(cycle.id, "S-0042")},
        )
    session.expire_all()
    findings = recount_cycle(session, cycle.id).record_problems
    assert any("votes_over_ballots" in p for p in findings) and not any("content hash" in p for p in findings)
