"""May this resident vote here, now?

A terminal knows for certain only the votes in its own log. The sync layer will also
learn which residents voted elsewhere (another terminal, paper, online); it plugs in
as `voted_elsewhere`, a callable, so this module does not care where that list comes
from. Whether a resident is old enough or lives in the community cannot be read from
a card id: that is the eligibility list the community uploads, which arrives with
the sync layer (see kiosk/README.md).

Voters are named the way the count names them (`VoteRecord.voter`): "key:<hex>" for
residents, "code:<id>" for one-time voting codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.i18n import N_
from sync.voted_here import VotedHere

# (cycle id, voter) -> True when the resident is known to have voted in that cycle
# somewhere other than this terminal.
VotedElsewhere = Callable[[int, str], bool]

ALREADY_VOTED_HERE = N_("Ви вже проголосували в цьому голосуванні на цьому терміналі.")
ALREADY_VOTED_ELSEWHERE = N_("Ви вже проголосували в цьому голосуванні в іншому місці.")


@dataclass(frozen=True, slots=True)
class Refusal:
    text: str  # Ukrainian, translated when shown; a message code when `domain`
    params: dict[str, Any] = field(default_factory=dict)
    domain: bool = False  # a voting.messages code (the community's rules: age, list)


def check_eligibility(
    cycle_id: int, voter: str, *, voted_here: VotedHere, voted_elsewhere: VotedElsewhere | None = None
) -> Refusal | None:
    """Why `voter` may not vote in `cycle_id` on this terminal, or None if they may."""
    if voted_here.contains(cycle_id, voter):
        return Refusal(ALREADY_VOTED_HERE)
    if voted_elsewhere is not None and voted_elsewhere(cycle_id, voter):
        return Refusal(ALREADY_VOTED_ELSEWHERE)
    return None
