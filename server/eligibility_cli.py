"""`spilno server eligibility ...`: the community's list of residents who may vote, for
registers too large for a browser upload, or for a scheduled job that keeps the list in
step with a register. The same service as the console page (server.services.eligibility)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from appkit.progress import ROWS, progress_bar
from server import db
from server.cli_context import app_context
from server.i18n import both
from server.models import Community
from server.services import eligibility
from server.services.eligibility_file import KINDS, MAX_BYTES
from voting import community_voter_secret

eligibility_group = click.Group(
    "eligibility", help="The community's list of residents who may vote: load it, switch it, see it."
)


def _community(slug: str) -> Community:
    community = db.session().scalar(select(Community).where(Community.slug == slug))
    if community is None:
        raise click.ClickException(both("Громади «{slug}» немає", slug=slug))
    return community


def _rows_in(data: bytes) -> int:
    """The rows of a list file for its bar: the lines after the header, give or take a
    quoted line break or a blank line (the bar's total, not a count that decides)."""
    return max(data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1), 1)


@eligibility_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--community", "slug", required=True, help="The community's slug.")
@click.option(
    "--mode",
    type=click.Choice([m.value for m in eligibility.ListMode]),
    default=eligibility.ListMode.REPLACE.value,
    show_default=True,
    help="replace: the file is the whole list; add / remove: change the list by the file's residents.",
)
@click.option("--kind", type=click.Choice(KINDS), help="Document kind for a file of document_number alone.")
@click.option("--skip-bad-rows", is_flag=True, help="Change the list by the good rows even if some are bad.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with the outcome.")
def load_command(
    file: Path, slug: str, mode: str, kind: str | None, skip_bad_rows: bool, as_json: bool
) -> None:
    """Load a CSV file of residents (document_kind,document_number or voter_key, and
    optionally district, for district categories) into the community's list. Exit status
    1 when the list was not changed."""
    if file.stat().st_size > MAX_BYTES:
        raise click.ClickException(both("Файл завеликий: не більше {mb} МБ", mb=MAX_BYTES // 2**20))
    with app_context():
        session = db.session()
        community = _community(slug)
        secret = community_voter_secret(current_app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)
        data = file.read_bytes()
        with progress_bar(ROWS, quiet=as_json) as bar:
            shown = bar.on_progress
            rows = _rows_in(data) if shown else 0
            check, change = eligibility.apply_list_file(
                session,
                community,
                data,
                eligibility.ListMode(mode),
                voter_secret=secret,
                default_kind=kind,
                skip_bad_rows=skip_bad_rows,
                on_progress=None if shown is None else lambda staged: shown(staged, rows),
            )
            bar.update(check.rows, check.rows)  # the good rows are told as read; the bad ones too
        if change is None:
            session.rollback()
        else:
            session.commit()
    outcome = {
        "community": slug,
        "file_sha256": check.sha256,
        "rows": check.rows,
        "bad_rows": check.bad_rows,
        "changed": change is not None,
        "added": change.added if change else 0,
        "removed": change.removed if change else 0,
        "moved": change.moved if change else 0,
        "version": change.version if change else None,
        "listed": change.listed_count if change else None,
        "problems": [
            {
                "row": p.row,
                "column": p.column,
                "code": p.code,
                "message": p.message("uk"),
                "message_en": p.message("en"),
            }
            for p in check.problems
        ],
    }
    if as_json:
        click.echo(json.dumps(outcome, ensure_ascii=False))
    else:
        for p in check.problems:
            where = f"{both('рядок')} {p.row}" if p.row is not None else both("файл")
            click.echo(
                f"{where}{f' [{p.column}]' if p.column else ''}: {p.message('uk')} / {p.message('en')}",
                err=True,
            )
        if change is not None:
            click.echo(
                both(
                    "Додано {added}, вилучено {removed}, змінено район {moved}, у списку {listed}",
                    added=change.added,
                    removed=change.removed,
                    moved=change.moved,
                    listed=change.listed_count,
                )
            )
    if change is None:
        if not as_json:
            click.echo(both("Список не змінено"), err=True)
        raise SystemExit(1)


@eligibility_group.command("switch")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.option("--community", "slug", required=True, help="The community's slug.")
def switch_command(state: str, slug: str) -> None:
    """Switch the community's list on (terminals accept only listed residents) or off."""
    with app_context():
        session = db.session()
        community = _community(slug)
        listing = eligibility.list_state(session, community.id)
        if state == "on" and (listing is None or listing.listed_count == 0):
            raise click.ClickException(both("Список порожній"))
        version = eligibility.set_enabled(session, community, state == "on")
        session.commit()
    switched = both("Список увімкнено") if state == "on" else both("Список вимкнено")
    click.echo(f"{switched} ({both('версія')} {version})")


@eligibility_group.command("show")
@click.option("--community", "slug", required=True, help="The community's slug.")
def show_command(slug: str) -> None:
    """Print the list's state as one JSON object: on or off, residents listed, version."""
    with app_context():
        community = _community(slug)
        listing = eligibility.list_state(db.session(), community.id)
        click.echo(
            json.dumps(
                {
                    "community": slug,
                    "enabled": bool(listing and listing.enabled),
                    "listed": listing.listed_count if listing else 0,
                    "version": listing.version if listing else 0,
                }
            )
        )
