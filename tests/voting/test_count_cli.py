"""`spilno count pabulib`: a file in, the funded projects out, as text or JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner

from spilno.cli import main

HERE = Path(__file__).parent / "pabulib"


def run(*args: str):
    return CliRunner().invoke(main, ["count", "pabulib", *args])


def test_json_names_the_funded_projects_as_the_file_writes_them():
    result = run(str(HERE / "Poland_Gdynia_2020_Babie_Doly__small.pb"), "--tie-break", "number", "--json")
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    data = json.loads(line)
    assert data["funded"] == ["1", "2", "4"]
    assert (data["rule"], data["method"], data["tie_break"], data["threshold"]) == (
        "greedy-no-skip",
        "greedy_no_skip",
        "number",
        50,
    )


def test_the_tie_break_changes_what_a_tied_election_funds():
    cheaper = json.loads(run(str(HERE / "Poland_Gdynia_2020_Babie_Doly__small.pb"), "--json").output)
    assert cheaper["funded"] != ["1", "2", "4"]


def test_text_output_explains_every_project_in_ukrainian_or_english(tmp_path):
    uk = run(str(HERE / "Poland_Gdynia_2020_Babie_Doly__small.pb"), "--tie-break", "number")
    assert "Не розглядався: розподіл зупинився на проєкті 5" in uk.output
    assert uk.output.splitlines()[-1] == "Профінансовано: 1, 2, 4 (22395 / 24420)"
    en = run(str(HERE / "Poland_Gdynia_2020_Babie_Doly__small.pb"), "--tie-break", "number", "--lang", "en")
    assert "Not funded: costs 9200, only 2025 was left." in en.output


def test_a_gzipped_file_is_read_the_same(tmp_path):
    packed = tmp_path / "assen.pb.gz"
    packed.write_bytes(gzip.compress((HERE / "Netherlands_Assen_2024.pb").read_bytes()))
    plain = json.loads(run(str(HERE / "Netherlands_Assen_2024.pb"), "--json").output)
    assert json.loads(run(str(packed), "--json").output) == plain
    assert plain["equal_shares"]["rounds"][0]["round"] == 1


def test_a_lot_needs_its_seed_and_is_repeatable():
    path = str(HERE / "Poland_Lodz_2024_Katedralna.pb")
    assert run(path, "--tie-break", "lot").exit_code == 2
    first = run(path, "--tie-break", "lot", "--seed", "засідання 1", "--json")
    assert (
        first.exit_code == 0
        and first.output == run(path, "--tie-break", "lot", "--seed", "засідання 1", "--json").output
    )


def test_a_broken_file_gets_a_clear_error_and_no_result(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_text("META\nkey;value\nbudget;abc\n", encoding="utf-8")
    result = run(str(bad), "--json")
    assert result.exit_code == 1
    assert "Файл не пораховано / file not counted" in result.output and "{" not in result.output
    binary = tmp_path / "x.pb.gz"
    binary.write_bytes(b"not gzip")
    assert run(str(binary)).exit_code == 1
