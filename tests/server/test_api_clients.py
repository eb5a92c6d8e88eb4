"""Issuing and revoking the platform's tokens: shown once, kept only as a hash, audited."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from server.api.cli import api_client_group
from server.models import ApiClient, AuditEvent
from server.services.api_clients import (
    ApiClientError,
    client_for_token,
    create_api_client,
    revoke_api_client,
)


def test_a_new_client_gets_a_recognisable_token_kept_only_as_its_hash(session, make):
    community = make.community()
    client, token = create_api_client(session, community_id=community.id, name="  Е-демократія  ")
    session.commit()
    assert token.startswith("spl_") and len(token) >= 40
    assert client.name == "Е-демократія"
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(client.token_prefix) and len(client.token_prefix) == 12
    stored = session.execute(select(ApiClient.__table__)).one()
    assert token not in repr(tuple(stored))
    assert client_for_token(session, token) is client


def test_two_clients_never_share_a_token(session, make):
    community = make.community()
    tokens = {create_api_client(session, community_id=community.id, name=f"Клієнт {i}")[1] for i in range(5)}
    assert len(tokens) == 5


@pytest.mark.parametrize("name", ["", "   ", "я" * 201])
def test_a_client_needs_a_name_of_1_to_200_characters(session, make, name):
    community = make.community()
    with pytest.raises(ValueError, match="від 1 до 200") as caught:
        create_api_client(session, community_id=community.id, name=name)
    assert caught.value.message_en.startswith("The API client's name")


def test_a_client_belongs_to_an_existing_community(session):
    with pytest.raises(ApiClientError):
        create_api_client(session, community_id=999_999, name="Платформа")


@pytest.mark.parametrize(
    "offered",
    [
        "",
        "spl_",
        "spl_short",
        "not-our-prefix-" + "a" * 43,
        "spl_" + "a" * 43,
        "spl_" + "ы" * 43,
        "spl_" + "a" * 5000,
    ],
)
def test_unknown_or_malformed_tokens_find_no_client(session, make, offered):
    community = make.community()
    create_api_client(session, community_id=community.id, name="Платформа")
    session.commit()
    assert client_for_token(session, offered) is None


def test_a_revoked_token_finds_no_client_and_revoking_again_changes_nothing(session, make):
    community = make.community()
    client, token = create_api_client(session, community_id=community.id, name="Платформа")
    revoke_api_client(session, client)
    first = client.revoked_at
    revoke_api_client(session, client)
    session.commit()
    assert client.revoked_at == first
    assert client_for_token(session, token) is None


def test_creating_and_revoking_are_audited_without_the_token(session, make):
    community = make.community()
    client, token = create_api_client(session, community_id=community.id, name="Платформа")
    revoke_api_client(session, client)
    session.commit()
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.target_type, e.target_id, e.community_id) for e in events] == [
        ("api_client.create", "api_client", str(client.id), community.id),
        ("api_client.revoke", "api_client", str(client.id), community.id),
    ]
    assert events[0].details["prefix"] == client.token_prefix
    assert token not in json.dumps([e.details for e in events])


def test_cli_creates_a_client_prints_the_token_once_and_it_works(app, runner, session, make):
    community = make.community(slug="bucha")
    result = runner.invoke(api_client_group, ["create", "--community", "bucha", "--name", "Платформа"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("spl_")
    response = app.test_client().get("/api/v1/cycles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [client] = session.scalars(select(ApiClient)).all()
    assert client.community_id == community.id

    listed = runner.invoke(api_client_group, ["list", "--json"])
    assert json.loads(listed.output) == {
        "id": client.id,
        "community": "bucha",
        "name": "Платформа",
        "token_prefix": client.token_prefix,
        "revoked": False,
    }
    assert token not in listed.output

    revoked = runner.invoke(api_client_group, ["revoke", str(client.id)])
    assert revoked.exit_code == 0, revoked.output
    response = app.test_client().get("/api/v1/cycles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_cli_create_with_json_gives_one_object(runner, make):
    make.community(slug="irpin")
    result = runner.invoke(api_client_group, ["create", "--community", "irpin", "--name", "П", "--json"])
    row = json.loads(result.output)
    assert row["community"] == "irpin" and row["token"].startswith("spl_")


@pytest.mark.parametrize(
    "args",
    [
        ["create", "--community", "nowhere", "--name", "Платформа"],
        ["create", "--community", "here", "--name", "   "],
        ["revoke", "424242"],
    ],
)
def test_cli_explains_what_it_cannot_do(runner, make, args):
    make.community(slug="here")
    result = runner.invoke(api_client_group, args)
    assert result.exit_code != 0
    assert "/" in result.output and "Traceback" not in result.output


def test_every_cli_command_has_help():
    for name, command in api_client_group.commands.items():
        assert command.help, name
