"""A poll's count: which answers count, and each question's result by its kind.

Which answers count is the votes' rule (voting/counting.py): per poll and voter, the
earliest valid answer counts, ties by the smaller id; arrival order never matters.

Every result is worked out from one table, the *distribution*: for each option and
value, how many counted answers gave it that value. The value is 1 for a chosen option
(one, up_to), the position for a ranked one (1 = best), the points for points. The
server builds the same table with one SQL aggregate over its stored answers, so a count
of a million answers on PostgreSQL and this in-memory count cannot disagree: both end in
`question_result`.

Rankings are counted by **Borda, truncated to the ranks the question allows**: with k
ranks, first place earns k points, k-th place 1, an option left unranked 0; options are
ordered by their points. Why not the average rank: it ranks an option one resident put
first above one a thousand residents put second, and it cannot compare an option ranked
by few with one ranked by many. The mean rank (among residents who ranked the option)
and how often it came first are shown beside the points, never used to order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .counting import CountingInput, Decision, VoteStatus, decide
from .polls import PollAnswerRecord, PollRule, QuestionAnswer, QuestionKind, QuestionRule

# (option id, value) -> counted answers that gave the option that value
Distribution = Mapping[tuple[int, int], int]


@dataclass(frozen=True, slots=True)
class OptionResult:
    option_id: int
    chosen: int  # answers that chose, ranked or gave points (>= 1) to the option
    share: float  # chosen / the question's respondents (0 with none)
    # by value: rank -> position 1..k; points -> points 0..max (0 counts those who
    # answered the question and gave the option nothing); one/up_to -> (chosen,)
    distribution: tuple[int, ...]
    borda: int = 0  # rank only
    mean_rank: float | None = None  # rank only, among those who ranked it
    first: int = 0  # rank only: placed first
    points: int = 0  # points only: the total
    mean_points: float = 0.0  # points only: per respondent, an option left out as 0


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: int
    kind: QuestionKind
    respondents: int  # counted answers that answered this question
    options: tuple[OptionResult, ...]  # best first (see `order`), ties in the poll's order
    order: str  # what orders the options: "chosen", "borda" or "mean_points"


def distribution_of(
    question: QuestionRule, answers: Iterable[QuestionAnswer]
) -> tuple[int, Counter[tuple[int, int]]]:
    """The question's respondents and distribution from its counted (canonical) answers."""
    respondents = 0
    table: Counter[tuple[int, int]] = Counter()
    for answer in answers:
        respondents += 1
        for n, item in enumerate(answer, start=1):
            if isinstance(item, tuple):  # points: (option, points)
                table[item] += 1
            elif not isinstance(item, int):
                raise TypeError("a canonical answer holds option ids or (option, points) pairs")
            elif question.kind is QuestionKind.RANK:
                table[(item, n)] += 1  # n: the position, 1 = best
            else:
                table[(item, 1)] += 1
    return respondents, table


def question_result(question: QuestionRule, respondents: int, table: Distribution) -> QuestionResult:
    """The result of one question from its respondents and distribution."""
    options = []
    for option in question.option_ids:
        if question.kind is QuestionKind.RANK:
            ranks = question.most_chosen
            by_position = tuple(table.get((option, p), 0) for p in range(1, ranks + 1))
            chosen = sum(by_position)
            weighted = sum(p * n for p, n in enumerate(by_position, start=1))
            options.append(
                OptionResult(
                    option,
                    chosen,
                    _share(chosen, respondents),
                    by_position,
                    borda=sum((ranks - p + 1) * n for p, n in enumerate(by_position, start=1)),
                    mean_rank=weighted / chosen if chosen else None,
                    first=by_position[0] if by_position else 0,
                )
            )
        elif question.kind is QuestionKind.POINTS:
            top = question.max_points or 0
            given = [table.get((option, value), 0) for value in range(1, top + 1)]
            chosen = sum(given)
            total = sum(value * n for value, n in enumerate(given, start=1))
            options.append(
                OptionResult(
                    option,
                    chosen,
                    _share(chosen, respondents),
                    (respondents - chosen, *given),
                    points=total,
                    mean_points=total / respondents if respondents else 0.0,
                )
            )
        else:
            chosen = table.get((option, 1), 0)
            options.append(OptionResult(option, chosen, _share(chosen, respondents), (chosen,)))
    order = {QuestionKind.RANK: "borda", QuestionKind.POINTS: "mean_points"}.get(question.kind, "chosen")
    position = {option: n for n, option in enumerate(question.option_ids)}
    ranked = sorted(options, key=lambda o: (-_measure(o, order), position[o.option_id]))
    return QuestionResult(question.question_id, question.kind, respondents, tuple(ranked), order)


def _measure(option: OptionResult, order: str) -> float:
    if order == "borda":
        return option.borda
    if order == "mean_points":
        return option.points  # the same order as the mean: one respondent count per question
    return option.chosen


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def decide_answers(records: Iterable[PollAnswerRecord]) -> dict[str, Decision]:
    """Which answers count: the votes' rule, per voter, for one poll's answers."""
    return decide(CountingInput(r.answer_id, r.voter, r.cast_at) for r in records)


def count_poll(poll: PollRule, records: Iterable[PollAnswerRecord]) -> tuple[QuestionResult, ...]:
    """Every question's result from a poll's answers as received (any order, the same
    answer received twice, several answers of a voter): only the counted answer of each
    voter is counted. ValueError when one id arrives with two contents."""
    by_id: dict[str, PollAnswerRecord] = {}
    for record in records:
        if record.poll_id != poll.poll_id:
            continue
        seen = by_id.setdefault(record.answer_id, record)
        if seen != record:  # the same id with other content is a conflict, never a choice
            raise ValueError(f"answer {record.answer_id} arrived with two different contents")
    kept = list(by_id.values())
    decisions = decide_answers(kept)
    by_question: dict[int, list[QuestionAnswer]] = defaultdict(list)
    for record in kept:
        if decisions[record.answer_id].status is VoteStatus.COUNTED:
            for question_id, answer in record.answers:
                by_question[question_id].append(answer)
    results = []
    for question in poll.questions:
        respondents, table = distribution_of(question, by_question.get(question.question_id, []))
        results.append(question_result(question, respondents, table))
    return tuple(results)
