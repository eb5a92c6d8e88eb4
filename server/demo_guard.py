"""Guarding `spilno server demo`, however many times it is typed.

- One demo per instance folder: a lock (flock on instance/demo.lock) is held for the
  demo's whole life. A second run finds it taken, says where the first one serves, and
  leaves everything alone. The kernel drops the lock when the process ends, however it
  ends, so a crashed demo never blocks the next one.
- The port is taken before anything is built, so a busy port is reported at once and
  the database is not touched.
- The database is built in a file of its own and swapped in with os.replace, so a crash
  half-way leaves the previous demo database whole (or none), never half of one.
- The sign-ins (addresses, logins, codes, PIN, token) are written to
  instance/demo-sign-in.txt and printed after start-up; the server's request log and the
  demo terminal's sync log go to instance/demo.log, so nothing pushes them off screen.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from server.i18n import gettext_in

LOCK_FILE = "demo.lock"
SIGN_IN_FILE = "demo-sign-in.txt"
LOG_FILE = "demo.log"
DATABASE_FILE = "demo.db"


class DemoAlreadyRunning(Exception):
    """Another demo holds this instance folder's lock; `running` is what it wrote about
    itself (pid, url, sign-in file), possibly empty if it has not written yet."""

    def __init__(self, running: dict[str, Any]) -> None:
        super().__init__(f"a demo is already running: {running}")
        self.running = running

    def message(self) -> str:
        url = self.running.get("url") or "?"
        pid = self.running.get("pid") or "?"
        sign_in = self.running.get("sign_in") or "instance/" + SIGN_IN_FILE
        return _in_both_languages(
            ("Демо вже працює (процес {pid}): {url}, консоль {url}/login.", {"pid": pid, "url": url}),
            ("Входи, коди й токен: {sign_in}. Нічого не змінено.", {"sign_in": sign_in}),
            ("Щоб зібрати демо заново, спершу зупиніть те, що працює (Ctrl+C у його вікні).", {}),
        )


class PortBusy(Exception):
    """The address cannot be listened on (taken by another program, or not ours)."""

    def __init__(self, host: str, port: int, error: OSError, option: str = "port") -> None:
        super().__init__(f"cannot listen on {host}:{port}: {error}")
        self.host, self.port, self.error = host, port, error
        self.option = option  # "port" (the console) or "kiosk-port"

    def message(self) -> str:
        other = self.port + 1 if self.port < 65535 else 8000
        flag, variable = f"--{self.option}", self.option.upper().replace("-", "_")
        where = {"host": self.host, "port": self.port, "reason": self.error.strerror}
        if self.error.errno == errno.EADDRINUSE:
            why = "Порт {port} на {host} уже зайнятий іншою програмою. Демо не запущено, нічого не змінено."
        else:
            why = "Не вдалося слухати {host}:{port}: {reason}. Демо не запущено, нічого не змінено."
        return _in_both_languages(
            (why, where),
            (
                "Оберіть інший порт: spilno server demo {flag} {other} (або make demo {variable}={other}).",
                {"flag": flag, "other": other, "variable": variable},
            ),
        )


def _in_both_languages(*lines: tuple[str, dict[str, Any]]) -> str:
    """The lines in Ukrainian, then the same lines in English (the server's catalog)."""
    return "\n".join(gettext_in(locale, text, **params) for locale in ("uk", "en") for text, params in lines)


class DemoLock:
    """The instance folder's demo lock, held until `release` or the process ends."""

    def __init__(self, instance: Path) -> None:
        self.path = instance / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or DemoAlreadyRunning. Opened for appending: the running demo's
        description must survive a second run's open."""
        handle = open(self.path, "a+", encoding="utf-8")  # held open: the lock lives as long as the file
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read()
            handle.close()
            try:
                running = json.loads(text) if text.strip() else {}
            except ValueError:
                running = {}
            raise DemoAlreadyRunning(running if isinstance(running, dict) else {}) from None
        self._file = handle

    def describe(self, **facts: Any) -> None:
        """Write what a second run should be told (pid, url, sign-in file)."""
        assert self._file is not None, "describe() needs the lock"
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps({"pid": os.getpid(), **facts}, ensure_ascii=False))
        self._file.flush()
        os.fsync(self._file.fileno())

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()  # nothing runs here any more
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def reserve_port(host: str, port: int, option: str = "port") -> socket.socket:
    """A listening socket on host:port, or PortBusy. Taken before the demo is built and
    handed to the web server later, so nothing can slip in between."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise PortBusy(host, port, OSError(errno.EADDRNOTAVAIL, str(exc.strerror)), option) from None
    family, _type, _proto, _name, address = infos[0]
    listener = socket.socket(family, socket.SOCK_STREAM)
    # As the web server itself does: a port left in TIME_WAIT by the last demo is free.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise PortBusy(host, port, exc, option) from None
    return listener


def settle_sqlite(path: Path) -> None:
    """Fold the write-ahead log into the file itself, so the file alone is the whole
    database and can be moved."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


def swap_in(built: Path, database: Path) -> None:
    """Put the freshly built database in place of the old one in one step (os.replace).
    The old file's WAL and shared-memory files go first: left beside the new file they
    would be replayed into it. Only called under the demo lock, so nobody has them open."""
    for stale in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(built, database)


def building_path(database: Path) -> Path:
    """Where the next database is built; anything left there by a crashed run is removed."""
    path = database.with_name(database.name + ".building")
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)
    return path


def write_private(path: Path, text: str) -> None:
    """A file only this user can read (it holds passwords and live codes)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    path.chmod(0o600)


def log_to_file(path: Path) -> None:
    """Send every log line (each request the server answers, the demo terminal's syncs)
    to `path` instead of the screen, where they pushed the sign-ins out of sight."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # The web server adds its own screen handler unless its logger has one with a level.
    logging.getLogger("werkzeug").setLevel(logging.INFO)


@dataclass(frozen=True)
class DemoPaths:
    instance: Path

    @property
    def database(self) -> Path:
        return (self.instance / DATABASE_FILE).resolve()

    @property
    def sign_in(self) -> Path:
        return (self.instance / SIGN_IN_FILE).resolve()

    @property
    def log(self) -> Path:
        return (self.instance / LOG_FILE).resolve()
