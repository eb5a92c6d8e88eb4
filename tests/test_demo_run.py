"""`make demo` typed twice, on a busy port, or cut short: it refuses or fails without
touching the demo that is there."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

SPILNO = str(Path(sys.executable).parent / "spilno")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SPILNO, "server", "demo", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_a_second_demo_says_the_first_is_running_and_changes_nothing(tmp_path, monkeypatch):
    from server.demo_guard import DemoLock
    from spilno.cli import main

    # The first demo, as far as a second one can tell: the instance folder's lock, held
    # with where it serves, and its database.
    instance = tmp_path / "instance"
    instance.mkdir()
    database = instance / "demo.db"
    database.write_bytes(b"the running demo's database")
    first = DemoLock(instance)
    first.acquire()
    first.describe(url="http://127.0.0.1:8000", sign_in=str(instance / "demo-sign-in.txt"))
    try:
        second = _demo(tmp_path, "--port", str(_free_port()), "--votes", "5")  # a real process
        assert second.returncode == 1, second.stdout + second.stderr
        assert "Демо вже працює" in second.stderr and "The demo is already running" in second.stderr
        assert "http://127.0.0.1:8000/login" in second.stderr  # where the running one is
        assert str(instance / "demo-sign-in.txt") in second.stderr
        assert "Збираю демо" not in second.stdout
        # Only a rebuild, or the same port: refused the same way.
        monkeypatch.chdir(tmp_path)
        for args in (["--no-serve"], ["--port", "8000"]):
            again = CliRunner().invoke(main, ["server", "demo", *args, "--votes", "5"])
            assert again.exit_code == 1 and "Демо вже працює" in again.output
    finally:
        first.release()
    assert database.read_bytes() == b"the running demo's database"
    assert sorted(p.name for p in instance.iterdir()) == ["demo.db", "demo.lock"]


def test_a_busy_port_is_reported_before_anything_is_built(tmp_path, monkeypatch):
    from spilno.cli import main

    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["server", "demo", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Порт {port} на 127.0.0.1 уже зайнятий" in result.output
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert f"make demo PORT={port + 1}" in result.output
    assert not (tmp_path / "instance" / "demo.db").exists()


def test_a_build_cut_short_leaves_the_previous_database_whole(tmp_path, monkeypatch):
    from server import db
    from server.demo_guard import DemoLock
    from spilno.cli import main

    instance = tmp_path / "instance"
    instance.mkdir()
    with sqlite3.connect(instance / "demo.db") as previous:
        previous.execute("CREATE TABLE marker (word TEXT)")
        previous.execute("INSERT INTO marker VALUES ('previous demo')")
    previous.close()

    def half_built_then_power_cut(engine, *_args):
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE half (built TEXT)")
        raise RuntimeError("power cut while building")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(db, "upgrade", half_built_then_power_cut)
    result = CliRunner().invoke(main, ["server", "demo", "--no-serve", "--votes", "5"])
    assert isinstance(result.exception, RuntimeError)
    with sqlite3.connect(instance / "demo.db") as database:
        tables = database.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert tables == [("marker",)]
    database.close()
    # The lock went with the failed run: the next one may build.
    lock = DemoLock(instance)
    lock.acquire()
    lock.release()


def test_the_server_and_terminal_log_goes_to_a_file_not_the_screen(tmp_path, capsys):
    import logging

    from server.demo_guard import log_to_file

    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("werkzeug").level)
    try:
        log_to_file(tmp_path / "demo.log")
        logging.getLogger("werkzeug").info('"POST /api/v1/sync/log HTTP/1.1" 200')
        logging.getLogger("sync.worker").warning("server unreachable")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("werkzeug").setLevel(saved[2])
    written = (tmp_path / "demo.log").read_text()
    assert "/api/v1/sync/log" in written and "server unreachable" in written
    screen = capsys.readouterr()
    assert "sync" not in screen.out + screen.err


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_the_port_must_be_a_port(tmp_path, port):
    from spilno.cli import main

    result = CliRunner().invoke(main, ["server", "demo", "--port", port])
    assert result.exit_code == 2 and "--port" in result.output
