"""A project's details travel to terminals in the signed package: address and breakdown
inside it, photos named there by SHA-256 and sent beside it. The device keeps only the
photos whose bytes have a signed digest, and a package without details still reads."""

from __future__ import annotations

import base64
import io
from dataclasses import replace

import pytest
from PIL import Image
from sqlalchemy import select

from server.models import Project
from server.services.project_details import add_photo
from server.sync import packages as server_packages
from sync import package_envelope, signing, wire
from sync.device_store import DeviceStore
from sync.package_parser import parse_package
from sync.packages import verified_photos
from sync.project_details_reader import project_details

from .test_sync_support import enrolled_device


def photo_bytes(shade: int, size: tuple[int, int] = (120, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (shade, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def pull(device, have=0):
    answer = device.get(f"/api/v1/sync/package?have={have}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def device_store(tmp_path, community, server_key) -> DeviceStore:
    store = DeviceStore(tmp_path / "terminal.db")
    store.save_enrolment(
        device="T-0001",
        kind="terminal",
        community={"id": community.id, "slug": community.slug, "name": community.name},
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=server_key,
    )
    return store


@pytest.fixture
def with_details(make, session):
    community = make.community()
    cycle = make.ballot_cycle(community, projects_per_category=2)
    first, second, *_rest = session.scalars(
        select(Project).where(Project.cycle_id == cycle.id).order_by(Project.number)
    )
    first.address = "вул. Шевченка, 12"
    first.budget_lines = [{"item": "Лавки", "amount": first.cost - 100}, {"item": "Монтаж", "amount": 100}]
    photos = [
        add_photo(session, first, photo_bytes(10), "Сквер зараз", "The square now"),
        add_photo(session, first, photo_bytes(20), "Проєкт скверу", ""),
        add_photo(session, second, photo_bytes(30), "Двір школи", "The school yard"),
    ]
    session.commit()
    return community, cycle, first, second, photos


def test_details_and_photos_are_signed_and_verified_on_the_device(
    client, make, session, tmp_path, with_details
):
    community, _cycle, first, second, photos = with_details
    terminal = enrolled_device(client, session, make, community)
    answer = pull(terminal)
    package = package_envelope.open_package(answer["envelope"], terminal.server_key)
    packaged = {p["id"]: p for p in package["cycles"][0]["projects"]}
    assert packaged[first.id]["address"] == "вул. Шевченка, 12"
    assert packaged[first.id]["budget"] == first.budget_lines
    assert [p["sha256"] for p in packaged[first.id]["photos"]] == [photos[0].sha256, photos[1].sha256]
    assert packaged[first.id]["photos"][0]["alt"] == {"uk": "Сквер зараз", "en": "The square now"}
    assert "address" not in packaged[second.id] and "budget" not in packaged[second.id]
    assert set(answer["photos"]) == {p.sha256 for p in photos}

    store = device_store(tmp_path, community, terminal.server_key)
    stored = store.store_package(answer["envelope"], photos=answer["photos"])
    for photo in photos:
        assert store.photo(photo.sha256) == photo.data
    details = next(p for p in stored.content.cycles[0].projects if p.id == first.id).details
    assert details.address == "вул. Шевченка, 12"
    assert [(b.item, b.amount) for b in details.budget] == [("Лавки", first.cost - 100), ("Монтаж", 100)]
    assert [p.alt("en") for p in details.photos] == [
        "The square now",
        "Проєкт скверу",
    ]  # no English: Ukrainian

    # The same version again sends no photos; a removed photo leaves the device with the next one.
    assert pull(terminal, have=answer["version"])["photos"] == {}
    session.delete(photos[1])
    session.commit()
    newer = pull(terminal, have=answer["version"])
    store.store_package(newer["envelope"], photos=newer["photos"])
    assert store.photo(photos[1].sha256) is None and store.photo(photos[0].sha256) == photos[0].data


def test_the_device_keeps_no_photo_the_package_does_not_sign(client, make, session, tmp_path, with_details):
    community, _cycle, _first, _second, photos = with_details
    terminal = enrolled_device(client, session, make, community)
    answer = pull(terminal)
    forged = dict(answer["photos"])
    forged[photos[0].sha256] = base64.b64encode(photo_bytes(250)).decode()  # other bytes, same name
    forged[photos[1].sha256] = "not base64 at all!"
    stranger = photo_bytes(99)
    forged[wire.sha256_hex(stranger)] = base64.b64encode(stranger).decode()  # named by no package
    store = device_store(tmp_path, community, terminal.server_key)
    store.store_package(answer["envelope"], photos=forged)
    assert store.photo(photos[0].sha256) is None and store.photo(photos[1].sha256) is None
    assert store.photo(wire.sha256_hex(stranger)) is None
    assert store.photo(photos[2].sha256) == photos[2].data  # the honest one is kept
    read = parse_package(package_envelope.open_package(answer["envelope"], terminal.server_key))
    without_cycles = replace(read, cycles=())
    assert verified_photos(without_cycles, forged) == {} and verified_photos(read, "junk") == {}


def test_a_package_without_details_reads_as_before(tmp_path):
    old_project = {"id": 1, "number": 1, "title": "Лавки", "description": "", "cost": 100, "category_id": 2}
    details = project_details(old_project)
    assert (details.address, details.budget, details.photos) == ("", (), ())
    odd = {**old_project, "budget": "lots", "photos": [{"sha256": "x"}, 7], "address": 12}
    assert project_details(odd) == details  # what no server sends reads as absent, never fails


def test_over_the_package_cap_every_project_keeps_its_first_photo(
    client, make, session, monkeypatch, with_details
):
    community, _cycle, first, second, photos = with_details
    # Room for two photos: the first photos of both projects, not both of the first one.
    monkeypatch.setattr(server_packages, "PACKAGE_PHOTO_BYTES", photos[0].size + photos[2].size)
    terminal = enrolled_device(client, session, make, community)
    answer = pull(terminal)
    package = package_envelope.open_package(answer["envelope"], terminal.server_key)
    packaged = {p["id"]: p for p in package["cycles"][0]["projects"]}
    assert [p["sha256"] for p in packaged[first.id]["photos"]] == [photos[0].sha256]
    assert [p["sha256"] for p in packaged[second.id]["photos"]] == [photos[2].sha256]
    assert set(answer["photos"]) == {photos[0].sha256, photos[2].sha256}
