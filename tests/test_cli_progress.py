"""Long commands show a progress bar on a terminal and nothing of it anywhere else.

A person at a terminal sees files, rows, cards or votes done of the total on stderr;
a script (stderr a file or a pipe) or `--json` gets exactly the output it got before
there was a bar. The terminal is forced in one place (appkit.progress.stderr_is_terminal);
the first tests check that place against a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from appkit import progress
from voting.identity import rnokpp_check_digit

ROOT = Path(__file__).resolve().parent.parent


def _no_bar(text: str) -> None:
    for piece in ("\r", "\033[", "за с / per s"):
        assert piece not in text, (piece, text)


def _bar_reached(text: str, final: str, label: str) -> None:
    text = text.replace("\r\n", "\n")  # a terminal ends a line with both
    assert label in text and "\r" in text, text
    last = text.rsplit("\r", 1)[-1]
    assert f" {final} " in last + " ", last


# --- the helper on a real terminal -----------------------------------------------------

SCRIPT = """
import click
from appkit.progress import FILES, progress_bar
with progress_bar(FILES, quiet={quiet}) as bar:
    for done in range(4):
        bar.update(done, 3)
        with bar.above():
            click.echo(f"page {{done}}")
click.echo("end")
"""


def _run_with_stderr(stderr, quiet: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(quiet=quiet)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=30,
        check=True,
    )


def _read_all(fd: int) -> str:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other end closed: Linux says EIO
            break
        if not chunk:
            break
        out += chunk
    return out.decode()


def test_on_a_real_terminal_the_bar_counts_to_the_total_and_stdout_stays_clean():
    controller, stderr_tty = pty.openpty()
    try:
        done = _run_with_stderr(stderr_tty)
        os.close(stderr_tty)
        shown = _read_all(controller)
    finally:
        os.close(controller)
    assert done.stdout.decode() == "page 0\npage 1\npage 2\npage 3\nend\n"
    _bar_reached(shown, "3/3", progress.FILES)


def test_into_a_pipe_or_with_json_nothing_of_the_bar_is_written():
    assert _run_with_stderr(subprocess.PIPE).stderr == b""
    controller, stderr_tty = pty.openpty()
    try:
        done = _run_with_stderr(stderr_tty, quiet=True)
        os.close(stderr_tty)
        shown = _read_all(controller)
    finally:
        os.close(controller)
    assert shown == "" and done.stdout.decode().endswith("page 3\nend\n")


# --- spilno ballots import -------------------------------------------------------------


@pytest.fixture
def ballots(tmp_path):
    """A signed package file, its key, and a folder of three files: a sheet and two
    that are not scans (each still counts as a file read)."""
    from tests.kiosk.terminal_setup import PackageSigner, make_package
    from tests.paper.corpus import MarkKind, encode, make_sheet, sample_cycle

    signer = PackageSigner()
    envelope = tmp_path / "package.json"
    envelope.write_text(json.dumps(signer.envelope(make_package(signer.public_key, cycles=[sample_cycle()]))))
    folder = tmp_path / "scans"
    folder.mkdir()
    image, answer = make_sheet(sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.CROSS}, dpi=150)
    (folder / "a.png").write_bytes(encode(image, answer))
    (folder / "b.txt").write_text("not a scan")
    (folder / "c.txt").write_text("nor this")
    return [str(folder), "--package", str(envelope), "--server-key", signer.public_key]


def _ballots(args: list[str], *extra: str):
    from spilno.cli import main

    return CliRunner().invoke(main, ["ballots", "import", *args, *extra])


def test_ballots_import_shows_files_read_on_a_terminal(ballots, monkeypatch):
    plain = _ballots(ballots)
    as_json = _ballots(ballots, "--json")
    assert plain.exit_code == as_json.exit_code == 1  # two files were not scans
    assert plain.stderr == as_json.stderr == ""
    _no_bar(plain.output)
    assert [json.loads(line)["outcome"] for line in as_json.output.splitlines()] == [
        "accepted",
        "rejected",
        "rejected",
    ]
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    barred = _ballots(ballots)
    assert barred.stdout == plain.stdout
    _bar_reached(barred.stderr, "3/3", progress.FILES)
    quiet = _ballots(ballots, "--json")
    assert quiet.stdout == as_json.stdout and quiet.stderr == ""


def test_ballots_import_on_a_real_terminal(ballots):
    controller, stderr_tty = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "spilno", "ballots", "import", *ballots],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr_tty,
            timeout=60,
        )
        os.close(stderr_tty)
        shown = _read_all(controller)
    finally:
        os.close(controller)
    assert done.returncode == 1
    assert done.stdout.decode().endswith("відхилено 2 / accepted 1, needs review 0, rejected 2\n")
    _no_bar(done.stdout.decode())
    _bar_reached(shown, "3/3", progress.FILES)


# --- spilno server paper-scans import --------------------------------------------------


def test_paper_scans_import_shows_files_read_on_a_terminal(app, make, session, tmp_path, monkeypatch):
    from server.models import Community
    from server.paper.scans_cli import paper_scans_group

    cycle = make.ballot_cycle()
    make.device(session.get(Community, cycle.community_id), kind="support_point", code="S-0042")
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("1.png", "2.png", "3.pdf"):  # refused the same way every time: not images
        (folder / name).write_bytes(b"not a scan")
    args = ["import", str(folder), "--cycle", str(cycle.id), "--point", "S-0042"]
    runner = app.test_cli_runner()
    plain = runner.invoke(paper_scans_group, args)
    as_json = runner.invoke(paper_scans_group, [*args, "--json"])
    assert plain.exit_code == as_json.exit_code == 1
    assert plain.stderr == "accepted=0 needs_review=0 rejected=3 duplicate=0\n"
    assert as_json.stderr == ""
    assert [json.loads(line)["file"] for line in as_json.output.splitlines()] == ["1.png", "2.png", "3.pdf"]
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    barred = runner.invoke(paper_scans_group, args)
    assert barred.stdout == plain.stdout
    assert barred.stderr.endswith("\naccepted=0 needs_review=0 rejected=3 duplicate=0\n")
    _bar_reached(barred.stderr.rsplit("\n", 2)[0], "3/3", progress.FILES)
    quiet = runner.invoke(paper_scans_group, [*args, "--json"])
    assert quiet.stdout == as_json.stdout and quiet.stderr == ""


# --- spilno server eligibility load ----------------------------------------------------


def _register(path: Path, numbers: range) -> None:
    rows = "".join(f"rnokpp,{n:09d}{rnokpp_check_digit(f'{n:09d}')}\n" for n in numbers)
    path.write_text("document_kind,document_number\n" + rows)


def test_eligibility_load_shows_rows_read_on_a_terminal(app, make, session, tmp_path, monkeypatch):
    from server.eligibility_cli import eligibility_group
    from server.models import Community

    slug = session.get(Community, make.ballot_cycle().community_id).slug
    runner = app.test_cli_runner()
    path = tmp_path / "register.csv"
    _register(path, range(100, 103))
    plain = runner.invoke(eligibility_group, ["load", str(path), "--community", slug])
    assert plain.exit_code == 0, plain.output
    assert plain.stderr == ""
    _no_bar(plain.output)
    # The same list again changes nothing, so each run below says the same.
    as_json = runner.invoke(eligibility_group, ["load", str(path), "--community", slug, "--json"])
    assert as_json.stderr == "" and json.loads(as_json.stdout)["rows"] == 3
    again = runner.invoke(eligibility_group, ["load", str(path), "--community", slug])
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    barred = runner.invoke(eligibility_group, ["load", str(path), "--community", slug])
    assert barred.exit_code == 0 and barred.stdout == again.stdout
    _bar_reached(barred.stderr, "3/3", progress.ROWS)
    quiet = runner.invoke(eligibility_group, ["load", str(path), "--community", slug, "--json"])
    assert quiet.stderr == "" and quiet.stdout == as_json.stdout


# --- spilno school codes ---------------------------------------------------------------


def test_school_codes_show_cards_drawn_on_a_terminal(app, make, tmp_path, monkeypatch):
    from server.school.cli import codes_command

    contest = make.school_contest()
    runner = app.test_cli_runner()

    def codes(*extra: str):
        args = ["--school", str(contest.school.id), "--class", "6-А", "--count", "3"]
        args += ["--out", str(tmp_path / "cards.pdf"), "--base-url", "https://vote.example.gov.ua"]
        return runner.invoke(codes_command, [*args, *extra])

    plain = codes()
    assert plain.exit_code == 0, plain.output
    assert plain.stderr == "" and plain.stdout.startswith("Коди створено: 3 для класу 6-А")
    as_json = codes("--json")
    assert as_json.stderr == "" and json.loads(as_json.stdout)["codes"] == 3
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    barred = codes()
    assert barred.exit_code == 0 and barred.stdout == plain.stdout
    _bar_reached(barred.stderr, "3/3", progress.CARDS)
    with_pngs = codes("--png-dir", str(tmp_path / "png"))
    _bar_reached(with_pngs.stderr, "6/6", progress.CARDS)  # each card in the PDF and as a PNG
    quiet = codes("--json")
    assert quiet.stderr == "" and json.loads(quiet.stdout)["codes"] == 3


# --- spilno server recount -------------------------------------------------------------


def test_recount_shows_votes_recounted_on_a_terminal(app, make, session, monkeypatch):
    import hashlib

    from server.services.ballot_box import store_votes
    from server.services.cycle_rules import load_cycle_rules
    from server.sync.cli import recount_command
    from tests.server.test_sync_support import project_ids
    from voting import VoteRecord

    cycle = make.ballot_cycle()
    first = project_ids(session, cycle)[0]
    online = [
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=cycle.id,
            selections=[first],
            channel="web",
            cast_at=datetime.now(UTC) - timedelta(minutes=5),
            voter_key=hashlib.sha256(f"resident-{n}".encode()).hexdigest(),
        )
        for n in range(3)
    ]
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, online, source="api:1")
    session.commit()
    runner = app.test_cli_runner()
    plain = runner.invoke(recount_command, [str(cycle.id)])
    as_json = runner.invoke(recount_command, [str(cycle.id), "--json"])
    assert plain.exit_code == as_json.exit_code == 0, plain.output
    assert plain.stderr == as_json.stderr == ""
    assert "голосів / votes: 3; збігається / agrees" in plain.stdout
    _no_bar(plain.output)
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    barred = runner.invoke(recount_command, [str(cycle.id)])
    assert barred.stdout == plain.stdout
    _bar_reached(barred.stderr, "3/3", progress.VOTES)
    quiet = runner.invoke(recount_command, [str(cycle.id), "--json"])
    assert quiet.stdout == as_json.stdout and quiet.stderr == ""
