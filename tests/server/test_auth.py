"""Signing in and out of the console: passwords, throttling, CSRF, redirects, sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Community, Role
from tests.factories import PASSWORD, csrf, login


def test_a_moderator_signs_in_and_lands_on_the_overview(client, make):
    user = make.user(Role.COMMUNITY_MODERATOR)
    response = login(client, user)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/")
    page = client.get("/console/")
    assert page.status_code == 200
    assert user.display_name in page.get_data(as_text=True)


def test_the_sign_in_is_recorded_in_the_audit_log(client, make, session):
    user = make.user(Role.COMMUNITY_MODERATOR)
    login(client, user)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert event is not None and event.user_id == user.id and event.community_id == user.community_id


def test_the_console_sends_a_visitor_who_is_not_signed_in_to_the_sign_in_page(client):
    response = client.get("/console/cycles")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


@pytest.mark.parametrize("login_name", ["nobody@example.org", ""])
def test_a_wrong_password_or_unknown_login_is_refused_with_401(client, make, login_name):
    user = make.user()
    response = client.post(
        "/login",
        data={"login": login_name or user.login, "password": "not the password", "csrf_token": csrf(client)},
    )
    assert response.status_code == 401
    assert "Невірний логін або пароль." in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_a_deactivated_user_cannot_sign_in(client, make):
    user = make.user(active=False)
    assert login(client, user).status_code == 401


def test_a_form_sent_without_its_csrf_token_is_refused_and_changes_nothing(client, make, session):
    admin = make.user(Role.ADMINISTRATOR)
    login(client, admin)
    response = client.post("/console/communities/new", data={"slug": "kyiv", "name": "Київ"})
    assert response.status_code == 400
    assert "Форма застаріла" in response.get_data(as_text=True)
    forged = client.post(
        "/console/communities/new", data={"slug": "kyiv", "name": "Київ", "csrf_token": "x" * 43}
    )
    assert forged.status_code == 400
    assert session.scalar(select(func.count()).select_from(Community).where(Community.slug == "kyiv")) == 0


def test_sign_in_itself_needs_the_csrf_token(client, make):
    user = make.user()
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 400


def test_after_sign_in_a_local_next_page_is_honoured(client, make):
    user = make.user()
    response = client.post(
        "/login",
        data={
            "login": user.login,
            "password": PASSWORD,
            "next": "/console/cycles",
            "csrf_token": csrf(client),
        },
    )
    assert response.headers["Location"] == "/console/cycles"


def test_signing_out_ends_the_session(client, make):
    user = make.user()
    login(client, user)
    assert client.get("/console/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    assert client.get("/console/").status_code == 302


def test_a_user_deactivated_while_signed_in_is_signed_out_at_the_next_request(client, make, session):
    user = make.user()
    login(client, user)
    user.active = False
    session.commit()
    assert client.get("/console/").status_code == 302


def test_console_pages_are_not_cached_and_carry_the_security_headers(client, make):
    login(client, make.user(Role.ADMINISTRATOR))
    response = client.get("/console/cycles")
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
