"""Polls on the server: made from a spec (the CLI's JSON file today, the console next),
published, and read back as the rule voting.polls judges answers by.

A spec is untrusted input (a file someone wrote by hand): every field is checked and
every problem reported at once, in both languages, and nothing is stored unless all is
right. Once published, a poll's questions and options never change, nor who may answer
it (its optional "who": a minimum age, the community's voter list, a district), nor the
school it belongs to (its optional "school": a school poll is answered only with that
school's student codes, docs/polls.md "School polls").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Community, Poll, PollOption, PollQuestion, School, utcnow
from server.texts import Explained, Text, _l
from voting.ballot import Problem
from voting.district import DistrictError, clean_district
from voting.eligibility import MIN_AGE_LIMITS
from voting.messages import message as domain_message
from voting.poll_who import WhoMayAnswer
from voting.polls import (
    MAX_OPTIONS,
    MAX_POINTS,
    MAX_QUESTIONS,
    PollRule,
    QuestionKind,
    QuestionRule,
    check_poll_rule,
)

SPEC_FIELDS = frozenset({"title", "description", "opens_at", "closes_at", "questions", "who", "school"})
QUESTION_FIELDS = frozenset({"text", "kind", "max_choices", "max_points", "options"})
WHO_FIELDS = frozenset({"min_age", "voter_list", "district"})
LIMITS = {"title": 200, "description": 2000, "text": 500, "option": 300}


@dataclass(frozen=True)
class DomainText:
    """A domain problem (voting.messages) read as a text, in either language."""

    problem: Problem

    def render(self, locale: str) -> str:
        return domain_message(self.problem.code, locale, **self.problem.params)

    @property
    def uk(self) -> str:
        return self.render("uk")

    @property
    def en(self) -> str:
        return self.render("en")


@dataclass(frozen=True)
class SpecProblem:
    where: str  # "title", "questions[2].options[0]"...
    what: Text | DomainText

    def text(self, locale: str) -> str:
        return f"{self.where}: {self.what.render(locale)}"


class PollSpecError(ValueError):
    """The spec cannot be a poll; `problems` say every reason. Nothing was stored."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        super().__init__("; ".join(p.text("en") for p in problems))
        self.problems = problems


class PollStateError(Explained, ValueError):
    """What was asked cannot be done to this poll now."""


def _text(problems: list[SpecProblem], where: str, value: Any, limit: int, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(SpecProblem(where, _l("потрібен непорожній текст")))
        return ""
    value = value.strip()
    if len(value) > limit:
        problems.append(SpecProblem(where, _l("не довше {limit} символів", limit=limit)))
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        problems.append(SpecProblem(where, _l("керівні символи не дозволено")))
    return value


def _moment(problems: list[SpecProblem], where: str, value: Any) -> datetime | None:
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        return moment
    except ValueError:
        problems.append(
            SpecProblem(
                where,
                _l("час у форматі ISO 8601 з часовим поясом, наприклад 2027-05-01T09:00:00+03:00"),
            )
        )
        return None


def _count(problems: list[SpecProblem], where: str, value: Any, low: int, high: int) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        problems.append(SpecProblem(where, _l("ціле число від {low} до {high}", low=low, high=high)))
        return None
    return value


def _who(problems: list[SpecProblem], value: Any) -> WhoMayAnswer:
    """The spec's "who" (absent: anyone): {"min_age": 16, "voter_list": true,
    "district": "Центр"}, each field optional."""
    if value is None:
        return WhoMayAnswer()
    if not isinstance(value, dict):
        problems.append(SpecProblem("who", _l("очікується об'єкт JSON")))
        return WhoMayAnswer()
    for key in sorted(set(value) - WHO_FIELDS, key=str):
        problems.append(SpecProblem(f"who.{str(key)[:40]}", _l("невідоме поле")))
    min_age = _count(problems, "who.min_age", value.get("min_age"), *MIN_AGE_LIMITS)
    voter_list = value.get("voter_list", False)
    if type(voter_list) is not bool:
        problems.append(SpecProblem("who.voter_list", _l("true або false")))
        voter_list = False
    district = ""
    raw = value.get("district")
    if raw is not None:
        if not isinstance(raw, str) or not raw.strip():
            problems.append(SpecProblem("who.district", _l("назва району або поле не вказане")))
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
            problems.append(SpecProblem("who.district", _l("керівні символи не дозволено")))
        else:
            try:
                district = clean_district(raw)
            except DistrictError as error:
                problems.append(
                    SpecProblem("who.district", DomainText(Problem(error.code, dict(error.params))))
                )
    return WhoMayAnswer(min_age=min_age, voter_list=voter_list, district=district)


def _school(problems: list[SpecProblem], session: Session, community_id: int, value: Any) -> int | None:
    """The spec's "school" (absent or null: the community's poll): the id of one of the
    community's schools, as a JSON integer."""
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= 2**31 - 1:
        problems.append(SpecProblem("school", _l("номер (id) школи цієї громади, ціле число")))
        return None
    school = session.get(School, value)
    if school is None or school.community_id != community_id:
        problems.append(SpecProblem("school", _l("у цій громаді немає школи з номером {id}", id=value)))
        return None
    return value


def who_of(poll: Poll) -> WhoMayAnswer:
    """Who may answer `poll`, as stored."""
    return WhoMayAnswer(min_age=poll.min_age, voter_list=bool(poll.voter_list), district=poll.district or "")


def create_poll(session: Session, community_id: int, spec: Any) -> Poll:
    """A draft poll from `spec`, added to the session (the caller commits), or
    PollSpecError naming every problem."""
    problems: list[SpecProblem] = []
    if session.get(Community, community_id) is None:
        raise PollSpecError([SpecProblem("community", _l("такої громади немає"))])
    if not isinstance(spec, dict):
        raise PollSpecError([SpecProblem("", _l("очікується об'єкт JSON"))])
    for key in sorted(set(spec) - SPEC_FIELDS, key=str):
        problems.append(SpecProblem(str(key)[:40], _l("невідоме поле")))
    title = _text(problems, "title", spec.get("title"), LIMITS["title"])
    description = _text(
        problems, "description", spec.get("description"), LIMITS["description"], optional=True
    )
    opens = _moment(problems, "opens_at", spec.get("opens_at"))
    closes = _moment(problems, "closes_at", spec.get("closes_at"))
    if opens and closes and closes <= opens:
        problems.append(SpecProblem("closes_at", _l("має бути пізніше за opens_at")))
    questions = spec.get("questions")
    parsed: list[tuple[str, QuestionKind, int | None, int | None, list[str]]] = []
    if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
        problems.append(
            SpecProblem(
                "questions",
                _l("список від 1 до {most} питань", most=MAX_QUESTIONS),
            )
        )
        questions = []
    for n, question in enumerate(questions):
        where = f"questions[{n}]"
        if not isinstance(question, dict):
            problems.append(SpecProblem(where, _l("очікується об'єкт JSON")))
            continue
        for key in sorted(set(question) - QUESTION_FIELDS, key=str):
            problems.append(SpecProblem(f"{where}.{str(key)[:40]}", _l("невідоме поле")))
        text = _text(problems, f"{where}.text", question.get("text"), LIMITS["text"])
        try:
            kind = QuestionKind(str(question.get("kind")))
        except ValueError:
            problems.append(SpecProblem(f"{where}.kind", _l("one, up_to, rank або points")))
            kind = QuestionKind.ONE
        options = question.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
            problems.append(
                SpecProblem(
                    f"{where}.options",
                    _l("список від 2 до {most} варіантів", most=MAX_OPTIONS),
                )
            )
            options = []
        names = [_text(problems, f"{where}.options[{i}]", o, LIMITS["option"]) for i, o in enumerate(options)]
        if len({name.casefold() for name in names}) != len(names):
            problems.append(SpecProblem(f"{where}.options", _l("варіанти повторюються")))
        max_choices = _count(
            problems, f"{where}.max_choices", question.get("max_choices"), 1, max(len(names), 1)
        )
        max_points = _count(problems, f"{where}.max_points", question.get("max_points"), 1, MAX_POINTS)
        if kind is QuestionKind.POINTS and max_points is None:
            problems.append(SpecProblem(f"{where}.max_points", _l("потрібне для points")))
        if kind is QuestionKind.UP_TO and max_choices is None:
            problems.append(SpecProblem(f"{where}.max_choices", _l("потрібне для up_to")))
        parsed.append((text, kind, max_choices, max_points, names))
    who = _who(problems, spec.get("who"))
    school_id = _school(problems, session, community_id, spec.get("school"))
    if school_id is not None and not who.anyone:
        # A code names a student, not a resident: no age, list or district to check.
        problems.append(
            SpecProblem(
                "who", _l("опитування школи відповідають коди учнів: вік, список і район не перевіряються")
            )
        )
    if problems:
        raise PollSpecError(problems)
    assert opens is not None and closes is not None  # else a problem above
    poll = Poll(
        community_id=community_id,
        title=title,
        description=description,
        opens_at=opens,
        closes_at=closes,
        min_age=who.min_age,
        voter_list=who.voter_list,
        district=who.district or None,
        school_id=school_id,
    )
    session.add(poll)
    session.flush()
    for position, (text, kind, max_choices, max_points, names) in enumerate(parsed):
        question_row = PollQuestion(
            community_id=community_id,
            poll_id=poll.id,
            position=position,
            text=text,
            kind=kind.value,
            max_choices=max_choices if kind in (QuestionKind.UP_TO, QuestionKind.RANK) else None,
            max_points=max_points if kind is QuestionKind.POINTS else None,
        )
        session.add(question_row)
        session.flush()
        session.add_all(
            PollOption(community_id=community_id, question_id=question_row.id, position=i, text=name)
            for i, name in enumerate(names)
        )
    session.flush()
    return poll


@dataclass(frozen=True)
class QuestionView:
    id: int
    text: str
    kind: QuestionKind
    max_choices: int | None
    max_points: int | None
    options: list[tuple[int, str]]  # (option id, text), in order


def questions_of(session: Session, poll: Poll) -> list[QuestionView]:
    rows = session.scalars(
        select(PollQuestion).where(PollQuestion.poll_id == poll.id).order_by(PollQuestion.position)
    ).all()
    options = session.execute(
        select(PollOption.question_id, PollOption.id, PollOption.text)
        .where(PollOption.question_id.in_([q.id for q in rows]))
        .order_by(PollOption.question_id, PollOption.position)
    ).all()
    by_question: dict[int, list[tuple[int, str]]] = {q.id: [] for q in rows}
    for question_id, option_id, text in options:
        by_question[question_id].append((option_id, text))
    return [
        QuestionView(q.id, q.text, QuestionKind(q.kind), q.max_choices, q.max_points, by_question[q.id])
        for q in rows
    ]


def poll_rule(session: Session, poll: Poll) -> PollRule:
    """The rule answers to `poll` are judged by (voting.polls)."""
    return PollRule(
        poll.id,
        tuple(
            QuestionRule(q.id, q.kind, tuple(o for o, _ in q.options), q.max_choices, q.max_points)
            for q in questions_of(session, poll)
        ),
        who_of(poll),
    )


def publish_poll(session: Session, poll: Poll, now: datetime | None = None) -> None:
    """Open the poll to answers (from opens_at); its questions are fixed from now on."""
    if poll.published_at is not None:
        raise PollStateError(_l("Опитування вже оприлюднено."))
    problems = check_poll_rule(poll_rule(session, poll))
    if problems:  # the spec's checks make this unreachable; kept as the domain's word
        raise PollStateError(_l("Опитування має помилки: {codes}", codes=", ".join(p.code for p in problems)))
    poll.published_at = now or utcnow()


def community_poll(
    session: Session, community_id: int, poll_id: Any, *, published: bool = True
) -> Poll | None:
    """The community's poll by id (a published one unless asked otherwise); None for
    anything else, another community's poll included."""
    if type(poll_id) is not int or not 1 <= poll_id <= 2**31 - 1:
        return None
    poll = session.get(Poll, poll_id)
    if poll is None or poll.community_id != community_id or (published and poll.published_at is None):
        return None
    return poll
