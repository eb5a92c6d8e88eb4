"""Who may answer a poll, judged on the server against the community's own voter list.

The rules are the budget vote's (voting.poll_who.answer_refusal over voting.eligibility
and voting.district); the list and the districts are read as the votes' channels read
them (server.services.eligibility): whether the list is switched on decides whether it
turns anyone away, while the district a listed resident lives in counts either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.i18n import KYIV
from server.services import eligibility
from voting.ballot import Problem
from voting.poll_who import WhoMayAnswer, answer_refusal


@dataclass(frozen=True, slots=True)
class Resident:
    """One answer's resident: their voter key, when they answered, and the birth date
    their document shows (None: named by voter key, or a document without one). The
    birth date lives only in memory while the batch is judged."""

    voter_key: str
    cast_at: datetime
    born: date | None = None


def refusals(
    session: Session, community_id: int, who: WhoMayAnswer, residents: Sequence[Resident]
) -> list[Problem | None]:
    """For each resident, why they may not answer (None: they may), in order. Two
    queries at most, whatever the batch's size."""
    if who.anyone or not residents:
        return [None] * len(residents)
    keys = sorted({r.voter_key for r in residents})
    unlisted = eligibility.unlisted_keys(session, community_id, keys) if who.voter_list else None
    districts = eligibility.districts_of(session, community_id, keys) if who.district else {}
    return [
        answer_refusal(
            who,
            day=r.cast_at.astimezone(KYIV).date(),
            born=r.born,
            listed=None if unlisted is None else r.voter_key not in unlisted,
            district=districts.get(r.voter_key),
        )
        for r in residents
    ]
