"""Terminals pull their community's cycles as a package the server signed; a new version
appears exactly when something in it changes."""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select

from qr_codes.codes import normalise, verifier
from server.models import Alarm, Category, Device, Project, SyncPackage, VotingCode
from server.polls.store import create_poll, publish_poll
from server.school.codes import issue_codes, revoke_code
from server.school.keys import app_code_keys
from server.services.cycle_catalogue import community_catalogue
from server.sync.packages import cycle_body, package_body
from sync import package_envelope, signing, wire
from sync.package_parser import parse_package
from sync.packages import package_digest
from tests.conftest import both_databases
from voting import community_voter_secret

from .test_polls import SPEC
from .test_sync_support import enrolled_device


def pull(device, have=0, digest=""):
    query = f"have={have}" + (f"&digest={digest}" if digest else "")
    response = device.get(f"/api/v1/sync/package?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_package_is_signed_by_the_server_and_carries_the_open_cycles(app, client, make, session):
    community = make.community()
    cycle = make.ballot_cycle(community)
    upcoming = make.cycle(community, open_now=False)
    long_ago = datetime.now(UTC) - timedelta(days=40)
    make.cycle(community, voting_starts_at=long_ago, voting_ends_at=long_ago + timedelta(days=30))  # ended
    rejected = make.project(
        session.get(Category, session.scalar(select(Category.id).limit(1))), status="rejected"
    )
    terminal = enrolled_device(client, session, make, community)

    body = pull(terminal)
    package = package_envelope.open_package(body["envelope"], terminal.server_key)
    assert body["version"] == package["version"] == 1
    assert package["format"] == 1 and package["issued_at"].endswith("Z")
    assert package["community"] == {"id": community.id, "slug": community.slug, "name": community.name}
    assert package["server_key"] == terminal.server_key
    secret = community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)
    assert package["voter_key_secret"] == secret.hex()
    assert [c["id"] for c in package["cycles"]] == [cycle.id, upcoming.id]
    first = package["cycles"][0]
    assert first["voting_ends_at"].endswith("Z") and first["kind"] == "public"
    assert [c["name"] for c in first["categories"]] == ["Малі проєкти", "Великі проєкти"]
    assert len(first["projects"]) == 8 and rejected.id not in {p["id"] for p in first["projects"]}
    # What the server sends is what a device reads (sync.package_parser), field for field.
    read = parse_package(package)
    assert [c.id for c in read.cycles] == [cycle.id, upcoming.id] and read.community.slug == community.slug
    assert read.voter_key_secret == secret and len(read.cycles[0].projects) == 8
    assert set(first["projects"][0]) == {
        "id",
        "number",
        "title",
        "description",
        "cost",
        "district",
        "category_id",
    }


def test_a_package_signed_by_another_key_is_not_trusted(client, make, session):
    terminal = enrolled_device(client, session, make)
    envelope = pull(terminal)["envelope"]
    impostor = signing.public_key_b64(signing.generate_private_key())
    with pytest.raises(wire.ProtocolError):
        package_envelope.open_package(envelope, impostor)
    forged = {**envelope, "package": envelope["package"].replace('"format":1', '"format":1 ')}
    with pytest.raises(wire.ProtocolError):
        package_envelope.open_package(forged, terminal.server_key)


@both_databases
def test_the_version_grows_only_when_the_content_changes(client, make, session):
    community = make.community()
    cycle = make.ballot_cycle(community)
    terminal = enrolled_device(client, session, make, community)
    other = enrolled_device(client, session, make, community)

    first = pull(terminal)
    assert first["version"] == 1
    # Asking again, or from another terminal, makes no new version; having it, no envelope.
    assert pull(other)["envelope"] == first["envelope"]
    again = pull(terminal, have=1)
    assert (again["version"], again["envelope"]) == (1, None)

    project = session.scalar(select(Project).where(Project.cycle_id == cycle.id).limit(1))
    project.title = "Сквер біля школи № 3"
    session.commit()
    changed = pull(terminal, have=1)
    assert changed["version"] == 2
    package = package_envelope.open_package(changed["envelope"], terminal.server_key)
    assert "Сквер біля школи № 3" in {p["title"] for p in package["cycles"][0]["projects"]}

    category = session.scalar(select(Category).where(Category.cycle_id == cycle.id).limit(1))
    category.max_choices = 3
    session.commit()
    assert pull(terminal, have=2)["version"] == 3
    assert session.scalars(select(SyncPackage.version).order_by(SyncPackage.version)).all() == [1, 2, 3]
    # The fleet page shows what the device said it holds, not what it was offered.
    assert session.scalar(select(Device.package_version).where(Device.code == terminal.code)) == 2
    assert pull(terminal, have=3)["envelope"] is None
    session.expire_all()
    assert session.scalar(select(Device.package_version).where(Device.code == terminal.code)) == 3


def test_the_voter_key_secret_is_never_stored(client, make, session, app):
    community = make.community()
    terminal = enrolled_device(client, session, make, community)
    pull(terminal)
    secret = community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id).hex()
    row = session.scalar(select(SyncPackage))
    assert secret not in str({c.name: getattr(row, c.name) for c in SyncPackage.__table__.columns})


@pytest.mark.parametrize("query", ["have=-1", "have=abc", "have=1.5", "have=" + "9" * 30, "have="])
def test_a_malformed_have_is_a_clear_400(client, make, session, query):
    terminal = enrolled_device(client, session, make)
    response = terminal.get(f"/api/v1/sync/package?{query}")
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "package.have")


def test_only_the_signed_query_is_accepted(client, make, session):
    terminal = enrolled_device(client, session, make)
    headers = terminal.headers("GET", "/api/v1/sync/package?have=0")
    assert client.get("/api/v1/sync/package?have=0", headers=headers).status_code == 200
    tampered = client.get("/api/v1/sync/package?have=1", headers=headers)
    assert (tampered.status_code, tampered.get_json()["error"]["code"]) == (401, "device.signature")
    no_query = terminal.headers("GET", "/api/v1/sync/package")
    assert client.get("/api/v1/sync/package", headers=no_query).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Spilno-Device": "T-0001", "X-Spilno-Time": "1", "X-Spilno-Signature": "AAAA"},
        {"X-Spilno-Device": "T-9999", "X-Spilno-Time": "abc", "X-Spilno-Signature": "AAAA"},
        {"X-Spilno-Device": "'; DROP TABLE device; --", "X-Spilno-Time": "1", "X-Spilno-Signature": "x"},
    ],
)
def test_unsigned_or_badly_signed_requests_are_refused(client, make, session, headers):
    enrolled_device(client, session, make)
    response = client.get("/api/v1/sync/package", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "device.signature"
    assert "X-Spilno-Server-Time" in response.headers


@pytest.mark.parametrize(
    "key", [None, "", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"]
)
def test_the_server_refuses_to_start_without_a_usable_signing_key(database_url, key):
    import secrets

    from server import create_app

    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "VOTER_KEY_SECRET": secrets.token_hex(32),
        "SIGNING_KEY": key,
    }
    with pytest.raises(RuntimeError, match="SPILNO_SIGNING_KEY") as refused:
        create_app(config)
    assert "AAAA" not in str(refused.value) and "not a key" not in str(refused.value)


# --- school contests ---------------------------------------------------------------------


def contest_cycle(package: dict, contest) -> dict:
    return next(c for c in package["cycles"] if c["id"] == contest.cycle.id)


def test_a_school_contest_carries_its_school_and_the_verifiers_of_its_valid_codes_only(
    app, client, make, session
):
    community = make.community()
    residents = make.ballot_cycle(community)
    contest = make.school_contest(make.school(community, name="Ліцей № 3"))
    keys = app_code_keys(app)
    issued = issue_codes(session, contest, "6-А", 3, keys) + issue_codes(session, contest, "7-Б", 2, keys)
    session.commit()
    revoked = session.get_one(VotingCode, issued[0].code_id)
    revoke_code(session, contest, revoked, "втрачено")
    session.commit()
    terminal = enrolled_device(client, session, make, community)

    envelope = pull(terminal)["envelope"]
    package = package_envelope.open_package(envelope, terminal.server_key)
    cycle = contest_cycle(package, contest)
    assert cycle["kind"] == "school_contest"
    assert cycle["school"] == {"id": contest.school.id, "name": "Ліцей № 3"}
    valid = sorted(keys.verifier(normalise(c.code)) for c in issued[1:])
    assert cycle["code_verifiers"] == valid and revoked.verifier not in cycle["code_verifiers"]
    # A terminal can check a code with what the package holds, and with nothing more.
    key = bytes.fromhex(package["code_verifier_key"])
    assert {verifier(key, normalise(c.code)) for c in issued[1:]} == set(cycle["code_verifiers"])
    assert package["code_verifier_key"] == keys.verifier_key.hex()
    # The programme (kind "school") and the residents' cycle carry no codes.
    programme = next(c for c in package["cycles"] if c["id"] == contest.programme.id)
    assert programme["kind"] == "school" and "code_verifiers" not in programme
    assert "code_verifiers" not in next(c for c in package["cycles"] if c["id"] == residents.id)
    read = parse_package(package)
    assert read.code_verifier_key == keys.verifier_key
    contest_read = read.cycle(contest.cycle.id)
    assert contest_read is not None and contest_read.school is not None
    assert contest_read.school.name == "Ліцей № 3" and contest_read.code_verifiers == frozenset(valid)
    assert read.contest_of_code(valid[0]) is contest_read and not read.cycle(programme["id"]).for_residents


def test_the_package_never_holds_a_plain_code_or_the_sealing_key(app, client, make, session):
    community = make.community()
    contest = make.school_contest(make.school(community))
    keys = app_code_keys(app)
    issued = issue_codes(session, contest, "5-В", 30, keys)
    session.commit()
    terminal = enrolled_device(client, session, make, community)

    text = json.dumps(pull(terminal)["envelope"])
    assert keys.sealing_key.hex() not in text and keys.sealing_key.hex().upper() not in text
    assert base64.b64encode(keys.sealing_key).decode() not in text
    for code in issued:
        compact = normalise(code.code)
        assert code.code not in text and compact not in text and compact.lower() not in text
    sealed = session.scalars(select(VotingCode.sealed)).all()
    assert all(base64.b64encode(s).decode() not in text and s.hex() not in text for s in sealed)


@both_databases
def test_issuing_or_revoking_codes_makes_a_new_package_version_and_nothing_else_does(
    app, client, make, session
):
    community = make.community()
    contest = make.school_contest(make.school(community))
    terminal = enrolled_device(client, session, make, community)
    keys = app_code_keys(app)

    assert pull(terminal)["version"] == 1
    assert pull(terminal, have=1)["envelope"] is None

    issued = issue_codes(session, contest, "6-А", 2, keys)
    session.commit()
    after_issue = pull(terminal, have=1)
    assert after_issue["version"] == 2
    cycle = contest_cycle(
        package_envelope.open_package(after_issue["envelope"], terminal.server_key), contest
    )
    assert len(cycle["code_verifiers"]) == 2
    assert pull(terminal, have=2)["envelope"] is None  # asking again changes nothing

    code = session.get_one(VotingCode, issued[0].code_id)
    revoke_code(session, contest, code, "картку загублено")
    session.commit()
    after_revoke = pull(terminal, have=2)
    assert after_revoke["version"] == 3
    cycle = contest_cycle(
        package_envelope.open_package(after_revoke["envelope"], terminal.server_key), contest
    )
    assert cycle["code_verifiers"] == [keys.verifier(normalise(issued[1].code))]
    assert pull(terminal, have=3)["envelope"] is None
    assert session.scalars(select(SyncPackage.version).order_by(SyncPackage.version)).all() == [1, 2, 3]


def test_another_communitys_codes_are_not_in_the_package(app, client, make, session):
    ours, theirs = make.community(), make.community()
    make.school_contest(make.school(ours))
    their_contest = make.school_contest(make.school(theirs))
    their_codes = issue_codes(session, their_contest, "9-А", 3, app_code_keys(app))
    session.commit()
    terminal = enrolled_device(client, session, make, ours)
    package = package_envelope.open_package(pull(terminal)["envelope"], terminal.server_key)
    assert their_contest.cycle.id not in {c["id"] for c in package["cycles"]}
    text = json.dumps(package)
    assert not any(app_code_keys(app).verifier(normalise(c.code)) in text for c in their_codes)


def _restore_packages_to(session, community_id: int, version: int) -> None:
    """What restoring the database from an older backup does to the package numbers."""
    session.execute(
        delete(SyncPackage).where(SyncPackage.community_id == community_id, SyncPackage.version > version)
    )
    session.commit()


def test_a_server_restored_below_a_devices_package_issues_above_it_and_alarms(client, make, session):
    community = make.community()
    cycle = make.ballot_cycle(community)
    terminal = enrolled_device(client, session, make, community)
    for title in ("Перша назва", "Друга назва", "Третя назва"):
        project = session.scalar(select(Project).where(Project.cycle_id == cycle.id).limit(1))
        project.title = title
        session.commit()
        pull(terminal)
    held = pull(terminal)
    assert held["version"] == 3

    _restore_packages_to(session, community.id, 1)  # the backup knew version 1 only
    opened = package_envelope.open_package(held["envelope"], terminal.server_key)
    answer = pull(terminal, have=3, digest=package_digest(opened))
    assert answer["version"] == 4, "above what the device holds, or it would refuse it"
    assert package_envelope.open_package(answer["envelope"], terminal.server_key)["version"] == 4
    (alarm,) = session.scalars(select(Alarm).where(Alarm.kind == "package.ahead")).all()
    evidence = {k: v for k, v in alarm.details.items() if k != "text"}
    assert alarm.source == terminal.code and evidence == {"device_version": 3, "issued_version": 4}
    # Once on the new version, all is ordinary again: no new version, no alarm.
    again = pull(
        terminal,
        have=4,
        digest=package_digest(package_envelope.open_package(answer["envelope"], terminal.server_key)),
    )
    assert (again["version"], again["envelope"]) == (4, None)
    assert len(session.scalars(select(Alarm)).all()) == 1


def test_the_same_number_with_other_content_is_issued_again_above_it(client, make, session):
    community = make.community()
    cycle = make.ballot_cycle(community)
    terminal = enrolled_device(client, session, make, community)
    first = pull(terminal)
    held = package_envelope.open_package(first["envelope"], terminal.server_key)
    # Restored to before version 1, then the content changed: the server's version 1 now
    # is not what the device holds as version 1.
    _restore_packages_to(session, community.id, 0)
    project = session.scalar(select(Project).where(Project.cycle_id == cycle.id).limit(1))
    project.title = "Інша назва після відновлення"
    session.commit()
    answer = pull(terminal, have=1, digest=package_digest(held))
    assert answer["version"] == 2
    package = package_envelope.open_package(answer["envelope"], terminal.server_key)
    assert "Інша назва після відновлення" in {p["title"] for p in package["cycles"][0]["projects"]}
    assert {a.kind for a in session.scalars(select(Alarm))} == {"package.ahead"}


@pytest.mark.parametrize("query", ["have=2147483647", "have=1&digest=xyz", "have=1&digest=" + "A" * 64])
def test_impossible_package_positions_are_refused(client, make, session, query):
    terminal = enrolled_device(client, session, make, make.community())
    response = terminal.get(f"/api/v1/sync/package?{query}")
    assert response.status_code == 400
    assert session.scalars(select(SyncPackage)).all() == []


@contextmanager
def statements(engine):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_package_and_the_platforms_catalogue_load_their_cycles_in_a_few_queries(app, engine, make, session):
    """However many cycles, categories, projects and polls: the package five queries (two
    more with a school contest among its cycles, two more with polls), a cycle's body for
    reading sheets two (no photos), the platform's GET /api/v1/cycles three."""
    community = make.community()
    residents = make.ballot_cycle(community)
    make.ballot_cycle(community)
    master = app.config["VOTER_KEY_SECRET_BYTES"]
    now = datetime.now(UTC)
    session.expunge_all()
    community = session.get_one(type(community), community.id)
    with statements(engine) as seen:
        body = package_body(session, community, server_key="k", master_secret=master, now=now)
    assert len(seen) == 5 and [len(c["projects"]) for c in body["cycles"]] == [8, 8]
    cycle = session.get_one(type(residents), residents.id)
    with statements(engine) as seen:
        assert len(cycle_body(session, cycle)["projects"]) == 8
    assert len(seen) == 2
    with statements(engine) as seen:
        catalogue = community_catalogue(session, community.id)
    assert len(seen) == 3 and [len(entry.projects) for entry in catalogue] == [8, 8]

    make.school_contest(make.school(community))
    session.expunge_all()
    community = session.get_one(type(community), community.id)
    with statements(engine) as seen:
        body = package_body(session, community, server_key="k", master_secret=master, now=now)
    assert len(seen) == 7 and len(body["cycles"]) == 4

    for title in ("Перше", "Друге"):
        spec = {**SPEC, "title": title, "opens_at": now.isoformat()}
        publish_poll(session, create_poll(session, community.id, spec))
    session.commit()
    session.expunge_all()
    community = session.get_one(type(community), community.id)
    with statements(engine) as seen:
        body = package_body(session, community, server_key="k", master_secret=master, now=now)
    assert len(seen) == 9 and [len(p["questions"]) for p in body["polls"]] == [4, 4]
