"""A poll's count on the server: one GROUP BY over its counted answer items.

The rows are voting.poll_count's distribution table: (question, option, value) and how
many counted answers gave it; the rows with no option count each question's
respondents. voting.poll_count.question_result turns them into results, the same
function the in-memory count ends in, so the two cannot disagree. The count by channel
is the same GROUP BY with the counted answer's channel added: each channel's results
are those of the residents whose counted answer came through it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import PollAnswer, PollAnswerItem
from voting.counting import VoteStatus
from voting.poll_count import QuestionResult, question_result
from voting.polls import PollRule


def count_poll(session: Session, rule: PollRule) -> tuple[QuestionResult, ...]:
    rows = session.execute(
        select(PollAnswerItem.question_id, PollAnswerItem.option_id, PollAnswerItem.value, func.count())
        .where(PollAnswerItem.poll_id == rule.poll_id, PollAnswerItem.counted.is_(True))
        .group_by(PollAnswerItem.question_id, PollAnswerItem.option_id, PollAnswerItem.value)
    ).all()
    return _results(rule, rows)


def count_poll_by_channel(session: Session, rule: PollRule) -> dict[str, tuple[QuestionResult, ...]]:
    """Every question's result among the counted answers of each channel (only channels
    with a counted answer)."""
    rows = session.execute(
        select(
            PollAnswer.channel,
            PollAnswerItem.question_id,
            PollAnswerItem.option_id,
            PollAnswerItem.value,
            func.count(),
        )
        .join(
            PollAnswer,
            (PollAnswer.community_id == PollAnswerItem.community_id)
            & (PollAnswer.id == PollAnswerItem.answer_id),
        )
        .where(PollAnswerItem.poll_id == rule.poll_id, PollAnswerItem.counted.is_(True))
        .group_by(
            PollAnswer.channel, PollAnswerItem.question_id, PollAnswerItem.option_id, PollAnswerItem.value
        )
    ).all()
    by_channel: dict[str, list[tuple[int, int | None, int, int]]] = defaultdict(list)
    for channel, question_id, option_id, value, count in rows:
        by_channel[channel].append((question_id, option_id, value, count))
    return {channel: _results(rule, rows_of) for channel, rows_of in sorted(by_channel.items())}


def counted_answers_by_channel(session: Session, poll_id: int) -> dict[str, int]:
    """How many residents answered, by the channel of their counted answer."""
    rows = session.execute(
        select(PollAnswer.channel, func.count())
        .where(PollAnswer.poll_id == poll_id, PollAnswer.status == VoteStatus.COUNTED.value)
        .group_by(PollAnswer.channel)
    ).all()
    return {channel: count for channel, count in rows}


def _results(rule: PollRule, rows: Sequence[Any]) -> tuple[QuestionResult, ...]:
    respondents: dict[int, int] = defaultdict(int)
    tables: dict[int, dict[tuple[int, int], int]] = defaultdict(dict)
    for question_id, option_id, value, count in rows:
        if option_id is None:
            respondents[question_id] += count
        else:
            tables[question_id][(option_id, value)] = count
    return tuple(
        question_result(q, respondents.get(q.question_id, 0), tables.get(q.question_id, {}))
        for q in rule.questions
    )
