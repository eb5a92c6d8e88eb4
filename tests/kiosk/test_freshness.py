"""A terminal that has not heard from the server for a while tells the resident, before
and after the vote, that the server will check the vote when it arrives, and tells
staff that its data may be stale (kiosk.freshness)."""

from __future__ import annotations

import pytest

from kiosk.freshness import CLOCK_SLACK_MS, data_age
from sync.clock import system_clock_ms

from .conftest import SERVICE_PIN
from .test_views import at_ballot, post

MINUTE = 60_000


def test_the_rule_at_its_edges():
    now = 1_800_000_000_000
    assert data_age(None, now, 30 * MINUTE).stale, "never synced: nothing to vouch for the data"
    assert not data_age(now - 30 * MINUTE, now, 30 * MINUTE).stale
    assert data_age(now - 30 * MINUTE - 1, now, 30 * MINUTE).stale
    assert not data_age(now + CLOCK_SLACK_MS, now, 30 * MINUTE).stale, "the processes' clocks a moment apart"
    assert data_age(now + CLOCK_SLACK_MS + 1, now, 30 * MINUTE).stale, "a clock set back: age unknown"
    assert data_age(now - 10**15, now, 30 * MINUTE).stale


def _vote(client, kiosk) -> str:
    at_ballot(client, kiosk)
    ballot = client.get("/ballot").get_data(as_text=True)
    post(client, kiosk, "/ballot/toggle", project="101")
    post(client, kiosk, "/ballot/next")
    post(client, kiosk, "/ballot/next")
    post(client, kiosk, "/review/confirm")
    post(client, kiosk, "/confirm")
    return ballot + client.get("/receipt").get_data(as_text=True)


@pytest.mark.parametrize(
    ("synced_ago_min", "expected"),
    [
        (None, "Термінал ще не зв’язувався з сервером."),
        (180, "Термінал востаннє зв’язувався з сервером"),
    ],
)
def test_a_resident_at_a_terminal_out_of_touch_is_told_the_server_checks_the_vote(
    make_kiosk, synced_ago_min, expected
):
    kiosk = make_kiosk()
    if synced_ago_min is not None:
        kiosk.store.record_sync_success(system_clock_ms() - synced_ago_min * MINUTE)
    pages = _vote(kiosk.app.test_client(), kiosk)
    assert pages.count('id="data-stale-before"') == 1 and pages.count('id="data-stale"') == 1
    assert expected in pages and "Ваш голос збережено тут" in pages
    assert "Дякуємо! Ваш голос записано." in pages


def test_a_terminal_in_touch_says_nothing_of_it(make_kiosk):
    kiosk = make_kiosk(DATA_STALE_AFTER_MIN=30)
    kiosk.store.record_sync_success(system_clock_ms() - 5 * MINUTE)
    pages = _vote(kiosk.app.test_client(), kiosk)
    assert "data-stale" not in pages and "зв’язувався з сервером" not in pages


def test_the_notice_speaks_english_and_staff_see_stale_data(make_kiosk):
    kiosk = make_kiosk(DATA_STALE_AFTER_MIN=1)
    kiosk.store.record_sync_success(system_clock_ms() - 2 * MINUTE)
    client = kiosk.app.test_client()
    post(client, kiosk, "/prefs", choice="locale:en")
    assert "The terminal last reached the server on" in _vote(client, kiosk)
    post(client, kiosk, "/done")
    post(client, kiosk, "/prefs", choice="locale:uk")
    post(client, kiosk, "/service")
    post(client, kiosk, "/service/pin", pin=SERVICE_PIN)
    page = client.get("/service").get_data(as_text=True)
    assert 'id="data-stale"' in page and "могли застаріти" in page
    kiosk.store.record_sync_success(system_clock_ms())  # the network is back
    assert 'id="data-stale"' not in client.get("/service").get_data(as_text=True)
