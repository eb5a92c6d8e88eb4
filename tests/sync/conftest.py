"""Fixtures for device-side sync tests: a fake sync server over real HTTP, device files,
and votes cast the way a terminal casts them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sync.device_store import DeviceStore
from sync.simulated_votes import simulated_vote
from voting import VoteRecord

from .fake_server import FakeSyncServer


@pytest.fixture
def server() -> Iterator[FakeSyncServer]:
    fake = FakeSyncServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def store(tmp_path) -> Iterator[DeviceStore]:
    device_store = DeviceStore(tmp_path / "terminal.db")
    yield device_store
    device_store.close()


@pytest.fixture
def enrolled(store: DeviceStore, server: FakeSyncServer) -> DeviceStore:
    """A terminal enrolled with the fake server and holding its first package."""
    server.enrol_offline(store)
    store.store_package(server.publish())
    return store


def cast_votes(
    store: DeviceStore, count: int, seed: int = 1, *, one_by_one: bool = False
) -> list[VoteRecord]:
    """`count` valid votes by random residents, logged on `store`. One transaction for all
    unless `one_by_one` (fsync per vote, as at a real terminal, is slow in bulk)."""
    rng = random.Random(seed)
    identity, package = store.require_identity(), store.package()
    assert package is not None
    cycle = package.content.cycles[0]
    records = [
        simulated_vote(
            package.content,
            cycle,
            device=identity.device,
            kind=identity.kind,
            rng=rng,
            cast_at=datetime.now(UTC),
        )
        for _ in range(count)
    ]
    if one_by_one:
        for record in records:
            store.append_vote(record)
    else:
        store.append_votes(records)
    return records
