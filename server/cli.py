"""`spilno server ...`: set up, run and administer the central server.

Configuration comes as for the web app: instance/config.py and SPILNO_* variables.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import click
from flask import Flask

from server import db
from server.api.cli import api_client_group
from server.eligibility_cli import eligibility_group
from server.paper_scans_cli import paper_scans_group
from server.sync.bundle_cli import import_bundle_command
from server.sync.cli import recount_command
from sync.protocol import generate_private_key, private_key_to_pem


def _app() -> Flask:
    from server import create_app

    return create_app()


@click.group("server")
def server_group() -> None:
    """The central server: database, users, the web console."""


def _demo_code_cards(summary, url: str, instance: Path) -> Path:  # type: ignore[no-untyped-def]
    """The demo's unused code cards as a PDF a moderator would print."""
    from qr_codes.cards import CodeCard, cards_pdf
    from qr_codes.codes import code_url

    cards = [
        CodeCard(
            card.code,
            code_url(url, card.code),
            contest.school.name,
            card.class_name,
            contest.programme.title,
            card.number,
        )
        for contest, unused in summary.schools.cards
        for card in unused
    ]
    path = (instance / "demo-school-cards.pdf").resolve()
    with open(path, "wb") as f:
        cards_pdf(cards, f, layout="10")
    path.chmod(0o600)  # live codes
    return path


@server_group.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    app = _app()
    with app.app_context():
        db.upgrade(db.engine())
    click.echo("База даних готова / database is up to date")


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
    click.echo(f"Адміністратора створено / administrator created: {login}")


@server_group.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def run(host: str, port: int) -> None:
    """Serve the console with the built-in server (for demos; use gunicorn in production)."""
    app = _app()
    app.run(host=host, port=port, debug=False)


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
        click.echo("збігається / agrees" if agrees else "НЕ збігається / DISAGREES")
    if not agrees:
        raise SystemExit(1)


DEMO_TERMINAL = "T-0001"


@server_group.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-serve", is_flag=True, help="Only build the demo database, do not start the server.")
@click.option("--votes", default=3000, show_default=True, type=int, help="Generated votes per cycle.")
def demo(host: str, port: int, no_serve: bool, votes: int) -> None:
    """Build a fresh demo community on SQLite (instance/demo.db) and serve the console."""
    from sqlalchemy import select

    from server import create_app
    from server.demo import seed_demo
    from server.demo_terminal import DemoTerminal
    from server.models import Device
    from server.sync.enrolment import issue_enrolment_code

    instance = Path("instance")
    instance.mkdir(exist_ok=True)
    secrets_file = instance / "demo-secrets.json"
    config = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
    generated = {
        "SECRET_KEY": lambda: secrets.token_hex(32),
        "VOTER_KEY_SECRET": lambda: secrets.token_hex(32),
        "SIGNING_KEY": lambda: private_key_to_pem(generate_private_key()).decode(),
    }
    if not generated.keys() <= config.keys():
        for name, make in generated.items():
            config.setdefault(name, make())
        secrets_file.write_text(json.dumps(config))
        secrets_file.chmod(0o600)
    database = (instance / "demo.db").resolve()
    for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    config |= {"DATABASE_URL": f"sqlite:///{database}", "SESSION_COOKIE_SECURE": False}
    app = create_app(config)
    with app.app_context():
        db.upgrade(db.engine())
        summary = seed_demo(db.session(), app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=votes)
        terminal = db.session().scalar(select(Device).where(Device.code == DEMO_TERMINAL))
        code = issue_enrolment_code(db.session(), terminal).code
        db.session().commit()
    url = f"http://{host}:{port}"
    click.echo("")
    click.echo(f"Демо готове / demo ready: {summary.community.name}, {summary.votes_stored} голосів / votes")
    click.echo(f"  Консоль / console:         {url}/login")
    published = summary.cycles[0]
    click.echo(
        f"  Публічні результати / public results: {url}/results/{summary.community.slug}/{published.slug}"
    )
    for login, role, password in summary.users:
        click.echo(f"  {role:<22} логін / login: {login:<10} пароль / password: {password}")
    cards_pdf = _demo_code_cards(summary, url, instance)
    contest, unused = summary.schools.cards[0]
    click.echo(f"  Шкільний бюджет / school budget: {contest.programme.title}")
    click.echo(f"    картки з кодами / code cards (PDF): {cards_pdf}")
    for card in unused[:2]:
        click.echo(f"    голосувати кодом / vote with a code ({card.class_name}): {url}/s/{card.code}")
    current = summary.cycles[1]
    voters = summary.voters
    click.echo(
        f"  Список виборців увімкнено, голосувати з {voters.min_age} років / voter list on, "
        f"minimum age {voters.min_age}:"
    )
    click.echo("    картки a, b на /fake-card у списку, c — ні / cards a, b are listed, c is not")
    click.echo(f"    РНОКПП з працівником / RNOKPP with staff: {voters.adult_rnokpp} (у списку / listed),")
    click.echo(f"    {voters.young_rnokpp} (молодше {voters.min_age} / under {voters.min_age})")
    click.echo(f"  API (Bearer {summary.api_token}):")
    results_url = f"{url}/api/v1/cycles/{current.id}/results"
    click.echo(f"    curl -H 'Authorization: Bearer {summary.api_token}' {results_url}")
    click.echo("")
    if not no_serve:
        store = instance / f"terminal-{DEMO_TERMINAL}.db"
        for leftover in (store, Path(f"{store}-wal"), Path(f"{store}-shm")):
            leftover.unlink(missing_ok=True)
        fleet_url = f"{url}/console/fleet"
        click.echo(
            f"  Термінал {DEMO_TERMINAL} голосує й синхронізується / terminal votes and syncs: {fleet_url}"
        )
        DemoTerminal(store, host, port, code).start()
        app.run(host=host, port=port, debug=False)


server_group.add_command(api_client_group)
server_group.add_command(recount_command)
server_group.add_command(import_bundle_command)
server_group.add_command(eligibility_group)
server_group.add_command(paper_scans_group)

os.environ.setdefault("FLASK_SKIP_DOTENV", "1")
