"""A terminal with no network: staff carry its votes to the council on a USB stick, and a
moderator imports the file in the console (or with `spilno server import-bundle`). Every
batch in it is checked as a push over the network would be."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.models import Alarm, AuditEvent, Community, Device, HeldVote, PendingBatch, Role
from server.services.tally import running_tally
from server.sync.bundle_cli import import_bundle_command
from sync import log_batches, signing, wire
from sync.bundle import export_bundle
from sync.device_store import DeviceStore
from tests.conftest import both_databases
from tests.factories import CSRF_TOKEN, sign_in
from voting import VoteRecord

from .test_sync_support import FakeDevice, enrolled_device, project_ids, stored_counts, voter_key

PAGE = "/console/bundles/import"


@dataclass
class Terminal:
    """A terminal enrolled with the server: its own device file (what export reads) and
    the same log as a FakeDevice (to push part of it over a network now and then)."""

    device: FakeDevice
    store: DeviceStore
    cycle_id: int
    projects: list[int]
    voters: int = 0

    def vote(self, count: int = 1) -> None:
        for _ in range(count):
            self.voters += 1
            record = VoteRecord.create(
                vote_id=str(uuid.uuid4()),
                cycle_id=self.cycle_id,
                selections=[self.projects[0]],
                channel="kiosk",
                cast_at=datetime.now(UTC),
                voter_key=voter_key(self.voters),
                device_id=self.device.code,
            )
            entry = self.store.append_vote(record)
            self.device.log.append(entry)

    def bundle(self, path, batch_size: int = log_batches.MAX_BATCH_ENTRIES):
        export_bundle(self.store, path, batch_size=batch_size)
        return path


def terminal_of(client, session, make, community, cycle, tmp_path, name="terminal.db") -> Terminal:
    device = enrolled_device(client, session, make, community)
    store = DeviceStore(tmp_path / name)
    store.save_enrolment(
        device=device.code,
        kind="terminal",
        community={"id": community.id, "slug": community.slug, "name": community.name},
        private_key_pem=signing.private_key_to_pem(device.key),
        server_url="http://127.0.0.1:9",
        server_key=device.server_key,
    )
    return Terminal(device, store, cycle.id, project_ids(session, cycle))


@pytest.fixture
def community(make, session):
    cycle = make.ballot_cycle()
    return session.get(Community, cycle.community_id), cycle


@pytest.fixture
def terminal(client, session, make, community, tmp_path):
    terminal = terminal_of(client, session, make, *community, tmp_path)
    yield terminal
    terminal.store.close()


@pytest.fixture
def moderator(client, make, community):
    user = make.user(Role.COMMUNITY_MODERATOR, community[0])
    sign_in(client, user)
    return user


def upload(client, *paths, name=None):
    files = [(path.open("rb"), name or path.name) for path in paths]
    try:
        response = client.post(
            PAGE, data={"csrf_token": CSRF_TOKEN, "bundle": files}, content_type="multipart/form-data"
        )
    finally:
        for handle, _name in files:
            handle.close()
    if response.status_code != 303:
        return response  # several files, or a file that is no bundle: the page itself
    # One bundle is a job (run at once here): its page shows the report. Read as the
    # page answered before bundles were jobs: 200 accepted, 422 refused.
    job_page = client.get(response.headers["Location"])
    assert job_page.status_code == 200
    job_page.status_code = 200 if 'data-state="done"' in job_page.get_data(as_text=True) else 422
    return job_page


def alarms(session):
    session.expire_all()
    return session.scalars(select(Alarm).order_by(Alarm.id)).all()


def text_of(response):
    return " ".join(response.get_data(as_text=True).split())


# --- carried votes are counted once ---------------------------------------------------------


def contact_of(session, code):
    session.expire_all()
    device = session.scalar(select(Device).where(Device.code == code))
    return device.last_seen_at, device.clock_offset_ms, device.backlog


@both_databases
def test_votes_carried_on_a_stick_are_counted(client, session, terminal, moderator, tmp_path):
    terminal.vote(5)
    contact_before = contact_of(session, terminal.device.code)
    response = upload(client, terminal.bundle(tmp_path / "T-0001.spilno", batch_size=2))

    assert response.status_code == 200, text_of(response)
    page = text_of(response)
    assert "Імпорт голосів з носія" in page and "прийнято" in page
    assert f"<code>{terminal.device.code}</code>" in page
    assert 'Прочитано записів</th><td class="num">5' in page
    assert 'Нових голосів збережено</th><td class="num">5' in page
    assert stored_counts(session) == (5, 3, 5)
    assert running_tally(session, terminal.cycle_id) == {terminal.projects[0]: 5}

    device = session.scalar(select(Device).where(Device.code == terminal.device.code))
    assert device.acked_seq == 5
    # The stick is not the device speaking: its last contact and clock stay as they were.
    assert contact_of(session, terminal.device.code) == contact_before
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "device.bundle_import")).all()
    assert (event.user_id, event.community_id, event.target_id) == (
        moderator.id,
        device.community_id,
        device.code,
    )
    assert (event.details["stored"], event.details["file"], event.details["ok"]) == (5, "T-0001.spilno", True)
    assert alarms(session) == []


def test_importing_the_same_bundle_twice_changes_nothing_the_second_time(
    client, session, terminal, moderator, tmp_path
):
    terminal.vote(4)
    path = terminal.bundle(tmp_path / "T.spilno", batch_size=3)
    assert upload(client, path).status_code == 200
    before = stored_counts(session)

    again = upload(client, path)
    assert again.status_code == 200
    page = text_of(again)
    assert 'Нових голосів збережено</th><td class="num">0' in page
    assert 'Уже отримано раніше</th><td class="num">4' in page
    assert stored_counts(session) == before == (4, 2, 4)
    assert running_tally(session, terminal.cycle_id) == {terminal.projects[0]: 4}
    assert (
        len(session.scalars(select(AuditEvent).where(AuditEvent.action == "device.bundle_import")).all()) == 2
    )


def test_a_bundle_overlapping_what_came_over_the_network_stores_only_the_new_votes(
    client, session, terminal, moderator, tmp_path
):
    terminal.vote(3)
    # The network came for a moment: the server stored 1..3, but its answer was lost,
    # so the terminal still counts them as unsent.
    assert terminal.device.push().status_code == 200
    terminal.vote(4)
    response = upload(client, terminal.bundle(tmp_path / "T.spilno", batch_size=2))

    assert response.status_code == 200
    page = text_of(response)
    assert 'Прочитано записів</th><td class="num">7' in page
    assert 'Нових голосів збережено</th><td class="num">4' in page
    assert 'Уже отримано раніше</th><td class="num">3' in page
    entries, _checkpoints, votes = stored_counts(session)
    assert (entries, votes) == (7, 7)
    assert running_tally(session, terminal.cycle_id) == {terminal.projects[0]: 7}


def test_the_next_bundle_repeats_the_last_one_and_adds_only_what_is_new(
    client, session, terminal, moderator, tmp_path
):
    terminal.vote(3)
    assert upload(client, terminal.bundle(tmp_path / "monday.spilno")).status_code == 200
    terminal.vote(2)
    response = upload(client, terminal.bundle(tmp_path / "tuesday.spilno"))
    page = text_of(response)
    assert 'Нових голосів збережено</th><td class="num">2' in page
    assert 'Уже отримано раніше</th><td class="num">3' in page
    assert stored_counts(session)[2] == 5


def test_a_bundle_after_a_gap_waits_aside_until_the_missing_votes_arrive(
    client, session, terminal, moderator, tmp_path
):
    terminal.vote(6)
    # The terminal believes the server has 1..3 (the server's database was restored
    # from an older backup since), so its bundle starts at 4.
    terminal.store.mark_acked(3, terminal.device.log[2].entry_hash())
    response = upload(client, terminal.bundle(tmp_path / "T.spilno"))
    assert response.status_code == 200
    assert 'Чекають на пропущені записи</th><td class="num">3' in text_of(response)
    assert stored_counts(session) == (0, 0, 0)
    assert len(session.scalars(select(PendingBatch)).all()) == 1

    assert terminal.device.push(terminal.device.batch(1, 3)).get_json()["acked_seq"] == 6
    assert stored_counts(session)[2] == 6


# --- tampering ------------------------------------------------------------------------------


def rewrite_batch(path, number, change):
    db = sqlite3.connect(path)
    (text,) = db.execute("SELECT batch_json FROM batch WHERE number = ?", (number,)).fetchone()
    db.execute("UPDATE batch SET batch_json = ? WHERE number = ?", (change(text), number))
    db.commit()
    db.close()


def test_a_byte_changed_in_a_stored_batch_is_refused_with_an_alarm_and_nothing_of_it_is_stored(
    client, session, terminal, moderator, tmp_path
):
    terminal.vote(6)
    path = terminal.bundle(tmp_path / "T.spilno", batch_size=2)
    other = terminal.projects[2]
    rewrite_batch(
        path,
        2,
        lambda text: text.replace(f'"selections":[{terminal.projects[0]}]', f'"selections":[{other}]', 1),
    )

    response = upload(client, path)
    assert response.status_code == 422
    page = text_of(response)
    assert "відмовлено" in page and "Пакет 2:" in page and "chain.broken" in page
    assert "Ланцюжок журналу пристрою розірвано" in page
    assert "Пакетів після відхиленого не прочитано: 1" in page
    # The batch before the altered one is intact and signed: it counts.
    assert stored_counts(session) == (2, 1, 2)
    assert running_tally(session, terminal.cycle_id) == {terminal.projects[0]: 2}
    [alarm] = alarms(session)
    assert (alarm.kind, alarm.source) == ("chain.broken", terminal.device.code)


def test_a_batch_that_cannot_be_read_ends_the_import_there(client, session, terminal, moderator, tmp_path):
    terminal.vote(6)
    path = terminal.bundle(tmp_path / "T.spilno", batch_size=2)
    rewrite_batch(path, 2, lambda text: text[:-1])
    response = upload(client, path)
    assert response.status_code == 422
    page = text_of(response)
    assert "Пакет 2: Пакет у файлі не є коректним JSON" in page
    assert "Пакетів після відхиленого не прочитано: 1" in page
    assert stored_counts(session)[2] == 2
    assert alarms(session) == []


def test_a_forged_checkpoint_signature_is_refused_with_an_alarm(
    client, session, terminal, moderator, tmp_path
):
    terminal.vote(2)
    path = terminal.bundle(tmp_path / "T.spilno")
    impostor = signing.generate_private_key()

    def forge(text):
        batch = json.loads(text)
        checkpoint = batch["checkpoint"]
        signed = log_batches.checkpoint_bytes(terminal.device.code, checkpoint["seq"], checkpoint["hash"])
        checkpoint["signature"] = signing.sign(impostor, signed)
        return wire.canonical_json(batch).decode()

    rewrite_batch(path, 1, forge)
    response = upload(client, path)
    assert response.status_code == 422
    assert "checkpoint.signature" in text_of(response)
    assert stored_counts(session) == (0, 0, 0)
    assert [a.kind for a in alarms(session)] == ["checkpoint.signature"]


def test_a_bundle_signed_by_another_key_is_refused_whole_with_an_alarm(
    client, session, make, community, terminal, moderator, tmp_path
):
    # Someone builds a file in the terminal's name with a key of their own.
    forger = DeviceStore(tmp_path / "forger.db")
    identity = terminal.store.require_identity()
    forger.save_enrolment(
        device=identity.device,
        kind="terminal",
        community={"id": identity.community_id, "slug": identity.community_slug, "name": "x"},
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=identity.server_key,
    )
    forged = Terminal(terminal.device, forger, terminal.cycle_id, terminal.projects)
    forged.vote(3)
    response = upload(client, forged.bundle(tmp_path / "T.spilno"))
    forger.close()

    assert response.status_code == 422
    assert "Підпис файлу не збігається з ключем пристрою" in text_of(response)
    assert stored_counts(session) == (0, 0, 0)
    [alarm] = alarms(session)
    assert (alarm.kind, alarm.source, alarm.details["last_seq"]) == (
        "bundle.signature",
        terminal.device.code,
        3,
    )


def test_a_bundle_from_a_revoked_terminal_is_held_for_a_moderator(
    client, session, terminal, moderator, tmp_path
):
    from server.services.devices import revoke_device

    terminal.vote(2)
    path = terminal.bundle(tmp_path / "T.spilno")
    revoke_device(session, session.scalar(select(Device).where(Device.code == terminal.device.code)))
    session.commit()
    response = upload(client, path)
    assert response.status_code == 200, text_of(response)
    # The entries are kept, the votes wait: nothing counts until a moderator decides.
    log_entries, _checkpoints, votes = stored_counts(session)
    assert (log_entries, votes) == (2, 0)
    assert len(session.scalars(select(HeldVote)).all()) == 2
    assert [a.kind for a in alarms(session)] == ["votes.held"]


def test_a_bundle_from_a_store_the_device_was_enrolled_past_is_held_for_a_moderator(
    client, session, terminal, moderator, tmp_path
):
    from server.sync.enrolment import issue_enrolment_code

    terminal.vote(3)  # never sent: the terminal's disk was replaced, and carried in later
    path = terminal.bundle(tmp_path / "T.spilno")
    device = session.scalar(select(Device).where(Device.code == terminal.device.code))
    code = issue_enrolment_code(session, device).code
    session.commit()
    assert FakeDevice(client, terminal.device.code).enrol(code).status_code == 200
    response = upload(client, path)
    assert response.status_code == 200, text_of(response)
    log_entries, _checkpoints, votes = stored_counts(session)
    assert (log_entries, votes) == (3, 0), "kept, not counted by themselves"
    assert {h.reason for h in session.scalars(select(HeldVote))} == {"store_superseded"}
    assert [a.kind for a in alarms(session)] == ["device.superseded_store", "votes.held"]


# --- files and people that do not belong ----------------------------------------------------


def test_a_bundle_from_another_communitys_terminal_is_refused_and_nothing_is_stored(
    client, session, make, terminal, tmp_path
):
    terminal.vote(3)
    path = terminal.bundle(tmp_path / "T.spilno")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, make.community(name="Сусідня громада")))

    response = upload(client, path)
    assert response.status_code == 422
    assert "Файл створено пристроєм, якого немає у вашій громаді" in text_of(response)
    assert stored_counts(session) == (0, 0, 0)
    assert alarms(session) == []


def test_only_community_managers_may_import(client, make, community, terminal, tmp_path):
    terminal.vote(1)
    path = terminal.bundle(tmp_path / "T.spilno")
    assert client.get(PAGE).status_code == 302  # not signed in: to the sign-in page
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, community[0]))
    assert client.get(PAGE).status_code == 403
    assert upload(client, path).status_code == 403

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community[0]))
    with path.open("rb") as handle:
        no_token = client.post(
            PAGE, data={"bundle": (handle, "T.spilno")}, content_type="multipart/form-data"
        )
    assert no_token.status_code == 400


def test_an_administrator_imports_any_communitys_bundle(client, session, make, terminal, tmp_path):
    terminal.vote(2)
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert upload(client, terminal.bundle(tmp_path / "T.spilno")).status_code == 200
    assert stored_counts(session)[2] == 2


def _not_sqlite(path):
    path.write_text("Голоси з терміналу, записані вручну\n" * 100, encoding="utf-8")


def _empty(path):
    path.write_bytes(b"")


def _truncated(path):
    path.write_bytes(path.read_bytes()[:3000])


def _other_tables(path):
    path.unlink()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE votes (id TEXT, choice TEXT)")
    db.execute("INSERT INTO votes VALUES ('1', 'park')")
    db.commit()
    db.close()


def _huge_row(path):
    db = sqlite3.connect(path)
    db.execute("UPDATE batch SET batch_json = ? WHERE number = 1", ("[" * 3_000_000,))
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_not_sqlite, "Це не файл перенесення голосів: файл порожній або не є базою SQLite."),
        (_empty, "Це не файл перенесення голосів: файл порожній або не є базою SQLite."),
        (_truncated, "Файл пошкоджено або записано не до кінця"),
        (_other_tables, "Це база SQLite, але не файл перенесення голосів"),
        (_huge_row, "Запис у файлі завеликий для пакета голосів"),
    ],
    ids=["not-sqlite", "empty", "truncated", "other-tables", "huge-row"],
)
def test_a_file_that_is_not_a_bundle_gets_a_clear_message_and_changes_nothing(
    client, session, terminal, moderator, tmp_path, spoil, message
):
    terminal.vote(3)
    path = terminal.bundle(tmp_path / "T.spilno")
    spoil(path)
    response = upload(client, path)
    assert response.status_code == 422
    assert message in text_of(response)
    assert stored_counts(session) == (0, 0, 0)
    assert alarms(session) == []
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "device.bundle_import")).all()
    assert event.details["ok"] is False


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    app, client, session, terminal, moderator, tmp_path
):
    app.config["BUNDLE_MAX_BYTES"] = 1024 * 1024
    path = tmp_path / "big.spilno"
    path.write_bytes(b"\0" * (2 * 1024 * 1024))
    response = upload(client, path)
    assert response.status_code == 413
    assert "Файл завеликий: не більше 1 МБ." in text_of(response)

    # Just over the file limit but within the form's room for headers: refused all the same.
    path.write_bytes(b"\0" * (1024 * 1024 + 10))
    response = upload(client, path)
    assert response.status_code == 422
    assert "Файл завеликий: не більше 1 МБ." in text_of(response)
    assert stored_counts(session) == (0, 0, 0)


def test_a_form_without_a_file_asks_for_one(client, moderator):
    response = client.post(PAGE, data={"csrf_token": CSRF_TOKEN}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Оберіть файл перенесення голосів." in text_of(response)


def test_the_page_is_in_the_menu_and_speaks_english(client, moderator):
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<a href="{PAGE}">Імпорт голосів з носія</a>' in html
    assert 'enctype="multipart/form-data"' in html and f'value="{CSRF_TOKEN}"' in html
    english = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "Import votes from a USB stick" in english and "Bundle files" in english


def test_several_sticks_at_once_each_get_their_own_report(
    client, session, make, community, terminal, moderator, tmp_path
):
    second = terminal_of(client, session, make, *community, tmp_path, name="second.db")
    terminal.vote(2)
    second.vote(3)
    response = upload(client, terminal.bundle(tmp_path / "a.spilno"), second.bundle(tmp_path / "b.spilno"))
    second.store.close()
    assert response.status_code == 200
    page = text_of(response)
    assert "a.spilno" in page and "b.spilno" in page  # each a job, listed with its link
    jobs = re.findall(r'href="(/console/jobs/[0-9]+)"', response.get_data(as_text=True))
    reports = " ".join(text_of(client.get(job)) for job in jobs)
    assert len(jobs) == 2 and terminal.device.code in reports and second.device.code in reports
    assert stored_counts(session)[2] == 5


# --- the command line -----------------------------------------------------------------------


def test_the_server_command_imports_bundles_and_prints_a_json_line_for_each(
    runner, session, terminal, tmp_path
):
    terminal.vote(3)
    good = terminal.bundle(tmp_path / "good.spilno")
    bad = tmp_path / "bad.spilno"
    shutil.copy(good, bad)
    _not_sqlite(bad)

    result = runner.invoke(import_bundle_command, [str(good), str(bad), "--json"])
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert (first["device"], first["stored"], first["ok"]) == (terminal.device.code, 3, True)
    assert second["ok"] is False
    [refusal] = second["refusals"]
    assert refusal["code"] == "bundle.not_sqlite" and refusal["batch"] is None
    assert refusal["message"].startswith("Це не файл") and refusal["message_en"].startswith("This is not")
    assert stored_counts(session)[2] == 3

    again = runner.invoke(import_bundle_command, [str(good)])
    assert again.exit_code == 0, again.output
    assert "нових 0, уже відомих 3, чекають 0 / read 3, new 0, already known 3" in again.output
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "device.bundle_import")).all()
    assert len(events) == 3 and all(e.user_id is None for e in events)


def test_the_server_command_can_be_held_to_one_community(runner, session, make, terminal, tmp_path):
    terminal.vote(1)
    path = terminal.bundle(tmp_path / "T.spilno")
    elsewhere = make.community(slug="susidnia")
    result = runner.invoke(import_bundle_command, [str(path), "--community", elsewhere.slug])
    assert result.exit_code == 1
    assert "bundle.unknown_device" in result.output and "/ The file was made by a device" in result.output
    assert stored_counts(session) == (0, 0, 0)
    unknown = runner.invoke(import_bundle_command, [str(path), "--community", "nemaie"])
    assert unknown.exit_code == 1 and "no community 'nemaie'" in unknown.output
