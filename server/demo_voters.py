"""The demo's residents: its voter list (the fake reader's test cards, a resident of
age and one too young to type in), and the residents the demo terminal votes as."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from server.models import Community
from server.services import eligibility
from voting.identity import rnokpp_check_digit

# The fake reader's test cards (kiosk/fake_card_controls.py): a and b are on the demo's
# voter list, c is not, so a person trying a terminal sees both answers.
DEMO_LISTED_CARDS = ("04A1B2C3D4E5F6", "04B7C8D9E0F1A2")
DEMO_MIN_AGE = 14
# Residents on the demo's voter list whom the demo terminal votes as, one each: the
# server holds a vote of anyone not on its list for a moderator, so a terminal voting
# as random people would move no count.
DEMO_TERMINAL_RESIDENTS = 3000


def demo_terminal_residents() -> list[str]:
    """The taxpayer numbers the demo terminal votes as, in order (the same every run)."""
    rng = random.Random(2027)
    return [random_rnokpp(rng) for _ in range(DEMO_TERMINAL_RESIDENTS)]


@dataclass(frozen=True)
class DemoVoters:
    adult_rnokpp: str  # listed, of age: votes with staff help
    young_rnokpp: str  # listed, but under the minimum age: refused
    min_age: int


def _rnokpp_born(born: date, serial: str) -> str:
    first_nine = f"{(born - date(1899, 12, 31)).days:05d}{serial}"
    return first_nine + str(rnokpp_check_digit(first_nine))


def demo_voter_list(session: Session, community: Community, secret: bytes, now: datetime) -> DemoVoters:
    """The community's voter list: the listed test cards and two residents to type in."""
    today = now.astimezone(UTC).date()
    voters = DemoVoters(
        adult_rnokpp=_rnokpp_born(date(1984, 6, 12), "2713"),
        young_rnokpp=_rnokpp_born(today.replace(year=today.year - 12, day=1), "0428"),
        min_age=DEMO_MIN_AGE,
    )
    rows = [f"card,{card}" for card in DEMO_LISTED_CARDS]
    rows += [f"rnokpp,{voters.adult_rnokpp}", f"rnokpp,{voters.young_rnokpp}"]
    rows += [f"rnokpp,{number}" for number in dict.fromkeys(demo_terminal_residents())]
    register = ("document_kind,document_number\n" + "\n".join(rows) + "\n").encode()
    _check, change = eligibility.apply_list_file(
        session, community, register, eligibility.ListMode.REPLACE, voter_secret=secret
    )
    assert change is not None and change.added == len(set(rows))
    eligibility.set_enabled(session, community, True)
    return voters


def random_rnokpp(rng: random.Random) -> str:
    first_nine = f"{rng.randrange(10**8, 10**9):09d}"
    return first_nine + str(rnokpp_check_digit(first_nine))
