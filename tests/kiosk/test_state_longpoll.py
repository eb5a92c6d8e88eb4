"""The page's long poll: GET /state?wait=MS&path=..&token=..&idle=.. is held until what
the page shows is out of date (a card put down or taken away, a timeout, the idle
countdown), or until the wait runs out. It must answer at the first look after a
change, never hold the lock the voter's taps need, and refuse or cap hostile values.

No assertion here counts milliseconds: the machine may be busy. "Promptly" is checked
by counting the looks at the reader, and "before the wait ran out" with wide margins.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from hardware import CardState, FakeCardReader

from .conftest import PORTRAIT

CARD = "04A1B2C3D4E5F6"
LONG_WAIT_MS = 20_000
MARGIN_S = 10.0  # well before a 20 s wait runs out, however busy the machine


class CountingReader(FakeCardReader):
    """A fake reader that counts how often the terminal looks at it."""

    def __init__(self) -> None:
        super().__init__()
        self.looks = 0
        self._count_lock = threading.Lock()

    def state(self) -> CardState:
        with self._count_lock:
            self.looks += 1
        return super().state()


class WaitingPoll:
    """A /state long poll asked from a thread of its own, as the page's fetch is."""

    def __init__(self, kiosk, **query: str | int) -> None:
        self.url = "/state?" + urlencode(query)
        self.client = kiosk.app.test_client()
        self.response = None
        self.answered_at: float | None = None
        self.thread = threading.Thread(target=self._ask, daemon=True)
        self.thread.start()

    def _ask(self) -> None:
        self.response = self.client.get(self.url)
        self.answered_at = time.monotonic()

    def answer(self, timeout_s: float = 2 * MARGIN_S) -> dict:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), f"{self.url} did not answer in {timeout_s} s"
        assert self.response.status_code == 200, self.response.status_code
        return self.response.json


def shown(kiosk, idle: int | str = "") -> dict:
    """The query of a page showing the visit as it stands now."""
    state = kiosk.app.test_client().get("/state").json
    return {"path": state["path"], "token": state["token"], "idle": idle}


def wait_until(condition, timeout_s: float = MARGIN_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.005)


@pytest.fixture
def kiosk(make_kiosk):
    reader = CountingReader()
    made = make_kiosk(CARD_READER=reader)
    made.reader = reader
    return made


def test_a_waiting_poll_answers_at_the_first_look_after_a_card_is_put_down(kiosk):
    poll = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **shown(kiosk))
    wait_until(lambda: kiosk.reader.looks >= 4)  # the poll is waiting, looking again and again
    assert poll.thread.is_alive()

    looks_before = kiosk.reader.looks
    kiosk.reader.insert_card(CARD)
    put_down = time.monotonic()
    state = poll.answer()

    assert state["path"] == "/ballot" and state["step"] == "ballot"
    assert state["token"] == kiosk.flow.token
    # The look under way when the card went down, if any, then the one that saw it.
    assert kiosk.reader.looks - looks_before <= 2
    assert poll.answered_at - put_down < MARGIN_S


def test_a_card_taken_away_ends_the_wait_of_the_ballot_page(kiosk):
    kiosk.reader.insert_card(CARD)
    poll = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **shown(kiosk))
    wait_until(lambda: kiosk.reader.looks >= 4)
    kiosk.reader.remove_card()
    assert poll.answer()["path"] == "/"


def test_when_the_wait_runs_out_the_unchanged_state_is_answered(kiosk):
    page = shown(kiosk)
    asked = time.monotonic()
    poll = WaitingPoll(kiosk, wait=300, **page)
    state = poll.answer()
    assert poll.answered_at - asked >= 0.25  # it did wait
    assert state == kiosk.app.test_client().get("/state").json
    assert (state["path"], state["token"]) == (page["path"], page["token"])
    assert kiosk.reader.looks >= 3  # the first look, and more while waiting


def test_a_page_showing_an_old_visit_gets_the_state_at_once(kiosk):
    kiosk.reader.insert_card(CARD)
    for stale in [
        {"path": "/", "token": "a-token-from-before"},
        {"path": "/review", "token": kiosk.flow.token},
    ]:
        looks = kiosk.reader.looks
        assert WaitingPoll(kiosk, wait=LONG_WAIT_MS, idle="", **stale).answer()["path"] == "/ballot"
        assert kiosk.reader.looks - looks == 1  # one look, no waiting


def test_without_wait_the_state_is_answered_at_once_as_before(kiosk):
    client = kiosk.app.test_client()
    for url in ["/state", "/state?wait=0&path=/&token=x", "/state?path=/&token=" + kiosk.flow.token]:
        looks = kiosk.reader.looks
        assert client.get(url).json["step"] == "attract"
        assert kiosk.reader.looks - looks == 1


def test_the_idle_warning_and_every_second_of_its_countdown_end_a_wait(make_kiosk, clock):
    kiosk = make_kiosk(MONOTONIC=clock)  # warning after 45 s, then 15 s
    kiosk.reader.insert_card(CARD)
    page = shown(kiosk)
    poll = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **page)
    clock.advance(44)
    time.sleep(0.1)
    assert poll.thread.is_alive()  # 44 s: nothing to show yet
    clock.advance(2)
    assert poll.answer()["idle"] == {"warning": True, "seconds_left": 14}

    poll = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **page | {"idle": 14})
    time.sleep(0.1)
    assert poll.thread.is_alive()  # the page already shows 14
    clock.advance(1)
    assert poll.answer()["idle"] == {"warning": True, "seconds_left": 13}

    poll = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **page | {"idle": 13})
    clock.advance(13)
    assert poll.answer()["path"] == "/"  # the countdown ran out: the visit was reset


def test_a_waiting_poll_does_not_hold_up_the_voters_taps(kiosk):
    kiosk.reader.insert_card(CARD)
    poll = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **shown(kiosk))
    wait_until(lambda: kiosk.reader.looks >= 4)

    client = kiosk.app.test_client()
    response = client.post("/ballot/toggle", data={"token": kiosk.flow.token, "project": "101"})
    assert response.status_code == 303
    assert client.get("/ballot").status_code == 200
    assert poll.thread.is_alive()  # the tap went through while the poll waited
    assert kiosk.flow.selections == [101]

    client.post("/cancel", data={"token": kiosk.flow.token})
    assert poll.answer()["path"] == "/"  # a new visit: a new token, answered


@pytest.mark.parametrize(
    "wait",
    ["-1", "-20000", "abc", "1e3", "0x10", "1.5", " 5", "5 ", "", "５", "1" * 10, "9" * 10_000, "20000;0"],
)
def test_a_malformed_wait_is_refused_and_changes_nothing(kiosk, wait):
    kiosk.reader.insert_card(CARD)
    response = kiosk.app.test_client().get("/state", query_string={"wait": wait})
    assert response.status_code == 400
    assert "wait must be a whole number of milliseconds" in response.json["error"]
    assert len(response.data) < 200  # the value is not echoed back
    assert kiosk.flow.step.value == "attract"  # not even the card was taken in


def test_a_huge_wait_is_cut_to_the_longest_the_terminal_allows(make_kiosk):
    kiosk = make_kiosk(STATE_WAIT_MAX_MS=300)
    asked = time.monotonic()
    poll = WaitingPoll(kiosk, wait="999999999", **shown(kiosk))  # eleven days asked for
    assert poll.answer()["step"] == "attract"
    assert time.monotonic() - asked < MARGIN_S


@pytest.mark.parametrize(
    "page",
    [
        {"path": "/" * 10_000, "idle": ""},
        {"token": "t" * 10_000, "idle": ""},
        {"idle": "-1"},
        {"idle": "x" * 10_000},
        {"idle": "99999999"},
        {"idle": "١٤"},  # Arabic-Indic digits: not ours
    ],
)
def test_a_hostile_picture_of_the_page_is_answered_at_once(kiosk, page):
    query = shown(kiosk) | page
    looks = kiosk.reader.looks
    state = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **query).answer()
    assert state["step"] == "attract"
    assert kiosk.reader.looks - looks == 1


def test_closing_the_terminal_ends_waiting_polls(kiosk):
    poll = WaitingPoll(kiosk, wait=LONG_WAIT_MS, **shown(kiosk))
    wait_until(lambda: kiosk.reader.looks >= 4)
    kiosk.app.extensions["spilno.kiosk"].close()
    assert poll.answer()["step"] == "attract"
    looks = kiosk.reader.looks
    time.sleep(0.1)
    assert kiosk.reader.looks == looks  # nobody looks at a closed reader


def test_a_poll_the_browser_abandoned_stops_looking_at_the_reader(kiosk, serve):
    served = serve(kiosk)
    page = shown(kiosk)
    port = int(served.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as connection:
        query = urlencode({"wait": LONG_WAIT_MS} | page)
        connection.sendall(f"GET /state?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        wait_until(lambda: kiosk.reader.looks >= 4)  # waiting
    # The page navigated away: its connection is closed. The looks stop, long before
    # the 20 s wait would have run out.
    deadline = time.monotonic() + MARGIN_S
    while True:
        looks = kiosk.reader.looks
        time.sleep(0.3)
        if kiosk.reader.looks == looks:
            break
        assert time.monotonic() < deadline, "the abandoned poll kept looking at the reader"


# --- in the browser ---------------------------------------------------------------------


def test_the_page_shows_the_ballot_without_waiting_for_a_poll_interval(make_kiosk, serve, new_page):
    # Short polls a minute apart: only the long poll can bring the ballot in time.
    kiosk = serve(make_kiosk(POLL_INTERVAL_MS=60_000))
    page = new_page(PORTRAIT)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(kiosk.url())
    expect(page.locator("h1")).to_have_text("Проголосуйте за проєкти громадського бюджету")

    kiosk.reader.insert_card(CARD)
    expect(page).to_have_url(re.compile(r"/ballot$"), timeout=5000)
    expect(page.locator("h1")).to_have_text("Малі проєкти")
    assert any("/state?wait=20000&" in url for url in asked), asked

    kiosk.reader.remove_card()
    expect(page).to_have_url(kiosk.url("/"), timeout=5000)


def test_with_long_polls_switched_off_the_page_still_follows_the_terminal(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk(STATE_WAIT_MAX_MS=0))  # every poll answered at once, every 300 ms
    page = new_page(PORTRAIT)
    page.goto(kiosk.url())
    kiosk.reader.insert_card(CARD)
    expect(page).to_have_url(re.compile(r"/ballot$"), timeout=5000)
    expect(page.locator("h1")).to_have_text("Малі проєкти")
