"""Fault drills, votes held for a moderator, through gunicorn, real terminal processes
and the fault proxy:

- a terminal offline through the close syncs after the results were published: its
  votes wait, the published figures and every other vote's standing stay as they were,
  and only a moderator's decision (audited) moves them;
- a terminal revoked in the middle of its push: every vote it thanked a resident for
  reaches the server, the terminal stops taking votes, and after the moderator's
  decision the votes cast before the revocation count, the terminal learns so."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import AuditEvent, Cycle, Device, HeldVote, Vote, utcnow
from server.results.publishing import publish_results
from server.services.devices import revoke_device
from server.services.tally import running_tally
from server.sync.held import DEVICE_REVOKED, RESULTS_PUBLISHED, decide

from .conftest import moderator_of
from .proxy import LOG_PUSH

TERMINALS = 1


def _statuses(terminal) -> list[str | None]:
    return [terminal.statuses()[v] for v in terminal.vote_ids()]


def test_a_terminal_offline_through_publication_moves_nothing_until_a_moderator_decides(world, alarms):
    seeded, (early, late) = world.elsewhere("faults-published", 2)
    early.cast(10)
    assert early.sync().returncode == 0
    late.cast(10)  # offline through the close: nothing sent
    with Session(world.engine) as session:
        cycle = session.get(Cycle, seeded.cycle_id)
        publish_results(session, cycle)
        session.commit()
        published = running_tally(session, seeded.cycle_id)
        standings = dict(session.execute(select(Vote.id, Vote.status).where(Vote.cycle_id == cycle.id)).all())

    run = late.sync()
    assert run.returncode == 0, run
    assert late.acked_seq() == 10 and set(_statuses(late)) == {"held"}
    assert "votes.not_counted" in {a["kind"] for a in late.status()["alarms"]}, "staff hear of it"
    with Session(world.engine) as session:
        assert running_tally(session, seeded.cycle_id) == published, "published figures moved by themselves"
        after = dict(
            session.execute(select(Vote.id, Vote.status).where(Vote.cycle_id == seeded.cycle_id)).all()
        )
        assert after == standings, "no vote flipped to duplicate without a decision"
    assert [(a.kind, a.source) for a in alarms.raised()] == [("votes.held", late.code)]

    with Session(world.engine) as session:
        device = session.scalar(select(Device).where(Device.code == late.code))
        cycle = session.get(Cycle, seeded.cycle_id)
        decision = decide(
            session,
            device=device,
            cycle=cycle,
            reason=RESULTS_PUBLISHED,
            count=True,
            note="рішення комісії",
            user=moderator_of(session, seeded.community_id),
        )
        session.commit()
        assert decision.counted == 10
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "held_votes.count")
            )
            == 1
        )
    assert late.sync().returncode == 0
    assert None not in _statuses(late) and "held" not in _statuses(late)


def test_a_terminal_revoked_mid_push_loses_no_thanked_vote(world, alarms):
    seeded, (terminal,) = world.elsewhere("faults-revoked", 1)
    terminal.cast(700)  # two batches: the revocation lands between them
    world.proxy.delay(30, on="request", match=LOG_PUSH)  # the first push waits at the proxy
    push = terminal.start("sync", "--once", "--json", "--timeout", "60")
    world.proxy.wait_for(lambda: world.proxy.exchanges(LOG_PUSH), what="a push in flight")
    with Session(world.engine) as session:
        device = session.scalar(select(Device).where(Device.code == terminal.code))
        revoke_device(session, device)
        session.commit()
    world.proxy.release()
    world.proxy.pass_through()
    first = terminal.finish(push, "sync during revocation")
    assert first.returncode == 1 and "device.revoked" in first.stdout + first.stderr, first
    assert terminal.status()["revoked"] is True
    refused = terminal.run("simulate-votes", "--count", "1")
    assert refused.returncode == 1 and "revoked" in refused.stderr, "a revoked terminal takes no more votes"

    for _ in range(3):  # what remains goes up too, round after round, held
        terminal.sync()
    assert terminal.acked_seq() == 700, "every thanked vote reached the server"
    with Session(world.engine) as session:
        held = session.scalar(
            select(func.count()).select_from(HeldVote).where(HeldVote.reason == DEVICE_REVOKED)
        )
        counted = session.scalar(
            select(func.count()).select_from(Vote).where(Vote.cycle_id == seeded.cycle_id)
        )
        assert held + counted == 700, (held, counted)
        device = session.scalar(select(Device).where(Device.code == terminal.code))
        device.revoked_at = utcnow() + timedelta(seconds=1)  # as if revoked just now: all were cast before
        decide(
            session,
            device=device,
            cycle=session.get(Cycle, seeded.cycle_id),
            reason=DEVICE_REVOKED,
            count=True,
            note="термінал знято з обліку, голоси справжні",
            user=moderator_of(session, seeded.community_id),
        )
        session.commit()
        assert (
            session.scalar(select(func.count()).select_from(Vote).where(Vote.cycle_id == seeded.cycle_id))
            == 700
        )
    terminal.sync()
    assert "held" not in _statuses(terminal) and None not in _statuses(terminal)
    assert "votes.held" in {a.kind for a in alarms.raised()}


def test_residents_the_servers_list_does_not_hold_wait_for_a_moderator(world, alarms):
    """The community switches its voter list on while a terminal is offline with votes
    its older copy let through: none counts by itself, the terminal's staff hear of it,
    and the moderator's decision reaches the terminal."""
    from server.models import EligibilityList, EligibleVoter
    from server.sync.held import NOT_LISTED

    seeded, (terminal,) = world.elsewhere("faults-not-listed", 1)
    terminal.cast(6)
    listed = "0" * 64  # the list holds one other resident; the six are not on it
    community_id = seeded.community_id
    with Session(world.engine) as session:
        session.add(EligibilityList(community_id=community_id, enabled=True, version=1, listed_count=1))
        session.add(EligibleVoter(community_id=community_id, voter_key=listed, listed=True, seq=1))
        session.commit()

    assert terminal.sync().returncode == 0
    assert terminal.acked_seq() == 6 and set(_statuses(terminal)) == {"held"}
    assert "votes.not_counted" in {a["kind"] for a in terminal.status()["alarms"]}
    with Session(world.engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(Vote).where(Vote.cycle_id == seeded.cycle_id))
            == 0
        ), "nothing counted by itself"
        decide(
            session,
            device=session.scalar(select(Device).where(Device.code == terminal.code)),
            cycle=session.get(Cycle, seeded.cycle_id),
            reason=NOT_LISTED,
            count=False,
            note="не мешканці громади",
            user=moderator_of(session, seeded.community_id),
        )
        session.commit()
    assert terminal.sync().returncode == 0
    assert set(_statuses(terminal)) == {"invalid"}
    assert [(a.kind, a.source) for a in alarms.raised()] == [("votes.held", terminal.code)]


def test_a_close_moved_earlier_while_a_terminal_was_offline_counts_nothing_after_it(world, alarms):
    """The commission moves the close earlier; a terminal that has not synced since
    still takes votes by its package. The server judges them by the close it knows
    (invalid, never counted), the terminal learns it and tells its staff, and its new
    package closes voting there."""
    seeded, (terminal,) = world.elsewhere("faults-close-moved", 1)
    terminal.cast(3)
    assert terminal.sync().returncode == 0
    with Session(world.engine) as session:
        cycle = session.get(Cycle, seeded.cycle_id)
        cycle.voting_ends_at = utcnow() - timedelta(minutes=1)  # moved earlier: closed now
        session.commit()
    terminal.cast(4)  # by its package voting is still open; it thanks four residents

    assert terminal.sync().returncode == 0
    statuses = _statuses(terminal)
    assert statuses[:3] == ["counted"] * 3 and statuses[3:] == ["invalid"] * 4
    assert "votes.not_counted" in {a["kind"] for a in terminal.status()["alarms"]}
    refused = terminal.run("simulate-votes", "--count", "1")
    assert refused.returncode == 1, "the new package closed voting on the terminal"
    with Session(world.engine) as session:
        counted = session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(Vote.cycle_id == seeded.cycle_id, Vote.status == "counted")
        )
        assert counted == 3
