"""District categories on the server: the voter list carries each resident's district;
a vote that chooses in a district category for anyone the list places elsewhere (or
nowhere) is not counted but held for a moderator, whichever way it arrives (a terminal's
log, the online platform); a recount reproduces the decision."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from server.eligibility_cli import eligibility_group
from server.models import (
    Alarm,
    Category,
    Community,
    EligibilityList,
    EligibleVoter,
    HeldVote,
    Project,
    Role,
)
from server.paper.tally_messages import MESSAGES
from server.paper.tally_sheet import (
    TallyBallot,
    TallyCategory,
    TallyProject,
    TallySheet,
    sheet_problems,
)
from server.paper.vote_csv import check_paper_csv
from server.services import eligibility
from server.services.results_funding import fund_cycle
from server.services.tally import running_tally
from server.sync.packages import cycle_body
from server.sync.recount import recount_cycle
from tests.conftest import both_databases
from tests.factories import CSRF_TOKEN, post, sign_in, stored_vote
from voting import Ballot, BallotProject, CategoryRule, VoterKey, community_voter_secret

from .test_api_support import make_platform, web_vote
from .test_console_cycles import CATEGORY_FORM
from .test_paper_csv import GOOD_A, GOOD_B, GOOD_C, NOW, SECRET, csv_bytes, ctx  # noqa: F401 (ctx: a fixture)
from .test_sync_support import enrolled_device, project_ids, voter_key

SHEVCHENKIVSKYI, HALYTSKYI = "Шевченківський", "Галицький"


def _district_cycle(make, session, community=None):
    """ballot_cycle with its large category for one district's residents only."""
    cycle = make.ballot_cycle(community)
    large = session.scalar(
        select(Category).where(Category.cycle_id == cycle.id, Category.name == "Великі проєкти")
    )
    large.district = SHEVCHENKIVSKYI
    session.commit()
    return cycle, large


def _load_list(
    app, session, community, rows: list[tuple[str, str]], mode="replace", header="voter_key,district"
):
    secret = community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)
    data = (header + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
    check, change = eligibility.apply_list_file(
        session, community, data, eligibility.ListMode(mode), voter_secret=secret
    )
    session.rollback() if change is None else session.commit()
    return check, change


def _districts(session, community) -> dict[str, str | None]:
    session.expire_all()
    rows = session.execute(
        select(EligibleVoter.voter_key, EligibleVoter.district).where(
            EligibleVoter.community_id == community.id, EligibleVoter.listed.is_(True)
        )
    )
    return {key: district for key, district in rows}


def test_a_terminals_vote_in_another_districts_category_is_held_and_counts_only_by_decision(
    app, client, make, session
):
    cycle, _large = _district_cycle(make, session)
    community = session.get(Community, cycle.community_id)
    terminal = enrolled_device(client, session, make, community)
    p = project_ids(session, cycle)  # small, large, small, large...
    _load_list(app, session, community, [(voter_key(1), SHEVCHENKIVSKYI), (voter_key(2), HALYTSKYI)])
    terminal.cast(cycle.id, [p[0], p[1]], voter=1)  # a resident of the district
    terminal.cast(cycle.id, [p[0], p[1]], voter=2)  # lives elsewhere: nothing of it counts yet
    terminal.cast(cycle.id, [p[0]], voter=3)  # not in the list, city-wide only: counts
    unknown = terminal.cast(cycle.id, [p[3]], voter=4)  # no list entry at all
    answer = terminal.push().get_json()
    assert [(s["status"], s["reason"]) for s in answer["statuses"]] == [
        ("counted", None),
        ("held", "held.wrong_district"),
        ("counted", None),
        ("held", "held.wrong_district"),
    ]
    assert running_tally(session, cycle.id) == {p[0]: 2, p[1]: 1}, "nothing partial is counted"
    assert stored_vote(session, unknown.payload["id"]) is None
    (alarm,) = session.scalars(select(Alarm)).all()
    assert alarm.kind == "votes.held" and "районній категорії" in alarm.message

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    page = client.get("/console/held-votes").get_data(as_text=True)
    assert "обрано в районній категорії" in page
    device_id = session.scalar(select(HeldVote.device_id).where(HeldVote.reason == "wrong_district"))
    form = {
        "csrf_token": CSRF_TOKEN,
        "cycle_id": str(cycle.id),
        "reason": "wrong_district",
        "decision": "count",
        "note": "довідка про реєстрацію в районі",
    }
    assert client.post(f"/console/devices/{device_id}/held-votes", data=form).status_code == 302
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[0]: 3, p[1]: 2, p[3]: 1}

    report = recount_cycle(session, cycle.id)
    assert report.ok, (report.status_mismatches, report.record_problems, report.funding)
    page = client.get(f"/console/cycles/{cycle.id}/results").get_data(as_text=True)
    assert "голосували лише мешканці району «Шевченківський»" in page
    data = client.get(f"/console/cycles/{cycle.id}/results.json").get_json()
    assert [c["district"] for c in data["categories"]] == [None, SHEVCHENKIVSKYI]


def test_a_resident_moved_after_the_terminals_list_copy_is_held_by_the_servers_newer_list(
    app, client, make, session
):
    cycle, _large = _district_cycle(make, session)
    community = session.get(Community, cycle.community_id)
    terminal = enrolled_device(client, session, make, community)
    p = project_ids(session, cycle)
    _load_list(app, session, community, [(voter_key(1), SHEVCHENKIVSKYI)])  # the terminal's copy
    terminal.cast(cycle.id, [p[1]], voter=1)  # offline: a resident of the district, by that copy
    _load_list(app, session, community, [(voter_key(1), HALYTSKYI)])  # moved before the push
    answer = terminal.push().get_json()
    assert [(s["status"], s["reason"]) for s in answer["statuses"]] == [("held", "held.wrong_district")]
    assert running_tally(session, cycle.id) == {}
    # Moved back: the vote still waits, a moderator decides, not the next list upload.
    _load_list(app, session, community, [(voter_key(1), SHEVCHENKIVSKYI)])
    session.expire_all()
    assert session.scalar(select(HeldVote.decision).where(HeldVote.reason == "wrong_district")) is None
    assert running_tally(session, cycle.id) == {}
    assert recount_cycle(session, cycle.id).ok


@both_databases
def test_the_list_carries_districts_and_a_move_between_versions_reaches_terminals(app, make, session):
    cycle, _large = _district_cycle(make, session)
    community = session.get(Community, cycle.community_id)
    _check, change = _load_list(
        app,
        session,
        community,
        [(voter_key(1), SHEVCHENKIVSKYI), (voter_key(2), HALYTSKYI), (voter_key(3), "")],
    )
    assert (change.added, change.moved) == (3, 0)
    assert _districts(session, community) == {
        voter_key(1): SHEVCHENKIVSKYI,
        voter_key(2): HALYTSKYI,
        voter_key(3): None,
    }
    first = eligibility.changes_since(session, community.id, "")
    assert first.districts == {voter_key(1): SHEVCHENKIVSKYI, voter_key(2): HALYTSKYI}

    # Resident 1 moves: the next version lists them again, with the new district.
    _check, moved = _load_list(
        app, session, community, [(voter_key(1), f" {HALYTSKYI.lower()} ")], mode="add"
    )
    assert (moved.added, moved.moved, moved.version) == (0, 1, change.version + 1)
    later = eligibility.changes_since(session, community.id, first.cursor)
    assert later.listed == [voter_key(1)] and later.districts == {voter_key(1): HALYTSKYI.lower()}

    # A file without the column leaves listed residents' districts as they are.
    _check, plain = _load_list(
        app, session, community, [(voter_key(1),), (voter_key(5),)], "add", "voter_key"
    )
    assert (plain.added, plain.moved) == (1, 0)
    assert _districts(session, community)[voter_key(1)] == HALYTSKYI.lower()
    assert _districts(session, community)[voter_key(5)] is None


@pytest.mark.parametrize(
    ("district", "code"),
    [
        ("Шевченкiвський", "district.mixed_alphabets"),  # a Latin i: would never match
        ("\u202eГалицький", "district.bad_character"),
        ("Гали\u200dцький", "district.bad_character"),
        ("Р" * 5000, "district.too_long"),
    ],
)
def test_a_list_file_with_a_hostile_district_changes_nothing_and_says_where(
    app, make, session, district, code
):
    cycle, _large = _district_cycle(make, session)
    community = session.get(Community, cycle.community_id)
    _check, before = _load_list(app, session, community, [(voter_key(1), SHEVCHENKIVSKYI)])
    check, change = _load_list(app, session, community, [(voter_key(1), HALYTSKYI), (voter_key(2), district)])
    assert change is None
    (problem,) = check.problems
    assert (problem.row, problem.column, problem.code) == (3, "district", code)
    assert problem.message("uk") and problem.message("en")
    assert _districts(session, community) == {voter_key(1): SHEVCHENKIVSKYI}
    assert session.get(EligibilityList, community.id).version == before.version


def test_the_command_line_loads_districts_and_reports_a_move(app, make, session, tmp_path):
    cycle, _large = _district_cycle(make, session)
    community = session.get(Community, cycle.community_id)
    path = tmp_path / "register.csv"
    path.write_text(f"voter_key;district\n{voter_key(1)};{SHEVCHENKIVSKYI}\n", encoding="utf-8")
    runner = app.test_cli_runner()
    args = ["load", str(path), "--community", community.slug, "--json"]
    assert json.loads(runner.invoke(eligibility_group, args).output)["added"] == 1
    path.write_text(f"voter_key;district\n{voter_key(1)};{HALYTSKYI}\n", encoding="utf-8")
    outcome = json.loads(runner.invoke(eligibility_group, args).output)
    assert (outcome["added"], outcome["moved"], outcome["changed"]) == (0, 1, True)
    path.write_text(f"voter_key,district\n{voter_key(1)},Гали\u202eцький\n", encoding="utf-8")
    refused = runner.invoke(eligibility_group, ["load", str(path), "--community", community.slug])
    assert (
        refused.exit_code == 1 and "недозволені символи" in refused.output and "not allowed" in refused.output
    )
    assert _districts(session, community) == {voter_key(1): HALYTSKYI}


def test_a_resident_given_two_districts_in_one_file_is_refused_whole(app, make, session):
    cycle, _large = _district_cycle(make, session)
    community = session.get(Community, cycle.community_id)
    rows = [(voter_key(1), SHEVCHENKIVSKYI), (voter_key(2), HALYTSKYI), (voter_key(1), HALYTSKYI)]
    check, change = _load_list(app, session, community, rows)
    assert change is None and [p.code for p in check.problems] == ["list.district_conflict"]
    assert "1" in check.problems[0].message("uk")
    assert _districts(session, community) == {}


def test_the_platforms_vote_in_another_districts_category_is_held_and_answered_so(app, client, make, session):
    platform = make_platform(session, make)
    cycle, _large = _district_cycle(make, session, platform.community)
    p = project_ids(session, cycle)
    resident, elsewhere = f"{1:064x}", f"{2:064x}"
    _load_list(app, session, platform.community, [(resident, SHEVCHENKIVSKYI), (elsewhere, HALYTSKYI)])
    listed = client.get("/api/v1/cycles", headers=platform.headers()).get_json()
    assert [c["district"] for c in listed["cycles"][0]["categories"]] == [None, SHEVCHENKIVSKYI]
    ok = web_vote(cycle, [p[0], p[1]], voter=1)
    held = web_vote(cycle, [p[0], p[1]], voter=2)
    answer = platform.push(client, [ok, held]).get_json()
    assert [(r["status"], r["reason"]) for r in answer["results"]] == [
        ("counted", None),
        ("held", "held.wrong_district"),
    ]
    assert running_tally(session, cycle.id) == {p[0]: 1, p[1]: 1}
    again = platform.push(client, [held]).get_json()
    assert again["results"][0]["status"] == "held", "sent again: the same answer, held once"
    assert session.scalar(select(HeldVote.source).where(HeldVote.vote_id == held["id"])).startswith("api:")
    state = client.get(f"/api/v1/votes/{held['id']}", headers=platform.headers()).get_json()
    assert (state["status"], state["reason"]) == ("held", "held.wrong_district")
    changed = dict(held, selections=[p[0]])
    assert platform.push(client, [changed]).status_code == 409, "same id, other content: a conflict"

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, platform.community))
    page = client.get("/console/held-votes").get_data(as_text=True)
    assert f"api:{platform.client.id}" in page
    form = {
        "csrf_token": CSRF_TOKEN,
        "source": f"api:{platform.client.id}",
        "cycle_id": str(cycle.id),
        "reason": "wrong_district",
        "decision": "reject",
        "note": "не мешкає в районі",
    }
    assert client.post("/console/held-votes/pushed", data=form).status_code == 302
    state = client.get(f"/api/v1/votes/{held['id']}", headers=platform.headers()).get_json()
    assert (state["status"], state["reason"]) == ("invalid", "held.wrong_district.rejected")
    session.expire_all()
    assert running_tally(session, cycle.id) == {p[0]: 1, p[1]: 1}


def test_a_moderator_names_a_categorys_district_and_terminals_and_pages_get_it(client, make, session):
    moderator = make.user(Role.COMMUNITY_MODERATOR, make.community())
    community = session.get(Community, moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    category = make.category(cycle, name="Район", budget=1_000_000_00, max_choices=1)
    make.project(category, cost=100_000_00)
    sign_in(client, moderator)
    base = CATEGORY_FORM | {"name": "Район", "budget": "1000000", "max_choices": "1", "max_project_cost": ""}
    url = f"/console/categories/{category.id}/edit"

    refused = post(client, url, base | {"district": "Шевченкiвський"})
    assert refused.status_code == 422 and "змішано кирилицю й латиницю" in refused.get_data(as_text=True)
    refused = post(client, url, base | {"district": SHEVCHENKIVSKYI, "min_choices": "1"})
    assert refused.status_code == 422 and "районна" in refused.get_data(as_text=True)
    session.refresh(category)
    assert category.district is None

    assert post(client, url, base | {"district": f"  {SHEVCHENKIVSKYI} "}).status_code == 302
    session.refresh(category)
    assert category.district == SHEVCHENKIVSKYI
    assert f'value="{SHEVCHENKIVSKYI}"' in client.get(url).get_data(as_text=True)
    (packaged,) = cycle_body(session, cycle)["categories"]
    assert packaged["district"] == SHEVCHENKIVSKYI
    project = session.scalar(select(Project).where(Project.category_id == category.id))
    assert project is not None


# --- paper ---------------------------------------------------------------------------------


def test_a_typed_paper_row_is_judged_by_its_voters_district_and_refused_with_the_row(ctx):  # noqa: F811
    ballot = ctx.rules.ballot
    large = replace(ballot.categories[1], district=SHEVCHENKIVSKYI)
    rules = replace(ctx.rules, ballot=Ballot([ballot.categories[0], large], ballot.projects))
    lives = {
        VoterKey.derive(SECRET, "rnokpp", GOOD_A).hex: SHEVCHENKIVSKYI,
        VoterKey.derive(SECRET, "rnokpp", GOOD_B).hex: HALYTSKYI,
    }
    ctx = replace(ctx, rules=rules, districts=lambda keys: {k: lives[k] for k in keys if k in lives})
    data = csv_bytes(
        "document_kind,document_number,projects",
        f"rnokpp,{GOOD_A},1 11",  # lives there
        f"rnokpp,{GOOD_B},1 11",  # lives elsewhere
        f"rnokpp,{GOOD_C},2",  # city-wide only
    )
    result = check_paper_csv(data, ctx, now=NOW)
    assert [(p.row, p.column, p.code) for p in result.problems] == [(3, "projects", "ballot.wrong_district")]
    assert "Шевченківський" in result.problems[0].message("uk") and result.problems[0].message("en")
    assert [row for row, _record in result.records] == [2, 4]


def test_a_hand_count_cannot_vote_in_a_district_category():
    ballot = TallyBallot(
        cycle_id=7,
        projects=(TallyProject(101, 1, "Сквер", 10), TallyProject(201, 2, "Стадіон", 20)),
        categories=(TallyCategory(10, "Малі", 2), TallyCategory(20, "Район", 1, SHEVCHENKIVSKYI)),
    )
    sheet = TallySheet(ballots_issued=10, ballots_cast=10, ballots_spoiled=0, votes={101: 5, 201: 3})
    (problem,) = sheet_problems(sheet, ballot)
    assert problem.code == "paper_tally.district_category" and problem.params["votes"] == 3
    assert problem.code in MESSAGES
    assert sheet_problems(TallySheet(10, 10, 0, {101: 5, 201: 0}), ballot) == []


def test_a_district_categorys_valid_ballots_are_its_own_voters_and_no_tally_sheets():
    city = CategoryRule(1, "Загальноміські", budget=5_000, max_choices=2, min_votes_share=1_000)
    district = CategoryRule(
        2, "Район", budget=3_000, max_choices=1, min_votes_share=1_000, district=SHEVCHENKIVSKYI
    )
    ballot = Ballot([city, district], [BallotProject(10, 1, 1_000), BallotProject(20, 2, 1_500)])
    counted = [[10], [10, 20], [10], [20]]  # the held votes are not among them
    funded = fund_cycle(None, None, ballot, {10: 3, 20: 2}, sheet_ballots=40, ballots=counted)
    assert [f.valid_ballots for f in funded] == [3 + 40, 2]


def test_a_terminal_learns_districts_with_the_list_and_places_residents_offline(
    app, client, make, session, tmp_path
):
    from kiosk.terminal import listed_district
    from sync.device_store import DeviceStore

    cycle, _large = _district_cycle(make, session)
    community = session.get(Community, cycle.community_id)
    terminal = enrolled_device(client, session, make, community)
    _load_list(app, session, community, [(voter_key(1), SHEVCHENKIVSKYI), (voter_key(2), "")])
    page = terminal.get("/api/v1/sync/eligibility").get_json()
    assert page["districts"] == {voter_key(1): SHEVCHENKIVSKYI}
    store = DeviceStore(tmp_path / "terminal.db")
    try:
        fields = ("enabled", "version", "listed", "unlisted", "cursor", "more", "districts")
        store.eligibility.apply_page(**{name: page[name] for name in fields})
        where = listed_district(store)
        placed = [where(voter_key(n)) for n in (1, 2, 3)]
        assert placed == [SHEVCHENKIVSKYI, None, None]
    finally:
        store.close()
