"""Guessing codes is slowed down per browser, per network address and per school page,
while a whole class typing its codes behind one school router always gets through."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qr_codes.codes import new_code
from school_budget.code_throttle import (
    CodeLimits,
    Guesser,
    client_hash,
    record_failure,
    too_many_failures,
)
from school_budget.codes import issue_codes
from school_budget.keys import app_code_keys
from server.models import CodeAttempt, Project, Vote, utcnow
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


def attempts(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CodeAttempt))


def test_a_browser_that_keeps_guessing_is_stopped(app, session, issue):
    app.config["CODE_MAX_FAILURES_PER_CLIENT"] = 3
    (code,) = issue(1)
    guesser = phone(app)
    for _ in range(3):
        assert type_code(guesser, new_code()).status_code == 404
    # Now even a right code waits: the limit is checked before the code.
    stopped = type_code(guesser, code)
    assert stopped.status_code == 429 and TOO_MANY_UK in stopped.get_data(as_text=True)
    by_link = guesser.get(f"/s/{code}?lang=en")
    assert by_link.status_code == 429 and TOO_MANY_EN in by_link.get_data(as_text=True)
    assert attempts(session) == 3  # refusing for the limit is not another guess
    # Another browser at the same address is not affected.
    assert type_code(phone(app), code).status_code == 303


def test_typos_count_as_guesses_but_refusals_of_real_codes_do_not(app, session, contest, issue):
    app.config["CODE_MAX_FAILURES_PER_CLIENT"] = 3
    first, second = issue(2)
    student = phone(app)
    assert type_code(student, typo_of(first)).status_code == 400
    assert attempts(session) == 1
    project = session.scalar(select(Project.id).where(Project.cycle_id == contest.cycle.id))
    assert type_code(student, first).status_code == 303
    student.post("/s/ballot", data={"project": str(project), "csrf_token": csrf(student)})
    student.post("/s/confirm", data={"csrf_token": csrf(student)})
    # A spent code opened again and again is a student checking, not a guesser.
    for _ in range(10):
        assert student.get(f"/s/{first}").status_code == 409
    assert attempts(session) == 1
    assert type_code(student, second).status_code == 303


def test_one_network_address_that_keeps_guessing_is_stopped(app, issue):
    app.config["CODE_MAX_FAILURES_PER_IP"] = 5
    (code,) = issue(1)
    for _ in range(5):  # a new browser each time: cookies thrown away
        assert type_code(phone(app, "203.0.113.9"), new_code()).status_code == 404
    assert type_code(phone(app, "203.0.113.9"), code).status_code == 429
    assert type_code(phone(app, "198.51.100.7"), code).status_code == 303


def test_a_school_page_under_attack_is_stopped_but_other_pages_are_not(app, session, contest, issue):
    app.config["CODE_MAX_FAILURES_PER_SCHOOL"] = 4
    (code,) = issue(1)
    page = f"/s/school/{contest.school.id}"
    for n in range(4):  # from many addresses, each with fresh cookies
        assert type_code(phone(app, f"192.0.2.{n}"), new_code(), page).status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).where(CodeAttempt.school_id == contest.school.id)) == 4
    refused = type_code(phone(app, "192.0.2.200"), code, page)
    assert refused.status_code == 429 and TOO_MANY_UK in refused.get_data(as_text=True)
    # The general page, and the card's own link, still take the code.
    assert type_code(phone(app, "192.0.2.201"), code).status_code == 303
    assert phone(app, "192.0.2.202").get(f"/s/{code}").status_code == 303


def test_another_schools_code_on_a_school_page_is_not_a_guess(app, session, make, contest, issue):
    app.config["CODE_MAX_FAILURES_PER_SCHOOL"] = 2
    other = make.school_contest()
    (foreign,) = issue(1, "9-В", other)
    page = f"/s/school/{contest.school.id}"
    for n in range(5):
        assert type_code(phone(app, f"192.0.2.{n}"), foreign, page).status_code == 403
    assert attempts(session) == 0


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
    assert attempts(session) == 40


def test_the_browser_id_is_kept_only_hashed(app, session):
    student = phone(app)
    type_code(student, new_code())
    with student.session_transaction() as cookie:
        browser_id = cookie["s_client"]
    session.expire_all()
    stored = session.scalar(select(CodeAttempt))
    assert stored.client == client_hash(browser_id) != browser_id
    assert browser_id not in stored.client
    assert stored.ip == SCHOOL_NAT and stored.school_id is None


LIMITS = CodeLimits(window_seconds=600, per_client=2, per_ip=3, per_school=4)


def test_attempts_older_than_the_window_do_not_count_and_are_deleted(session):
    now = utcnow()
    guesser = Guesser(client=client_hash("browser"), ip="192.0.2.1", school_id=7)
    old = now - timedelta(seconds=LIMITS.window_seconds + 1)
    for _ in range(10):
        session.add(CodeAttempt(at=old, client=guesser.client, ip=guesser.ip, school_id=7))
    session.commit()
    assert not too_many_failures(session, LIMITS, guesser, now)
    record_failure(session, LIMITS, guesser, now)
    session.commit()
    assert attempts(session) == 1  # the old ten are gone
    record_failure(session, LIMITS, guesser, now)
    session.commit()
    assert too_many_failures(session, LIMITS, guesser, now)
    # The same browser, later, when the window has passed.
    assert not too_many_failures(session, LIMITS, guesser, now + timedelta(seconds=LIMITS.window_seconds + 1))


@pytest.mark.parametrize(
    ("guessers", "limited"),
    [
        # per browser: 2
        ([Guesser("a", "1.1.1.1"), Guesser("a", "2.2.2.2")], Guesser("a", "3.3.3.3")),
        # per address: 3
        (
            [Guesser("a", "1.1.1.1"), Guesser("b", "1.1.1.1"), Guesser("c", "1.1.1.1")],
            Guesser("d", "1.1.1.1"),
        ),
        # per school page: 4
        ([Guesser(c, f"{c}.0.0.1", 9) for c in "1234"], Guesser("5", "5.0.0.1", 9)),
    ],
    ids=["client", "ip", "school"],
)
def test_each_limit_stops_at_its_own_count(session, guessers, limited):
    now = utcnow()
    assert not too_many_failures(session, LIMITS, limited, now)
    for guesser in guessers[:-1]:
        record_failure(session, LIMITS, guesser, now)
    session.commit()
    assert not too_many_failures(session, LIMITS, limited, now)  # one below the limit
    record_failure(session, LIMITS, guessers[-1], now)
    session.commit()
    assert too_many_failures(session, LIMITS, limited, now)
    # Someone who shares none of the three is not limited.
    assert not too_many_failures(session, LIMITS, Guesser("z", "9.9.9.9", 1), now)


def test_limits_are_read_from_the_configuration(app):
    limits = CodeLimits.from_config(app.config)
    assert limits == CodeLimits(
        window_seconds=app.config["CODE_WINDOW_SECONDS"],
        per_client=app.config["CODE_MAX_FAILURES_PER_CLIENT"],
        per_ip=app.config["CODE_MAX_FAILURES_PER_IP"],
        per_school=app.config["CODE_MAX_FAILURES_PER_SCHOOL"],
    )
    # A class of 40 making a typo each must fit in the address limit many times over.
    assert limits.per_ip >= 200 and limits.per_client >= 5
