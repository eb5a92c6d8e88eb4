"""May this resident vote in this cycle: the community's two rules, minimum age and
its list of eligible residents. Pure: the caller says what it knows.

Age comes from the identifier where one carries it, and is used only in memory while
the resident is at the terminal:
- РНОКПП: its first five digits count the days from 31.12.1899 to the birth date
  (1 = 1 January 1900);
- УНЗР: it starts with the birth date, YYYYMMDD.
A card's id, a passport booklet's or an ID card's number carry no birth date. For those
the community's list vouches (it lists residents who may vote), or a staff member who
looked at the document confirms the age.

A birthday of 29 February is reached on 28 February in other years: a term counted in
years ends on the last day of the month when its month lacks the day (Civil Code of
Ukraine, art. 254).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .identity import IdentityKind

__all__ = ["EligibilityRules", "age_on", "birth_date", "refusal_code"]

_RNOKPP_DAY_ZERO = date(1899, 12, 31)
MIN_AGE_LIMITS = (1, 120)  # what a cycle's minimum age may be set to


@dataclass(frozen=True, slots=True)
class EligibilityRules:
    """A cycle's rules as a terminal holds them."""

    min_age: int | None = None
    list_applies: bool = False  # the community has a list and this device holds all of it


def birth_date(kind: IdentityKind | str, canonical: str) -> date | None:
    """The birth date an identifier in canonical form (`normalise_identifier`) encodes,
    or None when it encodes none."""
    if kind == IdentityKind.RNOKPP:
        days = int(canonical[:5])
        return _RNOKPP_DAY_ZERO + timedelta(days=days) if days else None
    if kind == IdentityKind.UNZR:
        return date(int(canonical[:4]), int(canonical[4:6]), int(canonical[6:8]))
    return None


def age_on(born: date, day: date) -> int:
    """Full years from `born` to `day`."""
    years = day.year - born.year
    month, dom = born.month, born.day
    if (month, dom) == (2, 29) and not _leap(day.year):
        dom = 28
    return years - 1 if (day.month, day.day) < (month, dom) else years


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def refusal_code(
    rules: EligibilityRules,
    *,
    born: date | None,
    listed: bool,
    day: date,
    age_confirmed: bool = False,
) -> str | None:
    """Why this resident may not vote (a message code), or None when they may.

    `listed`: whether their key is on the community's list (ignored when no list applies);
    `age_confirmed`: a staff member checked the age on the document."""
    if rules.list_applies and not listed:
        return "eligibility.not_listed"
    if rules.min_age is None:
        return None
    if born is not None:
        if born > day:
            return "eligibility.born_in_future"
        return "eligibility.too_young" if age_on(born, day) < rules.min_age else None
    if listed and rules.list_applies:
        return None  # the list names residents who may vote: its makers checked the age
    return None if age_confirmed else "eligibility.age_unknown"
