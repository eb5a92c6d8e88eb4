"""`make demo`'s kiosk: enrolled and synced before its first page, a resident on the fake
card reader in Chromium answers the demo's open poll and votes, and both reach the demo
server."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from server.demo import seed_demo
from server.demo_guard import PortBusy, reserve_port
from server.models import Device, PollAnswer, Vote
from server.sync.enrolment import issue_enrolment_code
from spilno import demo_kiosk
from spilno.demo_kiosk import DemoKiosk
from spilno.demo_run import DEMO_KIOSK
from tests.axe_check import assert_accessible


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def demo_server(app, session):
    seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=20)
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    yield port
    server.shutdown()


def test_the_demo_kiosk_takes_a_poll_answer_and_a_vote_on_the_fake_reader_and_sends_them(
    demo_server, session, tmp_path, browser, monkeypatch
):
    monkeypatch.setattr(demo_kiosk, "SYNC_EVERY_S", 0.5)
    device = session.scalar(select(Device).where(Device.code == DEMO_KIOSK))
    code = issue_enrolment_code(session, device).code
    session.commit()
    listener = reserve_port("127.0.0.1", _free_port(), option="kiosk-port")
    kiosk_url = "http://{}:{}".format(*listener.getsockname()[:2])
    kiosk = DemoKiosk(
        tmp_path / "kiosk.db",
        f"http://127.0.0.1:{demo_server}",
        "127.0.0.1",
        demo_server,
        code,
        listener,
        "2468",
        tmp_path / "receipts",
    )
    kiosk.start()
    try:
        assert kiosk.ready.wait(30) and kiosk.problem is None, kiosk.problem
        context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="uk-UA")
        context.set_default_timeout(15_000)
        context.add_init_script(script=Axe().axe_script)
        reader, screen = context.new_page(), context.new_page()
        screen.goto(kiosk_url)
        # Synced before the first page: the ballot's cycle, not «no voting data yet».
        expect(screen.locator("main")).not_to_contain_text("ще не отримав даних")
        assert_accessible(screen, "demo-kiosk-start", folder="demo-kiosk")
        reader.goto(f"{kiosk_url}/fake-card")
        assert_accessible(reader, "demo-kiosk-fake-card", folder="demo-kiosk")
        reader.locator("#card-a").click()  # on the demo's voter list
        # The demo's poll is open (server.demo_votes.demo_poll): the resident chooses.
        expect(screen).to_have_url(re.compile(r"/choose$"))
        expect(screen.locator("main")).to_contain_text("парк «Олександрія»")
        assert_accessible(screen, "demo-kiosk-choose", folder="demo-kiosk")
        answer_the_demo_poll(screen)
        expect(screen.locator("#receipt-code")).to_be_visible()
        assert_accessible(screen, "demo-kiosk-poll-receipt", folder="demo-kiosk")
        screen.locator("#continue").click()  # on to the budget vote
        screen.locator("button[id^='take-vote-']").click()
        expect(screen).to_have_url(re.compile(r"/ballot$"))
        assert_accessible(screen, "demo-kiosk-ballot", folder="demo-kiosk")
        while screen.locator("#cast").count() == 0:
            first = screen.locator("button.choose:not([disabled])").first
            if first.count() and "primary" not in (first.get_attribute("class") or ""):
                first.click()
            screen.locator("#next").click()
        screen.locator("#cast").click()
        expect(screen.locator("#receipt-code")).to_be_visible()
        assert_accessible(screen, "demo-kiosk-receipt", folder="demo-kiosk")
        assert len(list((tmp_path / "receipts").iterdir())) == 2, "both receipts are printed to files"
        context.close()

        deadline = time.monotonic() + 20
        arrived = answered = 0
        while time.monotonic() < deadline and not (arrived and answered):
            session.expire_all()
            arrived = session.scalar(select(func.count()).where(Vote.source == DEMO_KIOSK))
            answered = session.scalar(select(func.count()).where(PollAnswer.source == DEMO_KIOSK))
            time.sleep(0.3)
        assert (arrived, answered) == (1, 1)
    finally:
        kiosk.stop()
        kiosk.join(10)


def answer_the_demo_poll(screen) -> None:
    """From the choice screen: the poll, the first option each question allows (for
    points, one point to the first option), the review, the confirmation."""
    screen.locator("button[id^='take-poll-']").click()
    # Each screen's accessibility is checked in tests/kiosk/test_browser_poll.py.
    number = 0
    while screen.locator("#question-title").count():
        number += 1
        steps = screen.locator("button[id^='more-']")
        (steps if steps.count() else screen.locator("button.option:not([disabled])")).first.click()
        screen.locator("#next").click()
    assert number == 4  # the demo's poll asks one question of each kind
    expect(screen.locator("#answer-0")).to_be_visible()  # the review lists every question
    screen.locator("#next").click()
    screen.locator("#cast").click()


def test_a_busy_kiosk_port_is_named_with_its_own_option():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortBusy) as refused:
            reserve_port("127.0.0.1", port, option="kiosk-port")
    message = refused.value.message()
    assert f"--kiosk-port {port + 1}" in message and f"make demo KIOSK_PORT={port + 1}" in message
