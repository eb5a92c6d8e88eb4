"""Polls in the package, as a device reads them: typed, in their order, into the rule
voting.polls judges answers by; a package without polls reads as before; a poll that is
not what the server makes refuses the whole package, naming the field in both languages."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.cycle_package import CyclePackage, PackagedOption
from sync.package_fields import PackageError
from sync.package_parser import parse_package
from tests.kiosk.terminal_setup import PackageSigner, enrolled_store, make_package
from voting.poll_who import WhoMayAnswer
from voting.polls import PollRule, QuestionKind, QuestionRule, check_answers, check_poll_rule

from .test_package_parser import _JSON, _parent, full_package

OPENS = "2027-05-01T06:00:00.000Z"
CLOSES = "2027-05-31T18:00:00.000Z"


def _options(first_id: int, *texts: str) -> list[dict]:
    return [{"id": first_id + i, "position": i, "text": text} for i, text in enumerate(texts)]


def park_poll() -> dict:
    """A poll of the four kinds with who may answer, as server.sync.packages sends it."""
    return {
        "id": 5,
        "title": "Що робити з парком біля школи?",
        "description": "Опитування мешканців.",
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "who": {"min_age": 16, "voter_list": True, "district": "Центр"},
        "questions": [
            {
                "id": 11,
                "position": 0,
                "text": "Чи потрібен парку ремонт?",
                "kind": "one",
                "max_choices": None,
                "max_points": None,
                "options": _options(101, "Так", "Ні"),
            },
            {
                "id": 12,
                "position": 1,
                "text": "Що додати?",
                "kind": "up_to",
                "max_choices": 2,
                "max_points": None,
                "options": _options(111, "Лави", "Світло", "Туалет", "Фонтан"),
            },
            {
                "id": 13,
                "position": 2,
                "text": "Упорядкуйте",
                "kind": "rank",
                "max_choices": 3,
                "max_points": None,
                "options": _options(121, "А", "Б", "В", "Г"),
            },
            {
                "id": 14,
                "position": 3,
                "text": "Оцініть",
                "kind": "points",
                "max_choices": None,
                "max_points": 5,
                "options": _options(131, "Чистота", "Тінь"),
            },
        ],
    }


def square_poll() -> dict:
    """Anyone may answer; opens later."""
    return {
        "id": 6,
        "title": "Сквер",
        "description": "",
        "opens_at": "2027-06-01T06:00:00.000Z",
        "closes_at": "2027-06-10T18:00:00.000Z",
        "who": {"min_age": None, "voter_list": False, "district": None},
        "questions": [
            {
                "id": 21,
                "position": 0,
                "text": "Лави чи клумби?",
                "kind": "rank",
                "max_choices": None,
                "max_points": None,
                "options": _options(201, "Лави", "Клумби"),
            }
        ],
    }


def with_polls() -> dict:
    package = full_package()
    package["polls"] = [park_poll(), square_poll()]
    return package


def without(path: str) -> dict:
    package = with_polls()
    node, last = _parent(package, path)
    del node[last]
    return package


def with_value(path: str, value: object) -> dict:
    package = with_polls()
    node, last = _parent(package, path)
    node[last] = value
    return package


def refusal(package: object) -> PackageError:
    with pytest.raises(PackageError) as caught:
        parse_package(package)
    return caught.value


PARK_RULE = PollRule(
    5,
    (
        QuestionRule(11, QuestionKind.ONE, (101, 102)),
        QuestionRule(12, QuestionKind.UP_TO, (111, 112, 113, 114), max_choices=2),
        QuestionRule(13, QuestionKind.RANK, (121, 122, 123, 124), max_choices=3),
        QuestionRule(14, QuestionKind.POINTS, (131, 132), max_points=5),
    ),
    WhoMayAnswer(16, True, "Центр"),
)


def test_polls_read_into_their_types_and_the_rule_answers_are_judged_by():
    package = parse_package(with_polls())
    park, square = package.polls
    assert (park.id, park.title, park.description) == (
        5,
        "Що робити з парком біля школи?",
        "Опитування мешканців.",
    )
    assert park.opens_at == datetime(2027, 5, 1, 6, tzinfo=UTC) and park.closes_at.tzinfo is not None
    assert park.rule() == PARK_RULE and check_poll_rule(park.rule()) == []
    assert square.who == WhoMayAnswer() and square.who.anyone and square.description == ""
    assert square.questions[0].max_choices is None and square.questions[0].rule().most_chosen == 2
    assert park.questions[1].options[3] == PackagedOption(114, 3, "Фонтан")
    assert park.question(13) is park.questions[2] and park.question(99) is None
    assert package.poll(6) is square and package.poll(7) is None
    # An answer is judged offline by the domain's own function.
    assert check_answers(park.rule(), {11: (101,), 12: (111, 114), 13: (123, 121), 14: ((132, 5),)}) == []
    codes = [p.code for p in check_answers(park.rule(), {12: (111, 112, 113), 14: ((131, 6),)})]
    assert codes and all(code.startswith("poll.") for code in codes)


def test_open_polls_are_those_whose_window_holds_now():
    package = parse_package(with_polls())
    may = datetime(2027, 5, 15, tzinfo=UTC)
    assert [p.id for p in package.open_polls(may)] == [5]
    assert package.open_polls(datetime(2027, 4, 30, tzinfo=UTC)) == []
    assert [p.id for p in package.open_polls(datetime(2027, 6, 5, tzinfo=UTC))] == [6]
    park = package.polls[0]
    assert park.window_state(park.opens_at - timedelta(seconds=1)) == "not_yet"
    assert park.window_state(park.opens_at) == "open"
    assert park.window_state(park.closes_at) == "ended"


@pytest.mark.parametrize("polls", ["absent", None, []])
def test_a_package_without_polls_reads_as_before(polls):
    package = full_package()
    if polls != "absent":
        package["polls"] = polls
    read = parse_package(package)
    assert isinstance(read, CyclePackage) and read.polls == () and read.open_polls(datetime.now(UTC)) == []
    assert read == parse_package(full_package())


def test_questions_and_options_are_read_in_their_order_whatever_order_they_came_in():
    package = with_polls()
    park = package["polls"][0]
    park["questions"].reverse()
    park["questions"][0]["options"].reverse()  # the points question's options
    read = parse_package(package)
    assert read.polls[0].rule() == PARK_RULE
    assert [q.position for q in read.polls[0].questions] == [0, 1, 2, 3]


def test_fields_this_device_does_not_know_are_ignored_in_polls():
    package = with_polls()
    park = package["polls"][0]
    park["results_published_at"] = None
    park["who"]["residence"] = "anywhere"
    park["questions"][0]["image"] = {"sha256": None}
    park["questions"][0]["options"][0]["colour"] = "#fff"
    assert parse_package(package) == parse_package(with_polls())


REQUIRED = [
    *(f"polls[0].{key}" for key in ("id", "title", "opens_at", "closes_at", "who", "questions")),
    *(f"polls[0].who.{key}" for key in ("min_age", "voter_list", "district")),
    *(f"polls[0].questions[1].{key}" for key in ("id", "position", "text", "kind", "options", "max_choices")),
    "polls[0].questions[3].max_points",
    *(f"polls[0].questions[2].options[1].{key}" for key in ("id", "position", "text")),
]

OPTIONAL = [
    "polls",
    "polls[0].description",
    "polls[0].questions[0].max_choices",
    "polls[0].questions[0].max_points",
    "polls[0].questions[2].max_choices",
]


@pytest.mark.parametrize("path", REQUIRED)
def test_every_required_poll_field_is_refused_when_missing(path):
    error = refusal(without(path))
    assert error.code == "package.malformed" and error.where == path
    assert (
        error.detail
        == f"пакет пошкоджено: {path} поля немає / malformed package: {path} the field is missing"
    )


@pytest.mark.parametrize("path", OPTIONAL)
def test_an_optional_poll_field_may_be_missing_or_null(path):
    assert isinstance(parse_package(without(path)), CyclePackage)
    assert isinstance(parse_package(with_value(path, None)), CyclePackage)


Q0 = "polls[0].questions[0]"
Q1 = "polls[0].questions[1]"
Q3 = "polls[0].questions[3]"
# (path, value, where the refusal names: the path unless said, its English reason)
WRONG = [
    ("polls", {}, None, "must be a list"),
    ("polls", "all", None, "must be a list"),
    ("polls", [None], "polls[0]", "must be a JSON object"),
    ("polls", [[]], "polls[0]", "must be a JSON object"),
    ("polls[0].id", 0, None, "must be a positive number"),
    ("polls[0].id", -5, None, "must be a positive number"),
    ("polls[0].id", "5", None, "must be a whole number"),
    ("polls[0].id", 5.0, None, "must be a whole number"),
    ("polls[0].id", True, None, "must be a whole number"),
    ("polls[0].id", 2**63, None, "the number is out of range"),
    ("polls[1].id", 5, None, "is repeated"),
    ("polls[0].title", None, None, "must be text"),
    ("polls[0].title", "  ", None, "must not be empty"),
    ("polls[0].title", 5, None, "must be text"),
    ("polls[0].description", 5, None, "must be text"),
    ("polls[0].opens_at", "tomorrow", None, "must be an ISO 8601 time with a time zone"),
    ("polls[0].opens_at", "2027-05-01T06:00:00", None, "must be an ISO 8601 time with a time zone"),
    ("polls[0].closes_at", 1_800_000_000, None, "must be text"),
    ("polls[0].closes_at", OPENS, None, "must be later than opens_at"),
    ("polls[0].closes_at", "2027-04-01T06:00:00Z", None, "must be later than opens_at"),
    ("polls[0].who", None, None, "must be a JSON object"),
    ("polls[0].who", True, None, "must be a JSON object"),
    ("polls[0].who", [], None, "must be a JSON object"),
    ("polls[0].who.min_age", 0, None, "the number is out of range"),
    ("polls[0].who.min_age", 121, None, "the number is out of range"),
    ("polls[0].who.min_age", "16", None, "must be a whole number"),
    ("polls[0].who.min_age", 16.0, None, "must be a whole number"),
    ("polls[0].who.min_age", True, None, "must be a whole number"),
    ("polls[0].who.voter_list", None, None, "must be true or false"),
    ("polls[0].who.voter_list", 1, None, "must be true or false"),
    ("polls[0].who.voter_list", "true", None, "must be true or false"),
    ("polls[0].who.district", "", None, "must be a district's name"),
    ("polls[0].who.district", "  Центр", None, "must be a district's name"),
    ("polls[0].who.district", "Центр\u200b", None, "must be a district's name"),
    ("polls[0].who.district", "Cентр", None, "must be a district's name"),  # a Latin C
    (
        "polls[0].who.district",
        "Солом'янський",
        None,
        "must be a district's name",
    ),  # not the stored apostrophe
    ("polls[0].who.district", 5, None, "must be text"),
    ("polls[0].questions", [], None, "the number of items is out of range"),
    (
        "polls[0].questions",
        [copy.deepcopy(park_poll()["questions"][0])] * 51,
        None,
        "the number of items is out of range",
    ),
    ("polls[0].questions", {}, None, "must be a list"),
    ("polls[0].questions", [None], "polls[0].questions[0]", "must be a JSON object"),
    (f"{Q1}.id", 11, None, "is repeated"),
    (f"{Q0}.id", None, None, "must be a whole number"),
    (f"{Q0}.position", -1, None, "the number is out of range"),
    (f"{Q0}.position", "0", None, "must be a whole number"),
    (f"{Q0}.text", "", None, "must not be empty"),
    (f"{Q0}.text", ["Так"], None, "must be text"),
    (f"{Q0}.kind", "many", None, "unknown kind of question"),
    (f"{Q0}.kind", "ONE", None, "unknown kind of question"),
    (f"{Q0}.kind", None, None, "must be text"),
    (f"{Q0}.kind", 1, None, "must be text"),
    (f"{Q0}.options", [], None, "the number of items is out of range"),
    (f"{Q0}.options", _options(101, "Так"), None, "the number of items is out of range"),
    (f"{Q0}.options", _options(1000, *("x" * 101)), None, "the number of items is out of range"),
    (f"{Q0}.options", {"101": "Так"}, None, "must be a list"),
    (f"{Q0}.options", None, None, "must be a list"),
    (f"{Q0}.options[0]", "Так", None, "must be a JSON object"),
    (f"{Q0}.options[1].id", 101, None, "is repeated"),
    (f"{Q0}.options[1].id", 0, None, "must be a positive number"),
    (f"{Q0}.options[1].text", " ", None, "must not be empty"),
    (f"{Q0}.options[1].position", 1.5, None, "must be a whole number"),
    (f"{Q0}.max_choices", 1, None, "does not apply to this kind of question"),
    (f"{Q0}.max_points", 1, None, "does not apply to this kind of question"),
    (f"{Q1}.max_choices", 0, None, "the number is out of range"),
    (f"{Q1}.max_choices", 5, None, "the number is out of range"),  # four options
    (f"{Q1}.max_choices", "2", None, "must be a whole number"),
    (f"{Q1}.max_choices", True, None, "must be a whole number"),
    (f"{Q1}.max_points", 3, None, "does not apply to this kind of question"),
    (f"{Q1}.max_choices", None, None, "the field is missing"),  # up_to needs its limit
    ("polls[0].questions[2].max_choices", 5, None, "the number is out of range"),
    (f"{Q3}.max_points", 0, None, "the number is out of range"),
    (f"{Q3}.max_points", 101, None, "the number is out of range"),
    (f"{Q3}.max_points", None, None, "the field is missing"),
    (f"{Q3}.max_points", math.nan, None, "must be a whole number"),
    (f"{Q3}.max_choices", 1, None, "does not apply to this kind of question"),
]


@pytest.mark.parametrize(
    ("path", "value", "where", "reason"), WRONG, ids=[f"{p}={v!r:.20}" for p, v, _, _ in WRONG]
)
def test_a_malformed_poll_is_refused_naming_the_field_in_both_languages(path, value, where, reason):
    error = refusal(with_value(path, value))
    assert error.code == "package.malformed" and error.where == (where or path)
    uk, en = error.detail.split(" / ")
    assert (
        uk.startswith(f"пакет пошкоджено: {error.where} ")
        and en == f"malformed package: {error.where} {reason}"
    )


def test_a_hostile_poll_in_a_signed_package_is_refused_by_the_store_and_the_held_one_stays(tmp_path):
    signer = PackageSigner()
    store = enrolled_store(tmp_path / "device.sqlite", signer, with_package=False)
    good = make_package(signer.public_key, 1)
    good["polls"] = [park_poll()]
    held = store.store_package(signer.envelope(good))
    assert held.content.polls[0].rule() == PARK_RULE
    hostile = make_package(signer.public_key, 2)
    hostile["polls"] = [park_poll()]
    hostile["polls"][0]["questions"][2]["kind"] = "__import__('os')"
    with pytest.raises(PackageError) as caught:
        store.store_package(signer.envelope(hostile))
    assert caught.value.where == "polls[0].questions[2].kind"
    assert "unknown kind of question" in str(caught.value) and "невідомий вид питання" in str(caught.value)
    assert store.package() == held and store.package_version() == 1


_PATHS = sorted(set(REQUIRED + OPTIONAL + [p for p, _, _, _ in WRONG]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(_PATHS), value=_JSON)
def test_any_json_anywhere_in_a_poll_reads_or_is_refused_never_anything_else(path, value):
    try:
        package = parse_package(with_value(path, copy.deepcopy(value)))
    except PackageError as error:
        assert error.code == "package.malformed" and " / malformed package:" in error.detail
        return
    # What reads is a poll the domain accepts, and answers can be judged against it.
    for poll in package.polls:
        rule = poll.rule()
        assert check_poll_rule(rule) == []
        first = {
            q.id: ((q.options[0].id, 1),) if q.kind is QuestionKind.POINTS else (q.options[0].id,)
            for q in poll.questions
        }
        assert check_answers(rule, first) == []
        poll.window_state(datetime.now(UTC))
