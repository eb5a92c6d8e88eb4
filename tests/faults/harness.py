"""The real processes of a fault drill: the server under gunicorn, and terminals driven
through `spilno device ...`, each a separate process with its own store file.

Everything a process prints is kept in a transcript, so a failing drill shows what the
server and every terminal said."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT_S = 90.0

T = TypeVar("T")
R = TypeVar("R")


def in_parallel(work: Callable[[T], R], items: Iterable[T], at_most: int | None = None) -> list[R]:
    """`work` over `items` at the same time (a thread per item, each driving its own
    processes; `at_most` at once), results in the items' order."""
    items = list(items)
    with ThreadPoolExecutor(max_workers=max(1, min(len(items), at_most or len(items)))) as pool:
        return list(pool.map(work, items))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without SPILNO_* settings a developer may have exported
    (a clock skew, a crash point), plus unbuffered output so lines arrive as printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPILNO_")}
    # The drills cast their residents' votes with `spilno device simulate-votes`.
    return env | {"PYTHONUNBUFFERED": "1", "SPILNO_SIMULATION": "1"} | (extra or {})


@dataclass
class Run:
    """A finished command: what it was and what it said."""

    label: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"$ {self.label}  -> exit {self.returncode} in {self.seconds:.1f} s\n"
            f"  stdout: {self.stdout.strip()[-3000:] or '-'}\n"
            f"  stderr: {self.stderr.strip()[-3000:] or '-'}"
        )

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]


@dataclass
class Transcript:
    """Every command run in a drill, in order, for the failure report."""

    runs: list[Run] = field(default_factory=list)

    def add(self, run: Run) -> Run:
        self.runs.append(run)
        return run

    def since(self, mark: int) -> str:
        return "\n".join(str(run) for run in self.runs[mark:])


class ServerProcess:
    """gunicorn serving server.wsgi:app with 2 workers, in a process group of its own so
    a SIGKILL takes the master and its workers down together, like a host losing power."""

    def __init__(self, database_url: str, signing_key_pem: str, log_path: Path, secrets_: dict) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = _clean_env(
            {
                "SPILNO_DATABASE_URL": database_url,
                "SPILNO_SECRET_KEY": secrets_["secret_key"],
                "SPILNO_VOTER_KEY_SECRET": secrets_["voter_key_secret"],
                "SPILNO_SIGNING_KEY": signing_key_pem,
            }
        )
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 30.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the server is already running"
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"\n===== gunicorn start #{self.starts} =====\n")
            log.flush()
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    "2",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "60",
                    "--graceful-timeout",
                    "3",
                    "--log-level",
                    "warning",
                    "--access-logfile",
                    "-",
                    "server.wsgi:app",
                ],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Until a worker answers (gunicorn listens before its workers have loaded the app)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.proc.returncode}\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/api/v1/openapi.json")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within {timeout} s\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no graceful anything."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "server log (tail):\n" + "\n".join(text.splitlines()[-lines:])


class Terminal:
    """One terminal: a store file, driven only through `spilno device ...` processes."""

    def __init__(self, code: str, store: Path, transcript: Transcript) -> None:
        self.code = code
        self.store = store
        self.transcript = transcript
        self.running: list[subprocess.Popen] = []

    def __repr__(self) -> str:
        return f"Terminal({self.code})"

    def argv(self, command: str, *args: str) -> list[str]:
        return [sys.executable, "-m", "spilno", "device", command, "--store", str(self.store), *args]

    def run(self, command: str, *args: str, env: dict[str, str] | None = None) -> Run:
        argv = self.argv(command, *args)
        started = time.monotonic()
        completed = subprocess.run(
            argv,
            cwd=REPO,
            env=_clean_env(env),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        label = f"[{self.code}] spilno device {command} {' '.join(args)}".strip()
        return self.transcript.add(
            Run(label, completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)
        )

    def start(self, command: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """The command as a running process (stdout and stderr piped), for a drill to kill."""
        proc = subprocess.Popen(
            self.argv(command, *args),
            cwd=REPO,
            env=_clean_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.running.append(proc)
        return proc

    def finish(self, proc: subprocess.Popen, label: str) -> Run:
        """Wait for a started process (killed or not) and keep what it printed."""
        stdout, stderr = proc.communicate(timeout=COMMAND_TIMEOUT_S)
        self.running.remove(proc)
        return self.transcript.add(Run(f"[{self.code}] {label}", proc.returncode, stdout, stderr))

    def kill_all(self) -> None:
        for proc in list(self.running):
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=10)
            self.running.remove(proc)

    # --- the commands a drill uses -----------------------------------------------------

    def enrol(self, server_url: str, code: str) -> Run:
        return self.run("enrol", "--server", server_url, "--code", code)

    def sync(self, *, skew_ms: int = 0, env: dict[str, str] | None = None) -> Run:
        return self.run("sync", "--once", "--json", "--timeout", "15", f"--clock-skew-ms={skew_ms}", env=env)

    def cast(self, count: int, *, skew_ms: int = 0) -> Run:
        run = self.run("simulate-votes", "--count", str(count), "--json", f"--clock-skew-ms={skew_ms}")
        assert run.returncode == 0, run
        return run

    def verify(self) -> Run:
        return self.run("verify", "--json")

    def status(self) -> dict:
        run = self.run("status", "--json")
        assert run.returncode == 0, run
        return run.json_lines()[0]

    # --- reading the store file directly, as a technician's tool would -------------------

    @contextlib.contextmanager
    def _read_only(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)
        try:
            yield conn
        finally:
            conn.close()

    def log_rows(self) -> list[tuple[int, str, str]]:
        """(seq, entry_hash, entry_json) of every log entry, in order."""
        with self._read_only() as conn:
            return list(conn.execute("SELECT seq, entry_hash, entry_json FROM log ORDER BY seq"))

    def acked_seq(self) -> int:
        with self._read_only() as conn:
            return conn.execute("SELECT acked_seq FROM sync_state").fetchone()[0]

    def last_error(self) -> str | None:
        """What the maintenance screen shows as the last sync error."""
        with self._read_only() as conn:
            return conn.execute("SELECT last_error FROM sync_state").fetchone()[0]

    def vote_ids(self) -> list[str]:
        with self._read_only() as conn:
            return [row[0] for row in conn.execute("SELECT vote_id FROM log ORDER BY seq")]

    def statuses(self) -> dict[str, str | None]:
        with self._read_only() as conn:
            return dict(conn.execute("SELECT vote_id, status FROM log"))
