"""The poll screens through the Flask test client: each shows only at its step, in both
languages, and every forged or stale request (an unknown poll, an option of another
question, a step skipped, an old token) is refused and records nothing."""

from __future__ import annotations

import pytest

from .terminal_setup import logged_answers, option_id, packaged_poll

CARD = "04A1B2C3D4E5F6"
POLL = 61
POLL_PAGES = ["/choose", "/poll", "/poll/review", "/poll/confirm"]


@pytest.fixture
def kiosk(make_kiosk):
    return make_kiosk(package_options={"polls": [packaged_poll(POLL)]})


@pytest.fixture
def client(kiosk):
    return kiosk.app.test_client()


def post(client, kiosk, path: str, **form):
    return client.post(path, data={"token": kiosk.flow.token, **form})


def opt(question: int, option: int) -> int:
    return option_id(POLL, question, option)


def at_choice(client, kiosk) -> None:
    kiosk.reader.insert_card(CARD)
    assert client.get("/state").json["step"] == "choose"


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.headers.get("Location"))
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", POLL_PAGES)
def test_a_poll_page_at_another_step_redirects_to_the_current_one(client, path):
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_the_attract_screen_invites_to_the_poll_too(client):
    assert "Також відкрито опитування громади" in page(client, "/")


def test_a_terminal_with_only_polls_open_invites_residents_to_answer(make_kiosk):
    kiosk = make_kiosk(package_options={"cycles": [], "polls": [packaged_poll(POLL)]})
    client = kiosk.app.test_client()
    shown = page(client, "/")
    assert "Візьміть участь в опитуванні громади" in shown and "Який вигляд має мати парк" in shown
    assert 'id="start-staff"' in shown  # staff can help here too
    client.post("/staff", data={"token": kiosk.flow.token})
    assert "Відповісти з допомогою працівника" in page(client, "/staff/pin")


def test_a_resident_answers_through_the_screens_in_english(client, kiosk):
    at_choice(client, kiosk)
    post(client, kiosk, "/prefs", choice="locale:en")
    shown = page(client, "/choose")
    assert "Choose what to take part in" in shown and "Answer the poll" in shown
    assert 'lang="uk">Який вигляд має мати парк біля входу?' in shown  # the poll's own words
    post(client, kiosk, "/choose/poll", poll=str(POLL))
    assert "Question 1 of 4" in page(client, "/poll") and "Choose one option." in page(client, "/poll")
    post(client, kiosk, "/poll/option", option=str(opt(1, 1)))
    post(client, kiosk, "/poll/next")
    post(client, kiosk, "/poll/option", option=str(opt(2, 1)))
    assert "Choose up to 2 options." in page(client, "/poll")
    post(client, kiosk, "/poll/next")
    post(client, kiosk, "/poll/option", option=str(opt(3, 2)))
    shown = page(client, "/poll")
    assert "You may rank up to 3 options." in shown and "place 1" in shown and 'id="undo"' in shown
    post(client, kiosk, "/poll/next")
    post(client, kiosk, "/poll/option", option=str(opt(4, 3)), points="up")
    shown = page(client, "/poll")
    assert "0 to 5 points" in shown and f'<output class="points-value" id="points-{opt(4, 3)}"' in shown
    post(client, kiosk, "/poll/next")
    shown = page(client, "/poll/review")
    assert "Check your answers" in shown and "1 point" in shown
    post(client, kiosk, "/poll/review/confirm")
    assert "You answered 4 questions of 4." in page(client, "/poll/confirm")
    post(client, kiosk, "/poll/confirm")
    shown = page(client, "/receipt")
    assert "Thank you! Your answers have been recorded." in shown and 'id="continue"' in shown
    assert 'id="check-address"' in shown and "whether your answers arrived" in shown  # found there too
    assert len(logged_answers(kiosk.store)) == 1


def test_ukrainian_counts_take_their_forms(client, kiosk):
    at_choice(client, kiosk)
    post(client, kiosk, "/choose/poll", poll=str(POLL))
    post(client, kiosk, "/poll/next")
    assert "Оберіть до 2 варіантів." in page(client, "/poll")
    for _ in range(3):
        post(client, kiosk, "/poll/next")
    post(client, kiosk, "/poll/edit", question="3")
    for _ in range(2):
        post(client, kiosk, "/poll/option", option=str(opt(4, 1)), points="up")
    post(client, kiosk, "/poll/next")
    assert "2 бали" in page(client, "/poll/review")
    post(client, kiosk, "/poll/review/confirm")
    assert "Ви відповіли на 1 питання з 4." in page(client, "/poll/confirm")


@pytest.mark.parametrize(
    "path, form",
    [
        ("/choose/poll", {"poll": "999"}),  # no such poll
        ("/choose/poll", {"poll": "-1"}),
        ("/choose/poll", {"poll": "61abc"}),
        ("/poll/option", {"option": str(option_id(POLL, 1, 1))}),  # a step not reached
        ("/poll/confirm", {}),
        ("/poll/edit", {"question": "0"}),
        ("/receipt/continue", {}),
    ],
)
def test_forged_requests_at_the_choice_change_nothing(client, kiosk, path, form):
    at_choice(client, kiosk)
    response = post(client, kiosk, path, **form)
    assert response.status_code == 303 and response.headers["Location"] == "/choose"
    assert kiosk.flow.poll is None and logged_answers(kiosk.store) == []


@pytest.mark.parametrize(
    "form",
    [
        {"option": str(option_id(POLL, 2, 1))},  # another question's option
        {"option": str(option_id(POLL, 1, 1)), "points": "up"},  # points on a "one" question
        {"option": str(option_id(POLL, 1, 1)), "points": "sideways"},
        {"option": "x"},
        {"option": "1" * 20},
        {},
    ],
)
def test_forged_taps_on_a_question_change_nothing(client, kiosk, form):
    at_choice(client, kiosk)
    post(client, kiosk, "/choose/poll", poll=str(POLL))
    response = post(client, kiosk, "/poll/option", **form)
    assert response.status_code == 303 and response.headers["Location"].startswith("/poll")
    assert kiosk.flow.poll_answers == {}


def test_a_form_from_an_earlier_visit_is_refused(client, kiosk):
    at_choice(client, kiosk)
    old = kiosk.flow.token
    post(client, kiosk, "/choose/poll", poll=str(POLL))
    kiosk.reader.remove_card()  # the visit ends; the next resident comes
    assert client.get("/state").json["step"] == "attract"
    at_choice(client, kiosk)
    client.post("/choose/poll", data={"token": old, "poll": str(POLL)})
    assert kiosk.flow.poll is None
    client.post("/poll/confirm", data={"token": old})
    assert logged_answers(kiosk.store) == []


def test_the_ballot_opened_from_the_list_offers_the_way_back(client, kiosk):
    at_choice(client, kiosk)
    post(client, kiosk, "/choose/vote")
    shown = page(client, "/ballot")
    assert 'id="to-choices"' in shown and "До переліку" in shown
    post(client, kiosk, "/ballot/to-choices")
    assert kiosk.flow.step.value == "choose"
    # A stale form (the token of the page before) changes nothing.
    client.post("/ballot/to-choices", data={"token": "stale"})
    assert kiosk.flow.step.value == "choose"
