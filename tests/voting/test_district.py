"""District categories: only residents of the category's district may vote in it, by the
district the community's voter list gives them; names are checked and put in one form."""

from __future__ import annotations

import unicodedata

import pytest

from voting import Ballot, BallotProject, CategoryRule, check_category_rule, message
from voting.district import (
    MAX_DISTRICT_LENGTH,
    DistrictError,
    ballot_for_resident,
    clean_district,
    district_problems,
    same_district,
)

CITY = CategoryRule(1, "Загальноміські", budget=5_000, max_choices=2)
SHEVCHENKIVSKYI = CategoryRule(
    2, "Шевченківський район", budget=3_000, max_choices=1, district="Шевченківський"
)
HALYTSKYI = CategoryRule(3, "Галицький район", budget=3_000, max_choices=1, district="Галицький")
BALLOT = Ballot(
    categories=[CITY, SHEVCHENKIVSKYI, HALYTSKYI],
    projects=[
        BallotProject(10, 1, 1_000),
        BallotProject(11, 1, 2_000),
        BallotProject(20, 2, 1_500),
        BallotProject(30, 3, 1_500),
    ],
    min_total=1,
    max_total=3,
)


@pytest.mark.parametrize(
    ("selections", "resident", "wrong"),
    [
        ([10, 11], None, []),  # city-wide only: everyone
        ([10, 20], "Шевченківський", []),
        ([20], "шевченківський", []),  # case does not matter
        ([20], "Галицький", ["Шевченківський район"]),
        ([20], None, ["Шевченківський район"]),  # no list entry, or no district in it
        ([20, 30], "Галицький", ["Шевченківський район"]),
        ([20, 30], None, ["Шевченківський район", "Галицький район"]),
        ([99, 10], None, []),  # an unknown project is the ballot rule's business
    ],
)
def test_a_choice_counts_only_in_the_voters_own_districts_category(selections, resident, wrong):
    problems = district_problems(BALLOT, selections, resident)
    assert [p.params["category"] for p in problems] == wrong
    assert all(p.code == "ballot.wrong_district" for p in problems)


def test_the_refusal_says_which_category_and_district_in_ukrainian_and_english():
    (problem,) = district_problems(BALLOT, [20], "Галицький")
    uk = message(problem.code, "uk", **problem.params)
    en = message(problem.code, "en", **problem.params)
    assert "«Шевченківський район»" in uk and "«Шевченківський»" in uk
    assert "“Шевченківський район”" in en and "district" in en


def test_a_resident_is_offered_the_city_wide_categories_and_their_own_districts():
    offered = ballot_for_resident(BALLOT, "Галицький")
    assert [c.category_id for c in offered.categories] == [1, 3]
    assert offered.project(20) is None and offered.project(30) is not None
    assert offered.check([10, 30]) == []
    nowhere = ballot_for_resident(BALLOT, None)
    assert [c.category_id for c in nowhere.categories] == [1]
    plain = Ballot([CITY], [BallotProject(10, 1, 1_000)])
    assert ballot_for_resident(plain, None) is plain


def test_a_district_category_may_not_require_choices():
    rule = CategoryRule(2, "Район", budget=3_000, min_choices=1, max_choices=1, district="Галицький")
    assert "rule.district_min_choices" in [p.code for p in check_category_rule(rule, [1_500])]
    assert check_category_rule(SHEVCHENKIVSKYI, [1_500]) == []


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  Шевченківський  ", "Шевченківський"),
        ("Солом'янський", "Солом’янський"),
        ("Соломʼянський", "Солом’янський"),
        ("Дарницький\t\nрайон", "Дарницький район"),
        (unicodedata.normalize("NFD", "Галицький"), "Галицький"),  # й as и + breve
        ("Мікрорайон № 5 (Сихів)", "Мікрорайон № 5 (Сихів)"),
        ("Old Town", "Old Town"),
        ("", ""),
        (None, ""),
    ],
)
def test_district_names_are_kept_in_one_form(raw, stored):
    assert clean_district(raw) == stored
    assert same_district(stored, raw) or not stored


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Шевченк\u0456вський", None),  # Cyrillic і: fine
        ("Шевченкiвський", "district.mixed_alphabets"),  # Latin i among Cyrillic
        ("Галицький\u202e", "district.bad_character"),  # right-to-left override
        ("Гали\u200bцький", "district.bad_character"),  # zero-width space
        ("Гали\x00цький", "district.bad_character"),
        ("Галицький 🏙", "district.bad_character"),
        ("Γαλάτα", "district.bad_character"),  # neither Cyrillic nor Latin
        ("а" * (MAX_DISTRICT_LENGTH + 1), "district.too_long"),
        ("а" * 1_000_000, "district.too_long"),
    ],
)
def test_hostile_district_names_are_refused_with_a_reason(raw, code):
    if code is None:
        assert clean_district(raw) == raw
        return
    with pytest.raises(DistrictError) as refused:
        clean_district(raw)
    assert refused.value.code == code
    assert message(code, "uk", **refused.value.params) and message(code, "en", **refused.value.params)


def test_a_cycle_minimum_out_of_reach_of_a_resident_in_no_district_is_refused():
    from dataclasses import replace

    from voting.ballot import check_ballot_rule

    assert check_ballot_rule(replace(BALLOT, min_total=2)) == [], "two city-wide choices reach it"
    [problem] = check_ballot_rule(replace(BALLOT, min_total=3))
    assert problem.code == "rule.total_min_above_open_categories"
    assert "без району" in message(problem.code, "uk", **problem.params)
    assert "in no district" in message(problem.code, "en", **problem.params)
    assert problem.params == {"min": 3, "reachable": 2}
    no_districts = Ballot(categories=[CITY], projects=BALLOT.projects[:2], min_total=2, max_total=2)
    assert check_ballot_rule(no_districts) == []
    # Districts only: a resident in none cannot vote at all (told so), nobody's vote is lost.
    only = Ballot(categories=[SHEVCHENKIVSKYI], projects=[BALLOT.projects[2]], min_total=1, max_total=1)
    assert check_ballot_rule(only) == []
    # Two categories of one district add up for its residents.
    second = replace(HALYTSKYI, category_id=4, name="Шевченківський, малі", district="шевченківський")
    both = replace(BALLOT, categories=[SHEVCHENKIVSKYI, second], projects=[], min_total=2)
    assert check_ballot_rule(both) == []
