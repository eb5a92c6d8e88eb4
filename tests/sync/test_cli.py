"""`spilno device ...` as a technician and the fault tests use it."""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sync.cli import device_group
from sync.device_store import DeviceStore

from .conftest import cast_votes


def run(*args: str, simulation: bool = True):
    # simulate-votes runs only where SPILNO_SIMULATION=1 is set (sync.cli): these tests set it.
    env = {"SPILNO_SIMULATION": "1" if simulation else ""}
    return CliRunner().invoke(device_group, [str(a) for a in args], env=env)


def test_every_device_command_has_help():
    for name, command in device_group.commands.items():
        assert (command.help or "").strip(), name
        result = run(name, "--help")
        assert result.exit_code == 0, (name, result.output)
    assert isinstance(device_group, click.Group) and device_group.name == "device"
    assert set(device_group.commands) == {
        "enrol",
        "sync",
        "status",
        "verify",
        "simulate-votes",
        "export-bundle",
    }


def test_a_technician_enrols_a_terminal_votes_are_cast_and_synced(tmp_path, server):
    path = tmp_path / "kiosk.db"
    server.issue_code("K7QM-2XPD-9RTA")
    server.publish()

    enrolled = run("enrol", "--store", path, "--server", server.url, "--code", "k7qm-2xpd-9rta")
    assert enrolled.exit_code == 0, enrolled.output
    assert "T-0001" in enrolled.output and " / device T-0001 enrolled" in enrolled.output

    first = run("sync", "--store", path, "--once", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["package_version"] == 1

    cast = run("simulate-votes", "--store", path, "--count", "25", "--seed", "3", "--json")
    assert cast.exit_code == 0, cast.output
    lines = [json.loads(line) for line in cast.output.splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, 26))

    status = json.loads(run("status", "--store", path, "--json").output)
    assert (status["device"], status["backlog"], status["package_version"]) == ("T-0001", 25, 1)

    synced = run("sync", "--store", path, "--once", "--json")
    assert json.loads(synced.output)["sent"] == 25
    assert server.device("T-0001").acked_seq == 25

    status = json.loads(run("status", "--store", path, "--json").output)
    assert status["backlog"] == 0 and status["last_sync_result"] == "ok"
    assert sum(status["statuses"].values()) == 25

    verified = run("verify", "--store", path)
    assert verified.exit_code == 0 and "25" in verified.output


def test_simulated_votes_are_kiosk_votes_from_this_terminal_for_the_open_cycle(enrolled):
    result = run("simulate-votes", "--store", enrolled.path, "--count", "5", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "cast 5 votes" in result.output
    for entry in enrolled.pending(10):
        body = entry.payload
        assert (body["channel"], body["device"], body["cycle"]) == ("kiosk", entry.device, 11)


def test_a_support_point_casts_paper_votes(tmp_path, server):
    store = DeviceStore(tmp_path / "point.db")
    server.enrol_offline(store, kind="support_point")
    store.store_package(server.publish())
    result = run("simulate-votes", "--store", store.path, "--count", "2")
    assert result.exit_code == 0, result.output
    assert {e.payload["channel"] for e in store.pending(10)} == {"paper"}
    store.close()


def test_simulating_without_a_package_explains_what_to_do(store, server):
    server.enrol_offline(store)
    result = run("simulate-votes", "--store", store.path, "--count", "1")
    assert result.exit_code == 1
    assert "Немає пакета" in result.output and "no package yet" in result.output


def test_a_wrong_enrolment_code_is_explained_in_both_languages(tmp_path, server):
    result = run("enrol", "--store", tmp_path / "k.db", "--server", server.url, "--code", "AAAA-BBBB-CCCC")
    assert result.exit_code == 1
    assert "Сервер відмовив" in result.output and "enrolment.invalid" in result.output


def test_commands_on_a_missing_file_say_so(tmp_path):
    result = run("status", "--store", tmp_path / "none.db")
    assert result.exit_code == 1 and "no device file" in result.output
    assert not (tmp_path / "none.db").exists()


def test_verify_fails_on_a_broken_log(enrolled, tmp_path):
    records = cast_votes(enrolled, 3)
    enrolled.close()
    path = tmp_path / "terminal.db"
    data = path.read_bytes()
    at = data.index(records[1].voter_key.encode())
    path.write_bytes(data[:at] + (b"1" if data[at : at + 1] == b"0" else b"0") + data[at + 1 :])

    result = run("verify", "--store", path, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {"ok": False, "first_bad_seq": 2, "entries": 3}


def test_sync_once_reports_failure_with_exit_code_1(enrolled, server):
    cast_votes(enrolled, 1)
    server.fail_next(409, code="chain.conflict")
    result = run("sync", "--store", enrolled.path, "--once")
    assert result.exit_code == 1
    assert "chain.conflict" in result.output


def test_a_terminal_process_syncs_in_the_background_and_stops_on_sigterm(enrolled, server):
    cast_votes(enrolled, 12)
    command = "from sync.cli import device_group; device_group()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "sync", "--store", str(enrolled.path), "--interval", "0.2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while (
            server.device(enrolled.require_identity().device).acked_seq < 12 and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert json.loads(out.splitlines()[0])["sent"] == 12
    assert enrolled.backlog_count() == 0


def _no_room_to_write() -> None:
    """In the child: no file may grow (as on a full disk), and writing past it fails
    with an error instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))


@pytest.mark.parametrize("command", [["sync", "--once"], ["status"], ["verify"]])
def test_a_full_disk_gives_a_clear_message_not_a_traceback(enrolled, server, command):
    cast_votes(enrolled, 5)
    enrolled.close()
    with sqlite3.connect(enrolled.path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nothing left in a -wal file
    conn.close()
    for leftover in ("-wal", "-shm"):
        Path(f"{enrolled.path}{leftover}").unlink(missing_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from sync.cli import device_group; device_group()",
            *command,
            "--store",
            str(enrolled.path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_no_room_to_write,
    )
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr, done.stderr
    assert "диск заповнений" in done.stderr + done.stdout and "disk is full" in done.stderr + done.stdout
    reopened = DeviceStore(enrolled.path)  # nothing was lost on the way
    try:
        assert reopened.last_seq() == 5 and reopened.verify_log() is None
    finally:
        reopened.close()


def test_made_up_votes_are_refused_unless_simulation_is_asked_for(tmp_path, server):
    """A terminal in the field must not sign fabricated votes: the command is not
    listed, and without SPILNO_SIMULATION=1 it writes nothing."""
    path = tmp_path / "kiosk.db"
    server.issue_code("K7QM-2XPD-9RTA")
    server.publish()
    assert run("enrol", "--store", path, "--server", server.url, "--code", "K7QM-2XPD-9RTA").exit_code == 0
    assert run("sync", "--store", path, "--once").exit_code == 0
    refused = run("simulate-votes", "--store", path, "--count", "3", simulation=False)
    assert refused.exit_code == 1
    assert "SPILNO_SIMULATION=1" in refused.output and "Нічого не записано" in refused.output
    store = DeviceStore(path)
    try:
        assert store.summary()["last_seq"] == 0
    finally:
        store.close()
    assert "simulate-votes" not in CliRunner().invoke(device_group, ["--help"]).output
