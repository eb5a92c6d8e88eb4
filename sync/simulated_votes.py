"""Simulated residents' votes: valid votes made the way a terminal or support point makes
them, for the demo, the load benches and `spilno device simulate`."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime

from sync.cycle_package import CyclePackage, PackagedCycle
from voting import Ballot, BallotProject, Channel, IdentityKind, VoteRecord, VoterKey
from voting.identity import rnokpp_check_digit

CHANNEL_OF_DEVICE = {"terminal": Channel.KIOSK, "support_point": Channel.PAPER}


def random_selection(ballot: Ballot, rng: random.Random, attempts: int = 200) -> list[int]:
    """A random choice of projects that the ballot rule accepts (ValueError if none is
    found, which means the rule cannot be met with these projects)."""
    for _ in range(attempts):
        chosen = _try_selection(ballot, rng)
        if not ballot.check(chosen):
            return sorted(chosen)
    raise ValueError("no selection satisfies this cycle's ballot rule")


def _try_selection(ballot: Ballot, rng: random.Random) -> list[int]:
    rules = {c.category_id: c for c in ballot.categories}
    counts: Counter[int] = Counter()
    spent: Counter[int] = Counter()
    chosen: list[int] = []

    def add_if_allowed(project: BallotProject) -> None:
        rule = rules.get(project.category_id)
        if project.project_id in chosen or rule is None or counts[rule.category_id] >= rule.max_choices:
            return
        if rule.budget_limited and spent[rule.category_id] + project.cost > rule.budget:
            return
        chosen.append(project.project_id)
        counts[rule.category_id] += 1
        spent[rule.category_id] += project.cost

    # Each category's minimum first, then more at random up to a random total.
    for rule in ballot.categories:
        pool = [p for p in ballot.projects if p.category_id == rule.category_id]
        for project in rng.sample(pool, len(pool)):
            if counts[rule.category_id] >= rule.min_choices:
                break
            add_if_allowed(project)
    reachable = sum(c.max_choices for c in ballot.categories)
    most = reachable if ballot.max_total is None else min(ballot.max_total, reachable)
    least = max(1, ballot.min_total, len(chosen))
    target = rng.randint(least, max(least, most))
    for project in rng.sample(list(ballot.projects), len(ballot.projects)):
        if len(chosen) >= target:
            break
        add_if_allowed(project)
    return chosen


def random_rnokpp(rng: random.Random) -> str:
    """A taxpayer number with a valid check digit, as a resident's card would carry."""
    first_nine = f"{rng.randrange(10**9):09d}"
    return first_nine + str(rnokpp_check_digit(first_nine))


def simulated_vote(
    package: CyclePackage,
    cycle: PackagedCycle,
    *,
    device: str,
    kind: str,
    rng: random.Random,
    cast_at: datetime,
    rnokpp: str | None = None,
) -> VoteRecord:
    """One resident's valid vote (a random one unless `rnokpp` names them), made the way
    a terminal or support point makes it."""
    voter = VoterKey.derive(package.voter_key_secret, IdentityKind.RNOKPP, rnokpp or random_rnokpp(rng))
    return VoteRecord.create(
        vote_id=str(uuid.uuid4()),  # not from `rng`: a rerun with the same seed must not reuse ids
        cycle_id=cycle.id,
        selections=random_selection(cycle.ballot(), rng),
        channel=CHANNEL_OF_DEVICE[kind],
        cast_at=cast_at,
        voter_key=voter.hex,
        device_id=device,
    )
