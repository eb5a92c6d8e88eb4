"""A TCP proxy for fault drills: devices talk to the server through it on loopback, and
a test switches what it does to the traffic while they run.

Faults (each applies to new connections whose request line starts with `match`, or to
every connection when `match` is None; other connections pass):

- pass: forward both ways;
- drop: accept a new connection and close it at once (with `match`, once the request
  line shows it matches), as a dead network looks to the device;
- delay on "request": hold the request, then forward it, even if the device has gone
  meanwhile (a request that reaches the server late);
- delay on "response": forward the request, hold the server's answer, then pass it on;
- cut: forward the request, wait for the server's whole answer (so the server has
  committed), and close the device's side before a single byte of it goes back;
- rewrite: forward the request, and give the device what a function makes of the
  request and the server's answer instead (a man in the middle forging answers).

Every exchange is recorded (request bytes, response bytes, what was done to it), so a
test can wait for "a push is in flight", read what the server answered, or replay a
captured request later. One connection carries one exchange: the device opens a new
connection per request and gunicorn's sync workers close it after the answer.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOG_PUSH = "POST /api/v1/sync/log"
MAX_MESSAGE = 8 * 1024 * 1024
IO_TIMEOUT_S = 60.0  # longer than any answer of a healthy server here


class ProxyError(Exception):
    pass


@dataclass
class Exchange:
    """One request through the proxy and what became of it."""

    request: bytes
    fault: str  # what the proxy did to this exchange
    response: bytes = b""
    forwarded: bool = False  # the request went to the server
    delivered: bool = False  # the answer went back to the device
    done: bool = False
    error: str | None = None
    release: threading.Event = field(default_factory=threading.Event, repr=False)

    def __repr__(self) -> str:
        state = "delivered" if self.delivered else "answered" if self.response else "no answer"
        return (
            f"<Exchange {self.request_line!r} fault={self.fault} status={self.status}"
            f" {state}{f' error={self.error!r}' if self.error else ''}>"
        )

    @property
    def request_line(self) -> str:
        return self.request.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def status(self) -> int | None:
        """The server's HTTP status, if it answered."""
        if not self.response:
            return None
        return int(self.response.split(b" ", 2)[1])

    def response_json(self) -> Any:
        _, _, body = self.response.partition(b"\r\n\r\n")
        return json.loads(body)


@dataclass(frozen=True)
class _Rule:
    fault: str = "pass"
    match: str | None = None
    seconds: float = 0.0
    rewrite: Callable[[bytes, bytes], bytes] | None = None

    def applies_to(self, request_line: str) -> bool:
        return self.match is None or request_line.startswith(self.match)


class FaultProxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream = (host, upstream_port)
        self._listener = socket.create_server((host, 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._rule = _Rule()
        self._changed = threading.Condition()
        self._exchanges: list[Exchange] = []
        self._stopping = False
        self._threads: list[threading.Thread] = []

    # --- control ---------------------------------------------------------------------

    def start(self) -> FaultProxy:
        thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self._listener.close()
        self.release()
        for thread in self._threads:
            thread.join(timeout=5)

    def pass_through(self) -> None:
        self._set(_Rule())

    def drop_connections(self, match: str | None = None) -> None:
        self._set(_Rule("drop", match))

    def delay(self, seconds: float, *, on: str = "request", match: str | None = LOG_PUSH) -> None:
        """Hold matching requests (on="request") or answers (on="response") for
        `seconds`, or until release()."""
        if on not in ("request", "response"):
            raise ValueError(f"delay on 'request' or 'response', not {on!r}")
        self._set(_Rule(f"delay_{on}", match, seconds))

    def cut_response(self, match: str | None = LOG_PUSH) -> None:
        self._set(_Rule("cut", match))

    def rewrite(self, change: Callable[[bytes, bytes], bytes], match: str | None = LOG_PUSH) -> None:
        """Answer matching requests with `change(request, answer)` instead of the answer."""
        self._set(_Rule("rewrite", match, rewrite=change))

    def release(self) -> None:
        """End every hold now."""
        with self._changed:
            for exchange in self._exchanges:
                exchange.release.set()
            self._changed.notify_all()

    # --- what happened -----------------------------------------------------------------

    def exchanges(self, match: str | None = None) -> list[Exchange]:
        with self._changed:
            return [e for e in self._exchanges if match is None or e.request_line.startswith(match)]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
        """Block until `condition()` holds (re-checked on every change in the proxy)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProxyError(f"timed out after {timeout} s waiting for {what or condition}")
                self._changed.wait(min(left, 0.2))

    # --- plumbing ------------------------------------------------------------------------

    def _set(self, rule: _Rule) -> None:
        with self._changed:
            self._rule = rule
            self._changed.notify_all()

    def _note(self, exchange: Exchange, **changes: Any) -> None:
        with self._changed:
            for name, value in changes.items():
                setattr(exchange, name, value)
            self._changed.notify_all()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            thread = threading.Thread(
                target=self._serve, args=(client,), name="fault-proxy-conn", daemon=True
            )
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            rule = self._rule
            if rule.fault == "drop" and rule.match is None:
                _abort(client)
                return
            client.settimeout(IO_TIMEOUT_S)
            try:
                request = _read_message(client, request=True)
            except OSError:
                return
            if not request:
                return
            line = request.split(b"\r\n", 1)[0].decode("latin-1")
            fault = rule.fault if rule.applies_to(line) else "pass"
            exchange = Exchange(request, fault)
            with self._changed:
                self._exchanges.append(exchange)
                self._changed.notify_all()
            try:
                self._carry(client, exchange, rule)
            finally:
                self._note(exchange, done=True)

    def _carry(self, client: socket.socket, exchange: Exchange, rule: _Rule) -> None:
        if exchange.fault == "drop":
            _abort(client)
            return
        if exchange.fault == "delay_request":
            exchange.release.wait(rule.seconds)
        try:
            with socket.create_connection(self.upstream, timeout=IO_TIMEOUT_S) as upstream:
                upstream.sendall(exchange.request)
                self._note(exchange, forwarded=True)
                response = _read_message(upstream, request=False)
        except OSError as exc:
            # The server is down or died mid-request: the device sees its connection close.
            self._note(exchange, error=f"{type(exc).__name__}: {exc}")
            _abort(client)
            return
        self._note(exchange, response=response)
        if not response:
            self._note(exchange, error="the server closed the connection without an answer")
            _abort(client)
            return
        if exchange.fault == "cut":
            _abort(client)
            return
        if exchange.fault == "delay_response":
            exchange.release.wait(rule.seconds)
        if exchange.fault == "rewrite" and rule.rewrite is not None:
            response = rule.rewrite(exchange.request, response)
        try:
            client.sendall(response)
            self._note(exchange, delivered=True)
        except OSError as exc:
            self._note(exchange, error=f"device gone: {type(exc).__name__}: {exc}")


def http_message(head: bytes, body: bytes) -> bytes:
    """`head` (status line and headers, without Content-Length) with `body` after it."""
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length:")]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def send_raw(port: int, request: bytes, host: str = "127.0.0.1") -> Exchange:
    """Send captured request bytes as they are (a replay) and read the answer."""
    with socket.create_connection((host, port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(request)
        response = _read_message(sock, request=False)
    return Exchange(request, "replay", response, forwarded=True, delivered=True, done=True)


def _abort(sock: socket.socket) -> None:
    """Close with a reset, as a dead link or a crashed peer looks to the other side."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _read_message(sock: socket.socket, *, request: bool) -> bytes:
    """One whole HTTP message: the head and a Content-Length body (a request without
    one has no body; an answer without one runs to EOF). Whatever arrived if the peer
    closes early (b"" if nothing did)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
        if len(data) > MAX_MESSAGE:
            raise ProxyError("message head too large")
    head, _, body = data.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None and request:
        length = 0
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
        if len(body) > MAX_MESSAGE:
            raise ProxyError("message body too large")
    return head + b"\r\n\r\n" + body
