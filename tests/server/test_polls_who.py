"""Who may answer a poll, on the server: the spec's "who", stored with the poll; the
platform's answers judged against the community's own voter list, the minimum age (from
a РНОКПП or УНЗР) and the district, refused with a vote's codes, all or nothing; the
console's poll page says who may answer."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from server.models import Poll, PollAnswer, PollAnswerItem, Role
from server.polls.store import PollSpecError, create_poll, poll_rule
from server.services import eligibility
from tests.factories import sign_in
from voting import VoterKey, community_voter_secret
from voting.identity import rnokpp_check_digit
from voting.poll_who import WhoMayAnswer

from .test_api_support import make_platform
from .test_polls import SPEC, _published, assert_matches

# 10 May 2027, 00:30 in Kyiv (UTC+3): the day of the answer is Kyiv's, not UTC's.
CAST = datetime(2027, 5, 9, 21, 30, tzinfo=UTC)


def rnokpp_born(born: date, serial: str = "0123") -> str:
    first_nine = f"{(born - date(1899, 12, 31)).days:05d}{serial}"
    return first_nine + str(rnokpp_check_digit(first_nine))


def unzr_born(born: date, serial: str = "00123") -> str:
    return f"{born:%Y%m%d}-{serial}"


def spec_with(**who) -> dict:
    spec = copy.deepcopy(SPEC)
    spec["who"] = who
    return spec


def key(n: int) -> str:
    return f"{n:064x}"


def answer(poll_ids, *, voter: int | None = None, identity: dict | None = None, cast_at=CAST) -> dict:
    (one, one_opts) = poll_ids[0]
    body = {
        "id": str(uuid.uuid4()),
        "cast_at": cast_at.isoformat().replace("+00:00", "Z"),
        "answers": {str(one): [one_opts[0]]},
    }
    if identity is not None:
        body["identity"] = identity
    else:
        body["voter_key"] = key(voter if voter is not None else 1)
    return body


def ids(session, poll):
    return [(q.question_id, list(q.option_ids)) for q in poll_rule(session, poll).questions]


def push(client, platform, poll, answers):
    return client.post(
        f"/api/v1/polls/{poll.id}/answers", json={"answers": answers}, headers=platform.headers()
    )


def stored(session) -> int:
    return session.scalar(select(func.count()).select_from(PollAnswer))


def refused(response) -> list[tuple[int, str, str]]:
    assert response.status_code == 422, response.get_json()
    return [(p["index"], p["field"], p["code"]) for p in response.get_json()["error"]["items"]]


def load_list(session, app, community, rows: str, *, enabled: bool = True) -> None:
    secret = community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)
    check, change = eligibility.apply_list_file(
        session, community, rows.encode(), eligibility.ListMode.REPLACE, voter_secret=secret
    )
    assert change is not None, check
    eligibility.set_enabled(session, community, enabled)
    session.commit()


def secret_of(app, community) -> bytes:
    return community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)


# --- the spec --------------------------------------------------------------------------


def test_who_may_answer_is_stored_cleaned_and_read_back_as_the_rule(session, make):
    community = make.community()
    poll = create_poll(
        session, community.id, spec_with(min_age=16, voter_list=True, district="  Солом'янський ")
    )
    session.commit()
    assert (poll.min_age, poll.voter_list, poll.district) == (16, True, "Солом’янський")
    assert poll_rule(session, poll).who == WhoMayAnswer(16, True, "Солом’янський")


def test_a_poll_without_who_or_with_an_empty_who_takes_anyone(session, make):
    community = make.community()
    plain = create_poll(session, community.id, copy.deepcopy(SPEC))
    empty = create_poll(session, community.id, spec_with())
    null = copy.deepcopy(SPEC)
    null["who"] = None
    nothing = create_poll(session, community.id, null)
    session.commit()
    for poll in (plain, empty, nothing):
        assert (poll.min_age, poll.voter_list, poll.district) == (None, False, None)
        assert poll_rule(session, poll).who.anyone


HOSTILE_WHO = {
    "not an object": ["min_age"],
    "a number": 16,
    "negative age": {"min_age": -1},
    "zero age": {"min_age": 0},
    "huge age": {"min_age": 10**20},
    "121": {"min_age": 121},
    "float age": {"min_age": 16.0},
    "bool age": {"min_age": True},
    "string age": {"min_age": "16"},
    "list as a bool": {"voter_list": "true"},
    "1 as a bool": {"voter_list": 1},
    "empty district": {"district": ""},
    "blank district": {"district": "   "},
    "number district": {"district": 7},
    "overlong district": {"district": "я" * 101},
    "megabyte district": {"district": "я" * 1_000_000},
    "control character": {"district": "Центр\x00"},
    "line break": {"district": "Центр\nПоділ"},
    "escape sequence": {"district": "Центр\x1b[2J"},
    "zero-width space": {"district": "Центр\u200b"},
    "bidi override": {"district": "\u202eЦентр"},
    "mixed alphabets": {"district": "Шевченкiвський"},
    "emoji": {"district": "Центр 🏙"},
    "unknown key": {"min_age": 16, "admin": True},
    "a misspelt key": {"minage": 16},
}


@pytest.mark.parametrize("name", sorted(HOSTILE_WHO))
def test_a_hostile_who_names_its_problem_in_both_languages_and_stores_nothing(session, make, name):
    community = make.community()
    spec = copy.deepcopy(SPEC)
    spec["who"] = HOSTILE_WHO[name]
    with pytest.raises(PollSpecError) as error:
        create_poll(session, community.id, spec)
    problems = error.value.problems
    assert problems and all(p.where.startswith("who") for p in problems)
    for problem in problems:
        assert problem.what.uk and problem.what.en and problem.what.uk != problem.what.en
        assert len(problem.text("en")) < 300  # the megabyte is not echoed back
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


def test_every_problem_of_a_spec_is_named_at_once_who_included(session, make):
    spec = spec_with(min_age=0, voter_list="yes", district="Центр\x00", admin=1)
    spec["title"] = ""
    with pytest.raises(PollSpecError) as error:
        create_poll(session, make.community().id, spec)
    assert sorted(p.where for p in error.value.problems) == [
        "title",
        "who.admin",
        "who.district",
        "who.min_age",
        "who.voter_list",
    ]


def test_the_platform_reads_who_may_answer(client, session, make):
    platform = make_platform(session, make)
    _published(session, platform.community.id, spec_with(min_age=18, district="Центр"))
    _published(session, platform.community.id)
    polls = client.get("/api/v1/polls", headers=platform.headers()).get_json()["polls"]
    assert [p["who"] for p in polls] == [
        {"min_age": 18, "voter_list": False, "district": "Центр"},
        {"min_age": None, "voter_list": False, "district": None},
    ]
    for body in polls:
        assert_matches("Poll", body)


# --- the platform's answers: the minimum age -----------------------------------------


@pytest.mark.parametrize("document", ["rnokpp", "unzr"])
def test_the_age_from_a_document_is_judged_on_the_kyiv_day_of_the_answer(client, session, make, document):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id, spec_with(min_age=16))
    qs = ids(session, poll)
    number = rnokpp_born if document == "rnokpp" else unzr_born
    tomorrow = answer(qs, identity={"kind": document, "number": number(date(2011, 5, 11))})
    response = push(client, platform, poll, [tomorrow])
    assert refused(response) == [(0, "identity", "eligibility.too_young")]
    assert "16" in response.get_json()["error"]["items"][0]["message"]
    assert stored(session) == 0
    # Sixteen on 10 May: in Kyiv it is already 10 May, though in UTC still the 9th.
    today = answer(
        qs,
        identity={
            "kind": document,
            "number": number(date(2011, 5, 10), "0124" if document == "rnokpp" else "00124"),
        },
    )
    assert push(client, platform, poll, [today]).status_code == 200
    assert stored(session) == 1


def test_a_document_born_in_the_future_is_refused(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id, spec_with(min_age=16))
    later = answer(ids(session, poll), identity={"kind": "unzr", "number": unzr_born(date(2030, 1, 1))})
    assert refused(push(client, platform, poll, [later])) == [(0, "identity", "eligibility.born_in_future")]


def test_an_age_the_platform_vouches_for_is_taken_as_for_votes(client, session, make):
    """A voter key alone, or a passport, shows no birth date: the votes' API takes such
    votes without an age check, and the poll's answers alike."""
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id, spec_with(min_age=16))
    qs = ids(session, poll)
    by_key = answer(qs, voter=5)
    by_passport = answer(qs, identity={"kind": "passport", "number": "АВ123456"})
    response = push(client, platform, poll, [by_key, by_passport])
    assert response.status_code == 200, response.get_json()
    assert stored(session) == 2


def test_one_young_resident_in_a_batch_stores_nothing_of_it(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id, spec_with(min_age=18))
    qs = ids(session, poll)
    batch = [
        answer(qs, voter=1),
        answer(qs, identity={"kind": "rnokpp", "number": rnokpp_born(date(1980, 1, 1))}),
        answer(qs, identity={"kind": "rnokpp", "number": rnokpp_born(date(2012, 1, 1))}),
        answer(qs, voter=2),
    ]
    assert refused(push(client, platform, poll, batch)) == [(2, "identity", "eligibility.too_young")]
    assert stored(session) == 0
    assert session.scalar(select(func.count()).select_from(PollAnswerItem)) == 0
    assert push(client, platform, poll, batch[:2] + batch[3:]).status_code == 200
    assert stored(session) == 3


def test_rule_problems_and_who_problems_are_named_together(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id, spec_with(min_age=18))
    qs = ids(session, poll)
    broken = answer(qs, voter=1)
    broken["answers"] = {str(qs[0][0]): [qs[0][1][0], qs[0][1][1]]}  # two for "one"
    young = answer(qs, identity={"kind": "rnokpp", "number": rnokpp_born(date(2015, 1, 1))})
    assert refused(push(client, platform, poll, [broken, young])) == [
        (0, "answers", "poll.answer_one"),
        (1, "identity", "eligibility.too_young"),
    ]


# --- the voter list --------------------------------------------------------------------


def test_the_voter_list_turns_away_a_key_it_does_not_hold(client, session, make, app):
    platform = make_platform(session, make)
    load_list(session, app, platform.community, f"voter_key\n{key(1)}\n")
    poll = _published(session, platform.community.id, spec_with(voter_list=True))
    qs = ids(session, poll)
    assert refused(push(client, platform, poll, [answer(qs, voter=2)])) == [
        (0, "voter_key", "eligibility.not_listed")
    ]
    assert stored(session) == 0
    assert push(client, platform, poll, [answer(qs, voter=1)]).status_code == 200


def test_a_document_is_looked_up_as_the_communitys_voter_key(client, session, make, app):
    platform = make_platform(session, make)
    listed, unlisted = rnokpp_born(date(1970, 3, 3)), rnokpp_born(date(1971, 4, 4))
    load_list(session, app, platform.community, f"document_kind,document_number\nrnokpp,{listed}\n")
    poll = _published(session, platform.community.id, spec_with(voter_list=True))
    qs = ids(session, poll)
    response = push(
        client,
        platform,
        poll,
        [
            answer(qs, identity={"kind": "rnokpp", "number": listed}),
            answer(qs, identity={"kind": "rnokpp", "number": unlisted}),
        ],
    )
    assert refused(response) == [(1, "identity", "eligibility.not_listed")]
    assert unlisted not in response.get_data(as_text=True)  # never echoed
    ok = push(client, platform, poll, [answer(qs, identity={"kind": "rnokpp", "number": listed})])
    assert ok.status_code == 200
    expected = VoterKey.derive(secret_of(app, platform.community), "rnokpp", listed).hex
    assert session.scalar(select(PollAnswer.voter)) == f"key:{expected}"


@pytest.mark.parametrize("state", ["no list", "switched off"])
def test_a_required_list_the_community_does_not_have_on_turns_nobody_away(client, session, make, app, state):
    """As for votes: a list switched off (or none at all) turns nobody away."""
    platform = make_platform(session, make)
    if state == "switched off":
        load_list(session, app, platform.community, f"voter_key\n{key(1)}\n", enabled=False)
    poll = _published(session, platform.community.id, spec_with(voter_list=True))
    assert push(client, platform, poll, [answer(ids(session, poll), voter=2)]).status_code == 200


def test_a_list_with_a_minimum_age_vouches_for_no_age_the_document_shows(client, session, make, app):
    platform = make_platform(session, make)
    young = rnokpp_born(date(2014, 6, 1))
    load_list(session, app, platform.community, f"document_kind,document_number\nrnokpp,{young}\n")
    poll = _published(session, platform.community.id, spec_with(voter_list=True, min_age=16))
    response = push(
        client, platform, poll, [answer(ids(session, poll), identity={"kind": "rnokpp", "number": young})]
    )
    assert refused(response) == [(0, "identity", "eligibility.too_young")]


# --- the district ----------------------------------------------------------------------


DISTRICTS = f"voter_key,district\n{key(1)},Центр\n{key(2)},Поділ\n{key(3)},\n"


def test_a_district_admits_its_residents_by_the_list_and_no_one_else(client, session, make, app):
    platform = make_platform(session, make)
    load_list(session, app, platform.community, DISTRICTS)
    poll = _published(session, platform.community.id, spec_with(district="центр"))
    qs = ids(session, poll)
    response = push(client, platform, poll, [answer(qs, voter=n) for n in (1, 2, 3, 4)])
    assert refused(response) == [
        (1, "voter_key", "poll.wrong_district"),  # listed in another district
        (2, "voter_key", "poll.wrong_district"),  # listed in none
        (3, "voter_key", "poll.wrong_district"),  # not listed
    ]
    assert "центр" in response.get_json()["error"]["items"][0]["message"]
    assert stored(session) == 0
    assert push(client, platform, poll, [answer(qs, voter=1)]).status_code == 200


def test_a_district_holds_while_the_list_is_switched_off_as_for_district_categories(
    client, session, make, app
):
    platform = make_platform(session, make)
    load_list(session, app, platform.community, DISTRICTS, enabled=False)
    poll = _published(session, platform.community.id, spec_with(district="Центр"))
    qs = ids(session, poll)
    assert refused(push(client, platform, poll, [answer(qs, voter=2)])) == [
        (0, "voter_key", "poll.wrong_district")
    ]
    assert push(client, platform, poll, [answer(qs, voter=1)]).status_code == 200


def test_the_list_and_a_district_together(client, session, make, app):
    platform = make_platform(session, make)
    load_list(session, app, platform.community, DISTRICTS)
    poll = _published(
        session, platform.community.id, spec_with(voter_list=True, district="Центр", min_age=18)
    )
    qs = ids(session, poll)
    response = push(client, platform, poll, [answer(qs, voter=n) for n in (1, 2, 9)])
    assert refused(response) == [
        (1, "voter_key", "poll.wrong_district"),
        (2, "voter_key", "eligibility.not_listed"),
    ]
    assert push(client, platform, poll, [answer(qs, voter=1)]).status_code == 200


def test_a_poll_without_who_ignores_the_list_and_the_districts(client, session, make, app):
    platform = make_platform(session, make)
    load_list(session, app, platform.community, DISTRICTS)
    poll = _published(session, platform.community.id)
    qs = ids(session, poll)
    young = answer(qs, identity={"kind": "rnokpp", "number": rnokpp_born(date(2020, 1, 1))})
    response = push(client, platform, poll, [answer(qs, voter=9), answer(qs, voter=2), young])
    assert response.status_code == 200
    assert [r["status"] for r in response.get_json()["results"]] == ["counted"] * 3


# --- the console -----------------------------------------------------------------------


def test_the_console_shows_who_may_answer_in_both_languages(client, session, make):
    community = make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    limited = create_poll(session, community.id, spec_with(min_age=16, voter_list=True, district="Центр"))
    plain = create_poll(session, community.id, copy.deepcopy(SPEC))
    session.commit()
    page = client.get(f"/console/polls/{limited.id}").get_data(as_text=True)
    assert "Хто може відповідати" in page and "Найменший вік у день відповіді: 16." in page
    assert "Лише мешканці зі списку виборців громади." in page and "«Центр»" in page
    assert "Список виборців громади вимкнено" in page  # required, but the community has none on
    english = client.get(f"/console/polls/{limited.id}?lang=en").get_data(as_text=True)
    if "Who may answer" not in english:  # the language is the session's choice
        client.get("/lang/en")
        english = client.get(f"/console/polls/{limited.id}").get_data(as_text=True)
    assert "Who may answer" in english and "Minimum age on the day of answering: 16." in english
    assert "“Центр”" in english
    plain_page = client.get(f"/console/polls/{plain.id}").get_data(as_text=True)
    assert 'id="poll-who"' in plain_page and "Лише мешканці" not in plain_page
