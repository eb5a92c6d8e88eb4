"""Who may answer a poll (voting.polls), judged by the budget vote's rules, not a copy of
them: a minimum age by voting.eligibility (the same limits and refusal codes as a
cycle's), the community's voter list, and a district judged as district categories are
(voting.district). `answer_refusal` says why a resident may not answer, as a message
code; `check_who` checks a poll's own "who may answer" before it is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .ballot import Problem
from .district import DistrictError, clean_district, same_district
from .eligibility import MIN_AGE_LIMITS, EligibilityRules, refusal_code


@dataclass(frozen=True, slots=True)
class WhoMayAnswer:
    """Who may answer a poll; the default, anyone.

    `min_age`: residents younger on the day they answer may not (a cycle's limits,
    voting.eligibility.MIN_AGE_LIMITS); `voter_list`: only residents on the community's
    voter list, while the community has one switched on (as for votes: a list switched
    off, or none, turns nobody away); `district`: only residents whom the list places in
    this district (stored as voting.district.clean_district gives it; "" for none)."""

    min_age: int | None = None
    voter_list: bool = False
    district: str = ""

    @property
    def anyone(self) -> bool:
        return self.min_age is None and not self.voter_list and not self.district


ANYONE = WhoMayAnswer()


def check_who(who: WhoMayAnswer) -> list[Problem]:
    """Problems of a poll's "who may answer": an age outside a cycle's limits (never a
    bool or a float), a district name not in its stored form."""
    problems: list[Problem] = []
    low, high = MIN_AGE_LIMITS
    if who.min_age is not None and (type(who.min_age) is not int or not low <= who.min_age <= high):
        problems.append(Problem("poll.who_min_age", {"low": low, "high": high}))
    if type(who.voter_list) is not bool:
        problems.append(Problem("poll.who_voter_list"))
    if not isinstance(who.district, str):
        problems.append(Problem("district.bad_character"))
    elif who.district:
        try:
            if clean_district(who.district) != who.district:
                problems.append(Problem("district.bad_character"))
        except DistrictError as error:
            problems.append(Problem(error.code, dict(error.params)))
    return problems


def answer_refusal(
    who: WhoMayAnswer,
    *,
    day: date,
    born: date | None,
    listed: bool | None,
    district: str | None,
    age_confirmed: bool = True,
) -> Problem | None:
    """Why this resident may not answer, or None when they may. The first rule broken
    is named: the list, then the age, then the district.

    `day`: the day they answer (in the community's time); `born`: the birth date their
    document shows, None when it shows none (a voter key alone, a passport): their age
    is then the channel's word, as votes pushed by the online platform are taken without
    an age check; `listed`: whether the community's voter list holds them, None when the
    community has no list switched on (nobody is then turned away by it, as for votes);
    `district`: the district the list gives them (None: none, or not listed);
    `age_confirmed`: False where the channel itself must know the age and does not (a
    terminal reading a card, which shows no birth date, with no staff member to check a
    document): an age limit then refuses with poll.age_unknown, as a vote is refused."""
    rules = EligibilityRules(min_age=who.min_age, list_applies=who.voter_list and listed is not None)
    code = refusal_code(rules, born=born, listed=bool(listed), day=day, age_confirmed=age_confirmed)
    if code == "eligibility.age_unknown":
        return Problem("poll.age_unknown", {"min_age": who.min_age})
    if code is not None:
        return Problem(code, {"min_age": who.min_age} if who.min_age is not None else {})
    if who.district and not same_district(who.district, district):
        return Problem("poll.wrong_district", {"district": who.district})
    return None
