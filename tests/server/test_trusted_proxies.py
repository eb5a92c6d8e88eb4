"""Behind a reverse proxy the client's address comes from X-Forwarded-For, and only then:
only when the server is told there is a proxy, and only from the proxy's own address.
A client reaching gunicorn directly cannot forge its way out of the per-address limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.auth.views import sign_in_rules
from server.models import ThrottleBucket
from server.proxies import parse_networks
from tests.factories import login


@pytest.fixture
def behind(app):
    """The same server set up with other proxy settings."""
    made = []

    def configure(**settings):
        proxied = create_app({**app.config, **settings})
        made.append(proxied)
        return proxied

    yield configure
    for proxied in made:
        proxied.extensions["spilno.engine"].dispose()


def counted_address(session, app) -> str:
    """Which of the test addresses the failed sign-in was counted against."""
    _account, address = sign_in_rules(app.config)
    keys = set(session.scalars(select(ThrottleBucket.key)))
    seen = [ip for ip in ("127.0.0.1", "203.0.113.7", "198.51.100.2", "10.0.0.5") if address.key(ip) in keys]
    assert len(seen) == 1, seen
    return seen[0]


@pytest.mark.parametrize(
    ("trusted", "peer", "seen"),
    [
        (0, "127.0.0.1", "127.0.0.1"),  # no proxy configured: the header is ignored
        (1, "127.0.0.1", "203.0.113.7"),  # from the proxy on this host: believed
        (1, "198.51.100.2", "198.51.100.2"),  # straight to gunicorn from outside: ignored
    ],
)
def test_failed_sign_in_is_counted_against_the_right_address(behind, session, make, trusted, peer, seen):
    user = make.user()
    proxied = behind(TRUSTED_PROXIES=trusted)
    client = proxied.test_client()
    client.environ_base.update(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR="203.0.113.7")
    login(client, user, "not the password at all")
    assert counted_address(session, proxied) == seen


def test_a_forged_address_cannot_escape_the_limit_when_gunicorn_is_reached_directly(behind, make):
    user = make.user()
    proxied = behind(TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_LOGIN=3)
    for n in range(3):
        client = proxied.test_client()
        client.environ_base.update(REMOTE_ADDR="198.51.100.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        assert login(client, user, "not the password at all").status_code == 401
    client = proxied.test_client()
    client.environ_base.update(REMOTE_ADDR="198.51.100.2", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert login(client, user).status_code == 429


def test_a_proxy_on_another_host_is_trusted_once_its_address_is_configured(behind, session, make):
    user = make.user()
    proxied = behind(TRUSTED_PROXIES=1, TRUSTED_PROXY_ADDRESSES="10.0.0.0/24, 2001:db8::1")
    client = proxied.test_client()
    client.environ_base.update(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.7")
    login(client, user, "not the password at all")
    assert counted_address(session, proxied) == "203.0.113.7"


def test_forwarded_scheme_and_host_are_ignored_from_an_untrusted_peer(behind, make):
    proxied = behind(TRUSTED_PROXIES=1)
    direct = proxied.test_client()
    direct.environ_base.update(
        REMOTE_ADDR="198.51.100.2", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="evil.example"
    )
    response = direct.get("/console/")
    assert response.headers["Location"].startswith("/login")
    assert "Strict-Transport-Security" not in response.headers
    via_proxy = proxied.test_client()
    via_proxy.environ_base.update(HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" in via_proxy.get("/login").headers


def test_a_bad_proxy_address_stops_the_server_with_a_clear_message(app):
    with pytest.raises(ValueError, match=r"TRUSTED_PROXY_ADDRESSES: 'proxy\.local' is not an address"):
        create_app({**app.config, "TRUSTED_PROXIES": 1, "TRUSTED_PROXY_ADDRESSES": "127.0.0.1, proxy.local"})
    assert [str(n) for n in parse_networks(" 127.0.0.1 ,, ::1 ")] == ["127.0.0.1/32", "::1/128"]
