"""Fixtures for the hardware tests: a private pcscd with a vpcd reader and virtual cards
to put on it (see pcscd_daemon.py and vpcd_card.py for how and why), videos made on the
spot, and the rule for missing system parts: under CI (CI=true) a missing pcscd, vpcd or
zbar fails the test; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hardware.pcscd_daemon import PrivatePcscd, missing_parts
from tests.hardware.vpcd_card import VirtualCard

IN_CI = os.environ.get("CI", "").lower() == "true"

# libpcsclite reads the socket's name once per process, at the first PC/SC call; this
# module is imported while pytest collects, before any test can make that call. The
# name depends only on the process, so importing this module twice changes nothing.
_PCSC_WORKDIR = Path(tempfile.gettempdir()) / f"spilno-pcscd-{os.getpid()}"
os.environ["PCSCLITE_CSOCK_NAME"] = str(PrivatePcscd.socket_path_for(_PCSC_WORKDIR))


def require(problem: str | None) -> None:
    """Skip (locally) or fail (under CI) when a system part the test needs is missing."""
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def pcscd_daemon() -> Iterator[PrivatePcscd]:
    require(missing_parts())
    _PCSC_WORKDIR.mkdir(exist_ok=True)
    daemon = PrivatePcscd(_PCSC_WORKDIR)
    try:
        try:
            daemon.start()
        except RuntimeError as exc:
            require(f"cannot start a private pcscd: {exc}")
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(_PCSC_WORKDIR, ignore_errors=True)


@pytest.fixture
def pcscd(pcscd_daemon: PrivatePcscd) -> Iterator[PrivatePcscd]:
    """The private pcscd, running (a test before may have stopped it), with no card."""
    pcscd_daemon.start()
    yield pcscd_daemon
    pcscd_daemon.start()


@pytest.fixture
def make_card(pcscd: PrivatePcscd) -> Iterator[Callable[..., VirtualCard]]:
    """Makes virtual cards for the private reader; every one leaves it after the test."""
    cards: list[VirtualCard] = []

    def make(**options) -> VirtualCard:
        card = VirtualCard(port=pcscd.port, **options)
        cards.append(card)
        return card

    yield make
    for card in cards:
        card.remove()
    # Let pcscd see the reader empty before the next test puts a card on it.
    from hardware.card_reader import NoCard
    from hardware.pcsc_reader import PcscCardReader

    reader = PcscCardReader()
    wait_for(reader.state, NoCard)
    reader.close()


def wait_for(read: Callable[[], object], kind: type, timeout_s: float = 3.0) -> object:
    """Poll `read` every 20 ms until it gives a `kind`; the last answer otherwise."""
    deadline = time.monotonic() + timeout_s
    answer = read()
    while not isinstance(answer, kind) and time.monotonic() < deadline:
        time.sleep(0.02)
        answer = read()
    return answer
