"""The demo's terminal enrols with a real server over HTTP, votes and syncs."""

from __future__ import annotations

import socket
import threading
import time

from sqlalchemy import func, select
from werkzeug.serving import make_server

from server.demo import seed_demo
from server.models import Device, Vote
from server.sync.enrolment import issue_enrolment_code
from spilno.demo_terminal import DemoTerminal
from sync.device_store import DeviceStore


def test_the_demo_terminal_enrols_votes_and_its_votes_are_counted(app, session, tmp_path):
    summary = seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=50)
    terminal = session.scalar(select(Device).where(Device.code == "T-0001"))
    code = issue_enrolment_code(session, terminal).code
    session.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    demo = DemoTerminal(tmp_path / "terminal.db", "127.0.0.1", port, code, every_s=0.2)
    demo.start()
    try:
        store = DeviceStore(tmp_path / "terminal.db")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (store.enrolled() and store.acked_seq() >= 3):
            time.sleep(0.2)
        assert store.acked_seq() >= 3, store.summary()
    finally:
        demo.stopping.set()
        demo.join(timeout=10)
        server.shutdown()
    current = summary.cycles[1]
    from_terminal = session.scalar(
        select(func.count()).where(Vote.cycle_id == current.id, Vote.source == "T-0001")
    )
    assert from_terminal >= 3
