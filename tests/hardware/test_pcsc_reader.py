"""The PC/SC card reader against the real stack: pcscd + vsmartcard's vpcd driver + a
card emulated in Python (vpcd_card.py).

Order that works every time (found by trying; see vpcd_card.py for vpcd's side):
1. start a private pcscd (pcscd_daemon.py) — vpcd opens its port only then;
2. put the card on: it connects to vpcd's port, retrying until vpcd listens;
3. poll: pcscd notices the card at its next presence poll (~400 ms), so a new card
   shows within about half a second;
4. take the card off by closing its connection; after stopping pcscd, start it again
   and insert the card again (its old connection died with the old daemon).
"""

from __future__ import annotations

import statistics
import time

from hardware import CardError, CardPresent, NoCard, NoReader
from hardware.pcsc_reader import PcscCardReader
from tests.hardware.conftest import wait_for
from tests.hardware.vpcd_card import DEFAULT_ATR

READER = "Virtual PCD 00 00"


def test_empty_reader_shows_no_card(pcscd):
    reader = PcscCardReader()
    assert reader.state() == NoCard(READER)
    reader.close()


def test_card_on_the_reader_gives_its_uid_and_atr(make_card):
    reader = PcscCardReader()
    make_card(uid="04a1b2c3d4e5f6").insert()
    state = wait_for(reader.state, CardPresent)
    assert state == CardPresent(READER, "04A1B2C3D4E5F6", DEFAULT_ATR.upper())
    reader.close()


def test_card_taken_away_mid_session_shows_no_card(make_card):
    reader = PcscCardReader()
    card = make_card()
    card.insert()
    assert isinstance(wait_for(reader.state, CardPresent), CardPresent)
    card.remove()
    assert wait_for(reader.state, NoCard) == NoCard(READER)


def test_reader_connection_cut_abruptly_shows_no_card_then_the_next_card(make_card):
    reader = PcscCardReader()
    first = make_card(uid="0102030405060708")
    first.insert()
    assert isinstance(wait_for(reader.state, CardPresent), CardPresent)
    first.unplug()
    assert wait_for(reader.state, NoCard) == NoCard(READER)
    make_card(uid="A1A2A3A4").insert()
    assert wait_for(reader.state, CardPresent).card_id == "A1A2A3A4"


def test_a_card_swapped_between_two_polls_is_read_afresh(make_card):
    # Both cards have the same ATR, as two cards of one kind do: only the UID differs.
    reader = PcscCardReader()
    first = make_card(uid="11111111")
    first.insert()
    assert wait_for(reader.state, CardPresent).card_id == "11111111"
    first.remove()
    time.sleep(0.6)  # pcscd sees the reader empty (one ~400 ms poll), the kiosk does not poll
    second = make_card(uid="22222222")
    second.insert()
    time.sleep(0.6)
    assert reader.state().card_id == "22222222"


def test_a_card_refusing_get_data_is_a_card_error_asked_once(make_card):
    reader = PcscCardReader()
    card = make_card(get_data_status="6A81")  # "function not supported": not a card we know
    card.insert()
    state = wait_for(reader.state, CardError)
    assert state == CardError(READER, "the card refused to give its id (status 6A81)")
    for _ in range(5):
        assert reader.state() == state
    assert card.apdus == [bytes.fromhex("FFCA000000")]


def test_a_card_pulled_during_the_read_is_an_error_then_no_card(make_card):
    reader = PcscCardReader()
    make_card(leave_during_read=True).insert()
    state = wait_for(reader.state, CardError)
    assert isinstance(state, CardError) and "hold it still" in state.detail
    assert wait_for(reader.state, NoCard) == NoCard(READER)


def test_pcscd_not_running_means_no_reader_and_a_restart_is_picked_up(pcscd, make_card):
    reader = PcscCardReader()
    card = make_card(uid="CAFE0001")
    card.insert()
    assert wait_for(reader.state, CardPresent).card_id == "CAFE0001"
    pcscd.stop()
    state = reader.state()
    assert isinstance(state, NoReader)
    assert "pcscd" in state.detail
    pcscd.start()
    assert reader.state() == NoCard(READER)  # the same reader object finds the new daemon
    card.insert()  # its connection died with the old daemon: tap again
    assert wait_for(reader.state, CardPresent).card_id == "CAFE0001"


def test_the_reader_is_picked_by_a_part_of_its_name(pcscd):
    assert PcscCardReader("pcd 00 01").state() == NoCard("Virtual PCD 00 01")
    missing = PcscCardReader("ACR122").state()
    assert isinstance(missing, NoReader)
    assert "'ACR122'" in missing.detail and READER in missing.detail


def test_polling_a_card_every_300_ms_is_cheap_and_reuses_the_connection(make_card):
    reader = PcscCardReader()
    card = make_card()
    card.insert()
    assert isinstance(wait_for(reader.state, CardPresent), CardPresent)
    timings_ms = []
    for _ in range(200):
        started = time.perf_counter()
        state = reader.state()
        timings_ms.append((time.perf_counter() - started) * 1000)
    assert isinstance(state, CardPresent)
    assert card.apdus == [bytes.fromhex("FFCA000000")]  # read once, then the handle is reused
    p95 = statistics.quantiles(timings_ms, n=20)[-1]
    print(f"state() with a card present: median {statistics.median(timings_ms):.3f} ms, p95 {p95:.3f} ms")
    # The kiosk polls every 300 ms; a poll must take a small part of that, even on a busy CI box.
    assert p95 < 30
