"""A poll's results as people read them: the console's page, the public page once the
moderators publish the results, and the CSV and JSON files.

Every figure is the count's (server.polls.count, the domain's voting.poll_count):
counts and shares for one and up-to-N questions, Borda points with the count at each
place for rankings, mean points with their distribution for points; overall and among
the counted answers of each channel. Publishing is audited and possible only once the
poll is published and has opened; unpublishing hides the public page again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from flask import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from server.i18n import KYIV, _, get_locale, ngettext, number
from server.models import Poll, User, utcnow
from server.results import charts
from server.results.export import csv_text
from server.results.page import channel_name, percent
from server.services import audit
from server.services.results_shape import iso_utc
from server.texts import _l
from voting.channels import Channel
from voting.poll_count import QuestionResult
from voting.polls import QuestionKind

from .count import count_poll, count_poll_by_channel, counted_answers_by_channel
from .store import PollStateError, QuestionView, poll_rule, questions_of

ALL_CHANNELS = "all"  # the CSV's and JSON's name for the count over every channel


# --- publishing ---------------------------------------------------------------------------


def publish_poll_results(
    session: Session, poll: Poll, user: User | None = None, now: datetime | None = None
) -> bool:
    """Make the poll's results public; False when they already are, PollStateError
    when the poll is not published or has not opened yet (there is nothing to show)."""
    now = now or utcnow()
    if poll.published_at is None:
        raise PollStateError(_l("Опитування ще не оприлюднено: спершу оприлюдніть його, потім результати."))
    if now < poll.opens_at:
        raise PollStateError(
            _l(
                "Опитування ще не почалося: результати можна оприлюднити з {start}.",
                start=poll.opens_at.astimezone(KYIV).strftime("%Y-%m-%d %H:%M"),
            )
        )
    if poll.results_published_at is not None:
        return False
    poll.results_published_at = now
    audit.record(
        session, "poll.results_publish", user=user, community_id=poll.community_id, target=("poll", poll.id)
    )
    return True


def unpublish_poll_results(session: Session, poll: Poll, user: User | None = None) -> bool:
    """Hide the poll's results again; False when they were not public."""
    if poll.results_published_at is None:
        return False
    published_at = poll.results_published_at
    poll.results_published_at = None
    audit.record(
        session,
        "poll.results_unpublish",
        user=user,
        community_id=poll.community_id,
        target=("poll", poll.id),
        details={"published_at": iso_utc(published_at)},
    )
    return True


# --- the results --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelCount:
    channel: str
    answers: int  # residents whose counted answer came through the channel


@dataclass(frozen=True)
class QuestionResults:
    """One question with its results, as a page shows it."""

    position: int  # 1 for the first question
    question: QuestionView
    result: QuestionResult
    by_channel: dict[str, QuestionResult]  # channels with a counted answer
    chart: Markup | None  # None when nobody answered the question


@dataclass(frozen=True)
class PollResults:
    poll: Poll
    residents: int  # counted answers: one per resident who answered
    channels: tuple[ChannelCount, ...]  # every channel, those with none included
    questions: tuple[QuestionResults, ...]
    texts: dict[int, str]  # option id -> text

    @property
    def answered_channels(self) -> tuple[str, ...]:
        return tuple(c.channel for c in self.channels if c.answers)


def poll_results(session: Session, poll: Poll) -> PollResults:
    questions = questions_of(session, poll)
    rule = poll_rule(session, poll)
    texts = {o: t for q in questions for o, t in q.options}
    overall = count_poll(session, rule)
    by_channel = count_poll_by_channel(session, rule)
    answers = counted_answers_by_channel(session, poll.id)
    known = [c.value for c in Channel]
    channels = tuple(ChannelCount(c, answers.get(c, 0)) for c in known + sorted(set(answers) - set(known)))
    shown = tuple(
        QuestionResults(
            position=n,
            question=question,
            result=result,
            by_channel={c: results[n - 1] for c, results in by_channel.items()},
            chart=chart(result, question.text, texts) if result.respondents else None,
        )
        for n, (question, result) in enumerate(zip(questions, overall, strict=True), start=1)
    )
    return PollResults(poll, sum(answers.values()), channels, shown, texts)


# --- texts and charts ---------------------------------------------------------------------


def decimal(value: float) -> str:
    """A mean, to two places, in the visitor's language: «2,50» / «2.50»."""
    return format_decimal(value, format="#,##0.00", locale="uk_UA" if get_locale() == "uk" else "en_GB")


def kind_text(question: QuestionView) -> str:
    if question.kind is QuestionKind.ONE:
        return _("один варіант")
    if question.kind is QuestionKind.UP_TO:
        most = question.max_choices or len(question.options)
        return ngettext("до {n} варіанта", "до {n} варіантів", most, n=number(most))
    if question.kind is QuestionKind.RANK:
        return _("упорядкування")
    top = question.max_points or 0
    return ngettext("від 0 до {n} бала", "від 0 до {n} балів", top, n=number(top))


def option_measure(result: QuestionResult, option_id: int, *, short: bool = False) -> str:
    """The figure that orders the option, as text: the count and share (`short`: the
    share), the Borda points, or the mean points. Short enough for a chart's bar."""
    option = next(o for o in result.options if o.option_id == option_id)
    if result.kind is QuestionKind.RANK:
        return number(option.borda)
    if result.kind is QuestionKind.POINTS:
        return decimal(option.mean_points)
    if short:
        return percent(option.share)
    return f"{number(option.chosen)} ({percent(option.share)})"


def measure(result: QuestionResult) -> list[tuple[int, int, str]]:
    """(option id, the bar's value, its text) in the result's order."""
    value = {QuestionKind.RANK: "borda", QuestionKind.POINTS: "points"}.get(result.kind, "chosen")
    return [
        (o.option_id, getattr(o, value), option_measure(result, o.option_id, short=True))
        for o in result.options
    ]


def _chart_description(kind: QuestionKind) -> str:
    if kind is QuestionKind.RANK:
        return _(
            "Стовпці — варіанти від найбільшої кількості балів Борда; число біля стовпця — бали Борда. "
            "Перший має суцільну заливку й позначку ✓. Ті самі числа — у таблиці під графіком."
        )
    if kind is QuestionKind.POINTS:
        return _(
            "Стовпці — варіанти від найвищого середнього балу; число біля стовпця — скільки балів варіант "
            "отримав у середньому від тих, хто відповів на питання (не оцінений варіант — 0). "
            "Перший має суцільну заливку й позначку ✓. Ті самі числа — у таблиці під графіком."
        )
    return _(
        "Стовпці — варіанти від найчастіше обраного; число біля стовпця — частка тих, хто відповів "
        "на питання. Перший має суцільну заливку й позначку ✓. Ті самі числа — у таблиці під графіком."
    )


def chart(result: QuestionResult, text: str, texts: dict[int, str]) -> Markup:
    svg = charts.bar_chart(
        [
            charts.Bar(label=texts.get(option_id, ""), value=value, value_text=shown, highlighted=n == 0)
            for n, (option_id, value, shown) in enumerate(measure(result))
        ],
        chart_id=f"poll-question-{result.question_id}",
        title=text,
        description=_chart_description(result.kind),
        legend=(_("перше місце"), _("інші варіанти")),
    )
    return Markup(svg)  # noqa: S704  (charts escape every text they draw)


def channel_text(channel: str) -> str:
    try:
        return channel_name(channel)
    except ValueError:  # a channel this version does not know: its code
        return channel


# Helpers the poll results templates call.
TEMPLATE_HELPERS = {
    "percent": percent,
    "decimal": decimal,
    "kind_text": kind_text,
    "option_measure": option_measure,
    "channel_text": channel_text,
}


# --- files --------------------------------------------------------------------------------


def render_result(result: QuestionResult, texts: dict[int, str]) -> dict[str, Any]:
    """One question's result as JSON values (the API's, the CLI's and the public file's)."""
    options = []
    for option in result.options:
        shown: dict[str, Any] = {
            "id": option.option_id,
            "text": texts.get(option.option_id, ""),
            "chosen": option.chosen,
            "share": round(option.share, 6),
        }
        if result.kind is QuestionKind.RANK:
            shown.update(
                borda=option.borda,
                mean_rank=None if option.mean_rank is None else round(option.mean_rank, 6),
                first=option.first,
                by_position=list(option.distribution),
            )
        elif result.kind is QuestionKind.POINTS:
            shown.update(
                points=option.points,
                mean_points=round(option.mean_points, 6),
                by_points=list(option.distribution),
            )
        options.append(shown)
    return {
        "id": result.question_id,
        "kind": result.kind.value,
        "respondents": result.respondents,
        "order": result.order,
        "options": options,
    }


def results_public(poll: Poll) -> bool:
    """Whether the poll's results are public now (and so in a file made now)."""
    return poll.results_published_at is not None


def results_dict(results: PollResults, community_slug: str) -> dict[str, Any]:
    poll = results.poll
    return {
        "poll": poll.id,
        "community": community_slug,
        "title": poll.title,
        "description": poll.description,
        "opens_at": poll.opens_at.isoformat(),
        "closes_at": poll.closes_at.isoformat(),
        "results_published_at": None
        if poll.results_published_at is None
        else poll.results_published_at.isoformat(),
        # Whether anyone could read these results when the file was made: a moderator's
        # copy from the console before publication says false.
        "results_public": results_public(poll),
        "residents": results.residents,
        "channels": {c.channel: c.answers for c in results.channels},
        "questions": [
            {
                **render_result(q.result, results.texts),
                "position": q.position,
                "text": q.question.text,
                "max_choices": q.question.max_choices,
                "max_points": q.question.max_points,
                "by_channel": {c: render_result(r, results.texts) for c, r in q.by_channel.items()},
            }
            for q in results.questions
        ],
    }


def _plain(value: float | None) -> str:
    # A plain decimal with a dot: the same in every spreadsheet locale's import dialog.
    return "" if value is None else f"{value:.4f}"


def results_rows(results: PollResults) -> list[list[object]]:
    """One row per question, option and channel (first every channel together, «all»),
    headed in the visitor's language. The distribution: «place: count» for a ranking,
    «points: count» for points. The last column says, on every row, whether the results
    were public when the file was made (`yes`/`no`, codes like the channel's): a copy
    taken in the console before publication cannot pass for the published one."""
    public = "yes" if results_public(results.poll) else "no"
    rows: list[list[object]] = [
        [
            _("Канал"),
            _("Питання №"),
            _("Текст питання"),
            _("Вид питання"),
            _("Відповіли на питання"),
            _("Варіант"),
            _("Обрали"),
            _("Частка, %"),
            _("Бали Борда"),
            _("Перших місць"),
            _("Середнє місце"),
            _("Сума балів"),
            _("Середній бал"),
            _("Розподіл"),
            _("Результати оприлюднено"),
        ]
    ]
    for channel in (ALL_CHANNELS, *results.answered_channels):
        for q in results.questions:
            result = q.result if channel == ALL_CHANNELS else q.by_channel.get(channel)
            if result is None:
                continue
            start = 0 if result.kind is QuestionKind.POINTS else 1
            for option in result.options:
                spread = "; ".join(f"{v}: {n}" for v, n in enumerate(option.distribution, start=start))
                rank, points = result.kind is QuestionKind.RANK, result.kind is QuestionKind.POINTS
                rows.append(
                    [
                        channel,
                        q.position,
                        q.question.text,
                        result.kind.value,
                        result.respondents,
                        results.texts.get(option.option_id, ""),
                        option.chosen,
                        f"{option.share * 100:.2f}",
                        option.borda if rank else "",
                        option.first if rank else "",
                        _plain(option.mean_rank) if rank else "",
                        option.points if points else "",
                        _plain(option.mean_points) if points else "",
                        spread if rank or points else "",
                        public,
                    ]
                )
    return rows


def file_name(community_slug: str, poll: Poll, ext: str) -> str:
    """`<community>-poll-<id>-results-public.<ext>`, or `…-results-not-public.<ext>` while
    the results are not public (a moderator's copy to check): ASCII letters, digits,
    `-` and `_` only, so it needs no quoting in Content-Disposition."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in community_slug)
    state = "public" if results_public(poll) else "not-public"
    return f"{safe}-poll-{poll.id}-results-{state}.{ext}"


def csv_response(results: PollResults, community_slug: str) -> Response:
    name = file_name(community_slug, results.poll, "csv")
    return Response(
        csv_text(results_rows(results)).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def json_response(results: PollResults, community_slug: str) -> Response:
    body = json.dumps(results_dict(results, community_slug), ensure_ascii=False, indent=1)
    name = file_name(community_slug, results.poll, "json")
    return Response(
        body.encode("utf-8"),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
