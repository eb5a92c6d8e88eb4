"""Who may answer a poll: the budget vote's rules (a minimum age, the community's voter
list, a district), checked by the same functions and refused with the same codes."""

from __future__ import annotations

from datetime import date

import pytest

from voting.messages import message
from voting.poll_who import WhoMayAnswer, answer_refusal, check_who
from voting.polls import PollRule, QuestionKind, QuestionRule, check_poll_rule

DAY = date(2027, 5, 10)


def refusal(who: WhoMayAnswer, *, born=None, listed=None, district=None, day=DAY):
    problem = answer_refusal(who, day=day, born=born, listed=listed, district=district)
    return None if problem is None else problem.code


def test_anyone_may_answer_a_poll_without_a_rule():
    who = WhoMayAnswer()
    assert who.anyone and check_who(who) == []
    assert refusal(who) is None
    assert refusal(who, born=date(2027, 5, 9), listed=False, district="Інший") is None


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        (date(2011, 5, 11), "eligibility.too_young"),  # sixteen tomorrow
        (date(2011, 5, 10), None),  # sixteen today
        (date(2011, 5, 9), None),
        (date(1930, 1, 1), None),
        (date(2027, 5, 11), "eligibility.born_in_future"),
    ],
)
def test_the_minimum_age_counts_on_the_day_of_the_answer(born, expected):
    assert refusal(WhoMayAnswer(min_age=16), born=born) == expected


def test_a_29_february_birthday_is_reached_on_28_february():
    who = WhoMayAnswer(min_age=18)
    assert refusal(who, born=date(2008, 2, 29), day=date(2026, 2, 28)) is None
    assert refusal(who, born=date(2008, 2, 29), day=date(2026, 2, 27)) == "eligibility.too_young"


def test_an_age_the_document_does_not_show_is_the_channels_word_as_for_votes():
    assert refusal(WhoMayAnswer(min_age=16), born=None) is None


def test_the_refusal_carries_the_age_for_its_message():
    problem = answer_refusal(
        WhoMayAnswer(min_age=16), day=DAY, born=date(2020, 1, 1), listed=None, district=None
    )
    assert problem is not None and problem.params == {"min_age": 16}
    assert "16" in message(problem.code, "uk", **problem.params)
    assert "16" in message(problem.code, "en", **problem.params)


def test_the_voter_list_turns_away_the_unlisted_only_while_the_community_has_one():
    who = WhoMayAnswer(voter_list=True)
    assert refusal(who, listed=True) is None
    assert refusal(who, listed=False) == "eligibility.not_listed"
    assert refusal(who, listed=None) is None  # no list switched on: nobody turned away


def test_a_district_admits_only_its_residents_by_the_list():
    who = WhoMayAnswer(district="Шевченківський")
    assert refusal(who, district="Шевченківський") is None
    assert refusal(who, district="  шевченківський ") is None  # compared without case
    assert refusal(who, district="Подільський") == "poll.wrong_district"
    assert refusal(who, district=None) == "poll.wrong_district"  # not listed, or listed in none
    problem = answer_refusal(who, day=DAY, born=None, listed=None, district="Подільський")
    assert problem is not None and problem.params == {"district": "Шевченківський"}
    uk, en = message(problem.code, "uk", **problem.params), message(problem.code, "en", **problem.params)
    assert "Шевченківський" in uk and "Шевченківський" in en and uk != en


def test_rules_combined_name_the_first_broken_one_list_age_district():
    who = WhoMayAnswer(min_age=18, voter_list=True, district="Центр")
    young = date(2015, 1, 1)
    assert refusal(who, born=young, listed=False, district=None) == "eligibility.not_listed"
    assert refusal(who, born=young, listed=True, district="Центр") == "eligibility.too_young"
    assert refusal(who, born=date(1990, 1, 1), listed=True, district="Поділ") == "poll.wrong_district"
    assert refusal(who, born=date(1990, 1, 1), listed=True, district="центр") is None
    assert refusal(who, born=None, listed=True, district="Центр") is None


@pytest.mark.parametrize("age", [0, -1, 121, 10**9, 16.0, True, False, "16", None])
def test_a_minimum_age_outside_a_cycles_limits_is_refused(age):
    problems = check_who(WhoMayAnswer(min_age=age))  # type: ignore[arg-type]
    if age is None:
        assert problems == []
    else:
        assert [p.code for p in problems] == ["poll.who_min_age"]
        assert problems[0].params == {"low": 1, "high": 120}


@pytest.mark.parametrize("age", [1, 16, 120])
def test_a_minimum_age_within_the_limits_is_taken(age):
    assert check_who(WhoMayAnswer(min_age=age)) == []


@pytest.mark.parametrize(
    ("district", "code"),
    [
        ("Центр\x00", "district.bad_character"),
        ("Центр\u200b", "district.bad_character"),
        ("Шевченкiвський", "district.mixed_alphabets"),  # a Latin i
        ("я" * 101, "district.too_long"),
        ("  Центр  ", "district.bad_character"),  # not in its stored form
        (5, "district.bad_character"),
    ],
)
def test_a_district_not_in_its_stored_form_is_refused(district, code):
    assert [p.code for p in check_who(WhoMayAnswer(district=district))] == [code]  # type: ignore[arg-type]


def test_a_voter_list_flag_that_is_not_a_bool_is_refused():
    assert [p.code for p in check_who(WhoMayAnswer(voter_list=1))] == ["poll.who_voter_list"]  # type: ignore[arg-type]


def test_a_polls_own_check_includes_who_may_answer():
    question = QuestionRule(1, QuestionKind.ONE, (1, 2))
    assert check_poll_rule(PollRule(1, (question,))) == []
    assert (
        check_poll_rule(PollRule(1, (question,), WhoMayAnswer(min_age=16, voter_list=True, district="Центр")))
        == []
    )
    codes = [p.code for p in check_poll_rule(PollRule(1, (question,), WhoMayAnswer(min_age=0)))]
    assert codes == ["poll.who_min_age"]
