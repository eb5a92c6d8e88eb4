"""Connecting the online e-democracy platform: a client's token is shown once, then only its start."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from server.models import ApiClient, AuditEvent, Role
from server.services.api_clients import client_for_token, hash_token
from tests.factories import CSRF_TOKEN, post, sign_in

TOKEN = CSRF_TOKEN


def test_a_new_clients_token_is_shown_once_and_never_again(client, make, session):
    community = make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert client.get("/console/api-clients/new").status_code == 200
    response = post(client, "/console/api-clients/new", {"name": "Платформа е-демократії"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(spl_[A-Za-z0-9_\-]+)"', response.get_data(as_text=True)).group(1)

    row = session.scalar(select(ApiClient))
    assert (row.community_id, row.name) == (community.id, "Платформа е-демократії")
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    assert client_for_token(session, token).id == row.id

    listed = client.get("/console/api-clients").get_data(as_text=True)
    assert "Платформа е-демократії" in listed and row.token_prefix in listed
    assert token not in listed
    assert token not in client.get("/console/audit").get_data(as_text=True)
    with client.session_transaction() as sess:
        assert token not in str(dict(sess))  # not even in the signed session cookie


def test_a_revoked_client_can_no_longer_use_its_token(client, make, session):
    community = make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    response = post(client, "/console/api-clients/new", {"name": "Платформа"})
    token = re.search(r'value="(spl_[A-Za-z0-9_\-]+)"', response.get_data(as_text=True)).group(1)
    row = session.scalar(select(ApiClient))
    assert post(client, f"/console/api-clients/{row.id}/revoke", confirm="yes").status_code == 302
    session.refresh(row)
    assert row.revoked_at is not None
    assert client_for_token(session, token) is None
    assert session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all() == [
        "api_client.create",
        "api_client.revoke",
    ]


def test_a_client_without_a_proper_name_is_refused(client, make, session):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR))
    for name in ["", "   ", "П" * 10_000]:
        response = post(client, "/console/api-clients/new", {"name": name})
        assert response.status_code == 422
        assert "Назва клієнта API: від 1 до 200 символів." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ApiClient)) == 0
