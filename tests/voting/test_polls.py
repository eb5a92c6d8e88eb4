"""Polls, the domain (voting/polls.py, voting/poll_count.py): what an answer may be, the
record that travels, which answer counts and each kind's count. Each test tries to make
a promise fail: a wrong answer recorded, a record read back as something else, a count
that depends on arrival order, a ranking or points result off by one."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.messages import COUNTED, MESSAGES, message
from voting.poll_count import count_poll, distribution_of, question_result
from voting.polls import (
    MAX_OPTIONS,
    PollAnswerRecord,
    PollAnswerRefused,
    PollRule,
    QuestionKind,
    QuestionRule,
    canonical_answer,
    check_answers,
    check_poll_rule,
)

ONE = QuestionRule(1, QuestionKind.ONE, (11, 12, 13))
UP_TO = QuestionRule(2, QuestionKind.UP_TO, (21, 22, 23, 24), max_choices=2)
RANK = QuestionRule(3, QuestionKind.RANK, (31, 32, 33, 34), max_choices=3)
POINTS = QuestionRule(4, QuestionKind.POINTS, (41, 42, 43), max_points=5)
POLL = PollRule(7, (ONE, UP_TO, RANK, POINTS))
KEY = "a" * 64
WHEN = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


def _key(n: int) -> str:
    return f"{n:064x}"


def _record(answers: dict, *, voter: int = 1, at: timedelta = timedelta(0), answer_id: str | None = None):
    return PollAnswerRecord.create(
        answer_id=answer_id,
        poll=POLL,
        answers=answers,
        channel="kiosk",
        cast_at=WHEN + at,
        voter_key=_key(voter),
        device_id="T-0001",
    )


def _codes(problems) -> list[str]:
    return [p.code for p in problems]


def test_a_valid_answer_of_every_kind_is_recorded_in_canonical_form():
    record = _record({1: [12], 2: [23, 21], 3: [33, 31], 4: {43: 5, 41: 0, 42: 2}})
    assert dict(record.answers) == {1: (12,), 2: (21, 23), 3: (33, 31), 4: ((42, 2), (43, 5))}
    # a ranking keeps its order; points of 0 are the same as no points
    assert record.canonical_body()["answers"] == {
        "1": [12],
        "2": [21, 23],
        "3": [33, 31],
        "4": [[42, 2], [43, 5]],
    }


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        ({}, "poll.answer_empty"),
        ({1: []}, "poll.answer_none_chosen"),
        ({1: [11, 12]}, "poll.answer_one"),
        ({1: [99]}, "poll.answer_unknown_option"),
        ({2: [21, 22, 23]}, "poll.answer_too_many"),
        ({2: [21, 21]}, "poll.answer_option_twice"),
        ({3: [31, 32, 33, 34]}, "poll.answer_rank_too_many"),
        ({3: [31, 31]}, "poll.answer_option_twice"),
        ({4: {41: 6}}, "poll.answer_points_range"),
        ({4: {41: -1}}, "poll.answer_points_range"),
        ({4: {99: 1}}, "poll.answer_unknown_option"),
        ({9: [11]}, "poll.answer_unknown_question"),
    ],
)
def test_an_answer_that_breaks_its_questions_rule_is_refused_with_its_reason(answers, code):
    with pytest.raises(PollAnswerRefused) as refused:
        _record(answers)
    assert code in _codes(refused.value.problems)
    for problem in refused.value.problems:
        for locale in ("uk", "en"):
            text = message(problem.code, locale, **problem.params)
            assert "{" not in text and text.strip()


@pytest.mark.parametrize(
    "value",
    [[True], [1.0], ["11"], [[11]], "11", b"11", 11, None, [None], {11: 1}],
)
def test_option_ids_that_are_not_plain_integers_are_refused(value):
    with pytest.raises(ValueError):
        _record({1: value})


@pytest.mark.parametrize(
    "value", [[[41, 1, 2]], [(41,)], ["41:1"], [[41, True]], [[41, 1.5]], 5, [[41, 1], [41, 2]]]
)
def test_points_that_are_not_option_and_points_pairs_are_refused(value):
    with pytest.raises(ValueError):
        _record({4: value})


def test_an_oversized_answer_is_refused_before_it_is_read_through():
    with pytest.raises(ValueError, match="at most"):
        _record({2: list(range(1_000_000))})
    assert MAX_OPTIONS < 1_000_000


def test_exactly_one_voter_and_a_short_device_code():
    with pytest.raises(ValueError):
        PollAnswerRecord.create(poll=POLL, answers={1: [11]}, channel="web", cast_at=WHEN)
    with pytest.raises(ValueError):
        PollAnswerRecord.create(
            poll=POLL, answers={1: [11]}, channel="web", cast_at=WHEN, voter_key=KEY, code_id="c1"
        )
    with pytest.raises(ValueError):
        _record({1: [11]}).__class__.create(
            poll=POLL, answers={1: [11]}, channel="web", cast_at=WHEN, voter_key=KEY, device_id="x" * 65
        )
    with pytest.raises(ValueError):
        PollAnswerRecord.create(poll=POLL, answers={1: [11]}, channel="fax", cast_at=WHEN, voter_key=KEY)


def test_the_record_reads_back_as_itself_and_nothing_else_does():
    record = _record(
        {1: [13], 3: [34, 31, 32], 4: [[41, 5]]}, answer_id="0b7c2a46-65f5-4c33-9d6a-1f7d3a0f9f10"
    )
    body = record.canonical_body()
    again = PollAnswerRecord.from_canonical_body(body, POLL)
    assert again == record and again.content_hash() == record.content_hash()
    tampered = [
        {**body, "answers": {**body["answers"], "2": [22, 21]}},  # not canonical
        {**body, "poll": 8},
        {**body, "extra": 1},
        {**body, "v": 2},
        {**body, "cast_at": "2027-05-01 09:00:00"},
        {**body, "answers": {"one": [13]}},
        {**body, "answers": {"1": [13], "01": [12]}},
        {**body, "id": body["id"].upper()},
    ]
    for changed in tampered:
        with pytest.raises(ValueError):
            PollAnswerRecord.from_canonical_body(changed, POLL)
    other_order = _record({1: [13], 3: [31, 34, 32], 4: [[41, 5]]}, answer_id=record.answer_id)
    assert other_order.content_hash() != record.content_hash()


def test_the_poll_rule_is_checked_before_publishing():
    assert check_poll_rule(POLL) == []
    bad = PollRule(
        1,
        (
            QuestionRule(1, QuestionKind.ONE, (1,)),
            QuestionRule(2, QuestionKind.UP_TO, (1, 1, 2), max_choices=5),
            QuestionRule(3, QuestionKind.POINTS, (1, 2), max_points=0),
        ),
    )
    assert _codes(check_poll_rule(bad)) == [
        "poll.question_few_options",
        "poll.question_same_option",
        "poll.question_max_choices",
        "poll.question_max_points",
    ]
    assert _codes(check_poll_rule(PollRule(1, ()))) == ["poll.no_questions"]


def test_counting_by_kind_against_a_hand_count():
    answers = [
        {1: [11], 2: [21, 22], 3: [31, 32, 33], 4: {41: 5, 42: 1}},
        {1: [12], 2: [22], 3: [32, 31], 4: {41: 3}},
        {1: [11], 3: [33]},
        {2: [24, 21], 4: {43: 2}},
    ]
    records = [_record(a, voter=n) for n, a in enumerate(answers)]
    one, up_to, rank, points = count_poll(POLL, records)
    assert one.respondents == 3 and [(o.option_id, o.chosen) for o in one.options] == [
        (11, 2),
        (12, 1),
        (13, 0),
    ]
    assert one.options[0].share == pytest.approx(2 / 3)
    assert up_to.respondents == 3
    assert [(o.option_id, o.chosen) for o in up_to.options] == [(21, 2), (22, 2), (24, 1), (23, 0)]
    # Borda with 3 ranks: 1st 3 points, 2nd 2, 3rd 1, unranked 0
    by_id = {o.option_id: o for o in rank.options}
    assert {i: o.borda for i, o in by_id.items()} == {31: 3 + 2, 32: 2 + 3, 33: 1 + 3, 34: 0}
    assert by_id[31].distribution == (1, 1, 0) and by_id[31].mean_rank == pytest.approx(1.5)
    assert by_id[33].first == 1 and by_id[34].mean_rank is None
    assert [o.option_id for o in rank.options] == [31, 32, 33, 34]  # tie 31/32 in the poll's order
    assert rank.order == "borda"
    by_id = {o.option_id: o for o in points.options}
    assert points.respondents == 3
    assert by_id[41].points == 8 and by_id[41].mean_points == pytest.approx(8 / 3)
    assert by_id[41].distribution == (1, 0, 0, 1, 0, 1)  # 0 points once (the third respondent)
    assert by_id[43].distribution == (2, 0, 1, 0, 0, 0)
    assert [o.option_id for o in points.options] == [41, 43, 42]


def test_one_answer_per_voter_counts_the_earliest_then_the_smaller_id():
    late = _record({1: [13]}, voter=1, at=timedelta(minutes=5))
    early = _record({1: [11]}, voter=1, at=timedelta(minutes=1))
    same_ms_a = _record({1: [12]}, voter=2, answer_id="00000000-0000-4000-8000-000000000001")
    same_ms_b = _record({1: [13]}, voter=2, answer_id="00000000-0000-4000-8000-000000000002")
    (one, *_rest) = count_poll(POLL, [late, same_ms_b, early, same_ms_a])
    assert one.respondents == 2
    assert {o.option_id: o.chosen for o in one.options} == {11: 1, 12: 1, 13: 0}


def test_answers_to_another_poll_are_not_counted():
    other = PollRule(8, (ONE,))
    stray = PollAnswerRecord.create(poll=other, answers={1: [13]}, channel="web", cast_at=WHEN, voter_key=KEY)
    (one, *_rest) = count_poll(POLL, [stray, _record({1: [11]})])
    assert {o.option_id: o.chosen for o in one.options} == {11: 1, 12: 0, 13: 0}


_answer = st.fixed_dictionaries(
    {},
    optional={
        1: st.sampled_from([[11], [12], [13]]),
        2: st.lists(st.sampled_from([21, 22, 23, 24]), min_size=1, max_size=2, unique=True),
        3: st.lists(st.sampled_from([31, 32, 33, 34]), min_size=1, max_size=3, unique=True),
        4: st.dictionaries(st.sampled_from([41, 42, 43]), st.integers(0, 5), min_size=1),
    },
).filter(bool)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_answer, st.integers(0, 5), st.integers(0, 600)), min_size=1, max_size=30),
    st.randoms(),
)
def test_the_count_never_depends_on_arrival_order_or_repeats(rows, rnd):
    records = [_record(a, voter=v, at=timedelta(seconds=s)) for a, v, s in rows]
    first = count_poll(POLL, records)
    shuffled = records + records[: len(records) // 2]  # a sync sends some again
    rnd.shuffle(shuffled)
    assert count_poll(POLL, shuffled) == first
    for result in first:
        assert result.respondents <= len({v for _a, v, _s in rows})


def test_the_count_from_a_distribution_table_equals_the_count_from_answers():
    """The server counts with one SQL aggregate into the same table: question_result is
    the one place both end."""
    rng = random.Random(5)
    answers = [tuple(rng.sample(RANK.option_ids, rng.randint(1, 3))) for _ in range(500)]
    respondents, table = distribution_of(RANK, answers)
    as_rows = {key: n for key, n in table.items()}  # what a GROUP BY would return
    assert question_result(RANK, respondents, as_rows) == question_result(RANK, respondents, table)
    borda = {o.option_id: o.borda for o in question_result(RANK, respondents, table).options}
    expected = {option: 0 for option in RANK.option_ids}
    for answer in answers:
        for position, option in enumerate(answer):
            expected[option] += 3 - position
    assert borda == expected


def test_every_poll_message_has_both_languages_and_correct_ukrainian_counts():
    codes = [code for code in MESSAGES if code.startswith("poll.")]
    assert len(codes) >= 17
    for code in codes:
        params = dict.fromkeys(re.findall(r"{(\w+)}", MESSAGES[code]), 7)
        uk, en = message(code, "uk", **params), message(code, "en", **params)
        assert uk != en and "{" not in uk + en, code  # every placeholder filled in both
    assert message("poll.answer_too_many", "uk", question=2, limit=1).endswith("1 варіанта.")
    assert message("poll.answer_too_many", "uk", question=2, limit=3).endswith("3 варіантів.")
    assert message("poll.answer_too_many", "uk", question=2, limit=21).endswith("21 варіанта.")
    assert message("poll.answer_too_many", "en", question=2, limit=1).endswith("1 option.")
    assert "poll.answer_too_many" in COUNTED


def test_canonical_answer_refuses_text_for_a_list():
    with pytest.raises(ValueError):
        canonical_answer(QuestionKind.UP_TO, "21,22")
    assert check_answers(POLL, {1: (11,)}) == []


def test_one_id_with_two_contents_is_a_conflict_not_a_choice():
    first = _record({1: [11]}, answer_id="00000000-0000-4000-8000-0000000000aa")
    second = _record({1: [12]}, answer_id="00000000-0000-4000-8000-0000000000aa")
    with pytest.raises(ValueError, match="two different contents"):
        count_poll(POLL, [first, second])
