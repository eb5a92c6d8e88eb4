"""Console sessions end for good: a cookie saved before signing out or before a password
change no longer works; and no cookie carries anything secret in readable form."""

from __future__ import annotations

import base64
import json
import zlib

from server.models import Role
from tests.factories import PASSWORD, csrf, login

COOKIE = "spilno_session"
NEW_PASSWORD = "a brand new passphrase"


def saved_cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def browser_with(app, cookie: str):
    """Another browser (or an attacker) sending a copy of a saved session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


def readable(cookie: str) -> dict:
    """What anyone holding the cookie can read: it is signed, not encrypted."""
    compressed = cookie.startswith(".")
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def test_a_cookie_saved_before_signing_out_no_longer_works(app, client, make):
    user = make.user(Role.COMMUNITY_MODERATOR)
    login(client, user)
    kept = saved_cookie(client)
    assert browser_with(app, kept).get("/console/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    replayed = browser_with(app, kept)
    assert replayed.get("/console/").status_code == 302
    # Signing in again works, with a new cookie; the old copy stays dead.
    login(client, user)
    assert client.get("/console/").status_code == 200
    assert browser_with(app, kept).get("/console/").status_code == 302


def test_signing_out_ends_the_users_sessions_on_other_devices_too(app, client, make):
    user = make.user()
    laptop = app.test_client()
    login(laptop, user)
    login(client, user)
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert laptop.get("/console/").status_code == 302


def test_a_password_change_ends_saved_cookies_but_not_the_session_that_made_it(app, client, make):
    user = make.user()
    login(client, user)
    kept = saved_cookie(client)
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeated": NEW_PASSWORD, "csrf_token": csrf(client)}
    assert client.post("/console/account/password", data=form).status_code == 302
    assert client.get("/console/").status_code == 200
    assert browser_with(app, kept).get("/console/").status_code == 302


def test_a_forged_or_stale_proof_is_refused(app, client, make):
    user = make.user()
    with client.session_transaction() as sess:
        sess["user_id"] = user.id
        sess["user_proof"] = "0" * 32
    assert client.get("/console/").status_code == 302
    with client.session_transaction() as sess:
        sess["user_id"] = 10**30  # not even an id the database could hold
    assert client.get("/console/").status_code == 302


def test_the_console_cookie_holds_no_password_material(client, make):
    user = make.user()
    login(client, user)
    contents = readable(saved_cookie(client))
    assert set(contents) <= {"user_id", "user_proof", "csrf", "_permanent", "_flashes"}
    salt_and_digest = user.password_hash.split("$", 1)[1]
    text = json.dumps(contents)
    for start in range(0, len(salt_and_digest) - 8):
        assert salt_and_digest[start : start + 8] not in text
