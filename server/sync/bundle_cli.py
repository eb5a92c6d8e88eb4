"""`spilno server import-bundle FILE...`: import the votes a terminal exported to a USB
stick (server.sync.bundle_import). Exit status 1 when any bundle was refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app, g
from sqlalchemy import select

from server import db
from server.cli_context import app_context
from server.i18n import both
from server.models import Community

from .bundle_import import DEFAULT_MAX_BYTES, BundleReport, import_bundle


def _in_language(locale: str, render: Callable[[], str]) -> str:
    """`render()` with server.i18n answering in `locale` (a CLI has no request to ask)."""
    previous = g.pop("locale", None)
    g.locale = locale
    try:
        return render()
    finally:
        g.pop("locale", None)
        if previous is not None:
            g.locale = previous


def _json_line(report: BundleReport) -> dict:
    line = report.as_dict()
    for item, refusal in zip(line["refusals"], report.refusals, strict=True):
        item["message"] = _in_language("uk", refusal.message)
        item["message_en"] = _in_language("en", refusal.message)
    return line


def _print_text(report: BundleReport) -> None:
    read = both(
        "прочитано {read}, нових {new}, уже відомих {known}, чекають {waiting}",
        read=report.entries_read,
        new=report.stored,
        known=report.already_known,
        waiting=report.waiting,
    )
    click.echo(f"{report.device or '—'}\t{report.file_name}: {read}")
    for refusal in report.refusals:
        where = f" ({both('пакет')} {refusal.batch})" if refusal.batch is not None else ""
        uk, en = _in_language("uk", refusal.message), _in_language("en", refusal.message)
        click.echo(f"  {both('ВІДМОВА')}{where} [{refusal.code}]: {uk} / {en}", err=True)
    if report.not_read:
        click.echo(f"  {both('не прочитано пакетів')}: {report.not_read}", err=True)


@click.command("import-bundle")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--community",
    "community_slug",
    default=None,
    help="Accept only devices of this community (its slug); by default any community's.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, one per file.")
def import_bundle_command(files: tuple[Path, ...], community_slug: str | None, as_json: bool) -> None:
    """Import vote bundles that terminals exported to a USB stick (`spilno kiosk
    export-bundle`), verified like a network push; exit 1 if any was refused."""
    refused = False
    with app_context():
        session = db.session()
        scope = None
        if community_slug is not None:
            community_id = session.scalar(select(Community.id).where(Community.slug == community_slug))
            if community_id is None:
                raise click.ClickException(both("Громади «{slug}» немає", slug=community_slug))
            scope = [community_id]
        limit = int(current_app.config.get("BUNDLE_MAX_BYTES", DEFAULT_MAX_BYTES))
        for path in files:
            report = import_bundle(session, path, scope=scope, max_bytes=limit)
            refused = refused or not report.ok
            if as_json:
                click.echo(json.dumps(_json_line(report), ensure_ascii=False, sort_keys=True))
            else:
                _print_text(report)
    if refused:
        raise SystemExit(1)
