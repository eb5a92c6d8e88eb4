"""Wrong passwords are slowed down per (login, address) and per address, with growing
delays: a guesser slows down only themself, never the moderator signing in elsewhere,
and simultaneous guesses cannot slip past the count (real PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.auth import views as auth_views
from server.auth.throttle import Rule, address_subject, take
from server.models import Role, ThrottleBucket, utcnow
from tests.clocks import hand_clock
from tests.conftest import both_databases
from tests.factories import PASSWORD, csrf

OFFICE = "198.51.100.10"
ATTACKER = "203.0.113.66"
WRONG = "not the password at all"


def browser(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    csrf(client)
    return client


def sign_in(client, login: str, password: str):
    return client.post("/login", data={"login": login, "password": password, "csrf_token": csrf(client)})


@pytest.fixture
def clock(monkeypatch):
    """The sign-in page's clock, moved by hand."""
    return hand_clock(monkeypatch, auth_views)


@both_databases
def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(app, make, clock):
    user = make.user(Role.COMMUNITY_MODERATOR)
    attacker = browser(app, ATTACKER)
    for _ in range(5):
        assert sign_in(attacker, user.login, WRONG).status_code == 401
    # The attacker's address now waits, even with the right password...
    blocked = sign_in(attacker, user.login, PASSWORD)
    assert blocked.status_code == 429
    assert "Забагато невдалих спроб. Спробуйте знову через 2 с." in blocked.get_data(as_text=True)
    assert blocked.headers["Retry-After"] == "2"
    # ...while the owner, at the office, signs in as usual.
    owner = browser(app, OFFICE)
    assert sign_in(owner, user.login, PASSWORD).status_code == 302
    assert owner.get("/console/").status_code == 200


def test_the_wait_grows_with_each_further_failure_and_is_said_in_english_too(app, make, clock):
    user = make.user()
    attacker = browser(app, ATTACKER)
    for _ in range(5):
        sign_in(attacker, user.login, WRONG)
    waits = []
    for _ in range(4):
        refused = attacker.post(
            "/login?lang=en", data={"login": user.login, "password": WRONG, "csrf_token": csrf(attacker)}
        )
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        assert f"Too many failed attempts. Try again in {waits[-1]} s." in refused.get_data(as_text=True)
        clock.advance(waits[-1])  # waited: the next try is looked at, and fails
        assert sign_in(attacker, user.login, WRONG).status_code == 401
    assert waits == [2, 4, 8, 16]


def test_the_wait_stops_growing_at_its_cap_and_is_said_in_minutes(app, make, clock):
    app.config.update(LOGIN_MAX_DELAY_SECONDS=600, LOGIN_WINDOW_SECONDS=3600)
    user = make.user()
    attacker = browser(app, ATTACKER)
    for _ in range(5):
        sign_in(attacker, user.login, WRONG)
    for _ in range(12):
        clock.advance(600)
        assert sign_in(attacker, user.login, WRONG).status_code == 401
    refused = sign_in(attacker, user.login, PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"
    assert "Спробуйте знову через 10 хв." in refused.get_data(as_text=True)


def test_refused_tries_are_not_counted_and_a_quiet_spell_forgets_everything(app, make, clock):
    user = make.user()
    attacker = browser(app, ATTACKER)
    for _ in range(5):
        sign_in(attacker, user.login, WRONG)
    for _ in range(50):  # hammering while it must wait changes nothing
        assert sign_in(attacker, user.login, WRONG).status_code == 429
    clock.advance(2)
    assert sign_in(attacker, user.login, WRONG).status_code == 401
    refused = sign_in(attacker, user.login, PASSWORD)
    assert refused.headers["Retry-After"] == "4"
    clock.advance(4 + app.config["LOGIN_WINDOW_SECONDS"] + 1)
    assert sign_in(attacker, user.login, PASSWORD).status_code == 302


def test_one_address_trying_many_logins_is_slowed_down_but_other_addresses_are_not(app, make, clock):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 4
    users = [make.user() for _ in range(5)]
    sprayer = browser(app, ATTACKER)
    for user in users[:4]:
        assert sign_in(sprayer, user.login, WRONG).status_code == 401
    assert sign_in(sprayer, users[4].login, WRONG).status_code == 429
    assert sign_in(sprayer, "nobody@example.org", WRONG).status_code == 429
    assert sign_in(browser(app, OFFICE), users[4].login, PASSWORD).status_code == 302


def test_an_ipv6_client_counts_as_its_whole_64_network(app, make, clock):
    user = make.user()
    for n in range(5):
        assert sign_in(browser(app, f"2001:db8:1:2::{n + 1:x}"), user.login, WRONG).status_code == 401
    assert sign_in(browser(app, "2001:db8:1:2:ffff::1"), user.login, PASSWORD).status_code == 429
    assert sign_in(browser(app, "2001:db8:1:3::1"), user.login, PASSWORD).status_code == 302


def test_the_right_password_forgets_the_logins_failures_at_that_address(app, make, session, clock):
    user = make.user()
    office = browser(app, OFFICE)
    for _ in range(4):
        assert sign_in(office, user.login, WRONG).status_code == 401
    assert sign_in(office, user.login, PASSWORD).status_code == 302
    account, address = auth_views.sign_in_rules(app.config)
    session.expire_all()
    assert session.get(ThrottleBucket, account.key(f"{user.login}\n{OFFICE}")) is None
    # The address keeps its four failures: signing in to one's own account does not
    # wipe what the address tried elsewhere.
    assert session.get(ThrottleBucket, address.key(OFFICE)).failures == 4


def test_the_throttle_table_holds_no_logins_or_addresses_in_the_clear(app, make, session, clock):
    user = make.user()
    sign_in(browser(app, ATTACKER), user.login, WRONG)
    keys = " ".join(session.scalars(select(ThrottleBucket.key)))
    assert user.login not in keys and ATTACKER not in keys


def test_twenty_four_simultaneous_wrong_passwords_get_exactly_five_checks(app, make, session):
    """One account, one address, 24 threads released at once against PostgreSQL."""
    user = make.user()
    clients = [browser(app, ATTACKER) for _ in range(24)]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(client) -> None:
        start.wait()
        status = sign_in(client, user.login, WRONG).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [401] * 5 + [429] * 19
    account, _address = auth_views.sign_in_rules(app.config)
    session.expire_all()
    assert session.get(ThrottleBucket, account.key(f"{user.login}\n{ATTACKER}")).failures == 5
    # And the owner elsewhere is untouched by all of it.
    assert sign_in(browser(app, OFFICE), user.login, PASSWORD).status_code == 302


def test_take_counts_atomically_across_many_threads(app, engine):
    """The throttle alone: 40 threads, each its own transaction, 7 free tries."""
    from sqlalchemy.orm import Session

    rule = Rule("test.rule", free=7, first_delay=60, max_delay=60, forget_after=600)
    now = utcnow()
    start = threading.Barrier(40)
    allowed: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        with Session(engine) as s:
            start.wait()
            verdict = take(s, [(rule, "subject")], now)
            s.commit()
        with lock:
            allowed.append(verdict.allowed)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert allowed.count(True) == 7 and len(allowed) == 40
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ThrottleBucket)) == 1


@pytest.mark.parametrize(
    ("ip", "subject"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::/64"),
        ("not an address", "not an address"),
        ("", ""),
    ],
)
def test_what_an_address_counts_as(ip, subject):
    assert address_subject(ip) == subject


def test_the_delay_doubles_up_to_its_cap():
    rule = Rule("r", free=3, first_delay=2, max_delay=30, forget_after=60)
    assert [rule.delay(n).total_seconds() for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
    assert rule.delay(10**6).total_seconds() == 30


@both_databases
def test_buckets_quiet_for_a_day_are_swept_away(session):
    from server.auth.throttle import sweep

    now = utcnow()
    day = timedelta(days=1)
    session.add_all(
        [
            ThrottleBucket(key="old", failures=3, last_at=now - 2 * day, blocked_until=None),
            ThrottleBucket(key="old-blocked", failures=9, last_at=now - 2 * day, blocked_until=now - 2 * day),
            ThrottleBucket(key="still-blocked", failures=9, last_at=now - 2 * day, blocked_until=now),
            ThrottleBucket(key="fresh", failures=1, last_at=now, blocked_until=None),
        ]
    )
    session.commit()
    assert sweep(session, now, day) == 2
    session.commit()
    assert sorted(session.scalars(select(ThrottleBucket.key))) == ["fresh", "still-blocked"]
