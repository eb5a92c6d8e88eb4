"""`spilno server api-client ...`: issue and revoke integration API tokens.

The token is printed once, at creation; the server keeps only its hash, so a lost token
is revoked and replaced, never recovered.
"""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from server import db
from server.cli_context import app_context
from server.i18n import both
from server.models import ApiClient, Community
from server.services.api_clients import ApiClientError, create_api_client, revoke_api_client

api_client_group = click.Group(
    "api-client",
    help="Tokens for the integration API (the online e-democracy platform).",
)


@api_client_group.command("create")
@click.option("--community", "community_slug", required=True, help="The community's slug.")
@click.option("--name", required=True, help="Who will use the token, e.g. the platform's name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, token included.")
def create_command(community_slug: str, name: str, as_json: bool) -> None:
    """Create a client for one community and print its token (shown only this once)."""
    with app_context():
        session = db.session()
        community = session.scalar(select(Community).where(Community.slug == community_slug))
        if community is None:
            raise click.ClickException(both("Громади «{slug}» немає", slug=community_slug))
        try:
            client, token = create_api_client(session, community_id=community.id, name=name)
        except ApiClientError as exc:
            raise click.ClickException(f"{exc.message_uk} / {exc.message_en}") from None
        session.commit()
        if as_json:
            click.echo(
                json.dumps(
                    {"id": client.id, "community": community.slug, "name": client.name, "token": token},
                    ensure_ascii=False,
                )
            )
            return
        click.echo(both("Клієнта API створено") + f": #{client.id} {client.name}")
        click.echo(both("Токен показуємо лише раз; збережіть його"))
        click.echo(token)


@api_client_group.command("revoke")
@click.argument("client_id", type=int)
def revoke_command(client_id: int) -> None:
    """Revoke a client's token: its next request is refused."""
    with app_context():
        session = db.session()
        client = session.get(ApiClient, client_id)
        if client is None:
            raise click.ClickException(both("Клієнта API #{client} немає", client=client_id))
        revoke_api_client(session, client)
        session.commit()
        click.echo(both("Токен відкликано") + f": #{client.id} {client.name}")


@api_client_group.command("list")
@click.option("--community", "community_slug", default=None, help="Only this community's clients.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_command(community_slug: str | None, as_json: bool) -> None:
    """List clients with their token prefixes (never the tokens)."""
    with app_context():
        query = (
            select(ApiClient, Community.slug)
            .join(Community, Community.id == ApiClient.community_id)
            .order_by(ApiClient.id)
        )
        if community_slug is not None:
            query = query.where(Community.slug == community_slug)
        for client, slug in db.session().execute(query):
            row = {
                "id": client.id,
                "community": slug,
                "name": client.name,
                "token_prefix": client.token_prefix,
                "revoked": client.revoked_at is not None,
            }
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                state = both("відкликано") if row["revoked"] else both("діє")
                click.echo(f"#{client.id}\t{slug}\t{client.token_prefix}…\t{state}\t{client.name}")
