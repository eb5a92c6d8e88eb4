"""Why a project was or was not funded, in words, the same on every page and export.

A decision is stored as an outcome with its numbers (voting.funding.FundingLine); it is
put into words only when shown, in the reader's language, through voting.messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .funding import FundingLine, FundingOutcome
from .messages import message


def _kopiykas(amount: float) -> str:
    return f"{amount / 100:,.2f}".replace(",", " ") + " грн"


def explanation(
    line: FundingLine,
    *,
    number: Callable[[int], Any] = lambda project_id: project_id,
    money: Callable[[float], Any] = _kopiykas,
) -> tuple[str, dict[str, Any]]:
    """The message code and its parameters. `number` names another project (by its
    public number), `money` formats an amount in kopiykas."""
    outcome = line.outcome
    if outcome is FundingOutcome.FUNDED:
        if line.round is not None:
            return "funding.funded_round", {"round": line.round, "price": money(line.price or 0)}
        return "funding.funded", {}
    if outcome is FundingOutcome.TOO_FEW_VOTES:
        return "funding.too_few_votes", {"votes": line.votes, "threshold": line.threshold}
    if outcome is FundingOutcome.OVER_BUDGET:
        return "funding.over_budget", {"cost": money(line.cost), "left": money(line.budget_left_after)}
    if outcome is FundingOutcome.STOPPED:
        return "funding.stopped", {"project": number(line.stopped_at or 0)}
    if outcome is FundingOutcome.EXCLUDED:
        return "funding.excluded", {"project": number(line.excluded_by or 0)}
    if outcome is FundingOutcome.COST_OUT_OF_BOUNDS:
        return "funding.cost_out_of_bounds", {}
    return "funding.supporters_short", {"money": money(line.supporters_money or 0), "cost": money(line.cost)}


def explain(line: FundingLine, locale: str = "uk", **formatters: Callable[[Any], Any]) -> str:
    code, params = explanation(line, **formatters)
    return message(code, locale, **params)
