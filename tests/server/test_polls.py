"""Polls on the server: a poll made from a spec and published, the online platform's
answers stored exactly once with one counted answer per resident, the count as one SQL
aggregate equal to the domain's in-memory count."""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.models import Poll, PollAnswer, PollAnswerItem
from server.polls.count import count_poll
from server.polls.store import PollSpecError, PollStateError, create_poll, poll_rule, publish_poll
from voting.poll_count import count_poll as count_in_memory
from voting.polls import PollAnswerRecord

from .test_api_support import make_platform, rnokpp, wait_until_blocked


def assert_matches(schema_name: str, body: object) -> None:
    """`body` is valid against the served document's schema (built now: the polls'
    schemas join the document when their routes are imported)."""
    import jsonschema

    from server.api.openapi import build_openapi

    document = build_openapi()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


OPENS = datetime(2027, 5, 1, 6, 0, tzinfo=UTC)

SPEC = {
    "title": "Що робити з парком біля школи?",
    "description": "Опитування мешканців.",
    "opens_at": "2027-05-01T09:00:00+03:00",
    "closes_at": "2027-05-31T21:00:00+03:00",
    "questions": [
        {"text": "Чи потрібен парку ремонт?", "kind": "one", "options": ["Так", "Ні", "Не знаю"]},
        {
            "text": "Що додати?",
            "kind": "up_to",
            "max_choices": 2,
            "options": ["Лави", "Світло", "Туалет", "Фонтан"],
        },
        {
            "text": "Упорядкуйте за важливістю",
            "kind": "rank",
            "max_choices": 3,
            "options": ["А", "Б", "В", "Г"],
        },
        {
            "text": "Оцініть від 0 до 5",
            "kind": "points",
            "max_points": 5,
            "options": ["Чистота", "Безпека", "Тінь"],
        },
    ],
}


def _published(session, community_id: int, spec: dict | None = None) -> Poll:
    poll = create_poll(session, community_id, copy.deepcopy(spec or SPEC))
    publish_poll(session, poll)
    session.commit()
    return poll


def _ids(session, poll: Poll) -> list[tuple[int, list[int]]]:
    return [(q.question_id, list(q.option_ids)) for q in poll_rule(session, poll).questions]


def _answer(ids, *, voter: int, minutes: int = 60, pick: int = 0, **fields) -> dict:
    (one, one_opts), (up, up_opts), (rank, rank_opts), (points, pt_opts) = ids
    body = {
        "id": str(uuid.uuid4()),
        "voter_key": f"{voter:064x}",
        "cast_at": (OPENS + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "answers": {
            str(one): [one_opts[pick % 3]],
            str(up): up_opts[pick % 3 : pick % 3 + 2],
            str(rank): [rank_opts[(pick + i) % 4] for i in range(1 + pick % 3)],
            str(points): [[pt_opts[0], pick % 6], [pt_opts[2], 5 - pick % 6]],
        },
    }
    body.update(fields)
    return body


def _push(client, platform, poll, answers):
    return client.post(
        f"/api/v1/polls/{poll.id}/answers", json={"answers": answers}, headers=platform.headers()
    )


# --- making a poll -------------------------------------------------------------------


def test_a_poll_is_made_from_its_spec_and_published_once(session, make):
    community = make.community()
    poll = _published(session, community.id)
    rule = poll_rule(session, poll)
    assert [q.kind.value for q in rule.questions] == ["one", "up_to", "rank", "points"]
    assert [len(q.option_ids) for q in rule.questions] == [3, 4, 4, 3]
    assert rule.questions[2].max_choices == 3 and rule.questions[3].max_points == 5
    with pytest.raises(PollStateError):
        publish_poll(session, poll)


def _broken(change):
    spec = copy.deepcopy(SPEC)
    change(spec)
    return spec


HOSTILE_SPECS = {
    "not an object": ["title"],
    "no title": _broken(lambda s: s.pop("title")),
    "blank title": _broken(lambda s: s.update(title="   ")),
    "title too long": _broken(lambda s: s.update(title="я" * 201)),
    "control characters": _broken(lambda s: s.update(title="Парк\x00\x1b[2J")),
    "a number for a title": _broken(lambda s: s.update(title=5)),
    "unknown field": _broken(lambda s: s.update(admin=True)),
    "naive time": _broken(lambda s: s.update(opens_at="2027-05-01T09:00:00")),
    "not a time": _broken(lambda s: s.update(closes_at="завтра")),
    "closes before it opens": _broken(lambda s: s.update(closes_at="2027-04-01T09:00:00+03:00")),
    "no questions": _broken(lambda s: s.update(questions=[])),
    "51 questions": _broken(lambda s: s.update(questions=[SPEC["questions"][0]] * 51)),
    "questions not a list": _broken(lambda s: s.update(questions={"a": 1})),
    "a question not an object": _broken(lambda s: s["questions"].append("питання")),
    "unknown kind": _broken(lambda s: s["questions"][0].update(kind="essay")),
    "one option": _broken(lambda s: s["questions"][0].update(options=["Так"])),
    "101 options": _broken(lambda s: s["questions"][0].update(options=[f"в{i}" for i in range(101)])),
    "the same option twice": _broken(lambda s: s["questions"][1].update(options=["Лави", "лави"])),
    "an option not text": _broken(lambda s: s["questions"][1]["options"].append(None)),
    "up_to without a limit": _broken(lambda s: s["questions"][1].pop("max_choices")),
    "a limit above the options": _broken(lambda s: s["questions"][2].update(max_choices=5)),
    "a limit that is true": _broken(lambda s: s["questions"][2].update(max_choices=True)),
    "points without a top": _broken(lambda s: s["questions"][3].pop("max_points")),
    "points above 100": _broken(lambda s: s["questions"][3].update(max_points=101)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SPECS))
def test_a_broken_spec_names_its_problems_in_both_languages_and_stores_nothing(session, make, name):
    community = make.community()
    with pytest.raises(PollSpecError) as refused:
        create_poll(session, community.id, HOSTILE_SPECS[name])
    assert refused.value.problems
    for problem in refused.value.problems:
        assert problem.what.uk and problem.what.en and problem.what.uk != problem.what.en
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


# --- the platform's answers ----------------------------------------------------------


def test_the_platform_reads_published_polls_of_its_own_community_only(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id)
    create_poll(session, platform.community.id, copy.deepcopy(SPEC))  # a draft
    _published(session, make.community().id)  # another community's
    session.commit()
    body = client.get("/api/v1/polls", headers=platform.headers()).get_json()
    assert [p["id"] for p in body["polls"]] == [poll.id]
    assert_matches("Poll", body["polls"][0])
    assert [q["kind"] for q in body["polls"][0]["questions"]] == ["one", "up_to", "rank", "points"]


def test_answers_are_stored_once_and_the_count_equals_the_domains(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id)
    ids = _ids(session, poll)
    rng = random.Random(7)
    answers = [
        _answer(ids, voter=rng.randrange(40), minutes=rng.randrange(1, 5000), pick=rng.randrange(30))
        for _ in range(120)
    ]
    for start in range(0, len(answers), 25):
        response = _push(client, platform, poll, answers[start : start + 25])
        assert response.status_code == 200, response.get_json()
    again = _push(client, platform, poll, answers[:25])  # sent again: same standings, nothing new
    assert again.status_code == 200
    assert session.scalar(select(func.count()).select_from(PollAnswer)) == 120

    rule = poll_rule(session, poll)
    records = [
        PollAnswerRecord.from_canonical_body(body, rule) for body in session.scalars(select(PollAnswer.body))
    ]
    expected = count_in_memory(rule, records)
    assert count_poll(session, rule) == expected
    counted = session.scalar(
        select(func.count()).select_from(PollAnswer).where(PollAnswer.status == "counted")
    )
    assert counted == len({a["voter_key"] for a in answers}) == expected[0].respondents

    results = client.get(f"/api/v1/polls/{poll.id}/results", headers=platform.headers()).get_json()
    assert [q["respondents"] for q in results["questions"]] == [r.respondents for r in expected]
    assert (
        results["questions"][2]["order"] == "borda" and "by_position" in results["questions"][2]["options"][0]
    )


def test_an_earlier_answer_arriving_later_takes_over_and_the_items_follow(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id)
    ids = _ids(session, poll)
    late = _answer(ids, voter=1, minutes=500, pick=0)
    early = _answer(ids, voter=1, minutes=100, pick=1)
    first = _push(client, platform, poll, [late]).get_json()["results"]
    assert first[0]["status"] == "counted"
    second = _push(client, platform, poll, [early]).get_json()["results"]
    assert second[0]["status"] == "counted"
    stored = {a.id: a for a in session.scalars(select(PollAnswer))}
    assert stored[late["id"]].status == "duplicate" and stored[late["id"]].counted_answer_id == early["id"]
    counted_items = session.scalars(
        select(PollAnswerItem.answer_id).where(PollAnswerItem.counted.is_(True)).distinct()
    ).all()
    assert counted_items == [early["id"]]
    one = count_poll(session, poll_rule(session, poll))[0]
    assert {o.option_id: o.chosen for o in one.options}[ids[0][1][1]] == 1  # early's choice


def test_the_same_answers_in_any_order_and_batching_give_the_same_count(client, session, make):
    platform = make_platform(session, make)
    polls = [_published(session, platform.community.id) for _ in range(2)]
    rng = random.Random(11)
    plan = [(rng.randrange(15), rng.randrange(1, 900), rng.randrange(30)) for _ in range(60)]
    counts = []
    for n, poll in enumerate(polls):
        ids = _ids(session, poll)
        answers = [
            _answer(ids, voter=v, minutes=m, pick=p, id=str(uuid.UUID(int=n * 1000 + i + 1)))
            for i, (v, m, p) in enumerate(plan)
        ]
        if n:
            rng.shuffle(answers)
        size = 7 if n else 60
        for start in range(0, len(answers), size):
            assert _push(client, platform, poll, answers[start : start + size]).status_code == 200
        results = count_poll(session, poll_rule(session, poll))
        # Compare by position: each poll has its own question and option ids.
        counts.append(
            [(r.respondents, [o.chosen for o in r.options], [o.borda for o in r.options]) for r in results]
        )
    assert counts[0] == counts[1]


def test_an_id_sent_again_with_other_content_refuses_the_batch(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id)
    ids = _ids(session, poll)
    stored = _answer(ids, voter=1, pick=0)
    assert _push(client, platform, poll, [stored]).status_code == 200
    changed = {**stored, "answers": _answer(ids, voter=1, pick=1)["answers"]}
    fresh = _answer(ids, voter=2)
    response = _push(client, platform, poll, [fresh, changed])
    assert response.status_code == 409
    assert response.get_json()["error"]["conflicting_ids"] == [stored["id"]]
    assert session.scalar(select(func.count()).select_from(PollAnswer)) == 1  # the fresh one was not kept


def _hostile(ids) -> dict[str, object]:
    one, up, rank, points = (str(q) for q, _ in ids)
    opts = {q: o for q, o in ids}
    good = _answer(ids, voter=3)
    return {
        "not a list": "answers",
        "an item not an object": ["x"],
        "no id": [{k: v for k, v in good.items() if k != "id"}],
        "id not a uuid": [{**good, "id": "1; DROP TABLE poll"}],
        "both voter key and identity": [{**good, "identity": {"kind": "rnokpp", "number": "1"}}],
        "cast before the poll opens": [{**good, "cast_at": "2027-04-30T00:00:00Z"}],
        "cast after it closes": [{**good, "cast_at": "2027-06-30T00:00:00Z"}],
        "answers not an object": [{**good, "answers": [1, 2]}],
        "a question id not digits": [{**good, "answers": {"-1": [1]}}],
        "a question of another poll": [{**good, "answers": {"999999": [1]}}],
        "two options for one": [{**good, "answers": {one: opts[int(one)][:2]}}],
        "true for an option": [{**good, "answers": {one: [True]}}],
        "a string for a list": [{**good, "answers": {up: "1,2"}}],
        "three for up to two": [{**good, "answers": {up: opts[int(up)][:3]}}],
        "a rank twice": [{**good, "answers": {rank: [opts[int(rank)][0]] * 2}}],
        "points too many": [{**good, "answers": {points: [[opts[int(points)][0], 6]]}}],
        "points as floats": [{**good, "answers": {points: [[opts[int(points)][0], 2.5]]}}],
        "an unknown field": [{**good, "weight": 10}],
        "nothing answered": [{**good, "answers": {}}],
        "a huge list": [{**good, "answers": {up: list(range(5000))}}],
    }


@pytest.mark.parametrize("name", sorted(_hostile([(1, [1, 2, 3])] * 4)))
def test_a_hostile_batch_is_refused_whole_with_reasons_and_stores_nothing(client, session, make, name):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id)
    ids = _ids(session, poll)
    items = _hostile(ids)[name]
    body = {"answers": [_answer(ids, voter=9), *items]} if isinstance(items, list) else {"answers": items}
    response = client.post(
        f"/api/v1/polls/{poll.id}/answers", json=body, headers={**platform.headers(), "Accept-Language": "en"}
    )
    assert response.status_code == 422, response.get_json()
    problems = response.get_json()["error"]["items"]
    assert problems and all(p["message"] and "{" not in p["message"] for p in problems)
    assert session.scalar(select(func.count()).select_from(PollAnswer)) == 0


def test_a_draft_or_another_communitys_poll_is_not_found(client, session, make):
    platform = make_platform(session, make)
    draft = create_poll(session, platform.community.id, copy.deepcopy(SPEC))
    other = _published(session, make.community().id)
    session.commit()
    for poll in (draft, other):
        assert _push(client, platform, poll, [{"id": str(uuid.uuid4())}]).status_code == 404
        assert client.get(f"/api/v1/polls/{poll.id}/results", headers=platform.headers()).status_code == 404
    assert client.get("/api/v1/polls/0/results", headers=platform.headers()).status_code == 404
    assert client.get("/api/v1/polls", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_resident_named_by_document_counts_once_with_their_key(client, session, make):
    platform = make_platform(session, make)
    poll = _published(session, platform.community.id)
    ids = _ids(session, poll)
    by_document = _answer(ids, voter=0, minutes=10)
    del by_document["voter_key"]
    by_document["identity"] = {"kind": "rnokpp", "number": rnokpp("305912748")}
    assert _push(client, platform, poll, [by_document]).status_code == 200
    key = session.scalar(select(PollAnswer.voter)).removeprefix("key:")
    assert len(key) == 64 and rnokpp("305912748") not in str(session.scalar(select(PollAnswer.body)))
    later = _answer(ids, voter=0, minutes=20, voter_key=key)
    assert _push(client, platform, poll, [later]).get_json()["results"][0]["status"] == "duplicate"


def test_an_administrator_makes_publishes_and_counts_a_poll_from_the_command_line(
    app, make, session, monkeypatch, tmp_path
):
    import json

    from click.testing import CliRunner

    from spilno.cli import main

    community = make.community()
    session.commit()
    for name, value in (
        ("SPILNO_DATABASE_URL", app.config["DATABASE_URL"]),
        ("SPILNO_SECRET_KEY", "s" * 32),
        ("SPILNO_VOTER_KEY_SECRET", "ab" * 32),
        ("SPILNO_SIGNING_KEY", app.config["SIGNING_KEY"]),
    ):
        monkeypatch.setenv(name, value)
    spec = tmp_path / "poll.json"
    spec.write_text(json.dumps(SPEC, ensure_ascii=False), encoding="utf-8")
    made = CliRunner().invoke(main, ["server", "polls", "create", "--community", community.slug, str(spec)])
    assert made.exit_code == 0, made.output
    poll_id = int(made.output.rsplit("#", 1)[1])
    assert CliRunner().invoke(main, ["server", "polls", "publish", str(poll_id)]).exit_code == 0
    again = CliRunner().invoke(main, ["server", "polls", "publish", str(poll_id)])
    assert again.exit_code == 1 and "already published" in again.output
    counted = CliRunner().invoke(main, ["server", "polls", "results", str(poll_id)])
    assert counted.exit_code == 0 and json.loads(counted.output)["questions"][0]["respondents"] == 0

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**SPEC, "questions": [{"text": "?", "kind": "essay", "options": []}]}))
    refused = CliRunner().invoke(
        main, ["server", "polls", "create", "--community", community.slug, str(broken)]
    )
    assert refused.exit_code == 1 and "questions[0].kind" in refused.output and "options" in refused.output
    not_json = tmp_path / "not.json"
    not_json.write_bytes(b"\xff\xfe{")
    assert (
        CliRunner()
        .invoke(main, ["server", "polls", "create", "--community", community.slug, str(not_json)])
        .exit_code
        == 1
    )
    assert session.scalar(select(func.count()).select_from(Poll)) == 1


def test_an_answer_id_stored_by_another_push_at_the_same_moment_is_never_stored_twice(
    client, session, make, engine
):
    """Another push (for another voter) inserts the same new id while ours runs: the
    per-voter lock does not hold them apart, so ours meets it at the primary key. Ours
    answers 503 and keeps nothing; sent again, it is told the id is taken (409)."""
    import threading

    from sqlalchemy import insert

    platform = make_platform(session, make)
    poll = _published(session, platform.community.id)
    ids = _ids(session, poll)
    ours = _answer(ids, voter=1)
    other = engine.connect()
    transaction = other.begin()
    other.execute(
        insert(PollAnswer).values(
            id=ours["id"],
            community_id=platform.community.id,
            poll_id=poll.id,
            voter=f"key:{2:064x}",
            channel="web",
            cast_at=OPENS,
            received_at=OPENS,
            content_hash="f" * 64,
            body={},
            source="api:other",
            status="counted",
        )
    )
    answers = []
    pusher = threading.Thread(target=lambda: answers.append(_push(client, platform, poll, [ours])))
    pusher.start()
    try:
        wait_until_blocked(engine)
        transaction.commit()
    finally:
        other.close()
        pusher.join(timeout=10)
    [response] = answers
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert session.scalar(select(func.count()).select_from(PollAnswerItem)) == 0
    again = _push(client, platform, poll, [ours])
    assert again.status_code == 409 and again.get_json()["error"]["conflicting_ids"] == [ours["id"]]
