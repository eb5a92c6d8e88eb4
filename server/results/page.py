"""What a results page shows: the computed results plus their charts and labels, in the
visitor's language. Shared by the console and the public page so both show the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_percent
from markupsafe import Markup

from server.i18n import _, datetime_text, get_locale, money, number
from server.models import DeviceKind
from server.services.results import (
    PAPER_TALLY_CHANNEL,
    CategoryResult,
    ChannelTotals,
    CycleResults,
    TurnoutPoint,
)
from voting import FundingOutcome, VoteStatus, channel_label

from . import charts


def outcome_text(outcome: FundingOutcome) -> str:
    if outcome is FundingOutcome.FUNDED:
        return _("Профінансовано")
    if outcome is FundingOutcome.OVER_BUDGET:
        return _("Не вистачило бюджету")
    return _("Замало голосів")


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
