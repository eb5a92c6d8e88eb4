"""Poll sheets at a support point: printed with `spilno ballots print --poll`, kept and
judged like ballot sheets, unclear marks decided by a person (audited), and each ready
sheet committed as exactly one paper poll answer, even across a crash."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from paper.reader import reader_for_package
from paper.review import decide_box, keep_reading, spoil_sheet
from paper.scan_files import read_with_previews
from paper.sheet_answer import sheet_answer_id
from paper.sheet_store import SheetStore, sheets_path_for
from spilno.cli import main
from support_point.commit import commit_ready_sheets, cycles_of
from sync import signing
from sync.device_store import DeviceStore
from sync.package_parser import parse_package
from tests.kiosk.terminal_setup import COMMUNITY, PackageSigner, make_package, packaged_poll
from tests.paper.corpus import sample_cycle
from tests.paper.poll_sheets import POLL, box_of, filled, png, rendered
from tests.paper.test_poll_sheets import EVERY_KIND, EXPECTED, o, q
from voting.polls import PollAnswerRecord

NOW = int(time.time() * 1000)
FORM = -POLL


def enrol(tmp_path: Path, polls: list[dict]) -> tuple[Path, PackageSigner, dict]:
    signer = PackageSigner()
    path = tmp_path / "point.db"
    store = DeviceStore(path)
    store.save_enrolment(
        device="S-0001",
        kind="support_point",
        community=COMMUNITY,
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=signer.public_key,
    )
    package = make_package(signer.public_key, cycles=[sample_cycle()], polls=polls)
    store.store_package(signer.envelope(package))
    store.close()
    return path, signer, package


class Point:
    def __init__(self, tmp_path: Path) -> None:
        self.path, _signer, raw = enrol(tmp_path, [packaged_poll(POLL)])
        self.package = parse_package(raw)
        self.device = DeviceStore(self.path)
        self.sheets = SheetStore(sheets_path_for(self.path))
        self.reader = reader_for_package(self.package)
        self.folder = tmp_path

    def keep(self, serial: str, marks, now_ms: int = NOW) -> tuple[str, list[str]]:
        path = self.folder / f"{serial}.png"
        path.write_bytes(png(filled(serial, marks)))
        [(reading, preview)] = read_with_previews([path], self.reader)
        return keep_reading(
            self.sheets,
            reading,
            preview,
            cycles=cycles_of(self.package),
            serial_prefix="S0001",
            now_ms=now_ms,
        )

    def answers(self) -> list[PollAnswerRecord]:
        rule = self.package.poll(POLL).rule()
        return [
            PollAnswerRecord.from_canonical_body(e.payload, rule) for e in self.device.entries_from(1, 100)
        ]


@pytest.fixture
def point(tmp_path):
    at = Point(tmp_path)
    yield at
    at.sheets.close()
    at.device.close()


def test_a_ready_poll_sheet_becomes_one_paper_answer_equal_to_its_marks(point):
    assert point.keep("S0001-000001", EVERY_KIND) == ("accepted", [])
    result = commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW + 60_000)
    answer_id = sheet_answer_id("S-0001", POLL, "S0001-000001")
    assert result.committed == [(FORM, "S0001-000001", answer_id)] and result.held == []
    [record] = point.answers()
    assert dict(record.answers) == EXPECTED
    assert (record.answer_id, record.poll_id, record.channel, record.device_id) == (
        answer_id,
        POLL,
        "paper",
        "S-0001",
    )
    assert record.code_id == "sheet_S0001-000001" and record.voter_key is None
    assert record.cast_at == datetime.fromtimestamp(NOW / 1000, tz=UTC)  # when it became ready
    assert point.sheets.sheet(FORM, "S0001-000001").state == "committed"
    assert point.device.verify_log() is None


def test_a_crash_between_appending_and_marking_leaves_exactly_one_answer(point, monkeypatch):
    point.keep("S0001-000001", EVERY_KIND)

    real = SheetStore.mark_committed

    def power_cut(self, marks, now_ms):
        if marks:  # the poll sheets' marking, after their answers were appended
            raise KeyboardInterrupt("the power went out")
        real(self, marks, now_ms)

    with monkeypatch.context() as patch:
        patch.setattr(SheetStore, "mark_committed", power_cut)
        with pytest.raises(KeyboardInterrupt):
            commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW)
    assert len(point.answers()) == 1 and point.sheets.sheet(FORM, "S0001-000001").state == "ready"
    again = commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW + 1)
    assert again.recovered == [(FORM, "S0001-000001", sheet_answer_id("S-0001", POLL, "S0001-000001"))]
    assert len(point.answers()) == 1 and point.sheets.sheet(FORM, "S0001-000001").state == "committed"
    assert commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW + 2).committed == []


def test_two_places_in_a_row_wait_for_a_person_whose_decisions_are_kept(point):
    outcome, reasons = point.keep("S0001-000002", [(1, 1, 1), (3, 1, 1), (3, 1, 2)])
    assert (outcome, reasons) == ("needs_review", ["poll_sheet.rank_row_twice"])
    held = commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW)
    assert held.held == [(FORM, "S0001-000002", ["poll_sheet.rank_row_twice"])] and point.answers() == []
    [page] = point.sheets.pages_of(FORM, "S0001-000002")
    sheet = rendered("S0001-000002")[0]
    cycles = cycles_of(point.package)
    state = decide_box(
        point.sheets,
        FORM,
        "S0001-000002",
        page_id=page.id,
        project_id=box_of(sheet, (3, 1, 2)),
        verdict="unmarked",
        seen=0,
        operator="Олена",
        cycles=cycles,
        now_ms=NOW + 5_000,
        reason="закреслено: місце 1",
    )
    assert state.state == "ready"
    [decision] = point.sheets.decisions(FORM, "S0001-000002")
    assert (decision.operator, decision.verdict, decision.reason) == (
        "Олена",
        "unmarked",
        "закреслено: місце 1",
    )
    commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW + 9_000)
    [record] = point.answers()
    assert dict(record.answers) == {q(1): (o(1, 1),), q(3): (o(3, 1),)}
    assert record.cast_at == datetime.fromtimestamp((NOW + 5_000) / 1000, tz=UTC)


def test_a_blank_poll_sheet_is_no_answer_and_stays_until_spoiled(point):
    assert point.keep("S0001-000003", []) == ("needs_review", ["poll_sheet.blank"])
    spoil_sheet(
        point.sheets,
        FORM,
        "S0001-000003",
        reason="порожній",
        seen=0,
        operator="Олена",
        cycles=cycles_of(point.package),
        now_ms=NOW,
    )
    result = commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW)
    assert result.committed == [] and point.answers() == []


def test_ballots_and_poll_sheets_commit_side_by_side(point, tmp_path):
    from tests.paper.test_sheet_store import ACCEPTED_A, sheet_file

    ballot = tmp_path / "ballot.png"
    ballot.write_bytes(sheet_file(*ACCEPTED_A))
    [(reading, preview)] = read_with_previews([ballot], point.reader)
    keep_reading(
        point.sheets, reading, preview, cycles=cycles_of(point.package), serial_prefix="S0001", now_ms=NOW
    )
    point.keep("S0001-000002", EVERY_KIND)
    result = commit_ready_sheets(point.sheets, point.device, point.package, now_ms=NOW)
    assert sorted(c for c, _s, _id in result.committed) == [FORM, 31]
    kinds = [e.kind for e in point.device.entries_from(1, 100)]
    assert sorted(kinds) == sorted(["vote", "poll_answer"])


def test_the_commit_command_says_answer_recorded_with_the_poll(point):
    point.keep("S0001-000001", EVERY_KIND)
    point.sheets.close()
    point.device.close()
    out = CliRunner().invoke(main, ["ballots", "commit", "--store", str(point.path), "--json"])
    assert out.exit_code == 0, out.output
    first = json.loads(out.output.splitlines()[0])
    assert first == {
        "poll_id": POLL,
        "serial": "S0001-000001",
        "outcome": "committed",
        "answer_id": sheet_answer_id("S-0001", POLL, "S0001-000001"),
    }


def test_printing_poll_sheets_reserves_serials_and_writes_the_layout(tmp_path):
    path, _signer, _raw = enrol(tmp_path, [packaged_poll(POLL)])
    run = CliRunner().invoke
    pdf, layout = tmp_path / "poll.pdf", tmp_path / "poll.json"
    args = ["ballots", "print", "--store", str(path), "--poll", str(POLL), "--count", "2"]
    out = run(main, [*args, "--out", str(pdf), "--layout-json", str(layout), "--json"])
    assert out.exit_code == 0, out.output
    line = json.loads(out.output)
    assert line["poll_id"] == POLL and (line["first_serial"], line["last_serial"]) == (
        "S0001-000001",
        "S0001-000002",
    )
    assert pdf.read_bytes().startswith(b"%PDF") and json.loads(layout.read_text())["poll_id"] == POLL
    again = run(main, [*args, "--out", str(pdf), "--json"])
    assert json.loads(again.output)["first_serial"] == "S0001-000003"  # the serial book is shared


def test_a_poll_a_sheet_cannot_show_or_a_wrong_choice_is_refused_clearly(tmp_path):
    wide = packaged_poll(POLL)
    wide["questions"][3]["max_points"] = 20
    path, _signer, _raw = enrol(tmp_path, [wide])
    pdf = tmp_path / "poll.pdf"
    base = ["ballots", "print", "--store", str(path), "--count", "1", "--out", str(pdf)]
    out = CliRunner().invoke(main, [*base, "--poll", str(POLL)])
    assert out.exit_code == 1 and "від 0 до 10 балів" in out.output and "0 to 10 points" in out.output
    assert not pdf.exists()
    both = CliRunner().invoke(main, [*base, "--poll", str(POLL), "--cycle", "31"])
    assert both.exit_code == 1 and "--poll" in both.output
    unknown = CliRunner().invoke(main, [*base, "--poll", "999"])
    assert unknown.exit_code == 1 and "такого опитування" in unknown.output


def test_the_review_page_shows_a_poll_sheets_boxes_by_what_they_give_and_takes_decisions(point):
    from support_point.review_app import create_review_app
    from tests.support_point.test_review_app import PIN_HASH, csrf_of, signed_in

    point.keep("S0001-000002", [(1, 1, 1), (3, 1, 1), (3, 1, 2)])
    point.sheets.close()
    point.device.close()
    app = create_review_app({"STORE_PATH": str(point.path), "PIN_HASH": PIN_HASH, "CLOCK": lambda: NOW})
    client = signed_in(app)
    queue = client.get("/").get_data(as_text=True)
    assert f"/sheet/{FORM}/S0001-000002" in queue and "Який вигляд має мати парк" in queue
    page = client.get(f"/sheet/{FORM}/S0001-000002").get_data(as_text=True)
    assert "питання 3: «Освітлення», місце 2" in page and "Клітинка" in page
    sheet = rendered("S0001-000002")[0]
    pages = SheetStore(sheets_path_for(point.path))
    [stored] = pages.pages_of(FORM, "S0001-000002")
    form = {
        "csrf": csrf_of(client),
        "page_id": stored.id,
        "project_id": box_of(sheet, (3, 1, 2)),
        "seen": 0,
        "verdict": "unmarked",
        "reason": "закреслено",
    }
    answer = client.post(f"/sheet/{FORM}/S0001-000002/box", data=form)
    assert answer.status_code == 303
    assert pages.sheet(FORM, "S0001-000002").state == "ready"
    [decision] = pages.decisions(FORM, "S0001-000002")
    assert (decision.operator, decision.reason) == ("Олена Коваль", "закреслено")
    pages.close()
