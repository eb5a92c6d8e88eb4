"""A school runs a poll by its students' codes: a student who came in with a code (and
voted, or can no longer vote) is offered the school's open polls and answers them on
plain forms, each kind of question, once per code; everything hostile is refused with
a clear message and stores nothing. A school's poll never travels to terminals nor
takes the platform's answers, and its answers show in the count by channel."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from qr_codes.codes import normalise
from server.models import Community, Poll, PollAnswer, Role, VotingCode
from server.polls.count import count_poll
from server.polls.results import poll_results
from server.polls.store import PollSpecError, create_poll, poll_rule, publish_poll, questions_of
from server.school.codes import issue_codes, revoke_code
from server.school.keys import app_code_keys
from server.sync.packages import package_body
from tests.conftest import both_databases
from tests.factories import csrf, post, sign_in
from voting.record import canonical_json

from ..test_api_support import make_platform
from ..test_polls import SPEC
from .test_student_pages import choose, confirm, open_link, project_ids, text, type_code, unescaped

NOW = datetime.now(UTC).replace(microsecond=0)
ANSWERED_UK = "Цим кодом уже відповіли на це опитування. Кожен код дає одну відповідь на опитування."


def school_spec(
    school_id: int | None, *, title: str = "Що змінити в школі?", opens=None, closes=None
) -> dict:
    spec = copy.deepcopy(SPEC)
    spec.update(
        title=title,
        opens_at=(opens or NOW - timedelta(hours=1)).isoformat(),
        closes_at=(closes or NOW + timedelta(days=7)).isoformat(),
    )
    if school_id is not None:
        spec["school"] = school_id
    return spec


def make_poll(session, school, *, publish: bool = True, **fields) -> Poll:
    made = create_poll(session, school.community_id, school_spec(school.id, **fields))
    if publish:
        publish_poll(session, made)
    session.commit()
    return made


@pytest.fixture
def keys(app):
    return app_code_keys(app)


@pytest.fixture
def contest(make):
    return make.school_contest()


@pytest.fixture
def cards(session, contest, keys):
    issued = issue_codes(session, contest, "6-А", 3, keys)
    session.commit()
    return issued


@pytest.fixture
def poll(session, contest):
    return make_poll(session, contest.school)


def ids(session, poll: Poll):
    """(question id, [option ids]) of the poll's one, up_to (2), rank (3), points (5)."""
    return [(q.id, [o for o, _text in q.options]) for q in questions_of(session, poll)]


def answers_form(session, poll: Poll) -> dict:
    """A full answer: the first option; the first two; options 3, 1 ranked; points 5, 0, 2."""
    (one, one_o), (up, up_o), (rank, rank_o), (pts, pts_o) = ids(session, poll)
    return {
        f"q-{one}": str(one_o[0]),
        f"q-{up}": [str(up_o[0]), str(up_o[1])],
        f"q-{rank}-o-{rank_o[2]}": "1",
        f"q-{rank}-o-{rank_o[0]}": "2",
        f"q-{rank}-o-{rank_o[1]}": "",
        f"q-{rank}-o-{rank_o[3]}": "",
        f"q-{pts}-o-{pts_o[0]}": "5",
        f"q-{pts}-o-{pts_o[1]}": "0",
        f"q-{pts}-o-{pts_o[2]}": " 2 ",
    }


def send(client, poll_id: int, data: dict):
    return client.post(f"/s/polls/{poll_id}", data={**data, "csrf_token": csrf(client)})


def stored(session) -> list[PollAnswer]:
    session.expire_all()
    return list(session.scalars(select(PollAnswer).order_by(PollAnswer.cast_at)))


def voted(client, session, contest, code: str) -> None:
    assert open_link(client, code).status_code == 303
    assert choose(client, project_ids(session, contest)[0]).status_code == 303
    assert confirm(client).status_code == 303


# --- the whole way through ----------------------------------------------------------------


@both_databases
def test_after_voting_the_student_answers_a_poll_of_all_four_kinds(
    client, session, contest, cards, poll, keys
):
    voted(client, session, contest, cards[0].code)
    thanks = text(client.get("/s/thanks"))
    assert "Опитування школи" in thanks and poll.title in thanks
    assert f'href="/s/polls/{poll.id}"' in thanks

    page = client.get(f"/s/polls/{poll.id}")
    body = text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert cards[0].code not in body and normalise(cards[0].code) not in body
    assert body.count('<fieldset class="question"') == 4 and body.count("<legend>") == 4
    assert "Оберіть один варіант." in body and "Оберіть один чи кілька варіантів, найбільше: 2." in body
    assert "Місць: 3" in body and "бали від 0 до 5" in body
    assert "Пропустити питання" in body and "Без місця" in body and 'type="number"' in body

    sent = send(client, poll.id, answers_form(session, poll))
    assert sent.status_code == 303 and sent.headers["Location"] == "/s/polls/done"
    done = text(client.get("/s/polls/done"))
    assert "Дякуємо! Вашу відповідь зараховано." in done
    assert "На всі відкриті опитування школи цим кодом уже відповіли." in done

    (answer,) = stored(session)
    (one, one_o), (up, up_o), (rank, rank_o), (pts, pts_o) = ids(session, poll)
    assert answer.channel == "school_code" and answer.status == "counted"
    assert answer.voter == f"code:{keys.verifier(normalise(cards[0].code))}"
    assert answer.body["code"] == keys.verifier(normalise(cards[0].code)) and answer.body["voter_key"] is None
    assert answer.body["answers"] == {
        str(one): [one_o[0]],
        str(up): sorted(up_o[:2]),
        str(rank): [rank_o[2], rank_o[0]],
        str(pts): [[pts_o[0], 5], [pts_o[2], 2]],  # zero points are left out
    }


def test_a_code_that_already_voted_is_offered_the_polls_when_it_comes_back(
    app, client, session, contest, cards, poll
):
    voted(client, session, contest, cards[0].code)
    later = app.test_client()  # another day, another phone
    refused = open_link(later, cards[0].code)
    assert refused.status_code == 409 and "Код уже використано" in text(refused)
    assert f'href="/s/polls/{poll.id}"' in text(refused)
    typed = type_code(app.test_client(), cards[0].code)
    assert typed.status_code == 409 and f'href="/s/polls/{poll.id}"' in text(typed)
    assert send(later, poll.id, answers_form(session, poll)).status_code == 303
    assert len(stored(session)) == 1


def test_a_code_whose_vote_has_not_opened_may_answer_and_one_that_may_vote_may_too(
    app, client, session, make, keys
):
    waiting = make.school_contest(open_now=False)
    (card,) = issue_codes(session, waiting, "5-Б", 1, keys)
    session.commit()
    poll = make_poll(session, waiting.school)
    refused = open_link(client, card.code)
    assert refused.status_code == 403 and f'href="/s/polls/{poll.id}"' in text(refused)
    assert send(client, poll.id, answers_form(session, poll)).status_code == 303

    fresh = make.school_contest(waiting.school)
    (other,) = issue_codes(session, fresh, "7-В", 1, keys)
    session.commit()
    phone = app.test_client()
    assert open_link(phone, other.code).headers["Location"] == "/s/ballot"
    assert send(phone, poll.id, answers_form(session, poll)).status_code == 303
    assert [a.status for a in stored(session)] == ["counted", "counted"]


def test_the_polls_list_and_no_polls(client, session, contest, cards):
    open_link(client, cards[0].code)
    empty = client.get("/s/polls")
    assert empty.status_code == 200 and "Зараз у школи немає відкритих опитувань." in text(empty)
    assert 'id="polls-offer"' not in text(client.get("/s/thanks"))  # no polls: nothing offered


def test_without_a_code_the_poll_pages_send_to_the_code_form(client, poll):
    for url in ("/s/polls", f"/s/polls/{poll.id}", "/s/polls/done"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/s/"
    assert client.post(f"/s/polls/{poll.id}", data={"csrf_token": csrf(client)}).status_code == 303


def test_the_pages_speak_english_too(client, session, contest, cards, poll):
    open_link(client, cards[0].code)
    page = unescaped(client.get(f"/s/polls/{poll.id}?lang=en"))
    assert '<html lang="en">' in page
    assert "Choose one option." in page and "Choose one or more options, at most 2." in page
    assert "Skip this question" in page and "No place" in page and "Send answers" in page
    refused = send(client, poll.id, {})
    assert refused.status_code == 400 and "Answer at least one question." in unescaped(refused)


# --- once per code ------------------------------------------------------------------------


@both_databases
def test_a_code_answers_a_poll_once(app, client, session, contest, cards, poll):
    open_link(client, cards[0].code)
    assert send(client, poll.id, answers_form(session, poll)).status_code == 303
    again = client.get(f"/s/polls/{poll.id}")
    assert again.status_code == 409 and ANSWERED_UK in text(again) and "Ви вже відповіли" in text(again)
    resent = send(client, poll.id, answers_form(session, poll))
    assert resent.status_code == 409 and ANSWERED_UK in text(resent)
    other_phone = app.test_client()
    open_link(other_phone, cards[0].code)
    assert send(other_phone, poll.id, answers_form(session, poll)).status_code == 409
    assert len(stored(session)) == 1
    # Another student's code answers on its own.
    classmate = app.test_client()
    open_link(classmate, cards[1].code)
    assert send(classmate, poll.id, answers_form(session, poll)).status_code == 303
    assert count_poll(session, poll_rule(session, poll))[0].respondents == 2


def test_two_phones_with_one_code_at_the_same_moment_store_one_answer(app, session, contest, cards, poll):
    from .test_student_pages import race

    phones = [app.test_client() for _ in range(4)]
    for phone in phones:
        open_link(phone, cards[0].code)
        csrf(phone)
    form = answers_form(session, poll)
    results = race([lambda phone=phone: send(phone, poll.id, form) for phone in phones])
    assert sorted(r.status_code for r in results) == [303, 409, 409, 409]
    assert len(stored(session)) == 1


# --- refused, nothing stored --------------------------------------------------------------


def test_a_revoked_code_may_not_answer(client, session, contest, cards, poll):
    open_link(client, cards[0].code)
    assert client.get(f"/s/polls/{poll.id}").status_code == 200
    revoke_code(session, contest, session.get(VotingCode, cards[0].code_id), "загубив")
    session.commit()
    refused = send(client, poll.id, answers_form(session, poll))
    assert refused.status_code == 410 and "Код відкликано" in text(refused)
    assert stored(session) == []
    assert client.get("/s/polls").status_code == 303  # the code is forgotten


def test_another_schools_poll_a_draft_and_a_community_poll_are_not_offered_nor_answerable(
    client, session, make, contest, cards, poll
):
    other_school = make.school(session.get(Community, contest.school.community_id))
    theirs = make_poll(session, other_school, title="Чуже опитування")
    draft = make_poll(session, contest.school, title="Чернетка", publish=False)
    community_poll = create_poll(session, contest.school.community_id, school_spec(None, title="Громада"))
    publish_poll(session, community_poll)
    session.commit()
    open_link(client, cards[0].code)
    listing = text(client.get("/s/polls"))
    assert poll.title in listing
    assert "Чуже опитування" not in listing and "Чернетка" not in listing and "Громада" not in listing
    for other in (theirs, draft, community_poll):
        refused = send(client, other.id, answers_form(session, other))
        assert refused.status_code == 404 and "Такого опитування для вашої школи немає." in text(refused)
    assert client.get("/s/polls/99999999999").status_code == 404
    assert stored(session) == []


def test_a_poll_not_yet_open_or_closed_is_refused(client, session, contest, cards):
    coming = make_poll(session, contest.school, opens=NOW + timedelta(days=1), closes=NOW + timedelta(days=2))
    ended = make_poll(session, contest.school, opens=NOW - timedelta(days=2), closes=NOW - timedelta(days=1))
    open_link(client, cards[0].code)
    assert "Це опитування ще не почалося" in text(client.get(f"/s/polls/{coming.id}"))
    refused = send(client, ended.id, answers_form(session, ended))
    assert refused.status_code == 403 and "Це опитування вже завершено" in text(refused)
    assert stored(session) == []


def tampered(session, poll: Poll, change: str) -> dict:
    (one, one_o), (up, up_o), (rank, rank_o), (pts, pts_o) = ids(session, poll)
    form = answers_form(session, poll)
    if change == "unknown question":
        form["q-999999"] = str(one_o[0])
    elif change == "unknown option field":
        form[f"q-{rank}-o-999999"] = "1"
    elif change == "option of another question":
        form[f"q-{one}"] = str(up_o[0])
    elif change == "not a number":
        form[f"q-{up}"] = ["1.0"]
    elif change == "two answers to one":
        form[f"q-{one}"] = [str(one_o[0]), str(one_o[1])]
    elif change == "place beyond the list":
        form[f"q-{rank}-o-{rank_o[1]}"] = "4"
    elif change == "a field twice":
        form[f"q-{pts}-o-{pts_o[0]}"] = ["1", "2"]
    elif change == "huge form":
        form.update({f"x{n}": "1" for n in range(500)})
    elif change == "many values":
        form[f"q-{up}"] = [str(up_o[0])] * 200
    return form


TAMPERINGS = [
    "unknown question",
    "unknown option field",
    "option of another question",
    "not a number",
    "two answers to one",
    "place beyond the list",
    "a field twice",
    "huge form",
    "many values",
]


def test_a_tampered_form_is_refused_whole(client, session, contest, cards, poll):
    open_link(client, cards[0].code)
    for change in TAMPERINGS:  # one test: nothing is stored, so each starts as the last
        refused = send(client, poll.id, tampered(session, poll, change))
        assert refused.status_code == 400, change
        assert "Форму пошкоджено. Нічого не збережено" in unescaped(refused), change
    assert stored(session) == []
    assert send(client, poll.id, answers_form(session, poll)).status_code == 303


MISTAKES = [
    ("same place twice", "Кожне місце можна дати лише одному варіанту."),
    ("gap in places", "Місця мають іти підряд, без пропусків: 1, 2, 3…"),
    ("points out of range", "Бали — ціле число від 0 до 5."),
    ("negative points", "Бали — ціле число від 0 до 5."),
    ("points not a number", "Бали — ціле число від 0 до 5."),
    ("too many chosen", "Питання 2: можна обрати не більше 2 варіантів."),
]


def test_a_students_mistake_is_shown_beside_its_question_and_nothing_is_stored(
    client, session, contest, cards, poll
):
    (one, one_o), (up, up_o), (rank, rank_o), (pts, pts_o) = ids(session, poll)
    open_link(client, cards[0].code)
    for change, message in MISTAKES:
        form = answers_form(session, poll)
        question = {"too many chosen": up}.get(change, rank if "place" in change else pts)
        if change == "same place twice":
            form[f"q-{rank}-o-{rank_o[1]}"] = "1"
        elif change == "gap in places":
            form[f"q-{rank}-o-{rank_o[0]}"] = "3"
        elif change == "points out of range":
            form[f"q-{pts}-o-{pts_o[1]}"] = "6"
        elif change == "negative points":
            form[f"q-{pts}-o-{pts_o[1]}"] = "-1"
        elif change == "points not a number":
            form[f"q-{pts}-o-{pts_o[1]}"] = "два"
        elif change == "too many chosen":
            form[f"q-{up}"] = [str(o) for o in up_o[:3]]
        refused = send(client, poll.id, form)
        page = unescaped(refused)
        assert refused.status_code == 400, change
        beside = re.search(rf'<div class="error" id="q-{question}-error">(.*?)</div>', page, re.S)
        assert beside is not None and message in beside.group(1), change
        assert f'aria-describedby="q-{question}-rule q-{question}-error"' in page
        # What was filled in is kept.
        assert f'id="q-{one}-o-{one_o[0]}" checked>' in page, change
    assert stored(session) == []
    fixed = send(client, poll.id, answers_form(session, poll))
    assert fixed.status_code == 303 and len(stored(session)) == 1


def test_an_empty_answer_is_refused(client, session, contest, cards, poll):
    (one, _one_o), *_rest = ids(session, poll)
    open_link(client, cards[0].code)
    refused = send(client, poll.id, {f"q-{one}": ""})
    assert refused.status_code == 400 and "Дайте відповідь хоча б на одне питання." in unescaped(refused)
    assert stored(session) == []


def test_a_poll_can_be_answered_in_part(client, session, contest, cards, poll):
    (one, _one_o), _up, (rank, rank_o), _pts = ids(session, poll)
    open_link(client, cards[0].code)
    assert send(client, poll.id, {f"q-{rank}-o-{rank_o[3]}": "1", f"q-{one}": ""}).status_code == 303
    (answer,) = stored(session)
    assert answer.body["answers"] == {str(rank): [rank_o[3]]}


# --- the poll's spec and the console --------------------------------------------------------


def test_the_spec_takes_a_school_of_its_own_community_only(session, make, contest):
    school = contest.school
    other = make.school(make.community())
    made = create_poll(session, school.community_id, school_spec(school.id))
    assert made.school_id == school.id
    for value, uk in [
        (other.id, f"у цій громаді немає школи з номером {other.id}"),
        (True, "номер (id) школи цієї громади, ціле число"),
        (str(school.id), "номер (id) школи цієї громади, ціле число"),
        (0, "номер (id) школи цієї громади, ціле число"),
    ]:
        with pytest.raises(PollSpecError) as refused:
            create_poll(session, school.community_id, school_spec(value))
        (problem,) = refused.value.problems
        assert problem.where == "school" and problem.what.uk == uk and problem.what.en
    with pytest.raises(PollSpecError) as refused:
        create_poll(session, school.community_id, {**school_spec(school.id), "who": {"min_age": 14}})
    assert [p.where for p in refused.value.problems] == ["who"]
    assert "not checked" in refused.value.problems[0].what.en
    session.rollback()


def test_the_console_form_makes_a_school_poll(client, session, make, contest):
    from ..test_polls_form import form_of

    school = contest.school
    other = make.school(make.community())
    user = make.user(Role.COMMUNITY_MODERATOR, _community(session, school))
    sign_in(client, user)
    page = text(client.get("/console/polls/new"))
    assert f'<option value="{school.id}">{school.name}</option>' in page and other.name not in page
    data = form_of(school_spec(None))
    refused = post(client, "/console/polls/new", {**data, "action": "create", "school": str(other.id)})
    assert refused.status_code == 422 and "у цій громаді немає школи з номером" in text(refused)
    assert 'id="e-school"' in text(refused)
    junk = post(client, "/console/polls/new", {**data, "action": "create", "school": "1 OR 1=1"})
    assert junk.status_code == 422 and "Оберіть школу зі списку." in text(junk)
    made = post(client, "/console/polls/new", {**data, "action": "create", "school": str(school.id)})
    assert made.status_code == 303
    poll = session.scalars(select(Poll).order_by(Poll.id.desc())).first()
    assert poll.school_id == school.id
    assert f"Лише учні школи «{school.name}»" in unescaped(client.get(made.headers["Location"]))


def _community(session, school) -> Community:
    return session.get(Community, school.community_id)


# --- devices, the platform, the count ---------------------------------------------------------


def test_a_school_poll_never_travels_and_the_package_is_byte_identical_without_it(
    app, session, make, contest, poll
):
    community = _community(session, contest.school)
    options = {"server_key": "k", "master_secret": app.config["VOTER_KEY_SECRET_BYTES"], "now": NOW}
    only_school = package_body(session, community, **options)
    assert "polls" not in only_school

    shared = create_poll(session, community.id, school_spec(None, title="Громада"))
    publish_poll(session, shared)
    session.commit()
    with_both = package_body(session, community, **options)
    assert [p["id"] for p in with_both["polls"]] == [shared.id]
    # The same package as when the school's poll did not exist.
    session.delete(session.get(Poll, poll.id))
    session.commit()
    assert canonical_json(package_body(session, community, **options)) == canonical_json(with_both)


def test_the_platform_neither_lists_nor_answers_a_school_poll_but_reads_its_count(
    client, session, make, contest, cards, poll
):
    platform = make_platform(session, make, _community(session, contest.school))
    listed = client.get("/api/v1/polls", headers=platform.headers()).get_json()
    assert listed["polls"] == []
    (one, one_o), *_rest = ids(session, poll)
    answer = {
        "id": "0b4c0f5e-4b1e-4a7a-9a55-3f1c2d3e4f50",
        "voter_key": "a" * 64,
        "cast_at": NOW.isoformat(),
        "answers": {str(one): [one_o[0]]},
    }
    refused = client.post(
        f"/api/v1/polls/{poll.id}/answers",
        json={"answers": [answer]},
        headers={**platform.headers(), "Accept-Language": "en"},
    )
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "school_poll"
    assert "only the school's students answer it" in refused.get_json()["error"]["message"]
    assert stored(session) == []
    results = client.get(f"/api/v1/polls/{poll.id}/results", headers=platform.headers())
    assert results.status_code == 200


def test_code_answers_are_in_the_count_and_under_the_school_code_channel(app, session, contest, cards, poll):
    for card in cards[:2]:
        phone = app.test_client()
        open_link(phone, card.code)
        assert send(phone, poll.id, answers_form(session, poll)).status_code == 303
    with app.test_request_context():
        results = poll_results(session, poll)
    assert results.residents == 2
    assert {c.channel: c.answers for c in results.channels}["school_code"] == 2
    assert results.answered_channels == ("school_code",)
    overall = count_poll(session, poll_rule(session, poll))
    for question, result in zip(results.questions, overall, strict=True):
        assert question.result == result and question.by_channel == {"school_code": result}
    assert overall[0].respondents == 2
    assert session.scalar(select(func.count()).select_from(PollAnswer)) == 2


def test_a_guessing_browser_is_held_back_before_it_reaches_the_polls(app, session, contest, cards, poll):
    from qr_codes.codes import new_code

    app.config["CODE_MAX_FAILURES_PER_CLIENT"] = 3
    guesser = app.test_client()
    voted(app.test_client(), session, contest, cards[0].code)  # a spent code: polls only
    for _ in range(3):
        assert type_code(guesser, new_code()).status_code == 404
    stopped = open_link(guesser, cards[0].code)
    assert stopped.status_code == 429 and 'id="polls-offer"' not in text(stopped)
    assert guesser.get("/s/polls").status_code == 303  # no code kept: to the code form
    sent = send(guesser, poll.id, answers_form(session, poll))
    assert sent.status_code == 303 and sent.headers["Location"] == "/s/"
    assert stored(session) == []
