"""A recount reproduces the funding, not only the votes.

Funding is a function of the per-project totals, the counted ballots (for Equal Shares
and share thresholds) and each category's rule, so a recount computes it twice: from
what the results pages read (running tallies, stored statuses) and from what the recount
found in the raw records. Any project funded in one and not the other is a difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.models import Cycle
from server.paper.tally import current_tallies
from server.services.cycle_rules import ballot_for
from server.services.results_funding import fund_cycle
from server.services.tally import published_tally


@dataclass(frozen=True, slots=True)
class FundingDifference:
    category_id: int
    name: str
    published: tuple[int, ...]  # funded project ids, as the results show them
    recounted: tuple[int, ...]  # funded project ids, from the raw records

    def as_dict(self) -> dict:
        return {
            "type": "funding",
            "category_id": self.category_id,
            "name": self.name,
            "published": list(self.published),
            "recounted": list(self.recounted),
        }


def recount_funding(
    session: Session,
    cycle: Cycle,
    recounted_tally: Mapping[int, int],
    recounted_ballots: Sequence[Sequence[int]] | None = None,
) -> tuple[FundingDifference, ...]:
    """Categories whose funded projects differ between the published results and the
    recount. `recounted_tally` includes the tally sheets, as published_tally does;
    `recounted_ballots`: the counted ballots the recount decided (None: the stored ones)."""
    ballot = ballot_for(session, cycle)
    sheet_ballots = sum(s.tally.valid_ballots for s in current_tallies(session, cycle.id))
    published = fund_cycle(session, cycle, ballot, published_tally(session, cycle.id), sheet_ballots)
    recounted = fund_cycle(
        session,
        cycle,
        ballot,
        dict(recounted_tally),
        sheet_ballots,
        None if recounted_ballots is None else [list(b) for b in recounted_ballots],
    )
    names = {c.category_id: c.name for c in ballot.categories}
    return tuple(
        FundingDifference(mine.category_id, names[mine.category_id], tuple(mine.funded), tuple(theirs.funded))
        for mine, theirs in zip(published, recounted, strict=True)
        if mine.funded != theirs.funded
    )
