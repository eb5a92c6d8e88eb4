"""HTTP to the server: bounded sizes and timeouts, and retries with exponential backoff
and full jitter for network trouble (no route, timeouts, 5xx), so a hundred terminals
coming back after a power cut do not knock on the server in step. A 4xx answer is
never retried: sending the same thing again gets the same refusal.
"""

from __future__ import annotations

import http.client
import json
import random as random_module
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.clock import Clock, system_clock_ms
from sync.sync_errors import SyncError, SyncUnavailable

API_PREFIX = "/api/v1/sync"
MAX_REQUEST_BYTES = 2 * 1024 * 1024  # a batch over this (votes of hundreds of selections) is halved
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # a package with every project's description and its photos (6 MB)
RETRY_BASE_S = 0.5
RETRY_CAP_S = 60.0
DEFAULT_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    sent_ms: int  # device clock when the request went out
    received_ms: int  # device clock when the answer was read
    request_signature: str | None = None  # the signature of the request it answers

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise SyncError("response.not_json", f"HTTP {self.status}", self.status) from None


class HttpTransport:
    """Plain http.client with bounded sizes, timeouts, and retries for what may pass."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = DEFAULT_ATTEMPTS,
        base_delay_s: float = RETRY_BASE_S,
        cap_s: float = RETRY_CAP_S,
        random: Callable[[], float] = random_module.random,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = system_clock_ms,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server URL must be http(s)://host[:port][/prefix], got {base_url!r}")
        self.base_url = base_url
        self._parts = parts
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.base_delay_s, self.cap_s = base_delay_s, cap_s
        self._random, self._sleep, self._clock = random, sleep, clock

    def path(self, endpoint: str, query: Mapping[str, int | str] | None = None) -> str:
        """The path as it goes on the request line, which is also what gets signed."""
        path = f"{self.prefix}{API_PREFIX}{endpoint}"
        return f"{path}?{urllib.parse.urlencode(query)}" if query else path

    def backoff_delay(self, retry: int) -> float:
        """Full jitter: anywhere between 0 and the exponential step, capped."""
        return self._random() * min(self.cap_s, self.base_delay_s * 2.0**retry)

    def request(
        self, method: str, path: str, body: bytes, headers: Callable[[], dict[str, str]]
    ) -> HttpAnswer:
        """Send, retrying connection errors, timeouts and 5xx. `headers` is called for
        every attempt, so each carries a fresh signed time."""
        if len(body) > MAX_REQUEST_BYTES:
            raise ValueError(f"request body of {len(body)} bytes is over {MAX_REQUEST_BYTES}")
        problem = ""
        for attempt in range(self.max_attempts):
            if attempt:
                self._sleep(self.backoff_delay(attempt - 1))
            sent_headers = headers()
            try:
                answer = self._send_once(method, path, body, sent_headers)
            except ssl.SSLCertVerificationError as exc:
                raise SyncError("tls.certificate", str(exc)) from None  # config, not weather
            except (OSError, http.client.HTTPException) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if answer.status < 500:
                return answer
            problem = f"HTTP {answer.status}"
        raise SyncUnavailable("server.unavailable", f"{self.max_attempts} attempts, last: {problem}")

    def _send_once(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> HttpAnswer:
        connection_class = (
            http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        )
        assert self._parts.hostname is not None  # checked in __init__
        connection = connection_class(self._parts.hostname, self._parts.port, timeout=self.timeout)
        try:
            sent_ms = self._clock()
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read(MAX_RESPONSE_BYTES + 1)
            received_ms = self._clock()
        finally:
            connection.close()
        if len(data) > MAX_RESPONSE_BYTES:
            raise SyncError("response.too_large", f"over {MAX_RESPONSE_BYTES} bytes", response.status)
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return HttpAnswer(
            response.status, answer_headers, data, sent_ms, received_ms, headers.get("X-Spilno-Signature")
        )
