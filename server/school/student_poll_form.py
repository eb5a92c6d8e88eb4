"""The students' poll page as a plain HTML form, and how its answers are read back.

Each question is a fieldset, named by the question's id:

- one: radio buttons `q-<question>` (value: an option id; "" to skip the question);
- up to N: checkboxes `q-<question>`, one per option;
- rank: a list of places per option, `q-<question>-o-<option>` ("" unranked, 1 = best);
- points: a number field per option, `q-<question>-o-<option>` ("" for none, 0..K).

What our page cannot have sent (a field naming another question or option, an option
id the question does not offer, a place beyond the list, more values than the form has)
is TamperedPollForm: the whole form is refused and nothing is stored. What a student can
do by hand (two options at one place, a gap in the places, points typed out of range) is
said beside the question, and the form is shown again as it was filled in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from server.i18n import _, problem_text
from server.polls.store import QuestionView
from voting.ballot import Problem
from voting.polls import QuestionKind

_NUMBER = re.compile(r"[0-9]{1,9}")
_TYPED_POINTS = re.compile(r"[0-9]{1,3}")
MAX_SHOWN_BACK = 12  # characters of a typed value put back into its field


class TamperedPollForm(ValueError):
    """The poll form came back with fields or values our page cannot have sent."""


@dataclass
class PollFormAnswers:
    """What the student gave: the answers (question id -> option ids, or for points
    (option, points) pairs), the problems beside each question, and what to show again."""

    answers: dict[int, list[int] | list[tuple[int, int]]] = field(default_factory=dict)
    errors: dict[int, list[str]] = field(default_factory=dict)  # question id -> messages
    top_errors: list[str] = field(default_factory=list)
    chosen: dict[int, set[int]] = field(default_factory=dict)  # one, up to N: ticked options
    typed: dict[str, str] = field(default_factory=dict)  # rank, points: field -> value

    def add(self, question_id: int, message: str) -> None:
        self.errors.setdefault(question_id, []).append(message)


def field_name(question_id: int, option_id: int | None = None) -> str:
    return f"q-{question_id}" if option_id is None else f"q-{question_id}-o-{option_id}"


def most_fields(questions: Sequence[QuestionView]) -> int:
    """How many values the page can send: one per option, one skip per question, the
    CSRF token."""
    return sum(len(q.options) + 1 for q in questions) + 1


def rule_text(question: QuestionView) -> str:
    """What the student does, in words."""
    if question.kind is QuestionKind.ONE:
        return _("Оберіть один варіант.")
    if question.kind is QuestionKind.UP_TO:
        return _("Оберіть один чи кілька варіантів, найбільше: {n}.", n=question.max_choices or 1)
    if question.kind is QuestionKind.RANK:
        return _(
            "Поставте варіанти за важливістю: 1 — найважливіший. Місць: {n}; решту можна не ставити.",
            n=places(question),
        )
    return _("Дайте кожному варіанту бали від 0 до {max}; порожнє поле — 0.", max=question.max_points or 0)


def places(question: QuestionView) -> int:
    """The places a rank question offers."""
    return min(question.max_choices or len(question.options), len(question.options))


def read_poll_form(form: MultiDict[str, str], questions: Sequence[QuestionView]) -> PollFormAnswers:
    """The answers the submitted form gives, or TamperedPollForm (see the module)."""
    allowed = {"csrf_token"}
    for q in questions:
        if q.kind in (QuestionKind.ONE, QuestionKind.UP_TO):
            allowed.add(field_name(q.id))
        else:
            allowed.update(field_name(q.id, option) for option, _text in q.options)
    names = list(form.keys())
    if len(names) > len(allowed) or any(name not in allowed for name in names):
        raise TamperedPollForm("a field the page does not have")
    if sum(len(form.getlist(name)) for name in names) > most_fields(questions):
        raise TamperedPollForm("more values than the page has")
    reading = PollFormAnswers()
    for q in questions:
        if q.kind in (QuestionKind.ONE, QuestionKind.UP_TO):
            _read_choice(reading, form, q)
        elif q.kind is QuestionKind.RANK:
            _read_ranking(reading, form, q)
        else:
            _read_points(reading, form, q)
    return reading


def _single(form: MultiDict[str, str], name: str) -> str:
    values = form.getlist(name)
    if len(values) > 1:
        raise TamperedPollForm(f"{name} sent {len(values)} times")
    return values[0] if values else ""


def _read_choice(reading: PollFormAnswers, form: MultiDict[str, str], q: QuestionView) -> None:
    offered = {option for option, _text in q.options}
    values = [v for v in form.getlist(field_name(q.id)) if v != ""]  # "": the skip button
    if any(not _NUMBER.fullmatch(v) or int(v) not in offered for v in values):
        raise TamperedPollForm(f"question {q.id}: an option it does not offer")
    chosen = [int(v) for v in values]
    if q.kind is QuestionKind.ONE and len(chosen) > 1:
        raise TamperedPollForm(f"question {q.id}: two answers to a one-option question")
    reading.chosen[q.id] = set(chosen)
    if chosen:
        reading.answers[q.id] = chosen


def _read_ranking(reading: PollFormAnswers, form: MultiDict[str, str], q: QuestionView) -> None:
    most = places(q)
    ranked: dict[int, int] = {}  # option -> place
    for option, _text in q.options:
        name = field_name(q.id, option)
        value = _single(form, name)
        if value == "":
            continue
        if not _NUMBER.fullmatch(value) or not 1 <= int(value) <= most:
            raise TamperedPollForm(f"{name}: a place the list does not offer")
        reading.typed[name] = value
        ranked[option] = int(value)
    if not ranked:
        return
    given = sorted(ranked.values())
    if len(set(given)) != len(given):
        reading.add(q.id, _("Кожне місце можна дати лише одному варіанту."))
    elif given != list(range(1, len(given) + 1)):
        reading.add(q.id, _("Місця мають іти підряд, без пропусків: 1, 2, 3…"))
    else:
        reading.answers[q.id] = [
            option for option, _place in sorted(ranked.items(), key=lambda item: item[1])
        ]


def _read_points(reading: PollFormAnswers, form: MultiDict[str, str], q: QuestionView) -> None:
    top = q.max_points or 0
    given: list[tuple[int, int]] = []
    wrong = False
    for option, _text in q.options:
        name = field_name(q.id, option)
        value = _single(form, name).strip()
        if value == "":
            continue
        reading.typed[name] = "".join(c for c in value[:MAX_SHOWN_BACK] if c.isprintable())
        if not _TYPED_POINTS.fullmatch(value) or int(value) > top:
            wrong = True
            continue
        given.append((option, int(value)))
    if wrong:
        reading.add(q.id, _("Бали — ціле число від 0 до {max}.", max=top))
    elif given:
        reading.answers[q.id] = given


def place_problems(
    reading: PollFormAnswers, questions: Sequence[QuestionView], problems: list[Problem]
) -> None:
    """The poll rule's problems (voting.polls.check_answers) beside their questions: a
    problem names its question by its number on the page (1 for the first)."""
    by_number = {n: q.id for n, q in enumerate(questions, start=1)}
    for problem in problems:
        number = problem.params.get("question")
        text = problem_text(problem.code, **problem.params)
        if isinstance(number, int) and number in by_number:
            reading.add(by_number[number], text)
        else:
            reading.top_errors.append(text)
