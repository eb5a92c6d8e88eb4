"""Issuing personal sheets: a resident is checked as a terminal checks them, gets the
next serial (never one handed out before) and its PDF; a spoiled sheet is cancelled and
reissued; a cancelled sheet read later never counts; a personal sheet votes as its
resident.

The helpers here (a support point with its issue desk, a clock inside the corpus
cycle's window, residents' document numbers of chosen ages) are shared by the other
test_issue*.py files."""

from __future__ import annotations

import copy
import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from paper.issue_store import issued_sheet
from paper.reader import SheetReader, reader_for_package
from paper.review import keep_reading
from paper.scan_files import read_files, read_with_previews
from paper.serials import SerialError
from paper.sheet_store import SheetStore, sheets_path_for
from support_point.commit import commit_ready_sheets, cycles_of, sheet_vote_id
from support_point.issue import (
    CardIdentity,
    DocumentIdentity,
    IssueDesk,
    IssueRefused,
    reserve_blank_serials,
)
from support_point.issue_messages import MESSAGES, UI, catalog, message, ui_text
from sync import signing
from sync.cycle_package import CyclePackage
from sync.device_store import DeviceStore
from sync.package_parser import parse_package
from tests.kiosk.terminal_setup import COMMUNITY, VOTER_KEY_SECRET, PackageSigner, make_package
from tests.paper.corpus import MarkKind, encode, make_sheet, sample_cycle
from voting import Channel, IdentityKind, VoteRecord, VoterKey
from voting.counting import CountingInput, VoteStatus, decide
from voting.identity import rnokpp_check_digit


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# The corpus cycle is open from 2027-05-01 to 2099: a fixed moment inside it.
T_OPEN = ms(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
T_CLOSED = ms(datetime(2099, 6, 2, 9, 0, tzinfo=UTC))


def rnokpp(born: date, middle: str = "1234") -> str:
    """A valid РНОКПП of someone born on `born` (its first five digits count the days
    from 31.12.1899)."""
    first_nine = f"{(born - date(1899, 12, 31)).days:05d}{middle}"
    return first_nine + str(rnokpp_check_digit(first_nine))


ADULT = rnokpp(date(1990, 3, 14))  # 37 on T_OPEN
CHILD = rnokpp(date(2015, 3, 14), "5678")  # 12 on T_OPEN
PASSPORT = "АВ123456"
CARD = "04A1B2C3D4E5F6"


def key_of(kind: str, number: str) -> str:
    return VoterKey.derive(bytes.fromhex(VOTER_KEY_SECRET), IdentityKind(kind), number).hex


class Clock:
    def __init__(self, now_ms: int = T_OPEN) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@dataclass
class IssuePoint:
    device_path: Path
    device: DeviceStore
    sheets: SheetStore
    desk: IssueDesk
    clock: Clock
    package: CyclePackage  # as the device reads it
    reader: SheetReader
    folder: Path

    def keep(self, *paths: Path, now_ms: int = T_OPEN) -> list[tuple[str, list[str]]]:
        return [
            keep_reading(
                self.sheets, reading, preview, cycles=cycles_of(self.package), serial_prefix="S0001",
                now_ms=now_ms,
            )
            for reading, preview in read_with_previews(paths, self.reader)
        ]  # fmt: skip

    def close(self) -> None:
        self.sheets.close()
        self.device.close()


def cycle_with(**changes: object) -> dict:
    cycle = copy.deepcopy(sample_cycle())
    cycle.update(changes)
    return cycle


def enrol_point(folder: Path, cycles: list[dict] | None = None) -> tuple[Path, CyclePackage]:
    signer = PackageSigner()
    path = folder / "point.db"
    store = DeviceStore(path)
    store.save_enrolment(
        device="S-0001",
        kind="support_point",
        community=COMMUNITY,
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=signer.public_key,
    )
    package = make_package(signer.public_key, cycles=cycles or [sample_cycle()])
    store.store_package(signer.envelope(package))
    store.close()
    return path, parse_package(package)


def open_point(folder: Path, cycles: list[dict] | None = None, now_ms: int = T_OPEN) -> IssuePoint:
    path, package = enrol_point(folder, cycles)
    scans = folder / "scans"
    scans.mkdir()
    device = DeviceStore(path)
    sheets = SheetStore(sheets_path_for(path))
    clock = Clock(now_ms)
    desk = IssueDesk(device, sheets, clock=clock)
    return IssuePoint(path, device, sheets, desk, clock, package, reader_for_package(package), scans)


def put_on_list(device: DeviceStore, *keys: str) -> None:
    """The community's voter list switched on, holding `keys` (complete: it applies)."""
    state = device.eligibility.state()
    device.eligibility.apply_page(
        enabled=True, version=state.version + 1, listed=list(keys), unlisted=[],
        cursor=f"{state.version + 1}:", more=False,
    )  # fmt: skip


def stored_rows(point: IssuePoint) -> tuple[int, int]:
    """(serial ranges handed out, issue records): both stay as they were after a refusal."""
    book = point.sheets.query("SELECT count(*) FROM serial_book")[0][0]
    issued = point.sheets.query("SELECT count(*) FROM issued_sheets")[0][0]
    return book, issued


def files_hold(folder: Path, text: str) -> list[str]:
    """Every file under `folder` whose bytes contain `text` (UTF-8): where a number leaked."""
    needle = text.encode()
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


# --- the tests ---------------------------------------------------------------------------


@pytest.fixture
def point(tmp_path):
    point = open_point(tmp_path)
    yield point
    point.close()


@pytest.fixture
def aged_point(tmp_path):
    """The cycle has a minimum age of 16."""
    point = open_point(tmp_path, [cycle_with(min_age=16)])
    yield point
    point.close()


def issue(point: IssuePoint, number: str = ADULT, kind: str = "rnokpp", **options):
    return point.desk.issue_sheet(31, DocumentIdentity(kind, number, **options), operator="Олена Коваль")


def refused(call, *args, **kwargs) -> IssueRefused:
    with pytest.raises(IssueRefused) as caught:
        call(*args, **kwargs)
    return caught.value


def logged_votes(device: DeviceStore) -> list[VoteRecord]:
    return [VoteRecord.from_canonical_body(e.payload) for e in device.entries_from(1, 1000)]


def test_a_resident_with_a_document_gets_the_next_serial_and_its_pdf(point):
    result = issue(point)
    sheet = result.sheet
    assert (sheet.serial, sheet.cycle_id, sheet.issued_by, sheet.issued_at_ms) == (
        "S0001-000001", 31, "Олена Коваль", T_OPEN,
    )  # fmt: skip
    assert sheet.voter_key == key_of("rnokpp", ADULT) and sheet.live
    assert result.pdf.startswith(b"%PDF") and len(result.pdf) > 1000
    # The PDF is that sheet: the reader finds its serial and cycle in the QR code.
    pdf = point.folder / "issued.pdf"
    pdf.write_bytes(result.pdf)
    reading = next(read_files([pdf], point.reader))
    assert (reading.serial, reading.cycle_id, reading.reasons) == ("S0001-000001", 31, ["sheet.blank"])
    assert issue(point, PASSPORT, "passport").sheet.serial == "S0001-000002"


def test_a_resident_with_a_card_gets_a_sheet_under_the_cards_voter_key(point):
    result = point.desk.issue_sheet(31, CardIdentity(CARD.lower()), operator="Олена")
    assert result.sheet.voter_key == key_of("card", CARD)


def test_no_document_or_card_number_is_kept_anywhere(point, tmp_path):
    issue(point)
    point.desk.issue_sheet(31, CardIdentity(CARD), operator="Олена")
    refused(issue, point, CHILD.replace("5678", "5679"))  # a typo: a checksum refusal
    point.close()
    for number in (ADULT, CARD, CHILD[:9]):
        assert files_hold(tmp_path, number) == []
    assert ADULT not in repr(DocumentIdentity("rnokpp", ADULT)) and CARD not in repr(CardIdentity(CARD))


def test_the_minimum_age_is_read_from_the_rnokpp_as_a_terminal_reads_it(aged_point):
    assert refused(issue, aged_point, CHILD).code == "eligibility.too_young"
    assert refused(issue, aged_point, CHILD).params == {"min_age": 16}
    assert stored_rows(aged_point) == (0, 0)
    assert issue(aged_point, ADULT).sheet.serial == "S0001-000001"


def test_a_document_without_a_birth_date_needs_the_operators_age_check(aged_point):
    assert refused(issue, aged_point, PASSPORT, "passport").code == "eligibility.age_unknown"
    assert refused(aged_point.desk.issue_sheet, 31, CardIdentity(CARD), operator="x").code == (
        "eligibility.age_unknown"
    )
    assert issue(aged_point, PASSPORT, "passport", age_confirmed=True).sheet.live


def test_with_the_communitys_list_only_listed_residents_get_a_sheet(aged_point):
    put_on_list(aged_point.device, key_of("passport", PASSPORT))
    assert refused(issue, aged_point, ADULT).code == "eligibility.not_listed"
    # The list vouches for the age of those it names, as at a terminal.
    assert issue(aged_point, PASSPORT, "passport").sheet.voter_key == key_of("passport", PASSPORT)


def test_a_resident_who_voted_here_is_refused(point):
    point.device.append_vote(
        VoteRecord.create(
            cycle_id=31, selections=[101, 105], channel="staff_assisted",
            cast_at=datetime.fromtimestamp(T_OPEN / 1000 - 60, tz=UTC), voter_key=key_of("rnokpp", ADULT),
            device_id="S-0001",
        )
    )  # fmt: skip
    assert refused(issue, point).code == "issue.voted_here"
    assert stored_rows(point) == (0, 0)


def test_a_resident_who_voted_elsewhere_is_refused(point):
    point.device.add_voted_elsewhere([(31, "key:" + key_of("rnokpp", ADULT))], "cursor-1")
    assert refused(issue, point).code == "issue.voted_elsewhere"
    assert issue(point, PASSPORT, "passport").sheet.live  # someone else still may


def test_a_resident_holding_a_live_sheet_must_have_it_cancelled_first(point):
    first = issue(point).sheet
    again = refused(issue, point)
    assert (again.code, again.params) == ("issue.live_sheet", {"serial": first.serial})
    assert stored_rows(point) == (1, 1)


def test_no_sheet_is_issued_outside_the_voting_window_or_for_another_cycle(point):
    point.clock.now_ms = T_CLOSED
    assert refused(issue, point).code == "issue.cycle_not_open"
    point.clock.now_ms = T_OPEN
    assert refused(point.desk.issue_sheet, 99, DocumentIdentity("rnokpp", ADULT), operator="x").code == (
        "issue.no_cycle"
    )
    assert stored_rows(point) == (0, 0)


@pytest.mark.parametrize(
    ("kind", "number", "code"),
    [
        ("rnokpp", ADULT[:9] + str((int(ADULT[9]) + 1) % 10), "identity.rnokpp_checksum"),
        ("rnokpp", "12345abcde", "identity.rnokpp_format"),
        ("rnokpp", "", "identity.empty"),
        ("rnokpp", "9" * 65, "identity.too_long"),
        ("rnokpp", "1" * 5_000_000, "identity.too_long"),
        ("passport", "АВ12345\u202e6", "identity.passport_format"),
        ("passport", "<script>alert(1)</script>", "identity.passport_format"),
        ("unzr", "20271301-00001", "identity.unzr_format"),
        ("id_card", None, "identity.empty"),
        ("card", CARD, "issue.document_kind"),  # a card's id is read, never typed
        ("../../etc/passwd", ADULT, "issue.document_kind"),
        ("x" * 100_000, ADULT, "issue.document_kind"),
        (None, ADULT, "issue.document_kind"),
    ],
)
def test_a_malformed_or_hostile_document_is_refused_and_changes_nothing(point, kind, number, code):
    assert refused(point.desk.issue_sheet, 31, DocumentIdentity(kind, number), operator="x").code == code
    assert stored_rows(point) == (0, 0)


@pytest.mark.parametrize("card_id", ["", "zz", "04A1B2C3D4E5F6A7B8C9D0E1", None])
def test_a_card_id_that_is_not_one_is_refused(point, card_id):
    assert refused(point.desk.issue_sheet, 31, CardIdentity(card_id), operator="x").code.startswith(
        "identity."
    )
    assert stored_rows(point) == (0, 0)


@pytest.mark.parametrize("operator", ["", "x" * 81, "Олена\u202e"])
def test_the_operator_must_be_named_cleanly(point, operator):
    with pytest.raises(IssueRefused, match=r"review\.operator"):
        point.desk.issue_sheet(31, DocumentIdentity("rnokpp", ADULT), operator=operator)


def test_a_spoiled_sheet_is_cancelled_once_and_the_resident_can_get_another(point):
    first = issue(point).sheet
    cancelled = point.desk.cancel_sheet(first.serial, "  порвав   аркуш ", operator="Петро")
    assert (cancelled.cancel_reason, cancelled.cancelled_by, cancelled.cancelled_at_ms) == (
        "порвав аркуш", "Петро", T_OPEN,
    )  # fmt: skip
    assert not cancelled.live and cancelled.voter_key == first.voter_key
    assert refused(point.desk.cancel_sheet, first.serial, "ще раз", operator="Петро").code == (
        "issue.already_cancelled"
    )
    assert issue(point).sheet.serial == "S0001-000002"


def test_reissue_cancels_and_issues_the_next_serial_to_the_same_resident_in_one_step(aged_point):
    first = issue(aged_point).sheet
    result = aged_point.desk.reissue(first.serial, "помилкова позначка", operator="Петро")
    assert result.cancelled.serial == first.serial and result.cancelled.replaced_by == "S0001-000002"
    assert (result.sheet.serial, result.sheet.voter_key) == ("S0001-000002", first.voter_key)
    assert result.sheet.issued_by == "Петро" and result.pdf.startswith(b"%PDF")
    # The age was checked at the first issue: no document is typed again.
    assert issued_sheet(aged_point.sheets, "S0001-000002").live


def test_a_reissue_refused_changes_nothing(point):
    first = issue(point).sheet
    point.device.add_voted_elsewhere([(31, "key:" + first.voter_key)], "cursor-1")
    assert refused(point.desk.reissue, first.serial, "зіпсований", operator="Петро").code == (
        "issue.voted_elsewhere"
    )
    assert issued_sheet(point.sheets, first.serial).live and stored_rows(point) == (1, 1)
    assert refused(point.desk.reissue, first.serial, "", operator="Петро").code == "review.reason"
    assert refused(point.desk.reissue, first.serial, "x" * 301, operator="Петро").code == "review.reason"


@pytest.mark.parametrize("serial", ["S0001-000099", "S0001-000001x", "../S0001-000001", "", None])
def test_only_a_sheet_issued_here_can_be_cancelled(point, serial):
    issue(point)
    assert refused(point.desk.cancel_sheet, serial, "зіпсований", operator="Петро").code == (
        "issue.unknown_serial"
    )
    assert issued_sheet(point.sheets, "S0001-000001").live


def test_the_ledger_refuses_rewrites_and_deletions(point):
    issue(point)
    db = sqlite3.connect(sheets_path_for(point.device_path))
    for statement in (
        "UPDATE issued_sheets SET voter_key = '" + "0" * 64 + "'",
        "UPDATE issued_sheets SET issued_by = 'someone'",
        "DELETE FROM issued_sheets",
        "UPDATE serial_book SET last_number = 1",
        "DELETE FROM serial_book",
        "INSERT INTO issued_sheets (serial, cycle_id, voter_key, issued_at_ms, issued_by)"
        " VALUES ('S0001-000009', 31, '12345', 0, 'x')",  # not a voter key
    ):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(statement)
    db.execute("UPDATE issued_sheets SET cancelled_at_ms = 1, cancel_reason = 'r', cancelled_by = 'p'")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE issued_sheets SET cancel_reason = 'another'")  # cancelled once, for good
    db.close()


def test_serials_are_never_handed_out_twice_across_blank_and_personal_sheets(point):
    blank = reserve_blank_serials(point.sheets, "S-0001", 31, 10, now_ms=T_OPEN)
    assert (blank[0], blank[-1]) == ("S0001-000001", "S0001-000010")
    assert issue(point).sheet.serial == "S0001-000011"
    with pytest.raises(SerialError, match=r"issue\.serials_used"):
        reserve_blank_serials(point.sheets, "S-0001", 31, 5, first=9, now_ms=T_OPEN)
    with pytest.raises(SerialError, match=r"issue\.serials_used"):
        reserve_blank_serials(point.sheets, "S-0001", 31, 1, first=11, now_ms=T_OPEN)
    assert reserve_blank_serials(point.sheets, "S-0001", 31, 2, first=40, now_ms=T_OPEN) == [
        "S0001-000040", "S0001-000041",
    ]  # fmt: skip
    assert issue(point, PASSPORT, "passport").sheet.serial == "S0001-000042"


def test_a_blank_sheet_printed_before_the_serial_book_pushes_the_next_serial_past_it(point):
    # Sheets read from an earlier print run (numbered by hand with --first) are known
    # only from their readings: the next personal serial still goes past them.
    image, answer = make_sheet(
        sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.TICK}, serial="S0001-000500"
    )
    path = point.folder / "old.png"
    path.write_bytes(encode(image, answer))
    assert point.keep(path) == [("accepted", [])]
    assert issue(point).sheet.serial == "S0001-000501"


def test_the_last_serial_is_refused_rather_than_wrapped(point):
    reserve_blank_serials(point.sheets, "S-0001", 31, 1, first=999_999, now_ms=T_OPEN)
    assert refused(issue, point).code == "issue.serials_exhausted"


def test_two_operators_issuing_at_once_never_get_the_same_serial(point, tmp_path):
    numbers = [rnokpp(date(1970, 1, 1) + timedelta(days=n)) for n in range(12)]
    second = SheetStore(sheets_path_for(point.device_path))  # as another process would open it
    desks = [point.desk, IssueDesk(point.device, second, clock=point.clock)]
    serials: list[str] = []

    def work(desk: IssueDesk, mine: list[str]) -> None:
        for number in mine:
            serials.append(
                desk.issue_sheet(31, DocumentIdentity("rnokpp", number), operator="x").sheet.serial
            )

    threads = [threading.Thread(target=work, args=(desks[n], numbers[n::2])) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second.close()
    assert sorted(serials) == [f"S0001-{n:06d}" for n in range(1, 13)]


def marked_sheet(point: IssuePoint, serial: str, name: str) -> Path:
    """The issued sheet, printed, filled in (projects 101 and 105) and scanned."""
    image, answer = make_sheet(sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.CROSS}, serial=serial)
    path = point.folder / name
    path.write_bytes(encode(image, answer))
    return path


def test_a_personal_sheet_commits_as_its_residents_vote(point):
    sheet = issue(point).sheet
    assert point.keep(marked_sheet(point, sheet.serial, "personal.png")) == [("accepted", [])]
    result = commit_ready_sheets(point.sheets, point.device, point.package, now_ms=T_OPEN + 1000)
    assert [s for _c, s, _v in result.committed] == [sheet.serial]
    [vote] = logged_votes(point.device)
    assert (vote.voter_key, vote.code_id, vote.channel, vote.selections) == (
        key_of("rnokpp", ADULT), None, "paper", (101, 105),
    )  # fmt: skip
    assert vote.vote_id == sheet_vote_id("S-0001", 31, sheet.serial)
    # Having voted on paper here, the resident gets no second sheet.
    assert refused(issue, point).code == "issue.voted_here"


def test_a_blank_sheet_still_commits_as_its_serial(point):
    [serial] = reserve_blank_serials(point.sheets, "S-0001", 31, 1, now_ms=T_OPEN)
    point.keep(marked_sheet(point, serial, "blank.png"))
    commit_ready_sheets(point.sheets, point.device, point.package, now_ms=T_OPEN)
    [vote] = logged_votes(point.device)
    assert (vote.voter_key, vote.code_id) == (None, "sheet_" + serial)


def test_a_cancelled_sheet_scanned_later_is_rejected_and_never_becomes_a_vote(point):
    spoiled = issue(point).sheet
    point.desk.reissue(spoiled.serial, "переплутав позначки", operator="Петро")
    # The resident drops the spoiled sheet into the box anyway.
    assert point.keep(marked_sheet(point, spoiled.serial, "spoiled.png")) == [
        ("rejected", ["sheet.cancelled"])
    ]
    assert point.sheets.sheet(31, spoiled.serial) is None
    result = commit_ready_sheets(point.sheets, point.device, point.package, now_ms=T_OPEN)
    assert result.committed == [] and logged_votes(point.device) == []
    [page] = point.sheets.query("SELECT outcome, reasons_json FROM pages")
    assert page == ("rejected", '["sheet.cancelled"]')  # kept for the record


def test_a_scanned_sheet_cannot_be_cancelled_and_a_committed_one_says_so(point):
    sheet = issue(point).sheet
    point.keep(marked_sheet(point, sheet.serial, "cast.png"))
    assert refused(point.desk.cancel_sheet, sheet.serial, "зіпсований", operator="Петро").code == (
        "issue.cancel_read"
    )
    commit_ready_sheets(point.sheets, point.device, point.package, now_ms=T_OPEN)
    assert refused(point.desk.reissue, sheet.serial, "зіпсований", operator="Петро").code == (
        "issue.cancel_committed"
    )
    assert issued_sheet(point.sheets, sheet.serial).live and len(logged_votes(point.device)) == 1


def test_a_personal_sheet_and_the_same_residents_kiosk_vote_resolve_by_the_counting_rule(point):
    sheet = issue(point).sheet
    point.keep(marked_sheet(point, sheet.serial, "personal.png"), now_ms=T_OPEN + 3_600_000)
    commit_ready_sheets(point.sheets, point.device, point.package, now_ms=T_OPEN + 3_600_000)
    [paper] = logged_votes(point.device)
    kiosk = VoteRecord.create(
        cycle_id=31, selections=[102], channel=Channel.KIOSK, cast_at=paper.cast_at - timedelta(minutes=5),
        voter_key=key_of("rnokpp", ADULT), device_id="T-0042",
    )  # fmt: skip
    later_online = VoteRecord.create(
        cycle_id=31, selections=[103], channel=Channel.WEB, cast_at=paper.cast_at + timedelta(days=1),
        voter_key=key_of("rnokpp", ADULT),
    )  # fmt: skip

    def statuses(*votes: VoteRecord) -> dict[str, VoteStatus]:
        found = decide(CountingInput(v.vote_id, v.voter, v.cast_at) for v in votes)
        return {v.channel: found[v.vote_id].status for v in votes}

    # One resident, one counted vote: the earliest, whichever channel it came from.
    assert paper.voter == kiosk.voter
    assert statuses(paper, kiosk) == {"paper": VoteStatus.DUPLICATE, "kiosk": VoteStatus.COUNTED}
    assert statuses(later_online, paper) == {"paper": VoteStatus.COUNTED, "web": VoteStatus.DUPLICATE}


def test_todays_list_shows_each_sheet_and_what_became_of_it(point):
    a = issue(point).sheet
    b = issue(point, PASSPORT, "passport").sheet
    point.desk.reissue(a.serial, "зіпсований", operator="Петро")
    point.keep(marked_sheet(point, b.serial, "b.png"))
    rows = {row.sheet.serial: row.status for row in point.desk.issued_today()}
    assert rows == {"S0001-000003": "live", b.serial: "read", a.serial: "cancelled"}
    point.clock.now_ms = T_OPEN + 24 * 3600 * 1000
    assert point.desk.issued_today() == []


def test_every_code_and_label_of_issuing_has_both_languages_with_the_same_placeholders():
    source = Path(__file__).resolve().parents[2] / "support_point"
    texts = "".join((source / name).read_text() for name in ("issue.py", "issue_app.py", "issue_cli.py"))
    codes = set(re.findall(r'(?:IssueRefused|_fail|notify)\(\s*"([a-z_]+\.[a-z_]+)"', texts))
    codes |= {"sheet.cancelled", "sheet.wrong_cycle", "issue.serials_used", "issue.serials_exhausted"}
    assert len(codes) > 20
    for code in codes:
        for locale in ("uk", "en"):
            assert message(code, locale, serial="S", old="S", min_age=16, detail="d") != code, code
    for table in (MESSAGES, UI):
        for key, uk in table.items():
            en = catalog("en").texts.get(uk)  # None: no English written
            assert uk.strip() and en and en.strip(), key
            assert set(re.findall(r"{(\w+)}", uk)) == set(re.findall(r"{(\w+)}", en)), key
    template = (source / "templates" / "issue.html").read_text() + (
        source / "templates" / "base.html"
    ).read_text()
    for key in set(re.findall(r't\("([a-z_]+)"', template)) - {"kind_", "status_"}:
        assert ui_text(key, "uk") and ui_text(key, "en"), key  # KeyError for a label nobody wrote
    for kind in ("rnokpp", "unzr", "passport", "id_card"):
        assert ui_text("kind_" + kind, "en")
    for status in ("live", "read", "committed", "cancelled"):
        assert ui_text("status_" + status, "en", reason="r", who="w")
