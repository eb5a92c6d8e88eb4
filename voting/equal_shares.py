"""The Method of Equal Shares, with the completion cities use.

THE RULE (Peters and Skowron; equalshares.net, as Świecie and Assen count). The budget is
split equally among the category's voters. Round by round, a project can be bought when
its supporters together still hold its cost; among those, the one whose supporters pay
the smallest share per unit of its cost is bought (each pays that share, or all they
have left if less). When nothing more can be bought, the completion raises every voter's
starting budget by one unit (1 грн here, 1 złoty in Pabulib) and counts again from the
start, as long as the result still fits the real budget and some project could still be
added; the last result that fits is the outcome.

Money is followed in floating point, as the reference implementation does: shares are
fractions of a kopiyka. Two projects whose prices differ by less than one part in a
billion are treated as equal and the higher-ranked one (more votes, then the category's
tie-break) is bought first, so the rounding of the last digit never decides.

Voters with the same selections always hold the same money, so they are followed as one
weighted group (90 494 ballots in Łódź 2022 are 23 571 groups), and a round stops looking
at candidates once their previous price shows they cannot win (prices only grow).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter, mul
from typing import Any

from .ballot import BallotProject, CategoryRule
from .funding import (
    CategoryFunding,
    Comparison,
    EqualSharesRound,
    FundingCommon,
    FundingLine,
    FundingOutcome,
    exclusive_partners,
    greedy_lines,
    in_cost_bounds,
)
from .funding_rules import FundingMethod

EPSILON = 1e-9  # relative: prices this close are equal (see the module's docstring)


@dataclass
class _Profile:
    """The category's ballots as weighted groups over the eligible projects (indices)."""

    costs: list[int]
    supporters: list[list[int]]  # project index -> group indices
    money_of: list[Callable[[list[float]], Sequence[float]]]  # project index -> reads its groups' money
    supporter_weights: list[list[int]]  # project index -> voters in each of those groups
    support: list[int]  # project index -> its supporters (voters)
    weights: list[int]  # group index -> voters in it
    voters: int  # every valid ballot in the category, also those choosing no eligible project
    partners: list[list[int]]  # project index -> indices it excludes when bought
    # project index -> the projects sharing at least one voter with it (itself too): only
    # buying one of these can change its price, so otherwise its last price still holds.
    overlaps: list[set[int]]


@dataclass
class _Run:
    winners: list[int]  # project indices, in the order bought
    prices: list[float]
    rounds: list[EqualSharesRound]
    excluded_by: dict[int, int]  # project index -> the bought project index that excluded it
    money: list[float]  # group index -> money left per voter at the end

    def cost(self, profile: _Profile) -> int:
        return sum(profile.costs[c] for c in self.winners)


def _profile(
    eligible: Sequence[BallotProject], ballots: Sequence[set[int]], category: CategoryRule
) -> _Profile:
    index = {p.project_id: i for i, p in enumerate(eligible)}
    groups = Counter(frozenset(index[p] for p in ballot if p in index) for ballot in ballots)
    groups.pop(frozenset(), None)
    supporters: list[list[int]] = [[] for _ in eligible]
    weights = []
    for g, (chosen, weight) in enumerate(groups.items()):
        weights.append(weight)
        for c in chosen:
            supporters[c].append(g)
    partners = exclusive_partners(category)
    supporter_weights = [[weights[g] for g in groups_of] for groups_of in supporters]
    overlaps: list[set[int]] = [set() for _ in eligible]
    for chosen in groups:
        for c in chosen:
            overlaps[c].update(chosen)
    return _Profile(
        costs=[p.cost for p in eligible],
        supporters=supporters,
        money_of=[_money_of(s) if s else (lambda money: ()) for s in supporters],
        supporter_weights=supporter_weights,
        support=[sum(w) for w in supporter_weights],
        weights=weights,
        voters=len(ballots),
        partners=[[index[q] for q in partners.get(p.project_id, ()) if q in index] for p in eligible],
        overlaps=overlaps,
    )


def _money_of(supporters: list[int]) -> Callable[[list[float]], Sequence[float]]:
    """A function reading the supporters' money in one call of built-in code."""
    if len(supporters) == 1:
        only = supporters[0]
        return lambda money: (money[only],)
    return itemgetter(*supporters)


def _price(
    cost: int, money_of: Callable[[list[float]], Sequence[float]], money: list[float], weights: list[int]
) -> float | None:
    """The equal share the supporters would pay (those with less pay all they have), or
    None when together they hold less than the cost. `weights` are the supporters'."""
    if cost == 0:
        return 0.0
    # The hot loop of the count (a few thousand groups per project, tried again every
    # round, two times in three to find it unaffordable): built-ins walk the lists,
    # Python code only the voters who cannot pay the whole share.
    held = money_of(money)
    if sum(map(mul, held, weights)) < cost * (1 - EPSILON):
        return None
    payers = sum(weights)
    share = cost / payers
    if min(held) >= share:
        return share  # everyone pays the same share: the usual case
    # Those holding less than the share pay all they have and the others' share grows:
    # the reference's ascending walk, which stops at the first voter who can pay. Sorting
    # is built-in; the walk visits only those short of the share.
    paid = 0.0
    for held_money, weight in sorted(zip(held, weights, strict=True)):
        if share <= held_money:
            return share
        paid += held_money * weight
        payers -= weight
        if payers <= 0:
            break
        share = (cost - paid) / payers
    return max(held)  # within EPSILON of the cost: the richest pay all they have


def _run(profile: _Profile, budget: float) -> _Run:
    """One count of Equal Shares with `budget` split equally among the voters."""
    money = [budget / profile.voters] * len(profile.weights)
    # Upper bound on each candidate's "votes per unit of price" (cost / share): its
    # supporters. It only falls as voters spend, so candidates are tried best-bound first.
    bound = {c: float(n) for c, n in enumerate(profile.support) if n}
    run = _Run([], [], [], {}, money)
    priced: dict[int, tuple[int, float | None]] = {}  # project -> (winners then, its price)
    while bound:
        best, best_value, best_price = None, 0.0, 0.0
        for c in sorted(bound, key=lambda c: (-bound[c], c)):
            if bound[c] < best_value * (1 - EPSILON):
                break  # neither this nor any later candidate can win
            cost = profile.costs[c]
            known = priced.get(c)
            if known is not None and profile.overlaps[c].isdisjoint(run.winners[known[0] :]):
                share = known[1]  # no voter of its has paid for anything since: same price
            else:
                share = _price(cost, profile.money_of[c], money, profile.supporter_weights[c])
                priced[c] = (len(run.winners), share)
            if share is None:
                del bound[c]  # its supporters can no longer afford it, ever
                continue
            value = float("inf") if share == 0 else cost / share
            bound[c] = value
            # Indices follow the ranking, so on a tie the earlier (higher-ranked) one wins.
            if best is None or value > best_value * (1 + EPSILON):
                best, best_value, best_price = c, value, share
            elif value >= best_value * (1 - EPSILON) and c < best:
                best, best_value, best_price = c, value, share
        if best is None:
            break
        del bound[best]
        full = partial = 0
        for g in profile.supporters[best]:
            held = money[g]
            # Money moves as in the reference; who "paid the whole share" allows for the
            # last digit of a float, so a voter holding exactly the share is counted so.
            if held >= best_price * (1 - EPSILON):
                full += profile.weights[g]
            elif held > 0:
                partial += profile.weights[g]
            money[g] = held - best_price if held > best_price else 0.0
        run.winners.append(best)
        run.prices.append(best_price)
        run.rounds.append(
            EqualSharesRound(
                len(run.winners),
                best,  # an index here; fund_by_equal_shares names the project
                profile.costs[best],
                best_price,
                full,
                partial,
                profile.support[best],
            )
        )
        for partner in profile.partners[best]:
            if partner in bound:
                del bound[partner]
                run.excluded_by[partner] = best
    return run


def _exhaustive(profile: _Profile, run: _Run, budget: int) -> bool:
    """No project that could still be bought would fit in what is left of the budget."""
    spent, taken = run.cost(profile), set(run.winners) | set(run.excluded_by)
    return not any(
        c not in taken and profile.supporters[c] and spent + profile.costs[c] <= budget
        for c in range(len(profile.costs))
    )


# Real counts need tens to hundreds of raises (Łódź 2022: 59, Świecie 2023: 227, Assen
# 2024: 843). An expensive project with a single supporter and money to spare could ask
# for millions, one unit at a time; the completion stops at this many, keeping the last
# result that fits, and says so (CategoryFunding.completion_capped). A count, not a
# clock, so a recount stops at the same place.
MAX_RAISES = 10_000


def equal_shares_with_completion(
    profile: _Profile, budget: int, step: int, max_raises: int = MAX_RAISES
) -> tuple[_Run, float, int, bool]:
    """Equal Shares completed by raising voters' budgets ("add1"): the run, each voter's
    budget in it, how many raises were kept, and whether MAX_RAISES cut it short."""
    run = _run(profile, budget)
    voter_budget = budget / profile.voters
    # The raises start from the whole-unit budget each voter had, as equalshares.net does.
    total = budget // (profile.voters * step) * (profile.voters * step)
    raises = tried = 0
    while not _exhaustive(profile, run, budget):
        if tried >= max_raises:
            return run, voter_budget, raises, True
        tried += 1
        total += profile.voters * step
        raised = _run(profile, total)
        if raised.cost(profile) > budget:
            break
        run, voter_budget, raises = raised, total / profile.voters, raises + 1
    return run, voter_budget, raises, False


def _prefer(
    ballots: Sequence[set[int]], first: set[int], second: set[int], costs: Mapping[int, int]
) -> tuple[int, int]:
    """How many voters get more money spent on their chosen projects by each outcome."""
    more_first = more_second = 0
    for ballot in ballots:
        a = sum(costs[p] for p in ballot & first)
        b = sum(costs[p] for p in ballot & second)
        more_first += a > b
        more_second += b > a
    return more_first, more_second


def fund_by_equal_shares(
    category: CategoryRule,
    order: Sequence[BallotProject],
    votes: Mapping[int, int],
    ballots: Sequence[set[int]],
    budget: int,
    threshold: int,
    common: FundingCommon,
) -> CategoryFunding:
    """The category funded by Equal Shares (and, for the comparison method, checked
    against the greedy rule), with every project's explanation."""
    eligible = [
        p for p in order if votes.get(p.project_id, 0) >= threshold and in_cost_bounds(category, p.cost)
    ]
    rounds: tuple[EqualSharesRound, ...] = ()
    funded: dict[int, tuple[int, float]] = {}
    excluded_by: dict[int, int] = {}
    money_left: dict[int, int] = {}
    voter_budget, raises, capped = None, 0, False
    if eligible and ballots:
        profile = _profile(eligible, ballots, category)
        run, voter_budget, raises, capped = equal_shares_with_completion(
            profile, budget, max(category.completion_step, 1)
        )
        ids = [p.project_id for p in eligible]
        rounds = tuple(
            EqualSharesRound(
                r.round, ids[r.project_id], r.cost, r.price, r.full_payers, r.partial_payers, r.supporters
            )
            for r in run.rounds
        )
        funded = {ids[c]: (i + 1, run.prices[i]) for i, c in enumerate(run.winners)}
        excluded_by = {ids[c]: ids[by] for c, by in run.excluded_by.items()}
        money_left = {
            ids[c]: int(sum(run.money[g] * profile.weights[g] for g in profile.supporters[c]))
            for c in range(len(ids))
        }
    comparison = None
    if FundingMethod(category.method) is FundingMethod.EQUAL_SHARES_COMPARISON:
        greedy = greedy_lines(category, order, votes, budget, threshold)
        greedy_funded = {line.project_id for line in greedy if line.funded}
        costs = {p.project_id: p.cost for p in order}
        for_shares, for_greedy = _prefer(ballots, set(funded), greedy_funded, costs)
        chosen = FundingMethod.GREEDY if for_greedy > for_shares else FundingMethod.EQUAL_SHARES
        comparison = Comparison(for_shares, for_greedy, chosen)
        if chosen is FundingMethod.GREEDY:
            return CategoryFunding(
                lines=tuple(greedy),
                rounds=rounds,
                voter_budget=voter_budget,
                completion_steps=raises,
                completion_capped=capped,
                comparison=comparison,
                **common,
            )
    eligible_ids = {p.project_id for p in eligible}
    left = budget
    lines = []
    for rank, project in enumerate(order, start=1):
        project_votes = votes.get(project.project_id, 0)
        extra: dict[str, Any] = {}
        if project_votes < threshold:
            outcome = FundingOutcome.TOO_FEW_VOTES
        elif project.project_id not in eligible_ids:
            outcome = FundingOutcome.COST_OUT_OF_BOUNDS
        elif project.project_id in funded:
            outcome = FundingOutcome.FUNDED
            left -= project.cost
            extra = {"round": funded[project.project_id][0], "price": funded[project.project_id][1]}
        elif project.project_id in excluded_by:
            outcome, extra = FundingOutcome.EXCLUDED, {"excluded_by": excluded_by[project.project_id]}
        else:
            outcome = FundingOutcome.SUPPORTERS_SHORT
            extra = {"supporters_money": money_left.get(project.project_id, 0)}
        lines.append(
            FundingLine(
                rank, project.project_id, project_votes, project.cost, outcome, left, threshold, **extra
            )
        )
    return CategoryFunding(
        lines=tuple(lines),
        rounds=rounds,
        voter_budget=voter_budget,
        completion_steps=raises,
        completion_capped=capped,
        comparison=comparison,
        **common,
    )
