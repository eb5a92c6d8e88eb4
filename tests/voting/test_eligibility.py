"""Minimum age and the community's list, decided from what a terminal knows."""

from __future__ import annotations

from datetime import date

import pytest

from voting import IdentityKind, normalise_identifier
from voting.eligibility import EligibilityRules, age_on, birth_date, refusal_code
from voting.identity import rnokpp_check_digit
from voting.messages import message


def rnokpp_born(born: date, serial: str = "0123") -> str:
    days = (born - date(1899, 12, 31)).days
    first_nine = f"{days:05d}{serial}"
    return first_nine + str(rnokpp_check_digit(first_nine))


@pytest.mark.parametrize(
    "born",
    [date(1900, 1, 1), date(1960, 2, 29), date(1990, 5, 17), date(2010, 12, 31), date(2012, 3, 1)],
)
def test_rnokpp_gives_the_birth_date_it_encodes(born):
    number = normalise_identifier(IdentityKind.RNOKPP, rnokpp_born(born))
    assert birth_date(IdentityKind.RNOKPP, number) == born


def test_known_rnokpp_birth_date():
    # Day 00001 is 01.01.1900; day 36524 is 31.12.1999.
    assert birth_date(IdentityKind.RNOKPP, "0000100000") == date(1900, 1, 1)
    assert birth_date(IdentityKind.RNOKPP, "3652400000") == date(1999, 12, 31)


def test_unzr_gives_its_date_and_other_documents_give_none():
    assert birth_date(IdentityKind.UNZR, normalise_identifier("unzr", "20080315-01234")) == date(2008, 3, 15)
    assert birth_date(IdentityKind.PASSPORT, "АВ123456") is None
    assert birth_date(IdentityKind.ID_CARD, "001234567") is None
    assert birth_date(IdentityKind.CARD, "04A1B2C3") is None
    assert birth_date(IdentityKind.RNOKPP, "0000000000") is None


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2010, 5, 17), date(2026, 5, 16), 15),
        (date(2010, 5, 17), date(2026, 5, 17), 16),
        (date(2010, 5, 17), date(2026, 12, 31), 16),
        (date(2008, 2, 29), date(2024, 2, 28), 15),  # a leap year: the birthday exists
        (date(2008, 2, 29), date(2024, 2, 29), 16),
        (date(2008, 2, 29), date(2026, 2, 27), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 18),  # Civil Code art. 254: last day of February
    ],
)
def test_age_counts_full_years(born, day, age):
    assert age_on(born, day) == age


DAY = date(2026, 11, 22)


def test_no_rules_admit_everyone():
    assert refusal_code(EligibilityRules(), born=None, listed=False, day=DAY) is None


def test_too_young_by_one_day_is_refused_and_the_birthday_admits():
    rules = EligibilityRules(min_age=16)
    assert refusal_code(rules, born=date(2010, 11, 23), listed=False, day=DAY) == "eligibility.too_young"
    assert refusal_code(rules, born=date(2010, 11, 22), listed=False, day=DAY) is None


def test_a_birth_date_in_the_future_is_refused():
    rules = EligibilityRules(min_age=14)
    assert refusal_code(rules, born=date(2030, 1, 1), listed=True, day=DAY) == "eligibility.born_in_future"


def test_unknown_age_needs_the_list_or_a_staff_check():
    rules = EligibilityRules(min_age=14)
    assert refusal_code(rules, born=None, listed=False, day=DAY) == "eligibility.age_unknown"
    assert refusal_code(rules, born=None, listed=False, day=DAY, age_confirmed=True) is None
    with_list = EligibilityRules(min_age=14, list_applies=True)
    assert refusal_code(with_list, born=None, listed=True, day=DAY) is None
    # A list the terminal does not hold (not applying) vouches for no one.
    assert refusal_code(rules, born=None, listed=True, day=DAY) == "eligibility.age_unknown"


def test_the_list_refuses_unlisted_even_of_age_and_the_age_refuses_listed_minors():
    rules = EligibilityRules(min_age=16, list_applies=True)
    assert refusal_code(rules, born=date(1980, 1, 1), listed=False, day=DAY) == "eligibility.not_listed"
    assert refusal_code(rules, born=date(2015, 1, 1), listed=True, day=DAY) == "eligibility.too_young"
    assert refusal_code(rules, born=date(1980, 1, 1), listed=True, day=DAY) is None


@pytest.mark.parametrize("code", ["eligibility.too_young", "eligibility.age_unknown"])
def test_messages_name_the_age_in_both_languages(code):
    assert "16" in message(code, "uk", min_age=16)
    assert "16" in message(code, "en", min_age=16)
