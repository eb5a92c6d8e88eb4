"""What a results page shows: the computed results plus their charts and labels, in the
visitor's language. Shared by the console and the public page so both show the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_percent
from markupsafe import Markup

from server.i18n import _, datetime_text, get_locale, money, ngettext, number
from server.models import DeviceKind
from server.services.results_funding import CategoryResult, ProjectResult
from server.services.results_shape import PAPER_TALLY_CHANNEL, ChannelTotals, CycleResults, TurnoutPoint
from voting import FundingMethod, FundingOutcome, TieBreak, VoteStatus, channel_label, explain

from . import charts


def outcome_text(outcome: FundingOutcome) -> str:
    if outcome is FundingOutcome.FUNDED:
        return _("Профінансовано")
    if outcome is FundingOutcome.OVER_BUDGET:
        return _("Не вистачило бюджету")
    if outcome is FundingOutcome.STOPPED:
        return _("Розподіл зупинено")
    if outcome is FundingOutcome.EXCLUDED:
        return _("Виключено іншим проєктом")
    if outcome is FundingOutcome.COST_OUT_OF_BOUNDS:
        return _("Вартість поза межами")
    if outcome is FundingOutcome.SUPPORTERS_SHORT:
        return _("Прихильникам не вистачило коштів")
    return _("Замало голосів")


def _amount(kopiykas: float) -> str:
    # Equal Shares' prices are fractions of a kopiyka: shown to the kopiyka.
    whole = round(kopiykas)
    return money(whole, with_kopiykas=bool(whole % 100))


def reason_text(category: CategoryResult, project: ProjectResult) -> str:
    """Why the project was or was not funded, in the visitor's language."""
    if project.line is None:
        return outcome_text(project.outcome)
    return explain(project.line, get_locale(), number=category.number_of, money=_amount)


def rule_text(category: CategoryResult) -> str:
    """The category's funding rule in one sentence, with the lot's seed when there is one."""
    funding = category.funding
    if funding is None:
        return ""
    methods = {
        FundingMethod.GREEDY: _(
            "Проєкти фінансують за рейтингом; той, що не вміщується в залишок, пропускають."
        ),
        FundingMethod.GREEDY_NO_SKIP: _(
            "Проєкти фінансують за рейтингом до першого, що не вміщується в залишок."
        ),
        FundingMethod.EQUAL_SHARES: _("Метод рівних часток: бюджет ділять порівну між виборцями категорії."),
        FundingMethod.EQUAL_SHARES_COMPARISON: _(
            "Метод рівних часток, порівняний із розподілом за рейтингом: "
            "обрано той, якому віддає перевагу більше виборців."
        ),
    }
    ties = {
        TieBreak.CHEAPER: _("За рівної кількості голосів вище дешевший проєкт."),
        TieBreak.NUMBER: _("За рівної кількості голосів вище раніше зареєстрований проєкт (менший номер)."),
        TieBreak.LOT: _(
            "За рівної кількості голосів вирішує жереб; зерно жеребу: {seed}.", seed=funding.lot_seed
        ),
    }
    parts = [methods[funding.method], ties[funding.tie_break]]
    if funding.moved_in:
        parts.append(_("Додано залишок інших категорій: {amount}.", amount=money(funding.moved_in)))
    if category.moved_out:
        parts.append(_("Залишок {amount} передано іншій категорії.", amount=money(category.moved_out)))
    if funding.completion_capped:
        parts.append(
            ngettext(
                "Доповнення зупинено після {steps} кроку: далі бюджет виборців не збільшували.",
                "Доповнення зупинено після {steps} кроків: далі бюджет виборців не збільшували.",
                funding.completion_steps,
                steps=number(funding.completion_steps),
            )
        )
    if funding.comparison is not None:
        parts.append(
            ngettext(
                "Рівним часткам віддав перевагу {shares} виборець, рейтингу — {greedy}.",
                "Рівним часткам віддали перевагу {shares} виборців, рейтингу — {greedy}.",
                funding.comparison.prefer_equal_shares,
                shares=number(funding.comparison.prefer_equal_shares),
                greedy=number(funding.comparison.prefer_greedy),
            )
        )
    return " ".join(parts)


def status_text(status: str) -> str:
    if status == VoteStatus.COUNTED:
        return _("Зараховані")
    if status == VoteStatus.DUPLICATE:
        return _("Повторні")
    return _("Недійсні")


def device_kind_text(kind: str | None) -> str:
    if kind == DeviceKind.TERMINAL:
        return _("Термінал")
    if kind == DeviceKind.SUPPORT_POINT:
        return _("Пункт супроводу")
    return _("Невідоме джерело")


def percent(share: float) -> str:
    return format_percent(share, format="#,##0.0%", locale="uk_UA" if get_locale() == "uk" else "en_GB")


def channel_name(channel: str) -> str:
    if channel == PAPER_TALLY_CHANNEL:  # totals of tally sheets, not a way of voting
        return _("Паперові протоколи")
    return channel_label(channel, get_locale())


# Helpers the results templates call.
TEMPLATE_HELPERS = {
    "outcome_text": outcome_text,
    "reason_text": reason_text,
    "rule_text": rule_text,
    "amount_text": _amount,
    "status_text": status_text,
    "device_kind_text": device_kind_text,
    "percent": percent,
    "channel_name": channel_name,
}


@dataclass(frozen=True)
class CategoryView:
    category: CategoryResult
    chart: Markup


@dataclass(frozen=True)
class ResultsView:
    results: CycleResults
    categories: tuple[CategoryView, ...]
    channels: tuple[ChannelTotals, ...]  # only channels that received any vote
    channel_chart: Markup | None
    turnout: tuple[TurnoutPoint, ...]
    turnout_step: str  # "hour" or "day"
    turnout_channels: tuple[str, ...]  # channels with counted votes in the series
    turnout_chart: Markup | None
    voting_open: bool


def results_view(results: CycleResults, now: datetime) -> ResultsView:
    channels = tuple(c for c in results.channels if c.votes.total)
    series, step = results.turnout()
    turnout_channels = tuple(c.channel for c in channels if any(p.counted.get(c.channel) for p in series))
    return ResultsView(
        results=results,
        categories=tuple(CategoryView(c, _category_chart(c)) for c in results.categories),
        channels=channels,
        channel_chart=_channel_chart(results) if results.voters.counted else None,
        turnout=series,
        turnout_step=step,
        turnout_channels=turnout_channels,
        turnout_chart=_turnout_chart(series, step, turnout_channels) if series else None,
        voting_open=now < results.voting_ends_at,
    )


def _category_chart(category: CategoryResult) -> Markup:
    svg = charts.bar_chart(
        [
            charts.Bar(
                label=_("№{number} {title}", number=p.number, title=p.title),
                value=p.votes,
                value_text=number(p.votes),
                highlighted=p.funded,
            )
            for p in category.projects
        ],
        chart_id=f"votes-{category.category_id}",
        title=_("Голоси за проєкти: {category}", category=category.name),
        description=_(
            "Стовпці — голоси за кожен проєкт категорії «{category}», від найбільшої кількості. "
            "Профінансовані проєкти мають суцільну заливку й позначку ✓, решта — штриховані. "
            "Бюджет {budget}, розподілено {allocated}.",
            category=category.name,
            budget=money(category.budget),
            allocated=money(category.allocated),
        ),
        legend=(_("профінансовано"), _("не профінансовано")),
    )
    return Markup(svg)  # noqa: S704 - every text inside was escaped by charts


def _channel_chart(results: CycleResults) -> Markup:
    counted = [c for c in results.channels if c.votes.counted]
    total = results.voters.counted
    segments = [
        charts.Segment(
            key=c.channel,
            label=channel_name(c.channel),
            value=c.votes.counted,
            value_text=f"{percent(c.votes.counted / total)} ({number(c.votes.counted)})",
        )
        for c in counted
    ]
    summary = "; ".join(f"{s.label}: {s.value_text}" for s in segments)
    svg = charts.share_bar(
        segments,
        chart_id="channels",
        title=_("Зараховані голоси за каналами"),
        description=_("Частка кожного каналу серед зарахованих голосів: {summary}.", summary=summary),
    )
    return Markup(svg)  # noqa: S704 - every text inside was escaped by charts


def _turnout_chart(series: tuple[TurnoutPoint, ...], step: str, channels: tuple[str, ...]) -> Markup:
    first, last = series[0].start, series[-1].start
    if step == "hour":
        title = _("Явка за годинами (київський час)")
        description = _(
            "Зараховані голоси за кожну годину з {start} до {end} за київським часом, "
            "складені шарами за каналами голосування.",
            start=datetime_text(first),
            end=datetime_text(last),
        )
        y_label, x_label = _("Голосів за годину"), _("Час (Київ)")
    else:
        title = _("Явка за днями (київський час)")
        description = _(
            "Зараховані голоси за кожен день з {start} до {end} за київським часом, "
            "складені шарами за каналами голосування.",
            start=datetime_text(first, "d MMMM y"),
            end=datetime_text(last, "d MMMM y"),
        )
        y_label, x_label = _("Голосів за день"), _("Дата (Київ)")
    svg = charts.stacked_area_chart(
        [p.start for p in series],
        [charts.Layer(c, channel_name(c), [p.counted.get(c, 0) for p in series]) for c in channels],
        step=step,
        chart_id="turnout",
        title=title,
        description=description,
        y_label=y_label,
        x_label=x_label,
        format_number=number,
    )
    return Markup(svg)  # noqa: S704 - every text inside was escaped by charts
