"""District categories: a category only residents of one district may vote in.

A category may name a district (CategoryRule.district); the community's voter list says
which district each resident lives in. A vote that chooses projects in a district
category counts only when the voter's list entry names that same district. Pure: the
caller says what the list holds for the voter (None: no district, or no list entry at
all, as for an anonymous paper sheet).

District names are typed by moderators and come in registers' CSV files, so they are
checked and put in one form before they are stored or compared: Unicode NFC, one space
between words, one apostrophe (Ukrainian names carry one: "Солом’янський"). Names are
compared without regard to case. A name that mixes Latin and Cyrillic letters
("Шевченкiвський" with a Latin i) is refused rather than stored: it looks like the
right district and would never match it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from .ballot import Ballot, CategoryRule, Problem

__all__ = [
    "MAX_DISTRICT_LENGTH",
    "DistrictError",
    "ballot_for_resident",
    "clean_district",
    "district_key",
    "district_problems",
    "same_district",
]

MAX_DISTRICT_LENGTH = 100  # characters; the longest hromada district name is ~40
_APOSTROPHES = str.maketrans({"'": "’", "ʼ": "’", "`": "’", "‘": "’", "´": "’"})
_SPACES = re.compile(r"\s+")
# Besides letters and digits: what district names are written with.
_PUNCTUATION = frozenset(" -–’.,()№")


class DistrictError(ValueError):
    """A district name that cannot be stored; `code` names the rule (voting.messages)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("LATIN"):
        return "latin"
    return None


def clean_district(raw: str | None) -> str:
    """The district name in its stored form, "" for none; DistrictError when it cannot
    be one (too long, control or invisible characters, mixed alphabets)."""
    if raw is None:
        return ""
    if len(raw) > MAX_DISTRICT_LENGTH * 4:  # refuse before normalising megabytes
        raise DistrictError("district.too_long", limit=MAX_DISTRICT_LENGTH)
    text = unicodedata.normalize("NFC", raw).translate(_APOSTROPHES)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > MAX_DISTRICT_LENGTH:
        raise DistrictError("district.too_long", limit=MAX_DISTRICT_LENGTH)
    scripts = set()
    for char in text:
        if char.isalpha():
            script = _script(char)
            if script is None:
                raise DistrictError("district.bad_character")
            scripts.add(script)
        elif not (char.isdigit() and char.isascii()) and char not in _PUNCTUATION:
            # Control, format (zero-width, bidi overrides), symbols, emoji.
            raise DistrictError("district.bad_character")
    if len(scripts) > 1:
        raise DistrictError("district.mixed_alphabets")
    return text


def district_key(name: str | None) -> str:
    """What two district names are compared by: the stored form without case (applied
    again here, so a name stored or sent in another form still compares alike)."""
    text = unicodedata.normalize("NFC", name or "").translate(_APOSTROPHES)
    return _SPACES.sub(" ", text).strip().casefold()


def same_district(category_district: str | None, resident_district: str | None) -> bool:
    """May a resident of `resident_district` vote in a category of `category_district`?
    A category with no district is open to every resident."""
    if not category_district:
        return True
    return bool(resident_district) and district_key(category_district) == district_key(resident_district)


def district_problems(
    ballot: Ballot, selections: Iterable[int], resident_district: str | None
) -> list[Problem]:
    """One problem per district category in which `selections` choose a project while the
    voter's list entry names another district (or none). Empty: the vote may count."""
    chosen = {p.category_id for p in (ballot.project(s) for s in selections) if p is not None}
    return [
        Problem("ballot.wrong_district", {"category": c.name, "district": c.district})
        for c in ballot.categories
        if c.category_id in chosen and not same_district(c.district, resident_district)
    ]


def ballot_for_resident(ballot: Ballot, resident_district: str | None) -> Ballot:
    """The ballot a resident is offered: the categories open to everyone and those of
    their own district, with their projects. A ballot with no district category is
    returned as it is."""
    if not any(c.district for c in ballot.categories):
        return ballot
    categories = [c for c in ballot.categories if same_district(c.district, resident_district)]
    kept = {c.category_id for c in categories}
    reachable = sum(c.max_choices for c in categories)
    return Ballot(
        categories=[_without_foreign_leftover(c, kept) for c in categories],
        projects=[p for p in ballot.projects if p.category_id in kept],
        min_total=min(ballot.min_total, reachable),
        max_total=ballot.max_total,
    )


def _without_foreign_leftover(category: CategoryRule, kept: set[int]) -> CategoryRule:
    # Funding is never decided on a resident's ballot; dropping the link only keeps the
    # smaller ballot self-consistent for checks that follow it.
    if category.leftover_to is not None and category.leftover_to not in kept:
        return replace(category, leftover_to=None)
    return category
