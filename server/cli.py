"""`spilno server ...`: set up, run and administer the central server.

Configuration comes as for the web app: instance/config.py and SPILNO_* variables.
"""

from __future__ import annotations

import json
import os

import click
from flask import Flask

from server import db
from server.api.cli import api_client_group
from server.eligibility_cli import eligibility_group
from server.i18n import both
from server.paper.scans_cli import paper_scans_group
from server.polls.cli import polls_group
from server.sync.bundle_cli import import_bundle_command
from server.sync.cli import recount_command


def _app() -> Flask:
    from server import create_app

    return create_app()


@click.group("server")
def server_group() -> None:
    """The central server: database, users, the web console."""


@server_group.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    app = _app()
    with app.app_context():
        db.upgrade(db.engine())
    click.echo(both("База даних готова"))


@server_group.command("create-admin")
@click.option("--login", required=True, help="Sign-in name (e-mail or short name).")
@click.option("--name", "display_name", required=True, help="Name shown in the console.")
@click.password_option(envvar="SPILNO_ADMIN_PASSWORD", help="Password (asked for when not given).")
def create_admin(login: str, display_name: str, password: str) -> None:
    """Create an administrator, who can manage every community."""
    from server.services.users import UserError, create_user

    app = _app()
    with app.app_context():
        s = db.session()
        try:
            create_user(s, login=login, display_name=display_name, password=password, role="administrator")
        except UserError as exc:
            raise click.ClickException(exc.message_en) from None
        s.commit()
    click.echo(both("Адміністратора створено") + f": {login}")


@server_group.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def run(host: str, port: int) -> None:
    """Serve the console with the built-in server (for demos; use gunicorn in production)."""
    app = _app()
    app.run(host=host, port=port, debug=False)


@server_group.command("jobs-worker")
@click.option(
    "--threads", default=1, show_default=True, type=click.IntRange(1, 32), help="Jobs run at the same time."
)
def jobs_worker(threads: int) -> None:
    """Run background jobs (scan uploads, voter lists) until stopped; see docs/jobs.md."""
    import logging

    from server.jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = _app()
    with app.app_context():
        run_worker(app, workers=threads)


@server_group.command("tally")
@click.argument("cycle_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def tally_command(cycle_id: int, as_json: bool) -> None:
    """Recompute a cycle's tally from the raw vote records and tally sheets; compare with the running one."""
    from server.services.tally import published_tally, recount_with_paper_tallies

    app = _app()
    with app.app_context():
        s = db.session()
        raw = recount_with_paper_tallies(s, cycle_id)
        running = published_tally(s, cycle_id)
    agrees = raw == running
    if as_json:
        for project_id in sorted(raw.keys() | running.keys()):
            click.echo(
                json.dumps(
                    {
                        "project_id": project_id,
                        "votes": raw.get(project_id, 0),
                        "running": running.get(project_id, 0),
                    }
                )
            )
        click.echo(json.dumps({"cycle_id": cycle_id, "agrees": agrees}))
    else:
        for project_id in sorted(raw.keys() | running.keys()):
            click.echo(f"{project_id}\t{raw.get(project_id, 0)}\t{running.get(project_id, 0)}")
        click.echo(both("збігається") if agrees else both("НЕ збігається"))
    if not agrees:
        raise SystemExit(1)


server_group.add_command(api_client_group)
server_group.add_command(recount_command)
server_group.add_command(import_bundle_command)
server_group.add_command(eligibility_group)
server_group.add_command(paper_scans_group)
server_group.add_command(polls_group)

os.environ.setdefault("FLASK_SKIP_DOTENV", "1")
