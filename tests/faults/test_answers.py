"""Fault drills, answers: a man in the middle between a terminal and the real server
forges acknowledgements, moves the server's clock, or hands one request's genuine answer
to another. The terminal acts on none of it, says so on its maintenance screen, and
delivers every vote once the network is honest again.

Real processes on loopback: gunicorn on PostgreSQL, `spilno device` processes with their
own store files, and a fault proxy that rewrites the server's answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from sync import signed_answers, signed_requests, signing

from .harness import Terminal
from .proxy import LOG_PUSH, http_message

TERMINALS = 5
DAY_MS = 86_400_000


def _head_and_body(message: bytes) -> tuple[bytes, bytes]:
    head, _, body = message.partition(b"\r\n\r\n")
    return head, body


def _forged_ack(request: bytes, response: bytes) -> bytes:
    """Everything in the push acknowledged, with the hash copied from the push itself,
    under the genuine answer's headers (its signature included)."""
    batch = json.loads(_head_and_body(request)[1])
    answer = {
        "acked_seq": batch["checkpoint"]["seq"],
        "acked_hash": batch["checkpoint"]["hash"],
        "gap": False,
        "statuses": [],
        "server_time_ms": 0,
    }
    head = _head_and_body(response)[0].replace(b" 409 ", b" 200 ").replace(b" 422 ", b" 200 ")
    return http_message(head, json.dumps(answer).encode())


def _alarm_kinds(terminal: Terminal) -> dict[str, int]:
    return {a["kind"]: a["repeats"] for a in terminal.status()["alarms"]}


def test_forged_acknowledgement_marks_nothing_sent_and_every_vote_arrives_later(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(20)
    world.proxy.rewrite(_forged_ack)
    run = terminal.sync()
    assert run.returncode == 1 and "answer.forged" in run.stdout + run.stderr, run
    assert terminal.acked_seq() == 0, "nothing may be marked sent on a forged answer"
    assert terminal.status()["backlog"] == 20
    assert _alarm_kinds(terminal) == {"answer.forged": 1}

    world.proxy.pass_through()
    run = terminal.sync()
    assert run.returncode == 0, run
    assert terminal.acked_seq() == 20 and world.device(terminal).acked_seq == 20
    assert world.device(terminal).backlog == 0, "the fleet page's backlog is true after the push"
    assert alarms.kinds() == {}, "honest votes sent through a forger raise nothing on the server"
    world.check([terminal], "after a forged acknowledgement: ")


def test_forged_server_clock_moves_nothing_on_the_terminal(world, alarms):
    (terminal,) = world.take(1)
    before = terminal.status()["clock_offset_ms"]

    def two_days_on(request: bytes, response: bytes) -> bytes:
        head, body = _head_and_body(response)
        lines = []
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"x-spilno-server-time":
                line = name + b": " + str(int(value.strip()) + 2 * DAY_MS).encode()
            lines.append(line)
        return http_message(b"\r\n".join(lines), body)

    world.proxy.rewrite(two_days_on, match=None)
    run = terminal.sync()
    assert run.returncode == 1 and "answer.forged" in run.stdout + run.stderr, run
    status = terminal.status()
    assert status["clock_offset_ms"] == before, "a forged clock must not close voting here"
    # The package answer is refused, the round goes on to the push, which is refused too.
    assert _alarm_kinds(terminal) == {"answer.forged": 2, "package.refused": 1}
    terminal.cast(3)  # voting is still open on the terminal
    world.proxy.pass_through()
    assert terminal.sync().returncode == 0
    world.check([terminal], "after a forged clock: ")


def test_a_genuine_answer_given_to_another_push_is_refused(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(2)
    assert terminal.sync().returncode == 0
    genuine = world.proxy.exchanges(LOG_PUSH)[-1].response
    assert b"X-Spilno-Answer-Signature" in genuine

    terminal.cast(5)
    world.proxy.rewrite(lambda request, response: genuine)
    run = terminal.sync()
    assert run.returncode == 1 and "answer.forged" in run.stdout + run.stderr, run
    assert terminal.acked_seq() == 2
    world.proxy.pass_through()
    assert terminal.sync().returncode == 0 and terminal.acked_seq() == 7
    world.check([terminal], "after a replayed answer: ")


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def test_a_server_host_with_another_signing_key_changes_nothing_and_says_why(world, alarms):
    """A second host behind the balancer was set up with its own key: its answers are
    genuinely signed, by a key this terminal does not know. Nothing in them is acted on,
    the alarm names the cause, and the votes go up once the right host answers."""
    (terminal,) = world.take(1)
    terminal.cast(6)
    other = signing.generate_private_key()

    def other_host(request: bytes, response: bytes) -> bytes:
        head, body = _head_and_body(response)
        signature = _header(_head_and_body(request)[0], b"X-Spilno-Signature")
        binding = signed_answers.request_binding(signature.decode() if signature else None, b"")
        status = int(head.split(b" ", 2)[1])
        kept = [
            line
            for line in head.split(b"\r\n")
            if line.split(b":")[0].strip().lower()
            not in (b"x-spilno-answer-signature", b"x-spilno-answer-key", b"x-spilno-server-time")
        ]
        server_time = int(_header(head, b"X-Spilno-Server-Time") or 0)
        signed = signed_answers.sign_answer(other, binding, status, body, server_time)
        extra = [f"{k}: {v}".encode() for k, v in signed.items()]
        return http_message(b"\r\n".join(kept + extra), body)

    world.proxy.rewrite(other_host, match=None)
    run = terminal.sync()
    assert run.returncode == 1 and "answer.other_key" in run.stdout + run.stderr, run
    assert terminal.acked_seq() == 0 and "answer.other_key" in _alarm_kinds(terminal)
    world.proxy.pass_through()
    assert terminal.sync().returncode == 0 and terminal.acked_seq() == 6
    world.check([terminal], "after a host with another key: ")


def test_requests_forged_in_a_terminals_name_raise_one_counted_alarm(world, alarms):
    (terminal,) = world.take(1)
    for attempt in range(12):  # a flood, each with a made-up signature
        request = urllib.request.Request(
            world.proxy.url + "/api/v1/sync/package?have=0",
            headers={
                "X-Spilno-Device": terminal.code,
                "X-Spilno-Time": "1800000000000",
                "X-Spilno-Signature": signing.sign(signing.generate_private_key(), b"x"),
                signed_requests.COUNTER_HEADER: str(attempt + 1),
            },
        )
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("a forged request was answered as genuine")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
    assert alarms.kinds() == {("device.forged_request", terminal.code): 12}
    assert len(alarms.raised()) == 1, "one alarm counted up, not twelve"
    assert terminal.sync().returncode == 0, "the terminal itself is not locked out"
