"""A poll sheet's marks read as answers, and why a sheet needs a person instead.

The marked boxes (their ids, paper.poll_layout) become per question values in the
form voting.polls takes: one/up_to the chosen options, rank the options best first
(ordered by the place marked in their row), points (option, points) pairs. Nothing is
guessed: a sheet goes to review, with a reason code (paper.messages), when

- a ranking row has two places marked (poll_sheet.rank_row_twice), or one place is
  marked for two options (poll_sheet.rank_place_twice);
- a points row has two values marked (poll_sheet.points_row_twice);
- the values break the question's rule (voting.polls.check_answers): two options of a
  one-choice question (poll_sheet.one_too_many), more than the question allows
  (poll_sheet.too_many), anything else (poll_sheet.rule);
- no question is answered at all (poll_sheet.blank): like an empty ballot, a blank
  poll sheet is no answer; it stays in review until a person spoils it (or marks what
  the scan missed).

A ranking with a gap (places 1 and 3 marked, 2 not) is taken in its order: the order
is what the resident wrote, and voting.polls allows a partial ranking. A points row
with only its 0 marked answers the question with 0 for that option; a question whose
every row is empty is not answered.
"""

from __future__ import annotations

from collections.abc import Iterable

from paper.poll_layout import PollBox, PollSheet
from paper.reading import MARGINAL, MARKED, BoxReading
from voting.polls import QuestionAnswer, QuestionKind, canonical_answer, check_answers

__all__ = ["page_problems", "sheet_answers"]

_RULE_REASONS = {
    "poll.answer_one": "poll_sheet.one_too_many",
    "poll.answer_too_many": "poll_sheet.too_many",
    "poll.answer_rank_too_many": "poll_sheet.too_many",
}


def sheet_answers(
    sheet: PollSheet, marked: Iterable[int], *, whole: bool = True
) -> tuple[dict[int, QuestionAnswer], list[str]]:
    """The answers the marked boxes give (question id -> canonical value) and the review
    reasons, none when the answers may be recorded as they are. `whole`: the marks are
    the whole sheet's (a page of a longer sheet cannot be called blank)."""
    by_question: dict[int, list[PollBox]] = {}
    for box_id in marked:
        box = sheet.boxes.get(box_id)
        if box is None:
            return {}, ["sheet.unknown_layout"]  # a box id this poll's sheet does not have
        by_question.setdefault(box.question_id, []).append(box)
    reasons: list[str] = []
    given: dict[int, object] = {}
    for question in sheet.poll.questions:
        boxes = by_question.get(question.id)
        if not boxes:
            continue
        if question.kind in (QuestionKind.ONE, QuestionKind.UP_TO):
            given[question.id] = sorted({b.option_id for b in boxes})
            continue
        rows: dict[int, list[int]] = {}
        for b in boxes:
            rows.setdefault(b.option_id, []).append(b.value)
        if any(len(values) > 1 for values in rows.values()):
            reasons.append(
                "poll_sheet.rank_row_twice"
                if question.kind is QuestionKind.RANK
                else "poll_sheet.points_row_twice"
            )
            continue
        if question.kind is QuestionKind.RANK:
            places = [values[0] for values in rows.values()]
            if len(set(places)) != len(places):
                reasons.append("poll_sheet.rank_place_twice")
                continue
            given[question.id] = [option for option, _ in sorted(rows.items(), key=lambda item: item[1][0])]
        else:
            given[question.id] = [(option, values[0]) for option, values in sorted(rows.items())]
    if reasons:
        return {}, list(dict.fromkeys(reasons))
    if not given:
        return {}, ["poll_sheet.blank"] if whole else []
    kinds = {question.id: question.kind for question in sheet.poll.questions}
    answers = {q: canonical_answer(kinds[q], value) for q, value in given.items()}
    problems = check_answers(sheet.rule(), answers)
    if problems:
        return {}, list(dict.fromkeys(_RULE_REASONS.get(p.code, "poll_sheet.rule") for p in problems))
    return answers, []


def page_problems(sheet: PollSheet, boxes: list[BoxReading]) -> list[str]:
    """The reader's review reasons for one page of a poll sheet: an unclear mark, and
    marks that break a rule already on this page (two marks in a row, too many). On a
    one-page sheet a page with no mark is blank; a longer sheet's blankness, like a
    ballot's, is judged with all its pages in the sheet store."""
    problems = ["sheet.marginal_mark"] if any(b.verdict == MARGINAL for b in boxes) else []
    marked = [b.project_id for b in boxes if b.verdict == MARKED]
    whole = len(sheet.layout.pages) == 1 and not problems
    _answers, reasons = sheet_answers(sheet, marked, whole=whole)
    return list(dict.fromkeys(problems + reasons))
