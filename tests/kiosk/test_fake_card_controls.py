"""Trying the terminal without a reader: the fake reader's control page."""

from __future__ import annotations

from hardware import CardPresent, NoCard, NoReader


def test_a_person_puts_a_test_card_on_the_fake_reader_and_takes_it_away(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    assert "Тестова картка" in client.get("/fake-card").get_data(as_text=True)
    assert client.post("/fake-card", data={"action": "a"}).status_code == 302
    assert isinstance(kiosk.reader.state(), CardPresent)
    client.post("/fake-card", data={"action": "remove"})
    assert isinstance(kiosk.reader.state(), NoCard)


def test_only_its_own_page_may_press_the_buttons(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    assert (
        client.post("/fake-card", data={"action": "a"}, headers={"Origin": "http://evil.example"}).status_code
        == 403
    )
    assert client.post("/fake-card", data={"action": "format-disk"}).status_code == 400
    assert isinstance(kiosk.reader.state(), NoCard)


class RealLookingReader:
    def state(self):
        return NoReader("none attached")

    def close(self):
        pass


def test_a_terminal_with_a_real_reader_has_no_such_page(make_kiosk):
    kiosk = make_kiosk(CARD_READER=RealLookingReader())
    assert kiosk.app.test_client().get("/fake-card").status_code == 404
