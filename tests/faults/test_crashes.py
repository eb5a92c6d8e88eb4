"""Fault drills, crashes: a terminal or the server dies at the worst moments of a sync,
and afterwards every vote the terminals logged is counted exactly once.

Real processes on loopback: gunicorn (2 workers) on PostgreSQL, `spilno device`
processes with their own store files, and a fault proxy between them."""

from __future__ import annotations

import json
import time

from sqlalchemy import text

from .harness import in_parallel
from .proxy import LOG_PUSH

TERMINALS = 10


def _synced(run) -> dict:
    assert run.returncode == 0, run
    line = run.json_lines()[-1]
    assert line["ok"] and line["backlog"] == 0, run
    return line


def test_votes_committed_on_terminals_killed_mid_casting_are_all_counted(world, alarms):
    terminals = world.take(3)
    count = 2000  # far more than get cast before the kill

    def cast_then_kill(terminal):
        proc = terminal.start("simulate-votes", "--count", str(count), "--json")
        confirmed = []  # a line is printed only after its vote's transaction committed
        for line in proc.stdout:
            confirmed.append(json.loads(line)["vote_id"])
            if len(confirmed) == 30:
                proc.kill()  # SIGKILL: no cleanup, like a power cut
                break
        run = terminal.finish(proc, f"simulate-votes --count {count} (SIGKILL after 30 votes)")
        return confirmed, run

    for terminal, (confirmed, run) in zip(terminals, in_parallel(cast_then_kill, terminals), strict=True):
        assert run.returncode == -9, run
        logged = terminal.vote_ids()
        assert logged[: len(confirmed)] == confirmed, f"{terminal.code}: a confirmed vote is not in the log"
        assert len(logged) < count, f"{terminal.code}: all {count} votes were cast before the kill"
        verified = terminal.verify()
        assert verified.returncode == 0 and verified.json_lines()[0]["ok"], verified
        assert terminal.acked_seq() == 0

    world.proxy.drop_connections()  # and the network is down when they come back
    for terminal, run in zip(terminals, in_parallel(lambda t: t.sync(), terminals), strict=True):
        assert run.returncode == 1, run
        assert terminal.last_error(), "the failed round is on the maintenance screen"
        assert terminal.acked_seq() == 0 and world.device(terminal).acked_seq == 0

    world.proxy.pass_through()
    for run in in_parallel(lambda t: t.sync(), terminals):
        _synced(run)
    world.check(terminals, "after the kill and a later sync: ")
    assert not alarms.raised()


def test_terminal_killed_while_its_push_is_held_syncs_later_without_doubling(world, alarms):
    # Two ways a push can be in flight when the terminal dies: its request still on the
    # way (it reaches the server after the terminal is gone), or the server's answer on
    # the way back. Either way the server committed and the terminal marked nothing.
    request_held, answer_held = world.take(2)
    for terminal, on in ((request_held, "request"), (answer_held, "response")):
        terminal.cast(60)
        world.proxy.delay(120, on=on, match=LOG_PUSH)
        before = len(world.proxy.exchanges(LOG_PUSH))
        proc = terminal.start("sync", "--once", "--json")
        if on == "request":
            world.proxy.wait_for(lambda: len(world.proxy.exchanges(LOG_PUSH)) > before, what="the held push")
        else:
            world.proxy.wait_for(
                lambda: any(e.response for e in world.proxy.exchanges(LOG_PUSH)[before:]),
                what="the server's answer to the held push",
            )
        proc.kill()
        killed = terminal.finish(proc, f"sync --once (SIGKILL while the {on} is held)")
        assert killed.returncode == -9, killed
        held = world.proxy.exchanges(LOG_PUSH)[before]
        world.proxy.pass_through()
        world.proxy.release()  # a held request now reaches the server, after the terminal died
        world.proxy.wait_for(lambda: held.done, what="the held exchange to finish")
        assert held.status == 200, held
        assert world.device(terminal).acked_seq == 60, "the server should have committed the push"
        assert terminal.acked_seq() == 0

        again = _synced(terminal.sync())
        assert again["acked_seq"] == 60
    world.check([request_held, answer_held], "after a kill mid-request: ")
    assert not alarms.raised()


def test_ack_that_never_reaches_the_terminal_is_answered_again(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(80)
    world.proxy.cut_response(match=LOG_PUSH)
    before = len(world.proxy.exchanges(LOG_PUSH))
    cut = terminal.sync()
    assert cut.returncode == 1, cut
    attempts = world.proxy.exchanges(LOG_PUSH)[before:]
    assert attempts and all(e.status == 200 and not e.delivered for e in attempts), attempts
    first_answer = attempts[0].response_json()
    assert first_answer["acked_seq"] == 80 and len(first_answer["statuses"]) == 80
    assert world.device(terminal).acked_seq == 80
    assert terminal.acked_seq() == 0, "nothing may be marked sent without an answer"
    assert terminal.last_error(), "the failed round is on the maintenance screen"

    world.proxy.pass_through()
    _synced(terminal.sync())
    delivered = [e for e in world.proxy.exchanges(LOG_PUSH)[before:] if e.delivered]
    assert len(delivered) == 1
    answer = delivered[0].response_json()
    # The same votes, answered again with the same standings.
    assert answer["acked_seq"] == 80 and answer["acked_hash"] == first_answer["acked_hash"]
    assert answer["statuses"] == first_answer["statuses"]
    assert set(terminal.statuses().values()) == {"counted"}
    world.check([terminal], "after a lost ack: ")
    assert not alarms.raised()


def test_crash_between_the_answer_and_marking_sent_loses_and_doubles_nothing(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(50)
    crashed = terminal.sync(env={"SPILNO_CRASH_AT": "after_answer_before_mark"})
    assert crashed.returncode == -9, crashed
    assert world.device(terminal).acked_seq == 50
    assert terminal.acked_seq() == 0

    terminal.cast(10)
    assert _synced(terminal.sync())["acked_seq"] == 60
    world.check([terminal], "after a crash before marking: ")
    assert not alarms.raised()


def test_server_killed_mid_batch_then_restarted_loses_and_doubles_nothing(world, alarms):
    terminals = world.take(3)
    in_parallel(lambda t: t.cast(300), terminals)
    with world.engine.connect() as blocker:
        # Hold the cycle's tally rows: a push then stops inside its transaction, its votes
        # and log entries written but not committed, where the kill is to land.
        blocker.begin()
        held = blocker.execute(
            text("SELECT project_id FROM project_tally WHERE cycle_id = :c FOR UPDATE"), {"c": world.cycle_id}
        ).all()
        assert held, "earlier drills should have left tally rows to hold"
        pushes = [t.start("sync", "--once", "--json") for t in terminals]
        _wait_for_blocked_pushes(world, 2)  # both gunicorn workers, mid-transaction
        world.server.kill()
        blocker.rollback()
    runs = [
        t.finish(p, "sync --once (gunicorn SIGKILLed mid-batch)")
        for t, p in zip(terminals, pushes, strict=True)
    ]
    for run in runs:
        assert run.returncode == 1, run
    assert [world.device(t).acked_seq for t in terminals] == [0, 0, 0], "nothing may have committed"

    world.server.start()
    for run in in_parallel(lambda t: t.sync(), terminals):
        _synced(run)
    world.check(terminals, "after the server restart: ")
    assert not alarms.raised()


def _wait_for_blocked_pushes(world, count: int, timeout: float = 60.0) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%project_tally%'"
    )
    deadline = time.monotonic() + timeout
    with world.engine.connect() as watcher:
        while (blocked := watcher.execute(query).scalar_one()) < count:
            assert time.monotonic() < deadline, f"only {blocked} push(es) reached the held tally rows"
            time.sleep(0.05)
            watcher.rollback()  # a fresh snapshot of pg_stat_activity
