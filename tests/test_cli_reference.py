"""docs/cli.md is the commands' own reference, and stays current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from spilno.cli import GROUPS
from spilno.cli_reference import reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_the_reference_in_docs_is_what_the_commands_say():
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md differs from the commands: run `python -m spilno.cli_reference > docs/cli.md`"
    )


def test_every_group_and_the_long_commands_are_documented_with_their_options():
    text = reference()
    for group in GROUPS:
        assert f"`spilno {group}`" in text
    for command, option in [
        ("spilno server demo", "`--port`"),
        ("spilno ballots import", "`--json`"),
        ("spilno server recount", "`--json`"),
        ("spilno device sync", "`--once`"),
    ]:
        heading = f"{'#' * min(command.count(' ') + 2, 4)} `{command}`\n"
        section = text.split(heading, 1)[1].split("\n#", 1)[0]
        assert option in section, (command, option)


def test_the_reference_reads_the_same_in_any_environment(tmp_path):
    """No default worked out from this machine (a home folder, an environment
    variable) may leak into the file every machine checks."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C",
        "SPILNO_DATABASE_URL": "sqlite:///x.db",
    }
    written = subprocess.run(
        [sys.executable, "-m", "spilno.cli_reference"],
        cwd=DOC.parents[1],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert written == reference()
