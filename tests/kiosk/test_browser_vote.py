"""A resident at the terminal, in a real Chromium: the card on the reader, the ballot,
the receipt; and what happens when they walk away, try again or take the card too soon."""

from __future__ import annotations

import re
import socket

from playwright.sync_api import expect

from .conftest import PORTRAIT, screenshot
from .terminal_setup import DEVICE, logged_votes, voter_key_of_card

CARD = "04A1B2C3D4E5F6"
POLL_WAIT_MS = 3000  # the page polls every 300 ms; generous for a slow CI machine


def choose(page, project_id: int) -> None:
    page.locator(f"#project-{project_id}").click()
    expect(page.locator(f"#project-{project_id}")).to_contain_text("Обрано")


def test_a_resident_votes_with_a_card_and_gets_a_receipt(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page(PORTRAIT)
    page.goto(kiosk.url())
    expect(page.locator("h1")).to_have_text("Проголосуйте за проєкти громадського бюджету")

    kiosk.reader.insert_card(CARD)
    expect(page).to_have_url(re.compile(r"/ballot$"), timeout=POLL_WAIT_MS)
    expect(page.locator("h1")).to_have_text("Малі проєкти")
    choose(page, 101)
    choose(page, 103)
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("Великі проєкти")
    choose(page, 201)
    page.locator("#next").click()

    expect(page.locator("h1")).to_have_text("Перевірте свій вибір")
    expect(page.locator("main")).to_contain_text("Лавки в парку Слави")
    expect(page.locator("main")).to_contain_text("Сквер на Заріччі")
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("Записати ваш голос?")
    page.locator("#cast").click()

    expect(page.locator("h1")).to_have_text("Дякуємо! Ваш голос записано.")
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    votes = logged_votes(kiosk.store)
    assert len(votes) == 1
    assert votes[0]["selections"] == [101, 103, 201]
    assert votes[0]["channel"] == "kiosk" and votes[0]["device"] == DEVICE
    assert votes[0]["voter_key"] == voter_key_of_card(CARD)
    assert [r.receipt_code for r in kiosk.printer.printed] == [code]
    assert kiosk.printer.printed[0].lines[-1].endswith("/check")  # where to check it, on paper too
    expect(page.locator("#print-status")).to_contain_text("Квитанцію надруковано")
    # Where to check it: the server's «Перевірити свій голос» page.
    expect(page.locator("#check-address")).to_contain_text("/check")

    page.locator("#done").click()
    expect(page).to_have_url(kiosk.url("/"))


def test_a_second_tap_of_the_same_card_is_refused(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    choose(page, 102)
    page.locator("#next").click()
    page.locator("#next").click()
    page.locator("#next").click()
    page.locator("#cast").click()
    expect(page.locator("#receipt-code")).to_be_visible()
    kiosk.reader.remove_card()
    page.locator("#done").click()

    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Зараз проголосувати не вийде", timeout=POLL_WAIT_MS)
    expect(page.locator("#notice")).to_have_text(
        "Ви вже проголосували в цьому голосуванні на цьому терміналі."
    )
    assert len(logged_votes(kiosk.store)) == 1
    screenshot(page, "refused-already-voted-portrait")


def test_taking_the_card_away_mid_vote_starts_over_and_records_nothing(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    choose(page, 101)

    kiosk.reader.remove_card()
    expect(page).to_have_url(kiosk.url("/"), timeout=POLL_WAIT_MS)
    expect(page.locator("h1")).to_have_text("Проголосуйте за проєкти громадського бюджету")
    assert logged_votes(kiosk.store) == []
    # The same card put back starts a fresh ballot: nothing of the first try is kept.
    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    expect(page.locator("#chosen-count")).to_have_text("0")


def test_an_idle_voter_is_warned_then_the_terminal_resets(make_kiosk, serve, new_page, clock):
    kiosk = serve(make_kiosk(MONOTONIC=clock))  # 45 s quiet, then a 15 s countdown
    page = new_page()
    page.goto(kiosk.url())
    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    choose(page, 101)

    warning = page.locator("#idle-warning")
    clock.advance(44)
    page.wait_for_timeout(400)  # a poll or two: no warning yet
    expect(warning).to_be_hidden()
    clock.advance(2)
    expect(warning).to_be_visible(timeout=POLL_WAIT_MS)
    expect(warning).to_contain_text("Через 14 с сеанс завершиться")
    expect(page.locator("#idle-continue")).to_be_focused()
    page.locator("#idle-continue").click()  # "I'm still here"
    expect(warning).to_be_hidden()
    expect(page.locator("#chosen-count")).to_have_text("1")

    clock.advance(50)
    expect(warning).to_be_visible(timeout=POLL_WAIT_MS)
    clock.advance(10)
    expect(page).to_have_url(kiosk.url("/"), timeout=POLL_WAIT_MS)
    assert str(kiosk.flow.step) == "attract"
    assert logged_votes(kiosk.store) == []


def test_back_after_a_reset_does_not_show_the_previous_voters_ballot(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    choose(page, 104)
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("Великі проєкти")
    page.locator("#cancel").click()
    expect(page).to_have_url(kiosk.url("/"))

    for _ in range(3):
        page.go_back()
        page.wait_for_load_state()
        expect(page.locator("h1")).to_have_text("Проголосуйте за проєкти громадського бюджету")
        assert "Освітлення стадіону" not in page.content()


def test_the_rule_limits_what_can_be_chosen_and_the_counters_follow(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    counters = page.locator("#chosen-count"), page.locator("#choices-left"), page.locator("#budget-left")
    for counter, start in zip(counters, ["0", "2", "500 000 грн"], strict=True):
        expect(counter).to_have_text(start)

    choose(page, 101)  # 250 000 of 500 000
    for counter, value in zip(counters, ["1", "1", "250 000 грн"], strict=True):
        expect(counter).to_have_text(value)
    # 300 000 no longer fits what is left of the budget.
    expect(page.locator("#project-104")).to_be_disabled()
    expect(page.locator("#why-104")).to_have_text("Перевищує залишок бюджету")

    choose(page, 102)  # the category's two are chosen
    for counter, value in zip(counters, ["2", "0", "50 000 грн"], strict=True):
        expect(counter).to_have_text(value)
    expect(page.locator("#project-103")).to_be_disabled()
    expect(page.locator("#why-103")).to_have_text("Обрано найбільшу кількість у цій категорії")

    page.locator("#project-101").click()  # unchoosing frees a place and the money
    for counter, value in zip(counters, ["1", "1", "300 000 грн"], strict=True):
        expect(counter).to_have_text(value)
    expect(page.locator("#project-103")).to_be_enabled()
    expect(page.locator("#project-104")).to_be_enabled()


def test_the_voter_switches_to_english_and_the_next_voter_gets_ukrainian(make_kiosk, serve, new_page):
    kiosk = serve(make_kiosk())
    page = new_page()
    page.goto(kiosk.url())
    page.locator("#switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Vote for public budget projects")

    kiosk.reader.insert_card(CARD)
    expect(page.locator(".progress")).to_have_text("Category 1 of 2", timeout=POLL_WAIT_MS)
    expect(page.locator("#rule-status")).to_contain_text("You may still choose")
    expect(page.locator("#budget-left")).to_have_text("UAH 500,000")
    expect(page.locator("#project-101")).to_have_text("Choose")
    page.locator("#next").click()
    page.locator("#next").click()
    page.locator("#next").click()  # nothing chosen: the domain's own message, in English
    expect(page.locator("#notice")).to_have_text("No project was chosen.")

    page.locator("#cancel").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator("h1")).to_have_text("Проголосуйте за проєкти громадського бюджету")


def test_the_terminal_votes_with_no_network_at_all(make_kiosk, serve, new_page, monkeypatch):
    kiosk = serve(make_kiosk())
    port = int(kiosk.base_url.rsplit(":", 1)[1])
    outbound: list[object] = []
    real_connect = socket.socket.connect

    def local_only(sock, address):
        # The app shares this process: any connection it tried to open is seen here.
        if not (isinstance(address, tuple) and address[:2] == ("127.0.0.1", port)):
            outbound.append(address)
            raise OSError("network cable pulled")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    page = new_page()
    page.context.route(
        re.compile(r"^(?!" + re.escape(kiosk.base_url) + r")"),
        lambda route: (outbound.append(route.request.url), route.abort())[-1],
    )
    page.goto(kiosk.url())
    kiosk.reader.insert_card(CARD)
    expect(page.locator("h1")).to_have_text("Малі проєкти", timeout=POLL_WAIT_MS)
    choose(page, 103)
    page.locator("#next").click()
    page.locator("#next").click()
    page.locator("#next").click()
    page.locator("#cast").click()
    expect(page.locator("#receipt-code")).to_be_visible()

    assert len(logged_votes(kiosk.store)) == 1
    assert kiosk.store.backlog_count() == 1  # waiting for the sync service and a network
    assert outbound == []
