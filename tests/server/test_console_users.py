"""Giving people access: who may create and switch off whom, and changing one's own password."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.auth.passwords import verify_password
from server.models import AuditEvent, Role, User
from tests.factories import CSRF_TOKEN, PASSWORD, login, post, sign_in

TOKEN = CSRF_TOKEN
NEW_PASSWORD = "a much longer passphrase"


def user_form(**change):
    return {
        "login": "operator@poltava.example",
        "display_name": "Олена Петренко",
        "role": "support_operator",
        "password": NEW_PASSWORD,
        "password_repeated": NEW_PASSWORD,
    } | change


def find(session, login_name):
    return session.scalar(select(User).where(User.login == login_name))


def test_an_administrator_creates_a_moderator_for_a_community_and_another_administrator(
    client, make, session
):
    community = make.community()
    admin = make.user(Role.ADMINISTRATOR)
    sign_in(client, admin)
    form = user_form(login="Mod@Poltava.example", role="community_moderator", community_id=str(community.id))
    assert post(client, "/console/users/new", form).status_code == 302
    moderator = find(session, "mod@poltava.example")
    assert (moderator.role, moderator.community_id, moderator.active) == (
        "community_moderator",
        community.id,
        True,
    )
    assert verify_password(moderator.password_hash, NEW_PASSWORD)
    assert NEW_PASSWORD not in moderator.password_hash

    form = user_form(login="second-admin", role="administrator", community_id=str(community.id))
    assert post(client, "/console/users/new", form).status_code == 302
    assert find(session, "second-admin").community_id is None

    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.user_id == admin.id and event.details == {
        "login": "mod@poltava.example",
        "role": "community_moderator",
    }
    assert "Mod@Poltava" not in str(event.details) and NEW_PASSWORD not in str(event.details)


def test_a_moderator_creates_staff_only_in_their_own_community(client, make, session):
    community, elsewhere = make.community(), make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    page = client.get("/console/users/new").get_data(as_text=True)
    assert 'value="school_moderator"' in page and 'value="administrator"' not in page
    school = make.school(community)
    form = user_form(role="school_moderator", community_id=str(elsewhere.id), school_id=str(school.id))
    assert post(client, "/console/users/new", form).status_code == 302
    created = find(session, "operator@poltava.example")
    assert (created.community_id, created.school_id) == (community.id, school.id)


def test_a_moderator_cannot_create_an_administrator(client, make, session):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR))
    response = post(client, "/console/users/new", user_form(role="administrator"))
    assert response.status_code == 422
    assert "Ви не можете створювати користувачів з цією роллю." in response.get_data(as_text=True)
    assert find(session, "operator@poltava.example") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"login": ""}, "Логін: 3–200 символів"),
        ({"login": "ab"}, "Логін: 3–200 символів"),
        ({"login": "two words"}, "Логін: 3–200 символів"),
        ({"login": "<script>@x"}, "Логін: 3–200 символів"),
        ({"login": "a" * 10_000}, "Логін: 3–200 символів"),
        ({"display_name": ""}, "Вкажіть ім’я"),
        ({"display_name": "І" * 10_000}, "Вкажіть ім’я"),
        ({"password": "short", "password_repeated": "short"}, "Пароль має містити щонайменше 10 символів."),
        ({"password": "p" * 10_000, "password_repeated": "p" * 10_000}, "Пароль задовгий."),
        ({"password_repeated": "something else entirely"}, "Паролі не збігаються."),
        ({"role": "superuser"}, "Ви не можете створювати користувачів з цією роллю."),
    ],
)
def test_a_bad_user_form_is_refused_and_nobody_is_created(client, make, session, change, message):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR))
    before = session.scalar(select(func.count()).select_from(User))
    response = post(client, "/console/users/new", user_form(**change))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(User)) == before
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_login_that_is_taken_is_refused(client, make, session):
    make.user(login="operator@poltava.example")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR))
    response = post(client, "/console/users/new", user_form(login="OPERATOR@poltava.example"))
    assert response.status_code == 422
    assert "Такий логін уже є." in response.get_data(as_text=True)


def test_a_moderator_deactivates_a_colleague_whose_session_then_ends(client, app, make, session):
    community = make.community()
    operator = make.user(Role.SUPPORT_OPERATOR, community)
    operator_client = app.test_client()
    sign_in(operator_client, operator)
    assert operator_client.get("/console/my-point").status_code == 200

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert post(client, f"/console/users/{operator.id}/deactivate", confirm="yes").status_code == 302
    session.refresh(operator)
    assert not operator.active
    assert operator_client.get("/console/my-point").status_code == 302
    assert login(app.test_client(), operator).status_code == 401
    assert session.scalar(select(AuditEvent.action)) == "user.deactivate"

    assert post(client, f"/console/users/{operator.id}/activate").status_code == 302
    session.refresh(operator)
    assert operator.active


def test_nobody_can_switch_themselves_off(client, make, session):
    moderator = make.user(Role.COMMUNITY_MODERATOR)
    sign_in(client, moderator)
    response = post(client, f"/console/users/{moderator.id}/deactivate", confirm="yes")
    assert response.status_code == 302
    assert "Власний обліковий запис вимкнути не можна." in client.get("/console/users").get_data(as_text=True)
    session.refresh(moderator)
    assert moderator.active


def test_a_user_changes_their_own_password(client, app, make, session):
    operator = make.user(Role.SUPPORT_OPERATOR)
    other_device = app.test_client()
    login(other_device, operator)
    login(client, operator)
    with client.session_transaction() as sess:
        sess["csrf"] = TOKEN
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeated": NEW_PASSWORD}
    assert post(client, "/console/account/password", form).status_code == 302
    session.refresh(operator)
    assert verify_password(operator.password_hash, NEW_PASSWORD)
    # This session goes on; the one on the other device has to sign in again.
    assert client.get("/console/my-point").status_code == 200
    assert other_device.get("/console/my-point").status_code == 302
    assert login(app.test_client(), operator, NEW_PASSWORD).status_code == 302
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_change")) is not None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"current": "wrong password", "new": NEW_PASSWORD, "repeated": NEW_PASSWORD},
            "Поточний пароль невірний.",
        ),
        ({"current": PASSWORD, "new": "short", "repeated": "short"}, "щонайменше 10 символів"),
        (
            {"current": PASSWORD, "new": NEW_PASSWORD, "repeated": NEW_PASSWORD + "!"},
            "Нові паролі не збігаються.",
        ),
        ({"current": PASSWORD, "new": PASSWORD, "repeated": PASSWORD}, "має відрізнятися від поточного"),
    ],
)
def test_a_password_change_that_fails_changes_nothing(client, make, session, form, message):
    operator = make.user(Role.SUPPORT_OPERATOR)
    sign_in(client, operator)
    old_hash = operator.password_hash
    response = post(client, "/console/account/password", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.refresh(operator)
    assert operator.password_hash == old_hash


def test_guessing_the_current_password_is_throttled_like_sign_in(client, make, session):
    operator = make.user(Role.SUPPORT_OPERATOR)
    sign_in(client, operator)
    wrong = {"current": "wrong password", "new": NEW_PASSWORD, "repeated": NEW_PASSWORD}
    for _attempt in range(5):
        assert post(client, "/console/account/password", wrong).status_code == 422
    right = {"current": PASSWORD, "new": NEW_PASSWORD, "repeated": NEW_PASSWORD}
    assert post(client, "/console/account/password", right).status_code == 429
    session.refresh(operator)
    assert verify_password(operator.password_hash, PASSWORD)
