"""The console's form to write a poll without a file: it builds the upload's JSON spec
and hands it to the same create_poll, so a poll made with the form is the poll made from
the file; every problem the spec finds comes back beside the field it is about, with
what was typed kept, and nothing is stored; roles, communities and CSRF as the upload."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Poll, Role
from server.polls.store import create_poll, questions_of, who_of
from tests.factories import CSRF_TOKEN, post, sign_in
from voting.polls import MAX_QUESTIONS

from .test_polls import SPEC

WHO = {"min_age": 16, "voter_list": True, "district": "Центр"}


def form_of(spec: dict) -> dict[str, str]:
    """The form fields a moderator types for `spec` (times in Kyiv, as the form shows)."""
    data = {
        "title": spec.get("title", ""),
        "description": spec.get("description", ""),
        "opens_at": spec["opens_at"][:16],
        "closes_at": spec["closes_at"][:16],
    }
    who = spec.get("who") or {}
    if "min_age" in who:
        data["min_age"] = str(who["min_age"])
    if who.get("voter_list"):
        data["voter_list"] = "1"
    if "district" in who:
        data["district"] = who["district"]
    for n, question in enumerate(spec["questions"]):
        data[f"q-{n}-text"] = question["text"]
        data[f"q-{n}-kind"] = question["kind"]
        for limit in ("max_choices", "max_points"):
            if limit in question:
                data[f"q-{n}-{limit}"] = str(question[limit])
        data[f"q-{n}-options"] = "\r\n".join(question["options"])
    return data


def stored(session, poll: Poll) -> tuple:
    return (
        poll.title,
        poll.description,
        poll.opens_at,
        poll.closes_at,
        who_of(poll),
        [
            (q.text, q.kind, q.max_choices, q.max_points, [text for _id, text in q.options])
            for q in questions_of(session, poll)
        ],
    )


def polls_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Poll))


@pytest.fixture
def moderator(client, make):
    community = make.community()
    user = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, user)
    return community


def submit(client, data: dict, **extra) -> object:
    return post(client, "/console/polls/new", {**data, "action": "create", **extra})


@pytest.mark.parametrize("kind", ["one", "up_to", "rank", "points", "all"])
def test_a_poll_of_each_kind_made_with_the_form_equals_the_one_made_from_its_json(
    client, session, make, moderator, kind
):
    questions = [q for q in SPEC["questions"] if kind in ("all", q["kind"])]
    spec = {**copy.deepcopy(SPEC), "questions": copy.deepcopy(questions), "who": WHO}
    response = submit(client, form_of(spec))
    assert response.status_code == 303, response.get_data(as_text=True)
    made = session.scalar(select(Poll).where(Poll.community_id == moderator.id))
    assert response.headers["Location"].endswith(f"/console/polls/{made.id}")
    twin = create_poll(session, make.community().id, spec)
    assert stored(session, made) == stored(session, twin)
    assert session.scalars(select(AuditEvent.action)).all() == ["poll.create"]
    page = client.get(f"/console/polls/{made.id}").get_data(as_text=True)
    assert "Опитування створено як чернетку" in page and questions[0]["text"] in page


def test_a_limit_typed_for_a_kind_without_one_is_left_out_and_blank_lines_are_not_options(
    client, session, make, moderator
):
    data = form_of({**SPEC, "questions": SPEC["questions"][:1]})
    data |= {
        "q-0-max_choices": "2",
        "q-0-max_points": "7",
        "q-0-options": "Так\r\n\r\n  \r\nНі\r\nНе знаю\r\n",
    }
    data |= {"q-1-kind": "one", "q-2-kind": "points", "description": "   "}  # empty blocks
    assert submit(client, data).status_code == 303
    poll = session.scalar(select(Poll))
    spec = {**SPEC, "questions": SPEC["questions"][:1]}
    del spec["description"]
    assert stored(session, poll) == stored(session, create_poll(session, make.community().id, spec))


def refused(client, session, data: dict) -> str:
    response = submit(client, data)
    assert response.status_code == 422
    assert polls_count(session) == 0
    return response.get_data(as_text=True)


def error_of(page: str, field: str) -> str:
    """The text of the error shown beside `field` (its `e-<field>` paragraph)."""
    marker = f'id="e-{field}">'
    assert marker in page, f"no error beside {field}"
    return page.split(marker, 1)[1].split("</p>", 1)[0]


BASE = form_of(SPEC)


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"title": ""}, "title", "потрібен непорожній текст"),
        ({"title": "   "}, "title", "потрібен непорожній текст"),
        ({"title": "x" * 201}, "title", "не довше 200 символів"),
        ({"title": "Назва\x07"}, "title", "керівні символи не дозволено"),
        ({"description": "x" * 2001}, "description", "не довше 2000 символів"),
        ({"opens_at": ""}, "opens_at", "Заповніть це поле."),
        ({"opens_at": "завтра"}, "opens_at", "Введіть дату й час"),
        ({"closes_at": "2027-02-30T10:00"}, "closes_at", "Введіть дату й час"),
        ({"closes_at": "9999-05-01T10:00"}, "closes_at", "Рік має бути від 2000 до 2100"),
        ({"closes_at": "2027-04-30T10:00"}, "closes_at", "має бути пізніше за opens_at"),
        ({"closes_at": "2027-05-01T09:00"}, "closes_at", "має бути пізніше за opens_at"),
        ({"q-1-options": "Лави"}, "q-1-options", "список від 2 до 100 варіантів"),
        ({"q-1-options": "Лави\nлави\nСвітло"}, "q-1-options", "варіанти повторюються"),
        ({"q-1-options": "\n".join(f"В{n}" for n in range(101))}, "q-1-options", "від 2 до 100"),
        ({"q-1-options": "Лави\nСвіт\x0bло"}, "q-1-options", "Варіант 2: керівні символи"),
        ({"q-1-options": "Лави\n" + "ж" * 301}, "q-1-options", "Варіант 2: не довше 300"),
        ({"q-1-max_choices": "5"}, "q-1-max_choices", "ціле число від 1 до 4"),
        ({"q-1-max_choices": "0"}, "q-1-max_choices", "ціле число від 1 до 4"),
        ({"q-1-max_choices": ""}, "q-1-max_choices", "потрібне для up_to"),
        ({"q-1-max_choices": "два"}, "q-1-max_choices", "Введіть ціле число."),
        ({"q-1-max_choices": "1" * 40}, "q-1-max_choices", "Число завелике."),
        ({"q-2-max_choices": "-1"}, "q-2-max_choices", "ціле число від 1 до 4"),
        ({"q-3-max_points": "101"}, "q-3-max_points", "ціле число від 1 до 100"),
        ({"q-3-max_points": "0"}, "q-3-max_points", "ціле число від 1 до 100"),
        ({"q-3-max_points": ""}, "q-3-max_points", "потрібне для points"),
        ({"q-0-kind": "essay"}, "q-0-kind", "one, up_to, rank або points"),
        ({"q-0-kind": ""}, "q-0-kind", "one, up_to, rank або points"),
        ({"q-2-text": ""}, "q-2-text", "потрібен непорожній текст"),
        ({"q-2-text": "x" * 501}, "q-2-text", "не довше 500 символів"),
        ({"min_age": "0"}, "min_age", "ціле число від 1 до 120"),
        ({"min_age": "16.5"}, "min_age", "Введіть ціле число."),
        ({"district": "Центр\x00"}, "district", "керівні символи не дозволено"),
    ],
)
def test_every_problem_is_refused_beside_its_field_keeping_what_was_typed(
    client, session, moderator, change, field, says
):
    data = {**BASE, **change}
    page = refused(client, session, data)
    assert says in error_of(page, field)
    assert f'aria-describedby="e-{field}' in page or field.endswith("-kind")
    assert "Не збережено. Виправте позначене нижче." in page
    # What was typed is shown again: a later field, and the changed one where it is text.
    assert "Оцініть від 0 до 5" in page and "Чистота\r\nБезпека\r\nТінь" in page


def test_a_form_with_no_question_says_so_above_the_questions(client, session, moderator):
    data = {k: v for k, v in BASE.items() if not k.startswith("q-")}
    page = refused(client, session, data)
    assert "список від 1 до 50 питань" in error_of(page, "questions")


def test_every_problem_is_reported_at_once_each_beside_its_own_field(client, session, moderator):
    data = {
        **BASE,
        "title": "",
        "closes_at": "2027-04-01T09:00",
        "q-0-options": "Так",
        "q-3-max_points": "500",
    }
    page = refused(client, session, data)
    for field in ("title", "closes_at", "q-0-options", "q-3-max_points"):
        error_of(page, field)


def test_the_english_page_gives_the_specs_english_messages(client, session, moderator):
    response = post(
        client, "/console/polls/new?lang=en", {**BASE, "title": "", "q-1-options": "A", "action": "create"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "non-empty text" in error_of(page, "title") and "Add another question" in page


@pytest.mark.parametrize(
    "tampered",
    [
        {"q-999-text": "Питання", "q-999-kind": "one", "q-999-options": "А\nБ"},
        {"q--1-text": "Питання"},
        {"q-00-text": "Питання"},
        {"q-1-colour": "red"},
        {f"q-{MAX_QUESTIONS}-text": "Питання"},
        {f"q-{n}-text": f"Питання {n}" for n in range(1000)},
    ],
)
def test_a_question_block_the_form_cannot_have_is_refused_and_nothing_stored(
    client, session, moderator, tampered
):
    page = refused(client, session, {**BASE, **tampered})
    assert "Форма надіслала питання, якого в ній немає: щонайбільше 50 питань" in page


def test_fifty_blocks_posted_by_hand_are_checked_as_fifty_questions(client, session, moderator):
    data = dict(BASE)
    for n in range(4, MAX_QUESTIONS):
        data |= {f"q-{n}-text": f"Питання {n}", f"q-{n}-kind": "one", f"q-{n}-options": "Так\nНі"}
    data["blocks"] = "1000000"
    assert submit(client, data).status_code == 303
    assert len(questions_of(session, session.scalar(select(Poll)))) == MAX_QUESTIONS


def test_a_huge_textarea_is_refused_and_stores_nothing(client, session, moderator):
    big = {**BASE, "q-0-options": "Так\n" + "x" * 300_000, "description": "y" * 100_000}
    page = refused(client, session, big)
    assert "Варіант 2: не довше 300 символів" in error_of(page, "q-0-options")
    assert "не довше 2000 символів" in error_of(page, "description")
    too_big = {**BASE, "q-0-options": "ж" * (3 * 1024 * 1024)}
    assert submit(client, too_big).status_code == 413
    assert polls_count(session) == 0
    many = {**BASE, "q-0-options": "\n".join(f"варіант {n}" for n in range(20_000))}
    page = refused(client, session, many)
    assert "список від 2 до 100 варіантів" in error_of(page, "q-0-options")


def test_html_typed_in_is_shown_as_text(client, session, moderator):
    page = refused(client, session, {**BASE, "title": "", "q-0-text": "<script>alert(1)</script>"})
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_add_another_question_keeps_everything_typed_and_stores_nothing(client, session, moderator):
    page = client.get("/console/polls/new").get_data(as_text=True)
    assert page.count("<legend>Питання ") == 3 and 'name="blocks" value="3"' in page
    data = {**BASE, "title": "", "q-0-kind": "points", "voter_list": "1", "min_age": "abc", "blocks": "4"}
    response = post(client, "/console/polls/new", {**data, "action": "add"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<legend>Питання ") == 5 and 'id="f-q-4-text"' in page
    assert 'name="blocks" value="5"' in page and "#q-5-block" in page
    assert 'value="points" id="f-q-0-kind-points" aria-describedby="h-q-0-kind-points" checked' in page
    assert 'value="one" id="f-q-0-kind-one" aria-describedby="h-q-0-kind-one">' in page
    assert 'name="voter_list" value="1" id="f-voter_list" checked' in page and 'value="abc"' in page
    assert SPEC["questions"][3]["text"] in page and "Лави\r\nСвітло\r\nТуалет\r\nФонтан" in page
    assert "Не збережено" not in page  # adding a block checks nothing
    assert polls_count(session) == 0


def test_add_another_question_stops_at_the_specs_most(client, session, moderator):
    response = post(client, "/console/polls/new", {**BASE, "blocks": str(MAX_QUESTIONS), "action": "add"})
    page = response.get_data(as_text=True)
    assert page.count("<legend>Питання ") == MAX_QUESTIONS and 'id="add-question"' not in page


def test_the_polls_page_links_to_the_form_and_the_upload(client, moderator):
    page = client.get("/console/polls").get_data(as_text=True)
    assert 'href="/console/polls/new"' in page and "Створити опитування" in page
    assert 'href="#new-poll"' in page and "Завантажити файл JSON" in page


def test_a_moderator_makes_a_poll_only_in_their_own_community(client, session, make, moderator):
    other = make.community()
    assert submit(client, BASE, community_id=str(other.id)).status_code == 303
    assert session.scalar(select(Poll.community_id)) == moderator.id


def test_an_administrator_chooses_the_community(client, session, make):
    community = make.community()
    sign_in(client, make.user(Role.ADMINISTRATOR))
    page = client.get("/console/polls/new").get_data(as_text=True)
    assert 'name="community_id"' in page
    without = submit(client, {**BASE, "title": ""})
    assert without.status_code == 422 and 'id="e-community_id"' in without.get_data(as_text=True)
    assert polls_count(session) == 0
    assert submit(client, BASE, community_id=str(community.id)).status_code == 303
    assert session.scalar(select(Poll.community_id)) == community.id


@pytest.mark.parametrize("role", [Role.SUPPORT_OPERATOR, Role.SCHOOL_MODERATOR])
def test_other_roles_are_refused(client, session, make, role):
    community = make.community()
    kwargs = {"school_id": make.school(community).id} if role is Role.SCHOOL_MODERATOR else {}
    sign_in(client, make.user(role, community, **kwargs))
    assert client.get("/console/polls/new").status_code == 403
    assert submit(client, BASE).status_code == 403
    assert polls_count(session) == 0


def test_anonymous_is_sent_to_sign_in_and_without_csrf_nothing_is_made(client, session, make, moderator):
    data = {**BASE, "action": "create"}
    assert client.post("/console/polls/new", data=data).status_code in (400, 403)
    assert polls_count(session) == 0
    client.post("/logout", data={"csrf_token": CSRF_TOKEN})
    with client.session_transaction() as sess:
        sess.clear()
    response = client.get("/console/polls/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/console/polls/new", data={**data, "csrf_token": CSRF_TOKEN}).status_code in (
        302,
        400,
    )
    assert polls_count(session) == 0


def test_the_upload_path_still_makes_the_same_poll(client, session, moderator):
    import io

    data = {"csrf_token": CSRF_TOKEN, "spec": (io.BytesIO(json.dumps(SPEC).encode()), "poll.json")}
    assert client.post("/console/polls", data=data, content_type="multipart/form-data").status_code == 303
    assert submit(client, BASE).status_code == 303
    first, second = session.scalars(select(Poll).order_by(Poll.id)).all()
    assert stored(session, first) == stored(session, second)
