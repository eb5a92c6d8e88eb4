"""`spilno school codes` with a public address too long for a readable card: refused in
Ukrainian and English before any code is made; a long but readable one is warned about."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from server.models import VotingCode
from server.school.cli import codes_command

TOO_LONG = "https://" + "budzhet-" * 10 + "x.gov.ua"  # 96 characters: no QR code holds its cards
LONG = "https://gromadskyi-budzhet.example.gov.ua"  # 41: readable, modules smaller


def _codes(session) -> int:
    return session.scalar(select(func.count()).select_from(VotingCode)) or 0


def _make_codes(runner, contest, out, base_url: str, *extra: str):
    return runner.invoke(
        codes_command,
        ["--school", str(contest.school.id), "--class", "6-А", "--count", "3", "--out", str(out),
         "--base-url", base_url, *extra],
    )  # fmt: skip


def test_an_address_too_long_for_a_card_is_refused_before_any_code_is_made(runner, session, make, tmp_path):
    contest = make.school_contest()
    out = tmp_path / "cards.pdf"
    result = _make_codes(runner, contest, out, TOO_LONG)
    assert result.exit_code == 1
    assert "Публічна адреса задовга для QR-коду картки: її довжина — 96" in result.output
    assert "The public address is too long for a code card's QR code" in result.output
    assert result.output.index("Публічна") < result.output.index("The public")  # Ukrainian first
    assert "Traceback" not in result.output and "ValueError" not in result.output
    assert not out.exists()
    session.expire_all()
    assert _codes(session) == 0


def test_a_long_but_readable_address_prints_and_says_the_modules_are_smaller(runner, session, make, tmp_path):
    contest = make.school_contest()
    out = tmp_path / "cards.pdf"
    result = _make_codes(runner, contest, out, LONG, "--json")
    assert result.exit_code == 0, result.output
    assert "0.68 мм замість 0.85 мм" in result.stderr and "0.68 mm instead of 0.85 mm" in result.stderr
    assert json.loads(result.stdout)["codes"] == 3
    assert out.read_bytes().startswith(b"%PDF")
