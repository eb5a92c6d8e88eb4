"""Behind a reverse proxy the client's address comes from X-Forwarded-For, and only then:
a client talking to the server directly could forge the header."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.models import LoginAttempt
from tests.factories import login


@pytest.mark.parametrize(("trusted", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_failed_sign_in_is_counted_against_the_right_address(app, session, make, trusted, seen):
    user = make.user()
    proxied = create_app({**app.config, "TRUSTED_PROXIES": trusted})
    client = proxied.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    login(client, user, "not the password at all")
    assert session.scalars(select(LoginAttempt.ip)).all() == [seen]
    proxied.extensions["spilno.engine"].dispose()
