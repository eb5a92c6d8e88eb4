"""A poll's count on the server: one GROUP BY over its counted answer items.

The rows are voting.poll_count's distribution table: (question, option, value) and how
many counted answers gave it; the rows with no option count each question's
respondents. voting.poll_count.question_result turns them into results, the same
function the in-memory count ends in, so the two cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import PollAnswerItem
from voting.poll_count import QuestionResult, question_result
from voting.polls import PollRule


def count_poll(session: Session, rule: PollRule) -> tuple[QuestionResult, ...]:
    rows = session.execute(
        select(PollAnswerItem.question_id, PollAnswerItem.option_id, PollAnswerItem.value, func.count())
        .where(PollAnswerItem.poll_id == rule.poll_id, PollAnswerItem.counted.is_(True))
        .group_by(PollAnswerItem.question_id, PollAnswerItem.option_id, PollAnswerItem.value)
    ).all()
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
