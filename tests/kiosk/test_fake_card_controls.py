"""Trying the terminal without a reader: the fake reader's control page."""

from __future__ import annotations

import pytest

from hardware import CardPresent, NoCard, NoReader

# What Chromium sends with a form from the kiosk's own page (the test client's host).
OWN_ORIGIN = {"Origin": "http://localhost"}


def test_a_person_puts_a_test_card_on_the_fake_reader_and_takes_it_away(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    assert "Тестова картка" in client.get("/fake-card").get_data(as_text=True)
    assert client.post("/fake-card", data={"action": "a"}, headers=OWN_ORIGIN).status_code == 303
    assert isinstance(kiosk.reader.state(), CardPresent)
    client.post("/fake-card", data={"action": "remove"}, headers=OWN_ORIGIN)
    assert isinstance(kiosk.reader.state(), NoCard)


def test_an_older_browser_without_origin_may_press_them_from_the_page_itself(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    answer = client.post(
        "/fake-card", data={"action": "b"}, headers={"Referer": "http://localhost/fake-card"}
    )
    assert answer.status_code == 303
    assert isinstance(kiosk.reader.state(), CardPresent)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "http://evil.example"}, id="another-site"),
        pytest.param({"Origin": "null"}, id="origin-null"),
        pytest.param({"Origin": "http://localhost.evil.example"}, id="origin-with-our-host-as-prefix"),
        pytest.param({"Origin": "http://localhost:8081"}, id="another-port"),
        pytest.param({"Referer": "http://localhost.evil.example/fake-card"}, id="referer-elsewhere"),
        pytest.param({}, id="no-origin-no-referer"),
    ],
)
def test_only_its_own_page_may_press_the_buttons(make_kiosk, headers):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    answer = client.post("/fake-card", data={"action": "a"}, headers=headers)
    assert answer.status_code == 403
    text = answer.get_data(as_text=True)
    assert "нічого не змінено" in text and "nothing has changed" in text
    assert isinstance(kiosk.reader.state(), NoCard)


def test_an_unknown_button_is_refused(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    assert client.post("/fake-card", data={"action": "format-disk"}, headers=OWN_ORIGIN).status_code == 400
    assert isinstance(kiosk.reader.state(), NoCard)


class RealLookingReader:
    def state(self):
        return NoReader("none attached")

    def close(self):
        pass


def test_a_terminal_with_a_real_reader_has_no_such_page(make_kiosk):
    kiosk = make_kiosk(CARD_READER=RealLookingReader())
    assert kiosk.app.test_client().get("/fake-card").status_code == 404
