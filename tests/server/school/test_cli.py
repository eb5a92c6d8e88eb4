"""`spilno school codes`: a moderator prints a class's code cards from the command line."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import func, select

from server.models import VotingCode
from server.school.cli import codes_command, list_command
from server.school.code_votes import find_code
from server.school.keys import app_code_keys

BASE = "https://vote.example.gov.ua"


def _codes(session) -> int:
    return session.scalar(select(func.count()).select_from(VotingCode)) or 0


def test_codes_for_a_class_are_written_as_cards_and_work(app, runner, session, make, tmp_path):
    contest = make.school_contest()
    out, table = tmp_path / "cards.pdf", tmp_path / "codes.csv"
    result = runner.invoke(
        codes_command,
        [
            "--school",
            str(contest.school.id),
            "--class",
            "6-А",
            "--count",
            "28",
            "--out",
            str(out),
            "--csv",
            str(table),
            "--base-url",
            BASE,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["codes"] == 28 and summary["class"] == "6-А" and summary["pages"] == 3
    assert out.read_bytes().startswith(b"%PDF")
    with open(table, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 28
    session.expire_all()
    assert _codes(session) == 28
    keys = app_code_keys(app)
    for row in rows[:3]:
        assert find_code(session, keys, row["code"]).contest.id == contest.id
        assert row["url"] == f"{BASE}/s/{row['code']}"


def test_reprint_gives_the_same_unused_codes(app, runner, session, make, tmp_path):
    contest = make.school_contest()
    first, again = tmp_path / "a.csv", tmp_path / "b.csv"
    common = ["--school", str(contest.school.id), "--class", "6-Б", "--base-url", BASE]
    assert (
        runner.invoke(
            codes_command, [*common, "--count", "5", "--out", str(tmp_path / "a.pdf"), "--csv", str(first)]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        codes_command, [*common, "--reprint", "--out", str(tmp_path / "b.pdf"), "--csv", str(again)]
    )
    assert result.exit_code == 0, result.output
    assert first.read_text(encoding="utf-8-sig") == again.read_text(encoding="utf-8-sig")
    session.expire_all()
    assert _codes(session) == 5


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--class", "6-А", "--count", "0"], "Кількість кодів"),
        (["--class", "6-А", "--count", "100000"], "Кількість кодів"),
        (["--class", "13-А", "--count", "3"], "Клас"),
        (["--class", "x" * 10_000, "--count", "3"], "Клас"),
        (["--class", "6-А"], "--count"),
        (["--class", "6-А", "--count", "3", "--reprint"], "--count"),
    ],
)
def test_bad_requests_are_refused_and_make_no_codes(runner, session, make, tmp_path, args, says):
    contest = make.school_contest()
    out = tmp_path / "cards.pdf"
    result = runner.invoke(
        codes_command, ["--school", str(contest.school.id), *args, "--out", str(out), "--base-url", BASE]
    )
    assert result.exit_code != 0 and says in result.output
    assert not out.exists()
    session.expire_all()
    assert _codes(session) == 0


def test_an_unknown_school_or_a_missing_address_is_refused(runner, make, tmp_path):
    contest = make.school_contest()
    out = str(tmp_path / "c.pdf")
    missing = runner.invoke(
        codes_command,
        ["--school", "999999", "--class", "6-А", "--count", "2", "--out", out, "--base-url", BASE],
    )
    assert missing.exit_code != 0 and "Школи 999999 немає" in missing.output
    no_url = runner.invoke(
        codes_command, ["--school", str(contest.school.id), "--class", "6-А", "--count", "2", "--out", out]
    )
    assert no_url.exit_code != 0 and "PUBLIC_URL" in no_url.output


def test_a_file_that_cannot_be_written_leaves_no_codes(runner, session, make, tmp_path):
    contest = make.school_contest()
    result = runner.invoke(
        codes_command,
        [
            "--school",
            str(contest.school.id),
            "--class",
            "6-А",
            "--count",
            "3",
            "--out",
            str(tmp_path / "no-such-dir" / "cards.pdf"),
            "--base-url",
            BASE,
        ],
    )
    assert result.exit_code != 0
    session.expire_all()
    assert _codes(session) == 0


def test_schools_are_listed_with_their_contests(runner, make):
    contest = make.school_contest()
    result = runner.invoke(list_command, ["--json"])
    assert result.exit_code == 0
    listed = [json.loads(line) for line in result.output.splitlines()]
    assert any(s["id"] == contest.school.id and s["contests"][0]["id"] == contest.id for s in listed)


def test_reprint_of_a_class_with_no_unused_codes_says_so(runner, make, tmp_path):
    contest = make.school_contest()
    out = tmp_path / "none.pdf"
    result = runner.invoke(
        codes_command,
        [
            "--school",
            str(contest.school.id),
            "--class",
            "9-В",
            "--reprint",
            "--out",
            str(out),
            "--base-url",
            BASE,
        ],
    )
    assert result.exit_code != 0 and "немає невикористаних кодів" in result.output
    assert not out.exists()
