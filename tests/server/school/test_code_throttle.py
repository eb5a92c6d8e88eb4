"""Guessing codes is slowed down per browser and per network address with growing
delays, while a whole class typing its codes behind one school router always gets
through, even when one pupil there keeps guessing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from qr_codes.codes import new_code
from server.models import Project, ThrottleBucket, Vote
from server.school import student_views
from server.school.code_throttle import CodeLimits, client_hash
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from tests.clocks import hand_clock
from tests.conftest import both_databases
from tests.factories import csrf

TOO_MANY_UK = "Забагато невдалих спроб. Зачекайте кілька хвилин і спробуйте знову."
TOO_MANY_EN = "Too many failed attempts. Wait a few minutes and try again."
SCHOOL_NAT = "10.20.30.40"


@pytest.fixture
def contest(make):
    return make.school_contest()


@pytest.fixture
def issue(app, session, contest):
    def make_codes(count: int, class_name: str = "6-А", of=None) -> list[str]:
        issued = issue_codes(session, of or contest, class_name, count, app_code_keys(app))
        session.commit()
        return [c.code for c in issued]

    return make_codes


@pytest.fixture
def clock(monkeypatch):
    """The students' pages' clock, moved by hand."""
    return hand_clock(monkeypatch, student_views)


def typo_of(code: str) -> str:
    return ("3" if code[0] != "3" else "4") + code[1:]


def phone(app, ip: str = SCHOOL_NAT):
    """A student's own browser (its own cookies) at a network address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def type_code(client, code: str, url: str = "/s/"):
    client.get(url)
    return client.post(url, data={"code": code, "csrf_token": csrf(client)})


def failures(session, rule, subject: str) -> int:
    session.expire_all()
    bucket = session.get(ThrottleBucket, rule.key(subject))
    return bucket.failures if bucket else 0


def browser_id(client) -> str:
    with client.session_transaction() as cookie:
        return cookie["s_client"]


def test_a_browser_that_keeps_guessing_must_wait_ever_longer(app, session, issue, clock):
    app.config["CODE_MAX_FAILURES_PER_CLIENT"] = 3
    (code,) = issue(1)
    guesser = phone(app)
    for _ in range(3):
        assert type_code(guesser, new_code()).status_code == 404
    # Now even a right code waits on this browser: its limit is checked before the code.
    stopped = type_code(guesser, code)
    assert stopped.status_code == 429 and TOO_MANY_UK in stopped.get_data(as_text=True)
    assert stopped.headers["Retry-After"] == "2"
    by_link = guesser.get(f"/s/{code}?lang=en")
    assert by_link.status_code == 429 and TOO_MANY_EN in by_link.get_data(as_text=True)
    limits = CodeLimits.from_config(app.config)
    assert failures(session, limits.browser, client_hash(browser_id(guesser))) == 3
    clock.advance(2)
    assert type_code(guesser, new_code()).status_code == 404
    assert type_code(guesser, code).headers["Retry-After"] == "4"
    # Another browser at the same address is not affected.
    assert type_code(phone(app), code).status_code == 303
    # And once it has waited, this browser's right code passes.
    clock.advance(4)
    assert type_code(guesser, code).status_code == 303


def test_typos_count_as_guesses_but_refusals_of_real_codes_do_not(app, session, contest, issue, clock):
    app.config["CODE_MAX_FAILURES_PER_CLIENT"] = 3
    first, second = issue(2)
    student = phone(app)
    limits = CodeLimits.from_config(app.config)
    assert type_code(student, typo_of(first)).status_code == 400
    browser = client_hash(browser_id(student))
    assert failures(session, limits.browser, browser) == 1
    assert failures(session, limits.address, SCHOOL_NAT) == 1
    project = session.scalar(select(Project.id).where(Project.cycle_id == contest.cycle.id))
    assert type_code(student, first).status_code == 303
    student.post("/s/ballot", data={"project": str(project), "csrf_token": csrf(student)})
    student.post("/s/confirm", data={"csrf_token": csrf(student)})
    # A spent code opened again and again is a student checking, not a guesser.
    for _ in range(10):
        assert student.get(f"/s/{first}").status_code == 409
    assert failures(session, limits.browser, browser) == 1
    assert failures(session, limits.address, SCHOOL_NAT) == 1
    assert type_code(student, second).status_code == 303


@both_databases
def test_a_pupil_guessing_behind_the_school_router_cannot_stop_the_class(app, session, contest, issue, clock):
    """The reported attack: hundreds of wrong codes from the school's one address. The
    guesser gets "too many attempts"; every classmate's own code still works, even a
    classmate who first mistypes it."""
    app.config["CODE_MAX_FAILURES_PER_IP"] = 20
    codes = issue(10)
    page = f"/s/school/{contest.school.id}"
    for _ in range(40):  # fresh cookies each time, so only the address can count them
        answer = type_code(phone(app), new_code(), page)
        assert answer.status_code in (404, 429)
    slowed = type_code(phone(app), new_code(), page)
    assert slowed.status_code == 429 and TOO_MANY_UK in slowed.get_data(as_text=True)
    project = session.scalar(select(Project.id).where(Project.cycle_id == contest.cycle.id))
    for code in codes:
        student = phone(app)
        assert type_code(student, typo_of(code), page).status_code == 429  # a typo is held back...
        assert type_code(student, code, page).status_code == 303, "a classmate was locked out"
        student.post("/s/ballot", data={"project": str(project), "csrf_token": csrf(student)})
        assert student.post("/s/confirm", data={"csrf_token": csrf(student)}).status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Vote)) == 10
    # Another school's address, and the general page elsewhere, never noticed.
    assert type_code(phone(app, "192.0.2.7"), new_code(), page).status_code == 404


def test_an_address_that_keeps_guessing_is_slowed_with_growing_delays(app, session, issue, clock):
    app.config["CODE_MAX_FAILURES_PER_IP"] = 5
    for _ in range(5):
        assert type_code(phone(app, "203.0.113.9"), new_code()).status_code == 404
    waits = []
    for _ in range(3):
        refused = type_code(phone(app, "203.0.113.9"), new_code())
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert type_code(phone(app, "203.0.113.9"), new_code()).status_code == 404
    assert waits == [2, 4, 8]
    assert type_code(phone(app, "198.51.100.7"), new_code()).status_code == 404


def test_another_schools_code_on_a_school_page_is_not_a_guess(app, session, make, contest, issue, clock):
    app.config["CODE_MAX_FAILURES_PER_IP"] = 2
    other = make.school_contest()
    (foreign,) = issue(1, "9-В", other)
    page = f"/s/school/{contest.school.id}"
    for _ in range(5):
        assert type_code(phone(app), foreign, page).status_code == 403
    session.expire_all()
    assert (
        session.scalar(select(func.count()).select_from(ThrottleBucket).where(ThrottleBucket.failures > 0))
        == 0
    )


def test_a_whole_class_behind_one_school_router_all_get_through(app, session, contest, issue):
    """Forty students, one school address, each with their own phone: each makes one
    typo, then types the code right and votes."""
    codes = issue(40)
    project = session.scalar(select(Project.id).where(Project.cycle_id == contest.cycle.id))
    for code in codes:
        student = phone(app)
        assert type_code(student, typo_of(code)).status_code == 400
        assert type_code(student, code.lower()).status_code == 303, "a student of the class was blocked"
        student.post("/s/ballot", data={"project": str(project), "csrf_token": csrf(student)})
        assert student.post("/s/confirm", data={"csrf_token": csrf(student)}).status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Vote)) == 40
    assert failures(session, CodeLimits.from_config(app.config).address, SCHOOL_NAT) == 40


def test_the_browser_id_and_the_address_are_kept_only_hashed(app, session):
    student = phone(app)
    type_code(student, new_code())
    keys = " ".join(session.scalars(select(ThrottleBucket.key)))
    assert browser_id(student) not in keys and SCHOOL_NAT not in keys


def run_at_once(clients, code_for) -> list[int]:
    tokens = [csrf(client) for client in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def go(index: int, client) -> None:
        start.wait()
        status = client.post("/s/", data={"code": code_for(index), "csrf_token": tokens[index]}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(statuses)


def test_simultaneous_guesses_from_one_browser_cannot_pass_its_limit(app, session):
    app.config["CODE_MAX_FAILURES_PER_CLIENT"] = 5
    first = phone(app)
    type_code(first, new_code())  # the browser gets its id
    with first.session_transaction() as cookie:
        shared = dict(cookie)
    copies = []
    for _ in range(24):  # one browser's cookie, sent by 24 connections at once
        client = phone(app)
        with client.session_transaction() as cookie:
            cookie.update(shared)
        copies.append(client)
    statuses = run_at_once(copies, lambda _i: new_code())
    assert statuses == [404] * 4 + [429] * 20


def test_simultaneous_guesses_from_one_address_cannot_pass_its_limit_and_right_codes_pass(
    app, session, issue
):
    app.config["CODE_MAX_FAILURES_PER_IP"] = 6
    codes = issue(4)
    clients = [phone(app) for _ in range(28)]
    for client in clients:
        client.get("/s/")
    # 24 guesses and 4 right codes, all at once, all from the school's address.
    statuses = run_at_once(clients, lambda i: codes[i - 24] if i >= 24 else new_code())
    assert statuses == [303] * 4 + [404] * 6 + [429] * 18
    assert failures(session, CodeLimits.from_config(app.config).address, SCHOOL_NAT) == 6


def test_limits_are_read_from_the_configuration(app):
    limits = CodeLimits.from_config(app.config)
    assert limits.browser.free == app.config["CODE_MAX_FAILURES_PER_CLIENT"]
    assert limits.address.free == app.config["CODE_MAX_FAILURES_PER_IP"]
    assert limits.address.max_delay == app.config["CODE_MAX_DELAY_SECONDS"]
    # A class of 40 making a typo each must fit in the address limit many times over.
    assert limits.address.free >= 200 and limits.browser.free >= 5
