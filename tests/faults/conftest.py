"""Fixtures for fault drills: per test module a fresh PostgreSQL database, the real
server under gunicorn, a fault proxy in front of it, and terminals enrolled through the
proxy, each its own `spilno device` processes and store file.

Under CI (CI=true) a PostgreSQL that cannot be reached fails the drills instead of
skipping them, as everywhere in the suite.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from server.db import make_engine, upgrade
from server.demo_cycles import make_cycle
from server.models import Community, Device, User, utcnow
from server.services.devices import register_device
from server.services.users import create_user
from server.sync.enrolment import issue_enrolment_code
from sync.signing import generate_private_key, private_key_to_pem
from tests.conftest import IN_CI, PG_ADMIN_URL, _pg_reachable

from .harness import ServerProcess, Terminal, Transcript, in_parallel
from .ledger import AlarmWatch, Reference, check_counted_exactly_once
from .proxy import FaultProxy


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database migrated to head, dropped afterwards (the pg_url pattern
    of tests/conftest.py, for one module: the drills' server must not see other tests'
    truncations)."""
    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"spilno_faults_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # As in tests/conftest.py: commits do not wait for the WAL flush. The drills
        # kill the server and the terminals, never PostgreSQL, so nothing they check
        # depends on it.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@dataclass(frozen=True)
class SeededCommunity:
    """A community seeded for a drill: its open cycle and its terminals' codes."""

    community_id: int
    cycle_id: int
    codes: list[tuple[str, str]]  # (device code, one-time enrolment code)


def seed_community(
    engine: Engine, slug: str, terminals: int, window: tuple[timedelta, timedelta]
) -> SeededCommunity:
    """A community, a cycle open from now+window[0] to now+window[1] (two categories,
    make_cycle's projects) and `terminals` registered terminals with a code each."""
    with Session(engine) as session:
        community = Community(slug=slug, name=f"Громада для навчань ({slug})")
        session.add(community)
        session.flush()
        now = utcnow()
        cycle = make_cycle(session, community, "Бюджет під збоями", slug, now + window[0], now + window[1])
        codes = []
        for number in range(1, terminals + 1):
            device = register_device(
                session,
                community_id=community.id,
                kind="terminal",
                name=f"Термінал {number}",
                location="ЦНАП",
            )
            codes.append((device.code, issue_enrolment_code(session, device).code))
        session.commit()
        return SeededCommunity(community.id, cycle.id, codes)


def moderator_of(session: Session, community_id: int) -> User:
    """The community's moderator, made on first use (a drill's decisions need an author)."""
    login = f"moderator-{community_id}"
    found = session.scalar(select(User).where(User.login == login))
    return found or create_user(
        session,
        login=login,
        display_name="Модератор",
        password="довгий пароль для навчань",
        role="community_moderator",
        community_id=community_id,
    )


@dataclass
class World:
    """One drill module's server, proxy, cycle and terminals."""

    engine: Engine
    community_id: int
    cycle_id: int
    server: ServerProcess
    proxy: FaultProxy
    terminals: list[Terminal]
    transcript: Transcript
    tmp: Path
    all_terminals: list[Terminal] = field(default_factory=list)  # this community's and others'
    _taken: int = field(default=0)

    def take(self, count: int) -> list[Terminal]:
        """Terminals no other drill of this module has used."""
        if self._taken + count > len(self.terminals):
            raise AssertionError(f"the module enrols {len(self.terminals)} terminals; raise TERMINALS")
        chosen = self.terminals[self._taken : self._taken + count]
        self._taken += count
        return chosen

    def enrol(self, codes: list[tuple[str, str]]) -> list[Terminal]:
        """Terminals enrolled through the proxy, each holding the package (a terminal
        cannot take votes without it); three at a time, as more only thrash this
        2-core machine (each command loads the whole spilno CLI, about 0.7 s of CPU)."""
        terminals = [Terminal(code, self.tmp / f"{code}.db", self.transcript) for code, _ in codes]
        self.all_terminals.extend(terminals)

        def enrol(pair: tuple[Terminal, str]) -> None:
            terminal, code = pair
            enrolled = terminal.enrol(self.proxy.url, code)
            assert enrolled.returncode == 0, f"{enrolled}\n{self.server.log_tail()}"
            first = terminal.sync()
            assert first.returncode == 0, f"{first}\n{self.server.log_tail()}"

        in_parallel(enrol, zip(terminals, [code for _, code in codes], strict=True), at_most=3)
        return terminals

    def elsewhere(
        self,
        slug: str,
        terminals: int,
        window: tuple[timedelta, timedelta] = (-timedelta(days=1), timedelta(days=1)),
    ) -> tuple[SeededCommunity, list[Terminal]]:
        """Another community on the same server, with its own cycle and enrolled terminals,
        for a drill whose votes must stay out of this module's count."""
        seeded = seed_community(self.engine, slug, terminals, window)
        return seeded, self.enrol(seeded.codes)

    def kill_terminals(self) -> None:
        """End every terminal process a drill left running (by its own Popen)."""
        for terminal in self.all_terminals:
            terminal.kill_all()

    def device(self, terminal: Terminal) -> Device:
        """The server's row for a terminal, as committed now."""
        with Session(self.engine, expire_on_commit=False) as session:
            device = session.scalars(select(Device).where(Device.code == terminal.code)).one()
            session.expunge(device)
            return device

    def check(self, fully_synced: Iterable[Terminal], context: str = "") -> Reference:
        """Every vote every terminal of the module logged is counted exactly once."""
        return check_counted_exactly_once(
            self.engine, self.cycle_id, self.terminals, fully_synced, context=context
        )


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    count = getattr(request.module, "TERMINALS", 2)
    tmp = tmp_path_factory.mktemp("faults")
    with contextlib.ExitStack() as cleanup:
        url = cleanup.enter_context(fresh_database())
        engine = make_engine(url)
        cleanup.callback(engine.dispose)
        seeded = seed_community(engine, "faults", count, (-timedelta(days=1), timedelta(days=1)))
        server = ServerProcess(
            url,
            private_key_to_pem(generate_private_key()).decode(),
            tmp / "gunicorn.log",
            {"secret_key": secrets.token_hex(32), "voter_key_secret": secrets.token_hex(32)},
        )
        cleanup.callback(server.stop)  # never leave gunicorn running
        server.start()
        proxy = FaultProxy(server.port).start()
        cleanup.callback(proxy.stop)
        world = World(engine, seeded.community_id, seeded.cycle_id, server, proxy, [], Transcript(), tmp)
        cleanup.callback(world.kill_terminals)
        world.terminals = world.enrol(seeded.codes)
        yield world


_TRANSCRIPT_MARK = pytest.StashKey[int]()


@pytest.fixture(autouse=True)
def drill(request: pytest.FixtureRequest, world: World) -> Iterator[None]:
    """Each drill starts with the proxy passing traffic and the server up, and reports
    every command it ran (and the server's log) if it fails."""
    request.node.stash[_TRANSCRIPT_MARK] = len(world.transcript.runs)
    world.proxy.pass_through()
    if world.server.proc is None or world.server.proc.poll() is not None:
        world.server.start()
    yield
    world.proxy.pass_through()
    world.proxy.release()
    world.kill_terminals()


@pytest.fixture
def alarms(world: World) -> AlarmWatch:
    return AlarmWatch(world.engine)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    world = getattr(item, "funcargs", {}).get("world")
    if report.when == "call" and report.failed and isinstance(world, World):
        mark = item.stash.get(_TRANSCRIPT_MARK, 0)
        report.sections.append(
            ("fault drill: processes", f"{world.transcript.since(mark)}\n\n{world.server.log_tail()}")
        )
