"""Fault drills, a store restored from an older copy, through gunicorn, real terminal
processes and the fault proxy: the terminal learns from the server (signed answers,
checked against its own key's signatures) what it lost, takes those entries back
(with the residents who voted in them), logs the votes it cast since the restore
again after them, and goes on delivering: nothing lost, nothing counted twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.models import Cycle, Device, HeldVote, Project, SyncPackage
from server.sync.enrolment import issue_enrolment_code
from server.sync.held import STORE_SUPERSEDED, decide

from .conftest import moderator_of
from .harness import Terminal
from .proxy import http_message

TERMINALS = 5


def _backup(store: Path, to: Path) -> None:
    """A consistent copy of a live store, as a nightly backup makes it."""
    with sqlite3.connect(store) as source, sqlite3.connect(to) as copy:
        source.backup(copy)
    source.close()
    copy.close()


def _restore(terminal: Terminal, backup: Path) -> None:
    for leftover in ("-wal", "-shm"):
        Path(f"{terminal.store}{leftover}").unlink(missing_ok=True)
    terminal.store.write_bytes(backup.read_bytes())


def _synced(run) -> dict:
    assert run.returncode == 0, run
    line = run.json_lines()[-1]
    assert line["ok"] and line["backlog"] == 0, run
    return line


def _alarms(terminal: Terminal) -> set[str]:
    return {a["kind"] for a in terminal.status()["alarms"]}


def test_a_store_restored_from_an_older_copy_resumes_and_loses_nothing(world, alarms, tmp_path):
    (terminal,) = world.take(1)
    terminal.cast(30)
    _synced(terminal.sync())
    backup = tmp_path / "nightly.db"
    _backup(terminal.store, backup)
    terminal.cast(20)
    _synced(terminal.sync())  # the server holds 50 entries
    lost = terminal.vote_ids()[30:]

    _restore(terminal, backup)  # the disk is replaced; last night's copy goes back
    assert terminal.acked_seq() == 30 and len(terminal.vote_ids()) == 30
    terminal.cast(10)  # residents vote before anyone syncs: seqs 31..40 clash with the server's

    line = _synced(terminal.sync())
    assert line["acked_seq"] == 60 and world.device(terminal).acked_seq == 60
    ids = terminal.vote_ids()
    assert ids[30:50] == lost, "the entries it had lost are back, with the residents in them"
    assert len(set(ids)) == 60
    assert "log.resumed" in _alarms(terminal)
    assert [a.kind for a in alarms.raised()] == ["chain.conflict"], "the fleet page shows the clash"
    world.check([terminal], "after a restore: ")


def test_a_restored_store_with_nothing_new_learns_what_it_lost(world, alarms, tmp_path):
    (terminal,) = world.take(1)
    terminal.cast(12)
    _synced(terminal.sync())
    backup = tmp_path / "copy.db"
    _backup(terminal.store, backup)
    terminal.cast(8)
    _synced(terminal.sync())
    _restore(terminal, backup)

    _synced(terminal.sync())  # nothing to push: the round asks where the server stands
    assert terminal.acked_seq() == 20 and len(terminal.vote_ids()) == 20
    assert terminal.verify().returncode == 0, "the log is a whole chain again"
    terminal.cast(3)
    assert _synced(terminal.sync())["acked_seq"] == 23
    assert alarms.raised() == []
    world.check([terminal], "after a quiet restore: ")


def test_two_copies_of_one_store_both_deliver_every_vote(world, alarms, tmp_path):
    (original,) = world.take(1)
    original.cast(5)
    _synced(original.sync())
    clone = Terminal(original.code, tmp_path / "clone.db", world.transcript)
    _backup(original.store, clone.store)  # someone copied the store to a second machine

    original.cast(6)
    clone.cast(4)  # the same seqs, other votes
    _synced(original.sync())
    _synced(clone.sync())  # clashes, takes the original's entries back, logs its 4 after them
    original.cast(3)
    _synced(original.sync())  # now the original is behind: the same recovery
    _synced(clone.sync())

    every = set(original.vote_ids()) | set(clone.vote_ids())
    assert len(every) == 5 + 6 + 4 + 3
    assert world.device(original).acked_seq == 18
    assert "log.resumed" in _alarms(original) and "log.resumed" in _alarms(clone)
    assert {a.kind for a in alarms.raised()} == {"chain.conflict"}, "the fleet page shows the clash"
    world.check([original, clone], "after a cloned store: ")


def _new_code(world, terminal: Terminal) -> str:
    """A moderator issues a new enrolment code for the terminal's device."""
    with Session(world.engine) as session:
        device = session.scalars(select(Device).where(Device.code == terminal.code)).one()
        code = issue_enrolment_code(session, device).code
        session.commit()
        return code


def test_a_device_enrolled_again_on_a_new_store_strands_no_vote_of_the_old_one(world, alarms, tmp_path):
    """The terminal's disk is replaced and the device enrolled again with a fresh store
    while the old store, set aside, still holds votes it never sent. The new store takes
    back the log the old key signed and goes on; the old store, once it is connected
    again, delivers its votes (held: whoever has an old store has its key) and takes no
    more; the moderator counts them. Every vote once, none lost."""
    (old,) = world.take(1)
    old.cast(10)
    _synced(old.sync())
    old.cast(5)  # thanked for, never sent: the disk is taken out now
    unsent = old.vote_ids()[10:]

    new = Terminal(old.code, tmp_path / "new.db", world.transcript)
    world.all_terminals.append(new)
    assert new.enrol(world.proxy.url, _new_code(world, old)).returncode == 0
    _synced(new.sync())  # a fresh store takes back the 10 entries the old key signed
    assert new.acked_seq() == 10 and len(new.vote_ids()) == 10
    new.cast(4)  # seqs 11..14: the old store's unsent 11..15 now clash with them
    assert _synced(new.sync())["acked_seq"] == 14

    run = old.sync()  # the old disk is connected again
    assert run.returncode != 0, "the old store must learn it is superseded"
    assert world.device(old).acked_seq == 19, "its 5 votes arrived, after the new store's"
    assert "device.superseded" in _alarms(old)
    assert old.run("simulate-votes", "--count", "1", "--json").returncode != 0, "it takes no more votes"
    assert set(old.statuses()[v] for v in unsent) == {"held"}
    assert "device.superseded_store" in {a.kind for a in alarms.raised()}

    _synced(new.sync())  # the new store takes the old one's entries back into its log
    assert len(set(new.vote_ids())) == 19 and new.verify().returncode == 0
    new.cast(2)
    assert _synced(new.sync())["acked_seq"] == 21, "the new store goes on as before"

    with Session(world.engine) as session:
        device = session.scalars(select(Device).where(Device.code == old.code)).one()
        held = session.scalars(select(HeldVote.vote_id).where(HeldVote.device_id == device.id)).all()
        assert sorted(held) == sorted(unsent)
        moderator = moderator_of(session, world.community_id)
        decide(
            session,
            device=device,
            cycle=session.get(Cycle, world.cycle_id),
            reason=STORE_SUPERSEDED,
            count=True,
            note="старий диск термінала, голоси до заміни",
            user=moderator,
        )
        session.commit()
    _synced(new.sync())
    assert set(new.statuses()[v] for v in unsent) == {"counted"}
    old.sync()  # still refused, but it follows the log and learns its votes' fate
    assert set(old.statuses()[v] for v in unsent) == {"counted"} and old.vote_ids() == new.vote_ids()
    world.check([new, old], "after a device was enrolled again: ")


def test_a_server_restored_below_the_terminals_package_goes_on_taking_its_votes(world, alarms):
    seeded, (terminal,) = world.elsewhere("faults-server-restore", 1)
    with Session(world.engine) as session:  # two more package versions: titles changed twice
        for title in ("Сквер біля школи", "Сквер біля школи № 2"):
            project = session.scalars(select(Project).where(Project.cycle_id == seeded.cycle_id)).first()
            project.title = title
            session.commit()
            _synced(terminal.sync())
    held = terminal.status()["package_version"]
    assert held >= 3
    with Session(world.engine) as session:  # the database comes back from an older backup
        session.execute(
            delete(SyncPackage).where(
                SyncPackage.community_id == seeded.community_id, SyncPackage.version > 1
            )
        )
        session.commit()

    terminal.cast(5)
    line = _synced(terminal.sync())
    assert line["acked_seq"] == 5, "the votes went up"
    assert terminal.status()["package_version"] == held + 1, "a package above the terminal's was issued"
    assert [a.kind for a in alarms.raised()] == ["package.ahead"]


def test_a_forged_package_never_holds_back_the_votes(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(4)

    def older_package(request: bytes, response: bytes) -> bytes:
        head, _, body = response.partition(b"\r\n\r\n")
        return http_message(head, body.replace(b'"version"', b'"versio\\u006e"'))

    world.proxy.rewrite(older_package, match="GET /api/v1/sync/package")
    run = terminal.sync()
    assert run.returncode == 0, run  # the round went on to push
    assert terminal.acked_seq() == 4 and world.device(terminal).acked_seq == 4
    assert {"package.refused", "answer.forged"} <= _alarms(terminal)
