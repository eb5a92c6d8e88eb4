"""`spilno server paper-scans ...`: a support point's scanned paper ballots read on the
server from the command line, for stacks larger than a browser upload. The same service
as the console page «Скановані бюлетені» (server.paper.scans); the unclear
marks are then decided on that page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from appkit.progress import FILES, progress_bar
from paper.inputs import Limits
from server import db
from server.cli_context import app_context
from server.i18n import both
from server.models import Cycle, CycleKind, Device, DeviceKind, DeviceStatus, utcnow
from server.paper import scans as paper_scans
from server.paper.scan_rows import ms

paper_scans_group = click.Group(
    "paper-scans", help="A support point's scanned paper ballots, read on the server: import, commit."
)


def _cycle(cycle_id: int) -> Cycle:
    cycle = db.session().get(Cycle, cycle_id)
    if cycle is None or cycle.kind != CycleKind.PUBLIC.value:
        raise click.ClickException(both("Голосування {cycle} немає", cycle=cycle_id))
    return cycle


def _files(paths: tuple[Path, ...], limits: Limits) -> Iterator[tuple[str, bytes]]:
    """Each file's name and bytes, one at a time; a folder stands for its files (sorted)."""
    for path in paths:
        if path.is_dir():
            yield from _files(tuple(sorted(p for p in path.iterdir() if p.is_file())), limits)
            continue
        # A file over the reader's limit is passed on short: the reader rejects it as too large.
        with open(path, "rb") as handle:
            yield path.name, handle.read(limits.max_bytes + 1)


@paper_scans_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--cycle", "cycle_id", type=int, required=True, help="The public-budget cycle's id.")
@click.option("--point", "point_code", required=True, help="The support point's device code, e.g. S-0042.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per page read.")
def import_command(paths: tuple[Path, ...], cycle_id: int, point_code: str, as_json: bool) -> None:
    """Read every page of the files (PNG, JPEG, TIFF, PDF; a folder's files) and keep each
    reading; pages kept before are skipped. Exit status 1 when a page was rejected."""
    limits = Limits()
    with app_context():
        session = db.session()
        cycle = _cycle(cycle_id)
        device = session.scalar(
            select(Device).where(Device.community_id == cycle.community_id, Device.code == point_code[:20])
        )
        if (
            device is None
            or device.kind != DeviceKind.SUPPORT_POINT.value
            or device.status != DeviceStatus.ACTIVE.value
        ):
            raise click.ClickException(
                both("Діючого пункту супроводу {code!r} у цій громаді немає", code=point_code[:20])
            )
        with progress_bar(FILES, quiet=as_json) as bar:
            result = paper_scans.import_scans(
                session,
                cycle,
                device,
                _files(paths, limits),
                master_secret=current_app.config["VOTER_KEY_SECRET_BYTES"],
                user=None,
                now_ms=ms(utcnow()),
                limits=limits,
                max_pages=2**31,
                on_progress=bar.on_progress,
            )
    if result.refused:
        raise click.ClickException(result.refused)
    for page in result.pages:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "file": page.file,
                        "page_index": page.page_index,
                        "serial": page.serial,
                        "page": page.page,
                        "outcome": page.outcome,
                        "reasons": page.reasons,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            reasons = ", ".join(page.reasons)
            click.echo(f"{page.file}#{page.page_index + 1}\t{page.serial or '—'}\t{page.outcome}\t{reasons}")
    if not as_json:
        counts = {o: result.count(o) for o in ("accepted", "needs_review", "rejected", "duplicate")}
        click.echo(" ".join(f"{name}={count}" for name, count in counts.items()), err=True)
    if result.count("rejected"):
        raise SystemExit(1)


@paper_scans_group.command("commit")
@click.option("--cycle", "cycle_id", type=int, required=True, help="The public-budget cycle's id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with the outcome.")
def commit_command(cycle_id: int, as_json: bool) -> None:
    """Store every ready sheet of the cycle as one paper vote. Exit status 1 when refused."""
    with app_context():
        session = db.session()
        cycle = _cycle(cycle_id)
        outcome = paper_scans.commit_ready(
            session,
            cycle,
            user=None,
            now=utcnow(),
        )
    data = {
        "committed": [{"serial": s, "vote_id": v} for s, v in outcome.committed],
        "held": [{"serial": s, "reason": r} for s, r in outcome.held],
        "refused": outcome.refused,
    }
    click.echo(
        json.dumps(data, ensure_ascii=False)
        if as_json
        else f"committed={len(outcome.committed)}"
        f" held={len(outcome.held)}" + (f" refused={outcome.refused}" if outcome.refused else "")
    )
    if outcome.refused:
        raise SystemExit(1)


__all__ = ["paper_scans_group"]
