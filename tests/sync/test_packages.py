"""Packages come down signed; a device takes only a newer one for its own community,
signed by the key it learned at enrolment, and keeps the one it has otherwise."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from sync import package_envelope, signing
from sync.package_parser import parse_package
from sync.simulated_votes import random_rnokpp, random_selection
from sync.wire import ProtocolError
from voting import normalise_identifier

from .fake_server import make_package


def _refused(store, envelope) -> str:
    with pytest.raises(ProtocolError) as refused:
        store.store_package(envelope)
    return refused.value.code


def test_a_signed_newer_package_replaces_the_current_one(enrolled, server):
    stored = enrolled.store_package(server.publish())
    assert stored.version == 2
    assert enrolled.package().version == 2
    assert enrolled.package().package["cycles"][0]["slug"] == "gb-2027"


def test_a_package_signed_by_another_key_is_refused_and_the_old_one_kept(enrolled, server):
    impostor = signing.generate_private_key()
    package = make_package(server.server_key, 2)  # claims to be from our server
    assert _refused(enrolled, package_envelope.sign_package(impostor, package)) == "package.signature"
    assert enrolled.package().version == 1


def test_a_package_with_an_altered_byte_is_refused(enrolled, server):
    envelope = server.publish()
    envelope["package"] = envelope["package"].replace('"budget":50000000', '"budget":90000000')
    assert _refused(enrolled, envelope) == "package.signature"
    assert enrolled.package().version == 1


def test_a_package_for_another_community_is_refused(enrolled, server):
    other = {"id": 8, "slug": "fastiv", "name": "Фастів"}
    envelope = package_envelope.sign_package(server.key, make_package(server.server_key, 5, other))
    assert _refused(enrolled, envelope) == "package.community"
    assert enrolled.package().version == 1


def test_an_older_package_cannot_undo_a_newer_one(enrolled, server):
    first = server.envelopes[0]
    enrolled.store_package(server.publish())  # version 2
    assert _refused(enrolled, first) == "package.older"
    assert enrolled.package().version == 2


def test_the_same_package_again_is_accepted_without_change(enrolled, server):
    again = enrolled.store_package(server.envelopes[0])
    assert again.version == 1 and enrolled.package().version == 1


def test_another_package_under_the_current_version_number_is_refused(enrolled, server):
    envelope = package_envelope.sign_package(server.key, make_package(server.server_key, 1, open_now=False))
    assert _refused(enrolled, envelope) == "package.older"


def test_open_cycles_follow_the_voting_window():
    package = parse_package(make_package("key", 1))
    now = datetime.now(UTC)
    assert [c.id for c in package.open_cycles(now)] == [11]
    assert package.open_cycles(now + timedelta(days=40)) == []
    assert package.open_cycles(now - timedelta(days=2)) == []


def test_random_selections_obey_the_ballot_rule():
    ballot = parse_package(make_package("key", 1)).cycles[0].ballot()
    rng = random.Random(5)
    seen = set()
    for _ in range(300):
        selection = random_selection(ballot, rng)
        assert ballot.check(selection) == []
        seen.add(tuple(selection))
    assert (101, 102) not in seen  # together over the small projects' budget
    assert len(seen) > 10  # and still varied


def test_simulated_residents_have_valid_taxpayer_numbers():
    rng = random.Random(3)
    for _ in range(200):
        number = random_rnokpp(rng)
        assert normalise_identifier("rnokpp", number) == number


def test_a_package_stored_by_another_process_is_seen_at_the_next_read(enrolled, server):
    """The terminal keeps the package it read until the newest row changes: the sync
    worker (another process, its own store object) storing a newer one must show at once,
    and a package this release cannot read must be refused on every read, never kept."""
    from sync.device_store import DeviceStore
    from sync.package_fields import PackageError

    first = enrolled.package()
    assert enrolled.package() is first  # nothing new: the read package is reused
    worker = DeviceStore(enrolled.path)
    try:
        worker.store_package(server.publish())
        assert enrolled.package().version == 2 == worker.package().version
        # A row this release cannot read, as a store written by another release holds.
        with worker._write() as db:
            db.execute(
                "UPDATE package SET package_json = ? WHERE version = 2",
                ('{"version": 2, "cycles": "not a list"}',),
            )
    finally:
        worker.close()
    restarted = DeviceStore(enrolled.path)
    try:
        for _ in range(2):
            with pytest.raises(PackageError):
                restarted.package()
    finally:
        restarted.close()
