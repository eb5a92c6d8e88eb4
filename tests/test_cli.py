"""The `spilno` command: every command has help, and the server commands work."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import click
from click.testing import CliRunner

from server.demo_voters import demo_terminal_residents
from spilno.cli import main


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, (*prefix, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


def test_every_command_has_help_text():
    missing = [" ".join(path) for path, command in all_commands(main) if not (command.help or "").strip()]
    assert not missing, f"commands without help: {missing}"
    for path, _command in all_commands(main):
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)


def test_the_command_tree_is_whole():
    groups = {path for path, command in all_commands(main) if isinstance(command, click.Group)}
    assert {("server",), ("device",), ("kiosk",), ("hardware",), ("school",), ("ballots",)} <= groups
    assert len(list(all_commands(main))) > 40


def test_a_device_command_loads_neither_the_server_nor_image_code():
    """A terminal's sync service runs `spilno device sync` every round: it must not pay
    for importing the server, the paper reader or OpenCV (1.2 s a run before)."""
    probe = (
        "import sys\n"
        "from spilno.cli import main\n"
        "try:\n"
        "    main(['device', 'sync', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('server', 'flask', 'cv2', 'support_point', 'reportlab')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "HEAVY []" in done.stdout, done.stdout


def test_top_level_help_lists_the_server_commands():
    output = CliRunner().invoke(main, ["--help"]).output
    assert "server" in output
    server_help = CliRunner().invoke(main, ["server", "--help"]).output
    for name in ("init-db", "create-admin", "demo", "tally", "run", "recount", "api-client"):
        assert name in server_help


def test_demo_builds_a_community_with_votes_and_prints_how_to_sign_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["server", "demo", "--no-serve", "--votes", "300"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8000/login" in result.output
    assert "moderator" in result.output and "/results/bila-tserkva/gb-2026" in result.output
    assert (tmp_path / "instance" / "demo.db").exists()
    # The demo's voter list is on, with numbers to try at a terminal with staff help.
    assert "Список виборців увімкнено" in result.output
    import sqlite3

    with sqlite3.connect(tmp_path / "instance" / "demo.db") as db:
        # two cards, two residents to type in, and the residents the demo terminal votes as
        listed = db.execute("SELECT enabled, listed_count FROM eligibility_list").fetchall()
        assert listed == [(1, 4 + len(set(demo_terminal_residents())))]
        assert db.execute("SELECT min_age FROM cycle WHERE slug = 'gb-2027'").fetchall() == [(14,)]
        # The demo poll's interim results are public, and the summary says where.
        assert db.execute("SELECT count(*) FROM poll WHERE results_published_at IS NOT NULL").fetchall() == [
            (1,)
        ]
    assert "http://127.0.0.1:8000/polls/bila-tserkva" in result.output


def test_tally_agrees_with_the_raw_records(app, session, make, monkeypatch):
    from sqlalchemy import select

    from server.models import Project
    from server.services.ballot_box import store_votes
    from server.services.cycle_rules import load_cycle_rules
    from voting import VoteRecord

    cycle = make.ballot_cycle()
    project = session.scalars(select(Project).where(Project.cycle_id == cycle.id)).first()
    rules = {cycle.id: load_cycle_rules(session, cycle)}
    store_votes(
        session,
        rules,
        [
            VoteRecord.create(
                cycle_id=cycle.id,
                selections=[project.id],
                channel="web",
                cast_at=cycle.voting_starts_at + timedelta(hours=1),
                voter_key="c" * 64,
            )
        ],
        "t",
    )
    session.commit()
    monkeypatch.setenv("SPILNO_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("SPILNO_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("SPILNO_VOTER_KEY_SECRET", "ab" * 32)
    monkeypatch.setenv("SPILNO_SIGNING_KEY", app.config["SIGNING_KEY"])
    result = CliRunner().invoke(main, ["server", "tally", str(cycle.id), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert {"project_id": project.id, "votes": 1, "running": 1} in lines
    assert lines[-1] == {"cycle_id": cycle.id, "agrees": True}


def test_the_server_refuses_to_start_without_secrets(monkeypatch):
    import pytest

    from server import create_app

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": "sqlite://", "VOTER_KEY_SECRET": "ab" * 32})
    with pytest.raises(RuntimeError, match="VOTER_KEY_SECRET"):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "VOTER_KEY_SECRET": "abcd"})
