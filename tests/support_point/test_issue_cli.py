"""`spilno ballots issue` and `spilno ballots cancel`: the operator issues, cancels and
reissues personal sheets from the command line; a document number typed at the hidden
prompt appears in no output and no file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paper.issue_store import issued_sheet
from paper.sheet_store import SheetStore, sheets_path_for
from support_point.issue_cli import cancel_command, issue_command
from tests.paper.test_sheet_store import enrolled_point
from tests.support_point.test_issue import ADULT, CARD, PASSPORT, cycle_with, enrol_point, files_hold, key_of

# Open now and for years: the commands use the real clock.
OPEN_NOW = cycle_with(voting_starts_at="2026-01-01T00:00:00Z")


@pytest.fixture
def store(tmp_path):
    path, _package = enrol_point(tmp_path, [OPEN_NOW])
    return path


def run(command, *args: str, input: str | None = None):
    return CliRunner().invoke(command, [str(a) for a in args], input=input)


def issue_json(store, *args: str, input: str | None = None) -> dict:
    result = run(issue_command, "--store", store, "--cycle", "31", "--json", *args, input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def ledger(store) -> SheetStore:
    return SheetStore(sheets_path_for(store))


def test_both_commands_have_help():
    for command in (issue_command, cancel_command):
        result = run(command, "--help")
        assert result.exit_code == 0 and "--store" in result.output and "--json" in result.output


def test_a_document_typed_at_the_hidden_prompt_gets_a_sheet_and_is_kept_nowhere(store, tmp_path):
    out = tmp_path / "sheet.pdf"
    result = run(
        issue_command, "--store", store, "--cycle", "31", "--document-kind", "rnokpp", "--out", out, "--json",
        input=ADULT + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert {k: line[k] for k in ("outcome", "serial", "cycle_id", "issued_by", "out")} == {
        "outcome": "issued", "serial": "S0001-000001", "cycle_id": 31, "issued_by": "cli", "out": str(out),
    }  # fmt: skip
    assert out.read_bytes().startswith(b"%PDF")
    assert ADULT not in result.output and files_hold(tmp_path, ADULT) == []
    sheets = ledger(store)
    assert issued_sheet(sheets, "S0001-000001").voter_key == key_of("rnokpp", ADULT)
    sheets.close()


def test_a_card_gets_a_sheet_and_the_operator_reads_it_in_both_languages(store, tmp_path):
    result = run(
        issue_command, "--store", store, "--cycle", "31", "--card-id", CARD, "--out", tmp_path / "c.pdf"
    )
    assert result.exit_code == 0, result.output
    assert "Видано аркуш S0001-000001" in result.output and "Sheet S0001-000001 issued" in result.output


def test_a_refusal_says_why_and_exits_with_an_error(store, tmp_path):
    issue_json(
        store, "--document-kind", "passport", "--document-number", PASSPORT, "--out", tmp_path / "a.pdf"
    )
    args = ["--store", store, "--cycle", "31", "--document-kind", "passport", "--document-number", "AB123456"]
    as_json = run(issue_command, *args, "--out", tmp_path / "b.pdf", "--json")
    assert as_json.exit_code == 1
    line = json.loads(as_json.output)
    assert (line["outcome"], line["reason"]) == ("refused", "issue.live_sheet") and "S0001-000001" in line[
        "message"
    ]
    plain = run(issue_command, *args, "--out", tmp_path / "b.pdf")
    assert plain.exit_code == 1 and "уже має бюлетень S0001-000001" in plain.output
    assert "already holds ballot" in plain.output and not (tmp_path / "b.pdf").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--document-kind", "rnokpp", "--document-number", "1" * 100_000], "Номер документа задовгий"),
        (["--document-kind", "rnokpp", "--document-number", "12345\u202e67890"], "10 цифр"),
        (["--card-id", "not-a-card"], "Картку не вдалося прочитати"),
        (["--card-id", CARD, "--document-kind", "rnokpp"], "або картку"),
        (["--card-id", CARD, "--age-confirmed"], "або картку"),
        ([], "або картку"),
        (["--document-kind", "card", "--document-number", CARD], "Invalid value"),
    ],
)
def test_malformed_or_hostile_input_is_refused_and_changes_nothing(store, tmp_path, args, code):
    result = run(issue_command, "--store", store, "--cycle", "31", "--out", tmp_path / "x.pdf", *args)
    assert result.exit_code != 0 and code in result.output
    assert "1" * 100 not in result.output and "67890" not in result.output
    sheets = ledger(store)
    assert sheets.query("SELECT count(*) FROM issued_sheets") == [(0,)]
    sheets.close()
    assert not (tmp_path / "x.pdf").exists()


def test_a_device_that_is_not_a_support_point_issues_nothing(tmp_path):
    path, _package = enrolled_point(tmp_path, kind="terminal")
    result = run(
        issue_command, "--store", path, "--cycle", "31", "--card-id", CARD, "--out", tmp_path / "x.pdf"
    )
    assert result.exit_code == 1 and "пункт супроводу" in result.output and "support point" in result.output
    missing = run(issue_command, "--store", tmp_path / "nope.db", "--cycle", "31", "--card-id", CARD,
                  "--out", tmp_path / "x.pdf")  # fmt: skip
    assert missing.exit_code == 1 and "no device file" in missing.output


def test_cancel_and_reissue_from_the_command_line(store, tmp_path):
    issue_json(store, "--card-id", CARD, "--out", tmp_path / "first.pdf")
    result = run(cancel_command, "--store", store, "--serial", "S0001-000001", "--reason", "порвав", "--json")
    assert result.exit_code == 0, result.output
    line = json.loads(result.output)
    assert (line["outcome"], line["serial"], line["cancelled_by"]) == ("cancelled", "S0001-000001", "cli")
    again = run(cancel_command, "--store", store, "--serial", "S0001-000001", "--reason", "ще раз")
    assert again.exit_code == 1 and "уже скасовано" in again.output

    issue_json(store, "--card-id", CARD, "--out", tmp_path / "second.pdf")  # S0001-000002
    new = tmp_path / "third.pdf"
    result = run(cancel_command, "--store", store, "--serial", "S0001-000002", "--reason", "переплутав",
                 "--reissue", "--out", new)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "S0001-000002 скасовано; замість нього видано S0001-000003" in result.output
    assert new.read_bytes().startswith(b"%PDF")
    sheets = ledger(store)
    assert issued_sheet(sheets, "S0001-000002").replaced_by == "S0001-000003"
    assert issued_sheet(sheets, "S0001-000003").voter_key == key_of("card", CARD)
    sheets.close()


@pytest.mark.parametrize("args", [["--reissue"], ["--out", "x.pdf"]])
def test_reissue_and_out_go_together(store, args):
    result = run(cancel_command, "--store", store, "--serial", "S0001-000001", "--reason", "r", *args)
    assert result.exit_code == 1 and "--reissue" in result.output


def test_a_sheet_whose_pdf_cannot_be_written_says_to_cancel_it(store, tmp_path):
    out = tmp_path / "no-such-folder" / "sheet.pdf"
    result = run(issue_command, "--store", store, "--cycle", "31", "--card-id", CARD, "--out", out)
    assert (
        result.exit_code == 1 and "S0001-000001" in result.output and "spilno ballots cancel" in result.output
    )


def test_the_cli_offers_exactly_the_document_kinds_the_core_takes():
    from support_point import issue, issue_cli

    assert issue_cli.DOCUMENT_KINDS == tuple(kind.value for kind in issue.DOCUMENT_KINDS)
