"""One student code, used in two places while the terminals were offline: the real server
(PostgreSQL, over HTTP) and real terminals (device store, kiosk visit, sync client).
Whatever order the votes arrive in, exactly one counts, the earliest; the other is kept
as a duplicate; the tallies and a recount from the raw records agree. A terminal whose
package predates a revocation still takes the code, and the server stores that vote as
invalid. Spent codes reach terminals in the voters increments and are refused offline.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from appkit.service_pin import PinGuard
from hardware import NoCard
from kiosk.eligibility import ALREADY_VOTED_ELSEWHERE, ALREADY_VOTED_HERE
from kiosk.qr_handlers import default_qr_handlers
from kiosk.school_codes import UNKNOWN_CODE
from kiosk.session import TerminalFlow
from kiosk.terminal import Terminal
from kiosk.visit import Step
from qr_codes.codes import code_url, normalise
from server.models import Project, ProjectTally, Vote, VotingCode
from server.school.code_votes import CodeRefused, cast_by_code
from server.school.codes import issue_codes, revoke_code
from server.school.keys import app_code_keys
from server.sync.enrolment import issue_enrolment_code
from server.sync.recount import recount_cycle
from sync.client import SyncClient
from sync.clock import system_clock_ms
from sync.device_store import DeviceStore
from voting import VoteStatus

NO_CARD = NoCard("Fake Reader 00 00")
CARD_HOST = "https://spilno.example.ua"
_numbers = itertools.count(1)


@pytest.fixture
def server_url(app) -> Iterator[str]:
    """The real server app on a free localhost port, as terminals reach it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


@dataclass
class SchoolTerminal:
    """A school's terminal: its device file, the visit, and its sync client."""

    store: DeviceStore
    flow: TerminalFlow
    client: SyncClient

    def show(self, text: str) -> None:
        self.flow.observe(NO_CARD, text)

    def vote(self, card: str, *projects: int) -> dict:
        """The student shows the card and votes for `projects`; the vote as logged."""
        self.show(card)
        assert self.flow.step is Step.BALLOT, self.flow.notice
        for project in projects:
            self.flow.toggle(project)
        self.flow.next_category()
        self.flow.to_confirm()
        self.flow.confirm()
        assert self.flow.step is Step.RECEIPT, self.flow.notice
        self.flow.finish()
        return self.store.entries_from(self.store.last_seq(), 1)[0].payload

    def sync(self) -> None:
        self.client.sync_round()


@pytest.fixture
def terminals(tmp_path: Path, session, make, server_url) -> Iterator[Callable[..., SchoolTerminal]]:
    """terminals(community, minutes_behind=0) -> a terminal enrolled over HTTP holding the
    current package. `minutes_behind` sets when its votes are cast: how long before the
    real time the student stood there (the terminal was offline meanwhile)."""
    made: list[DeviceStore] = []

    def enrol(community, *, minutes_behind: int = 0) -> SchoolTerminal:
        row = make.device(community, kind="terminal", code=f"T-{next(_numbers):04d}")
        enrolment = issue_enrolment_code(session, row).code
        session.commit()
        store = DeviceStore(tmp_path / f"{row.code}.db")
        made.append(store)
        client = SyncClient(store, server_url, max_attempts=1)
        client.enrol(enrolment)
        client.pull_package()
        behind_ms = minutes_behind * 60_000
        terminal = Terminal(
            store, voted_elsewhere=store.voted_elsewhere, clock=lambda: system_clock_ms() - behind_ms
        )
        flow = TerminalFlow(terminal, pin_guard=PinGuard(None), qr_handlers=default_qr_handlers())
        return SchoolTerminal(store, flow, client)

    yield enrol
    for store in made:
        store.close()


@dataclass
class School:
    community: object
    contest: object
    codes: list[str]  # plain codes, as printed
    projects: list[int]

    def card(self, index: int) -> str:
        return code_url(CARD_HOST, self.codes[index])


@pytest.fixture
def school(app, session, make) -> School:
    community = make.community()
    contest = make.school_contest(make.school(community, name="Ліцей № 3"), projects=3)
    issued = issue_codes(session, contest, "6-А", 3, app_code_keys(app))
    session.commit()
    projects = list(
        session.scalars(
            select(Project.id).where(Project.cycle_id == contest.cycle.id).order_by(Project.number)
        )
    )
    return School(community, contest, [c.code for c in issued], projects)


def verifier_of(app, school: School, index: int) -> str:
    return app_code_keys(app).verifier(normalise(school.codes[index]))


def votes_of_code(session, app, school: School, index: int) -> dict[str, Vote]:
    session.expire_all()
    rows = session.scalars(
        select(Vote).where(
            Vote.cycle_id == school.contest.cycle.id, Vote.code_id == verifier_of(app, school, index)
        )
    )
    return {row.id: row for row in rows}


def tallies(session, school: School) -> dict[int, int]:
    session.expire_all()
    rows = session.execute(
        select(ProjectTally.project_id, ProjectTally.votes).where(
            ProjectTally.cycle_id == school.contest.cycle.id
        )
    )
    return {project: votes for project, votes in rows if votes}


def test_one_code_used_offline_on_two_terminals_counts_once_the_earliest(app, session, school, terminals):
    a = terminals(school.community, minutes_behind=1)
    b = terminals(school.community, minutes_behind=5)  # the student was at B first
    first, second, third = school.projects

    at_b = b.vote(school.card(0), first)
    at_a = a.vote(school.card(0), second, third)  # the same card, at another terminal
    other = a.vote(school.card(1), second)
    a.sync()  # A reaches the server first: its vote counts, for now
    assert votes_of_code(session, app, school, 0)[at_a["id"]].status == VoteStatus.COUNTED.value
    b.sync()  # the earlier vote arrives late and takes the counted place

    votes = votes_of_code(session, app, school, 0)
    assert set(votes) == {at_a["id"], at_b["id"]}
    assert votes[at_b["id"]].status == VoteStatus.COUNTED.value
    assert votes[at_a["id"]].status == VoteStatus.DUPLICATE.value
    assert votes[at_a["id"]].status_reason == "duplicate.same_voter"
    assert votes[at_a["id"]].counted_vote_id == at_b["id"]
    assert votes_of_code(session, app, school, 1)[other["id"]].status == VoteStatus.COUNTED.value
    assert tallies(session, school) == {first: 1, second: 1}
    report = recount_cycle(session, school.contest.cycle.id)
    assert report.ok and report.tally == {first: 1, second: 1}, list(report.json_lines())
    # Terminal A, asking again for its votes' statuses, learns how this one fared.
    a.client.refresh_statuses(since_seq=0)
    assert a.store.status_of(at_a["id"])["status"] == VoteStatus.DUPLICATE.value


def test_a_code_used_on_a_phone_and_offline_on_a_terminal_counts_the_earliest(
    app, session, school, terminals
):
    terminal = terminals(school.community, minutes_behind=10)  # offline since
    first, second, _third = school.projects
    at_terminal = terminal.vote(school.card(0), first)
    keys = app_code_keys(app)
    on_phone = cast_by_code(session, keys, school.codes[0], [second])  # the server knows nothing yet
    session.commit()
    assert tallies(session, school) == {second: 1}

    terminal.sync()
    votes = votes_of_code(session, app, school, 0)
    assert votes[at_terminal["id"]].status == VoteStatus.COUNTED.value
    assert votes[on_phone.vote_id].status == VoteStatus.DUPLICATE.value
    assert votes[on_phone.vote_id].counted_vote_id == at_terminal["id"]
    assert tallies(session, school) == {first: 1}
    with pytest.raises(CodeRefused) as refused:
        cast_by_code(session, keys, school.codes[0], [second])
    assert refused.value.code == "code.spent"
    session.rollback()


def test_a_code_spent_on_a_phone_is_refused_offline_after_a_sync_round(app, session, school, terminals):
    terminal = terminals(school.community)
    cast_by_code(session, app_code_keys(app), school.codes[2], [school.projects[0]])
    session.commit()

    terminal.sync()  # the voters increment carries the code's id
    assert terminal.store.voted_elsewhere(school.contest.cycle.id, f"code:{verifier_of(app, school, 2)}")
    # From here on only the device file answers: a visit never reaches the network.
    terminal.show(school.card(2))
    assert terminal.flow.step is Step.REFUSED and terminal.flow.notice.text == ALREADY_VOTED_ELSEWHERE
    terminal.flow.finish()
    terminal.vote(school.card(1), school.projects[1])  # an unspent code still votes
    terminal.show(school.card(1))
    assert terminal.flow.notice.text == ALREADY_VOTED_HERE


def test_a_vote_with_a_code_revoked_after_the_terminals_package_is_stored_invalid(
    app, session, school, terminals
):
    terminal = terminals(school.community)  # holds a package listing all three codes
    code = session.scalar(select(VotingCode).where(VotingCode.verifier == verifier_of(app, school, 0)))
    revoke_code(session, school.contest, code, "картку загублено")
    session.commit()

    vote = terminal.vote(school.card(0), school.projects[0])  # offline: the old list accepts it
    terminal.sync()
    stored = votes_of_code(session, app, school, 0)[vote["id"]]
    assert (stored.status, stored.status_reason) == (VoteStatus.INVALID.value, "vote.code_not_valid")
    assert tallies(session, school) == {}
    assert terminal.store.status_of(vote["id"])["status"] == VoteStatus.INVALID.value
    # The sync round brought the new package: the revoked card is now unknown here too.
    terminal.show(school.card(0))
    assert terminal.flow.notice.text == UNKNOWN_CODE
    report = recount_cycle(session, school.contest.cycle.id)
    assert report.ok, list(report.json_lines())
