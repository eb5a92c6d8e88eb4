"""Polls (опитування): questions a community asks its residents, beside the budget vote.

A poll has one or more questions, each of one kind:

- ``one``: choose exactly one option;
- ``up_to``: choose between 1 and ``max_choices`` options;
- ``rank``: put between 1 and ``max_choices`` options in order, best first (a partial
  ranking is allowed, as on paper, where a resident often ranks only the few they care
  about);
- ``points``: give any of the options 0 to ``max_points`` points (an option left out has 0).

A resident may leave a question unanswered, but an answer answers at least one question,
and a question that is answered follows its kind's rule. The rule is checked where the
answer is made (terminal, paper review, code page, the online platform's API) with the
same function, `check_answers`, and again by the server.

The answer record is a vote's twin (voting/record.py): an id made where it is cast, a
canonical JSON body and its SHA-256, exactly one of a voter key or a code. Which answer
counts is voting/counting.py's rule, unchanged: per poll and voter, the earliest valid
answer (ties: the smaller id); the count of each kind is voting/poll_count.py.

Who may answer is voting/poll_who.py (`WhoMayAnswer`, `answer_refusal`): the budget
vote's rules, not a copy of them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .ballot import Problem
from .channels import Channel
from .poll_who import ANYONE, WhoMayAnswer, check_who
from .record import (
    canonical_json,
    canonical_time,
    canonical_vote_id,
    check_device,
    check_voter,
    format_time,
    read_cast_time,
    voter_of,
)

ANSWER_VERSION = 1
MAX_QUESTIONS = 50
MAX_OPTIONS = 100  # a question's options
MAX_POINTS = 100  # the most points one option may be given
_BODY_KEYS = {"v", "id", "poll", "voter_key", "code", "answers", "channel", "device", "cast_at"}


class QuestionKind(StrEnum):
    ONE = "one"
    UP_TO = "up_to"
    RANK = "rank"
    POINTS = "points"


@dataclass(frozen=True, slots=True)
class QuestionRule:
    """What one question accepts. `max_choices`: up_to and rank (None: every option);
    `max_points`: points."""

    question_id: int
    kind: QuestionKind
    option_ids: tuple[int, ...]
    max_choices: int | None = None
    max_points: int | None = None

    @property
    def most_chosen(self) -> int:
        if self.kind is QuestionKind.ONE:
            return 1
        return min(self.max_choices or len(self.option_ids), len(self.option_ids))


@dataclass(frozen=True, slots=True)
class PollRule:
    poll_id: int
    questions: tuple[QuestionRule, ...]
    who: WhoMayAnswer = field(default=ANYONE)

    def question(self, question_id: int) -> QuestionRule | None:
        for question in self.questions:
            if question.question_id == question_id:
                return question
        return None


def check_poll_rule(poll: PollRule) -> list[Problem]:
    """Problems of the poll itself, before it may be published (the console's check)."""
    problems: list[Problem] = []
    if not poll.questions:
        problems.append(Problem("poll.no_questions"))
    if len(poll.questions) > MAX_QUESTIONS:
        problems.append(Problem("poll.too_many_questions", {"limit": MAX_QUESTIONS}))
    for number, question in enumerate(poll.questions, start=1):
        options = question.option_ids
        if len(options) < 2:
            problems.append(Problem("poll.question_few_options", {"question": number}))
        if len(options) > MAX_OPTIONS:
            problems.append(Problem("poll.question_many_options", {"question": number, "limit": MAX_OPTIONS}))
        if len(set(options)) != len(options):
            problems.append(Problem("poll.question_same_option", {"question": number}))
        if question.kind in (QuestionKind.UP_TO, QuestionKind.RANK) and question.max_choices is not None:
            if not 1 <= question.max_choices <= max(len(options), 1):
                problems.append(
                    Problem("poll.question_max_choices", {"question": number, "options": len(options)})
                )
        if question.kind is QuestionKind.POINTS and not 1 <= (question.max_points or 0) <= MAX_POINTS:
            problems.append(Problem("poll.question_max_points", {"question": number, "limit": MAX_POINTS}))
    problems.extend(check_who(poll.who))
    return problems


# An answer to one question, in canonical form:
#   one, up_to: the chosen option ids, ascending;
#   rank:       the ranked option ids, best first;
#   points:     (option id, points) pairs with points >= 1, by option id (0 is left out).
QuestionAnswer = tuple[int, ...] | tuple[tuple[int, int], ...]


def canonical_answer(kind: QuestionKind, value: object) -> QuestionAnswer:
    """A question's answer as given (a list of ids, or for points a mapping or pairs of
    id and points) in canonical form, or ValueError when it has the wrong shape."""
    if kind is QuestionKind.POINTS:
        pairs = value.items() if isinstance(value, Mapping) else value
        if not isinstance(pairs, Iterable) or isinstance(pairs, (str, bytes)):
            raise ValueError("points are given as option and points pairs")
        given: dict[int, int] = {}
        for pair in pairs:
            if not isinstance(pair, Sequence) or isinstance(pair, (str, bytes)) or len(pair) != 2:
                raise ValueError("points are given as option and points pairs")
            option, points = _int(pair[0]), _int(pair[1])
            if option in given:
                raise ValueError("an option is given points twice")
            given[option] = points
        return tuple((option, points) for option, points in sorted(given.items()) if points != 0)
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ValueError("a question's answer is a list of option ids")
    ids = tuple(_int(item) for item in value)
    return ids if kind is QuestionKind.RANK else tuple(sorted(ids))


def _int(value: object) -> int:
    if type(value) is not int:  # never a bool, a float or a numeric string
        raise ValueError("option ids and points are integers")
    return value


def check_answers(poll: PollRule, answers: Mapping[int, QuestionAnswer]) -> list[Problem]:
    """Problems of one resident's answers (canonical form) against the poll: an empty
    list when they may be recorded."""
    if not answers:
        return [Problem("poll.answer_empty")]
    problems: list[Problem] = []
    numbers = {question.question_id: n for n, question in enumerate(poll.questions, start=1)}
    for question_id in sorted(answers):
        question = poll.question(question_id)
        if question is None:
            problems.append(Problem("poll.answer_unknown_question"))
            continue
        problems.extend(_check_question(question, numbers[question_id], answers[question_id]))
    return problems


def _check_question(question: QuestionRule, position: int, answer: QuestionAnswer) -> list[Problem]:
    number = {"question": position}  # as the resident sees it: 1 for the first question
    offered = set(question.option_ids)
    if question.kind is QuestionKind.POINTS:
        pairs = [pair for pair in answer if isinstance(pair, tuple)]
        if len(pairs) != len(answer):
            return [Problem("poll.answer_shape", number)]
        problems = []
        if any(option not in offered for option, _ in pairs):
            problems.append(Problem("poll.answer_unknown_option", number))
        top = question.max_points or 0
        if any(not 0 <= points <= top for _, points in pairs):
            problems.append(Problem("poll.answer_points_range", {**number, "max": top}))
        return problems
    ids = [item for item in answer if isinstance(item, int)]
    if len(ids) != len(answer):
        return [Problem("poll.answer_shape", number)]
    if any(option not in offered for option in ids):
        return [Problem("poll.answer_unknown_option", number)]
    if len(set(ids)) != len(ids):
        return [Problem("poll.answer_option_twice", number)]
    if not ids:
        return [Problem("poll.answer_none_chosen", number)]
    if question.kind is QuestionKind.ONE and len(ids) != 1:
        return [Problem("poll.answer_one", number)]
    if len(ids) > question.most_chosen:
        code = "poll.answer_rank_too_many" if question.kind is QuestionKind.RANK else "poll.answer_too_many"
        return [Problem(code, {**number, "limit": question.most_chosen})]
    return []


def _answers_json(answers: Mapping[int, QuestionAnswer]) -> dict[str, list[int | list[int]]]:
    return {
        str(q): [list(item) if isinstance(item, tuple) else item for item in a]
        for q, a in sorted(answers.items())
    }


@dataclass(frozen=True, slots=True)
class PollAnswerRecord:
    """One resident's answers to one poll, as cast: the unit that travels and is
    counted once."""

    answer_id: str
    poll_id: int
    answers: tuple[tuple[int, QuestionAnswer], ...]  # by question id
    channel: Channel
    cast_at: datetime
    voter_key: str | None = None
    code_id: str | None = None
    device_id: str | None = None

    @classmethod
    def create(
        cls,
        *,
        answer_id: str | None = None,
        poll: PollRule,
        answers: Mapping[int, object],
        channel: Channel | str,
        cast_at: datetime,
        voter_key: str | None = None,
        code_id: str | None = None,
        device_id: str | None = None,
    ) -> PollAnswerRecord:
        """A record in canonical form; ValueError for a malformed one, PollAnswerRefused
        (with the problems) for one that breaks the poll's rule."""
        check_voter(voter_key, code_id, what="an answer")
        check_device(device_id)
        if len(answers) > MAX_QUESTIONS:
            raise ValueError(f"a poll has at most {MAX_QUESTIONS} questions")
        canonical: dict[int, QuestionAnswer] = {}
        for question_id, value in answers.items():
            question = poll.question(_int(question_id))
            if question is None:
                raise PollAnswerRefused([Problem("poll.answer_unknown_question")])
            if isinstance(value, Sized) and len(value) > MAX_OPTIONS:
                raise ValueError(f"a question has at most {MAX_OPTIONS} options")
            canonical[question.question_id] = canonical_answer(question.kind, value)
        problems = check_answers(poll, canonical)
        if problems:
            raise PollAnswerRefused(problems)
        return cls(
            answer_id=canonical_vote_id(answer_id or str(uuid.uuid4())),
            poll_id=poll.poll_id,
            answers=tuple(sorted(canonical.items())),
            channel=Channel(channel),
            cast_at=canonical_time(cast_at),
            voter_key=voter_key,
            code_id=code_id,
            device_id=device_id,
        )

    @property
    def voter(self) -> str:
        """Who this answer speaks for: the unit of "one counted answer" (as for votes)."""
        return voter_of(self.voter_key, self.code_id)

    def canonical_body(self) -> dict[str, object]:
        return {
            "v": ANSWER_VERSION,
            "id": self.answer_id,
            "poll": self.poll_id,
            "voter_key": self.voter_key,
            "code": self.code_id,
            "answers": _answers_json(dict(self.answers)),
            "channel": self.channel.value,
            "device": self.device_id,
            "cast_at": format_time(self.cast_at),
        }

    @classmethod
    def from_canonical_body(cls, body: object, poll: PollRule) -> PollAnswerRecord:
        """Read a record written by `canonical_body` for `poll`, refusing anything else."""
        if not isinstance(body, dict) or set(body) != _BODY_KEYS or body["v"] != ANSWER_VERSION:
            raise ValueError("not a canonical poll answer")
        if type(body["poll"]) is not int or body["poll"] != poll.poll_id:
            raise ValueError("the answer is for another poll")
        answers = body["answers"]
        if not isinstance(answers, dict) or any(not (isinstance(k, str) and k.isdigit()) for k in answers):
            raise ValueError("answers are keyed by question id")
        record = cls.create(
            answer_id=body["id"],
            poll=poll,
            answers={int(k): v for k, v in answers.items()},
            channel=body["channel"],
            cast_at=read_cast_time(body["cast_at"]),
            voter_key=body["voter_key"],
            code_id=body["code"],
            device_id=body["device"],
        )
        if record.canonical_body() != body:
            raise ValueError("poll answer is not in canonical form")
        return record

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.canonical_body())

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


@dataclass(frozen=True, slots=True)
class AnswerHeader:
    """What a poll answer's canonical body says about itself, read without its poll's
    rule: a device reads its own log back (to send it, to check its chain, to know who
    answered here) without the package the answer was cast under."""

    answer_id: str
    poll_id: int
    voter: str
    channel: Channel
    device_id: str | None
    cast_at: datetime


def answer_header(body: object) -> AnswerHeader:
    """The header of a body `PollAnswerRecord.canonical_body` could have written, or
    ValueError. The answers themselves are judged by the poll's rule where it is known
    (`PollAnswerRecord.from_canonical_body`): only their shape is checked here."""
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        raise ValueError("not a canonical poll answer")
    if type(body["v"]) is not int or body["v"] != ANSWER_VERSION:
        raise ValueError("not a canonical poll answer")
    poll_id = body["poll"]
    if type(poll_id) is not int or not 1 <= poll_id < 2**31:
        raise ValueError("the poll is a positive integer")
    answer_id = body["id"]
    if canonical_vote_id(answer_id) != answer_id:
        raise ValueError("the answer id is not in canonical form")
    voter_key, code_id = body["voter_key"], body["code"]
    if not isinstance(voter_key, str | None) or not isinstance(code_id, str | None):
        raise ValueError("voter_key and code are strings")
    check_voter(voter_key, code_id, what="an answer")
    check_device(body["device"])
    cast_at = read_cast_time(body["cast_at"])
    if not isinstance(body["channel"], str):
        raise ValueError("the channel is a string")
    answers = body["answers"]
    if not isinstance(answers, dict) or len(answers) > MAX_QUESTIONS:
        raise ValueError("answers are keyed by question id")
    return AnswerHeader(
        answer_id, poll_id, voter_of(voter_key, code_id), Channel(body["channel"]), body["device"], cast_at
    )


class PollAnswerRefused(ValueError):
    """Answers that break the poll's rule: nothing is recorded; `problems` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(problem.code for problem in problems))
        self.problems = problems
