"""A poll as a resident answers it at a terminal: one question per screen, each option a
large button, and what the question's rule still allows. Pure: data in, data out.

One question per screen, as the ballot shows one category per screen: a rank or points
question of ten options already fills a portrait screen with 64 px rows, and a resident
sees at once what this question asks and how many are left.

Every tap goes through the question's rule (voting.polls) and is refused with the
domain's own message (`Problem`), whether it came from a button the screen offered or
from a request crafted to get around it (an option of another question, points out of
range). The answers are kept as the resident builds them:

- one, up_to: the chosen option ids, in the order tapped;
- rank: the ranked option ids, best first;
- points: {option id: points}, present once the resident touched the question (so that
  "0 to everything" is an answer, as on the server, and "not touched" is a skipped one).

A question left empty is skipped; `record_answers` gives the rest as
voting.polls.PollAnswerRecord.create takes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import N_
from sync.cycle_package import PackagedPoll, PackagedQuestion
from voting import Problem
from voting.polls import QuestionKind

Answer = list[int] | dict[int, int]
Answers = dict[int, Answer]  # by question id

BLOCKED_FULL = N_("Обрано найбільшу кількість варіантів")
BLOCKED_RANK_FULL = N_("Упорядковано найбільшу кількість варіантів")


@dataclass(frozen=True, slots=True)
class OptionView:
    option_id: int
    text: str
    chosen: bool  # one, up_to: chosen; rank: has a place
    place: int | None  # rank: 1 for the first choice
    points: int | None  # points: the points given (0 when none)
    blocked: str | None  # why it cannot be chosen now (Ukrainian), None if it can


@dataclass(frozen=True, slots=True)
class QuestionPage:
    index: int  # 0-based position among the poll's questions
    count: int
    question: PackagedQuestion
    options: list[OptionView]
    chosen: int  # options chosen or ranked so far; points: points given in all
    most: int  # one, up_to, rank: the most that may be chosen; points: the most per option
    answered: bool  # False: the question is skipped so far

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def is_first(self) -> bool:
        return self.index == 0

    @property
    def is_last(self) -> bool:
        return self.index == self.count - 1


def most_chosen(question: PackagedQuestion) -> int:
    """How many options may be chosen (one, up_to) or ranked (rank)."""
    return question.rule().most_chosen


def question_page(poll: PackagedPoll, answers: Answers, index: int) -> QuestionPage:
    """Question number `index` (clamped to the poll) with every option as a button."""
    index = max(0, min(index, len(poll.questions) - 1))
    question = poll.questions[index]
    answer = answers.get(question.id)
    if question.kind is QuestionKind.POINTS:
        given = answer if isinstance(answer, dict) else {}
        top = question.max_points or 0
        options = [OptionView(o.id, o.text, False, None, given.get(o.id, 0), None) for o in question.options]
        total = sum(given.values())
        return QuestionPage(
            index, len(poll.questions), question, options, total, top, isinstance(answer, dict)
        )
    chosen = answer if isinstance(answer, list) else []
    most = most_chosen(question)
    full = len(chosen) >= most and question.kind is not QuestionKind.ONE
    why_full = BLOCKED_RANK_FULL if question.kind is QuestionKind.RANK else BLOCKED_FULL
    options = [
        OptionView(
            o.id,
            o.text,
            o.id in chosen,
            chosen.index(o.id) + 1 if question.kind is QuestionKind.RANK and o.id in chosen else None,
            None,
            why_full if full and o.id not in chosen else None,
        )
        for o in question.options
    ]
    return QuestionPage(index, len(poll.questions), question, options, len(chosen), most, bool(chosen))


def button_after(page: QuestionPage, option_id: int, step: str) -> str:
    """The id of the button to come back to after a tap: the option, or for points the
    − ("down") or + ("up") pressed, or the other one once the pressed one is disabled
    (0 points, or the most)."""
    if step not in ("up", "down"):
        return f"option-{option_id}"
    points = next((o.points for o in page.options if o.option_id == option_id), None) or 0
    if step == "up":
        return f"less-{option_id}" if points >= page.most else f"more-{option_id}"
    return f"more-{option_id}" if points <= 0 else f"less-{option_id}"


def _offered(question: PackagedQuestion, option_id: int, number: int) -> Problem | None:
    if all(o.id != option_id for o in question.options):
        return Problem("poll.answer_unknown_option", {"question": number})
    return None


def tap(question: PackagedQuestion, number: int, answer: Answer | None, option_id: int) -> Answer | Problem:
    """The answer after tapping an option of a one, up_to or rank question, or the
    Problem that stops it. One: the option becomes the answer (tapped again, none).
    Up_to: chosen or unchosen. Rank: gets the next place; a ranked option tapped again
    leaves the ranking and those after it move up."""
    problem = _offered(question, option_id, number)
    if problem is not None or question.kind is QuestionKind.POINTS:
        return problem or Problem("poll.answer_shape", {"question": number})
    chosen = list(answer) if isinstance(answer, list) else []
    if option_id in chosen:
        return [o for o in chosen if o != option_id]
    if question.kind is QuestionKind.ONE:
        return [option_id]
    most = most_chosen(question)
    if len(chosen) >= most:
        code = "poll.answer_rank_too_many" if question.kind is QuestionKind.RANK else "poll.answer_too_many"
        return Problem(code, {"question": number, "limit": most})
    return [*chosen, option_id]


def give_points(
    question: PackagedQuestion, number: int, answer: Answer | None, option_id: int, step: int
) -> Answer | Problem:
    """The answer after − (step -1) or + (step 1) on an option of a points question."""
    problem = _offered(question, option_id, number)
    if problem is not None or question.kind is not QuestionKind.POINTS or step not in (-1, 1):
        return problem or Problem("poll.answer_shape", {"question": number})
    given = dict(answer) if isinstance(answer, dict) else {o.id: 0 for o in question.options}
    points, top = given.get(option_id, 0) + step, question.max_points or 0
    if not 0 <= points <= top:
        return Problem("poll.answer_points_range", {"question": number, "max": top})
    given[option_id] = points
    return given


def undo_last(answer: Answer | None) -> Answer | None:
    """A ranking without its last place (rank's «Скасувати останній»)."""
    if isinstance(answer, list) and answer:
        return answer[:-1]
    return answer


def record_answers(poll: PackagedPoll, answers: Answers) -> dict[int, object]:
    """The answered questions as PollAnswerRecord.create takes them: option ids (rank in
    its order), or for points (option, points) pairs; skipped questions left out."""
    given: dict[int, object] = {}
    for question in poll.questions:
        answer = answers.get(question.id)
        if isinstance(answer, dict):
            given[question.id] = sorted(answer.items())
        elif answer:
            given[question.id] = list(answer)
    return given


@dataclass(frozen=True, slots=True)
class ReviewQuestion:
    index: int
    text: str
    kind: QuestionKind
    lines: list[tuple[str, int | None]]  # option text with its place or points; [] unanswered


def review(poll: PackagedPoll, answers: Answers) -> list[ReviewQuestion]:
    """Each question with its answer as the review screen lists it."""
    shown = []
    for index, question in enumerate(poll.questions):
        texts = {o.id: o.text for o in question.options}
        answer = answers.get(question.id)
        lines: list[tuple[str, int | None]]
        if isinstance(answer, dict):
            lines = [(o.text, answer.get(o.id, 0)) for o in question.options]
        elif question.kind is QuestionKind.RANK:
            lines = [(texts[o], place) for place, o in enumerate(answer or [], start=1) if o in texts]
        else:
            lines = [(o.text, None) for o in question.options if o.id in (answer or [])]
        shown.append(ReviewQuestion(index, question.text, question.kind, lines))
    return shown
