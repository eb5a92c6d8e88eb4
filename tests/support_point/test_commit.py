"""Committing: every ready sheet becomes exactly one paper vote in the device log, once,
even when the process dies between appending and marking."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from paper.review import ReviewError, decide_box
from paper.sheet_store import SheetStore
from spilno.cli import main
from support_point.commit import CommitError, commit_ready_sheets, sheet_vote_id
from sync.device_store import DeviceStore
from tests.paper.test_sheet_store import (
    ACCEPTED_A,
    BLANK_C,
    T0,
    UNCLEAR_B,
    enrolled_point,
    point,  # noqa: F401  (the fixture)
)
from voting import VoteRecord


def logged_votes(device: DeviceStore) -> list[VoteRecord]:
    return [VoteRecord.from_canonical_body(e.payload) for e in device.entries_from(1, 1000)]


@pytest.fixture
def stack(point):  # noqa: F811
    """Three sheets scanned: A accepted, B unclear (then decided "marked"), C blank."""
    point.keep(
        point.write("a.png", ACCEPTED_A),
        point.write("b.jpg", UNCLEAR_B, jpeg=80),
        point.write("c.png", BLANK_C),
        now_ms=T0,
    )
    [page] = point.sheets.pages_of(31, UNCLEAR_B[0])
    decide_box(point.sheets, 31, UNCLEAR_B[0], page_id=page.id, project_id=102, verdict="marked", seen=0,
               operator="Олена", cycles=point.cycles, now_ms=T0 + 7_000)  # fmt: skip
    return point


def test_each_ready_sheet_becomes_one_paper_vote_with_its_selections(stack):
    result = commit_ready_sheets(stack.sheets, stack.device, stack.package, now_ms=T0 + 60_000)
    assert [s for _c, s, _v in result.committed] == ["S0001-000001", "S0001-000002"]
    assert result.held == [(31, "S0001-000003", ["sheet.blank"])]
    votes = {v.code_id: v for v in logged_votes(stack.device)}
    assert set(votes) == {"sheet_S0001-000001", "sheet_S0001-000002"}
    a, b = votes["sheet_S0001-000001"], votes["sheet_S0001-000002"]
    assert a.selections == (101, 105) and b.selections == (102, 106)
    assert a.channel == "paper" and a.device_id == "S-0001" and a.cycle_id == 31 and a.voter_key is None
    assert a.cast_at == datetime.fromtimestamp(T0 / 1000, tz=UTC)  # when it became ready, not the commit
    assert b.cast_at == datetime.fromtimestamp((T0 + 7_000) / 1000, tz=UTC)
    assert a.vote_id == sheet_vote_id("S-0001", 31, "S0001-000001")
    assert stack.sheets.sheet(31, "S0001-000001").vote_id == a.vote_id
    assert stack.sheets.sheet(31, "S0001-000001").state == "committed"
    assert stack.device.verify_log() is None


def test_committing_twice_appends_nothing_new(stack):
    commit_ready_sheets(stack.sheets, stack.device, stack.package, now_ms=T0)
    again = commit_ready_sheets(stack.sheets, stack.device, stack.package, now_ms=T0 + 1)
    assert again.committed == [] and again.recovered == []
    assert len(logged_votes(stack.device)) == 2


def test_a_crash_between_appending_and_marking_does_not_duplicate_the_vote(stack, monkeypatch):
    def power_cut(self, votes, now_ms):
        raise KeyboardInterrupt("the power went out")

    with monkeypatch.context() as patch:
        patch.setattr(SheetStore, "mark_committed", power_cut)
        with pytest.raises(KeyboardInterrupt):
            commit_ready_sheets(stack.sheets, stack.device, stack.package, now_ms=T0)
    assert len(logged_votes(stack.device)) == 2
    assert stack.sheets.sheet(31, "S0001-000001").state == "ready"
    retry = commit_ready_sheets(stack.sheets, stack.device, stack.package, now_ms=T0 + 5)
    assert retry.committed == [] and len(retry.recovered) == 2
    assert len(logged_votes(stack.device)) == 2
    assert stack.sheets.sheet(31, "S0001-000001").state == "committed"


def test_re_importing_after_commit_changes_no_vote(stack):
    commit_ready_sheets(stack.sheets, stack.device, stack.package, now_ms=T0)
    results = stack.keep(stack.folder / "a.png", stack.folder / "b.jpg")
    assert [outcome for outcome, _ in results] == ["duplicate", "duplicate"]
    [(_outcome, reasons)] = stack.keep(stack.write("a-rescan.jpg", ACCEPTED_A, jpeg=85))
    assert reasons == ["sheet.already_committed"]
    commit_ready_sheets(stack.sheets, stack.device, stack.package, now_ms=T0 + 1)
    assert len(logged_votes(stack.device)) == 2
    [page] = stack.sheets.pages_of(31, UNCLEAR_B[0])
    with pytest.raises(ReviewError, match=r"review\.committed"):
        decide_box(stack.sheets, 31, UNCLEAR_B[0], page_id=page.id, project_id=102, verdict="unmarked",
                   seen=stack.sheets.decisions(31, UNCLEAR_B[0])[0].id, operator="Петро",
                   cycles=stack.cycles, now_ms=T0)  # fmt: skip


def test_a_terminal_or_a_missing_package_commits_nothing(stack, tmp_path):
    with pytest.raises(CommitError, match=r"ballots\.no_package"):
        commit_ready_sheets(stack.sheets, stack.device, None, now_ms=T0)
    (tmp_path / "terminal").mkdir()
    terminal_path, package = enrolled_point(tmp_path / "terminal", kind="terminal")
    terminal = DeviceStore(terminal_path)
    with pytest.raises(CommitError, match=r"ballots\.not_support_point"):
        commit_ready_sheets(stack.sheets, terminal, package, now_ms=T0)
    terminal.close()
    assert logged_votes(stack.device) == [] and stack.sheets.sheet(31, "S0001-000001").state == "ready"


def test_the_commit_command_reports_one_json_line_per_sheet_and_a_summary(stack):
    stack.sheets.close()
    stack.device.close()
    result = CliRunner().invoke(main, ["ballots", "commit", "--store", str(stack.device_path), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[-1] == {"summary": True, "committed": 2, "needs_review": 1}
    assert {(line["serial"], line["outcome"]) for line in lines[:-1]} == {
        ("S0001-000001", "committed"), ("S0001-000002", "committed"), ("S0001-000003", "needs_review"),
    }  # fmt: skip
    plain = CliRunner().invoke(main, ["ballots", "commit", "--store", str(stack.device_path)])
    assert "Записано голосів 0, на перевірці 1" in plain.output


def test_the_commit_command_refuses_a_terminal(tmp_path):
    path, _package = enrolled_point(tmp_path, kind="terminal")
    result = CliRunner().invoke(main, ["ballots", "commit", "--store", str(path)])
    assert result.exit_code != 0 and "пункт супроводу" in result.output and "support point" in result.output
