"""Reading a CSV of paper votes a support point's staff typed: every row is checked, and
each bad row is reported by number and column in the moderator's language."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from server.paper.vote_csv import (
    MAX_BYTES,
    PaperContext,
    check_paper_csv,
    example_csv,
    vote_id_for,
)
from server.services.cycle_rules import CycleRules
from voting import Ballot, BallotProject, CategoryRule, VoterKey
from voting.identity import rnokpp_check_digit

NOW = datetime(2027, 5, 10, 12, 0, tzinfo=UTC)
SECRET = secrets.token_bytes(32)
# Project numbers as printed on the ballot -> ids: small projects 1-3, large 11-12.
NUMBERS = {1: 101, 2: 102, 3: 103, 11: 111, 12: 112}


def rnokpp(n: int) -> str:
    first = f"{n:09d}"
    return first + str(rnokpp_check_digit(first))


GOOD_A, GOOD_B, GOOD_C = rnokpp(123456780), rnokpp(234567891), rnokpp(345678902)


@pytest.fixture
def ctx() -> PaperContext:
    ballot = Ballot(
        categories=[
            CategoryRule(1, "Малі проєкти", budget=900_000_00, max_choices=2),
            CategoryRule(2, "Великі проєкти", budget=3_000_000_00, max_choices=1),
        ],
        projects=[BallotProject(pid, 1 if pid < 110 else 2, 100_000_00) for pid in NUMBERS.values()],
    )
    rules = CycleRules(
        cycle_id=7,
        community_id=1,
        ballot=ballot,
        voting_starts_at=NOW - timedelta(days=5),
        voting_ends_at=NOW + timedelta(days=5),
    )
    return PaperContext(rules=rules, project_ids=NUMBERS, voter_secret=SECRET, device_code="S-0001")


def csv_bytes(*lines: str, newline: str = "\r\n") -> bytes:
    return (newline.join(lines) + newline).encode()


def check(data: bytes, ctx: PaperContext, **kw):
    return check_paper_csv(data, ctx, now=NOW, **kw)


def report(result, locale: str = "uk") -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.message(locale)) for p in result.problems]


# --- good files -------------------------------------------------------------------------------


def test_a_good_file_becomes_paper_votes_keyed_by_the_residents_documents(ctx):
    data = csv_bytes(
        "document_kind,document_number,projects",
        f"rnokpp,{GOOD_A},1 11",
        "passport,ав 123456,2|3",
        "id_card,001234567,12",
    )
    result = check(data, ctx)
    assert result.problems == [] and result.rows == 3
    rows = [row for row, _record in result.records]
    assert rows == [2, 3, 4]  # the spreadsheet's row numbers: the header is row 1
    first = result.records[0][1]
    assert first.voter_key == VoterKey.derive(SECRET, "rnokpp", GOOD_A).hex
    assert first.selections == (101, 111) and first.channel == "paper" and first.device_id == "S-0001"
    assert first.cast_at == NOW  # no voted_at: the moment of import
    assert first.vote_id == vote_id_for(7, result.sha256, 2)
    # Latin letters in a passport series are read as the Cyrillic ones they look like.
    assert result.records[1][1].voter_key == VoterKey.derive(SECRET, "passport", "АВ123456").hex


def test_semicolons_a_bom_and_voter_keys_are_read_too(ctx):
    key = "ab" * 32
    data = "\ufeffvoter_key;projects;voted_at\n" + f"{key.upper()};1 | 2;2027-05-09 10:30\n"
    result = check(data.encode(), ctx)
    assert result.problems == []
    [(_row, record)] = result.records
    assert record.voter_key == key and record.selections == (101, 102)
    # No zone given: Kyiv time (UTC+3 in May).
    assert record.cast_at == datetime(2027, 5, 9, 7, 30, tzinfo=UTC)


def test_the_same_file_gives_the_same_vote_ids_and_another_file_others(ctx):
    data = csv_bytes("document_kind,document_number,projects", f"rnokpp,{GOOD_A},1")
    again = check(data, ctx)
    assert check(data, ctx).records == again.records
    other = check(data + csv_bytes(f"rnokpp,{GOOD_B},1"), ctx)
    assert other.records[0][1].vote_id != again.records[0][1].vote_id


def test_a_row_imported_before_keeps_the_time_of_its_first_import(ctx):
    data = csv_bytes("document_kind,document_number,projects", f"rnokpp,{GOOD_A},1")
    first_import = NOW - timedelta(days=2)
    result = check(data, ctx, stored_cast_at=lambda ids: {i: first_import for i in ids})
    assert result.records[0][1].cast_at == first_import
    assert result.previously_stored == {result.records[0][1].vote_id}


def test_the_example_file_offered_on_the_page_reads_without_problems(ctx):
    data = example_csv([1, 2, 11], ctx.rules.voting_starts_at + timedelta(days=1)).encode()
    result = check(data, ctx)
    assert result.problems == [] and len(result.records) == 3


# --- bad rows -----------------------------------------------------------------------------------

BAD_ROWS = [
    ("licence,123,1", "document_kind", "Невідомий тип документа.", "Unknown document type."),
    (
        f"rnokpp,{GOOD_A[:9]}{(int(GOOD_A[9]) + 1) % 10},1",
        "document_number",
        "У РНОКПП помилка: контрольна цифра не збігається.",
        "The taxpayer number (RNOKPP) has a typo: its check digit does not match.",
    ),
    ("id_card,12345,1", "document_number", "Номер ID-картки має складатися з 9 цифр.", "must be 9 digits"),
    (f"rnokpp,{GOOD_A},1 99", "projects", "Проєкту 99 немає в цьому бюлетені.", "Project 99 is not on"),
    (
        f"rnokpp,{GOOD_A},1 2 3",
        "projects",
        "У категорії «Малі проєкти» можна обрати не більше 2.",
        "In “Малі проєкти” you may choose at most 2.",
    ),
    (f"rnokpp,{GOOD_A},2 2", "projects", "Проєкт 2 обрано двічі.", "Project 2 was chosen twice."),
    (f"rnokpp,{GOOD_A},один", "projects", "Вкажіть номери проєктів цифрами", "Give project numbers"),
    (f"rnokpp,{GOOD_A},", "projects", "Порожнє значення.", "The value is empty."),
    (",,", None, "Порожній рядок.", "Empty row."),
    (f"rnokpp,{GOOD_A},1,extra", None, "Забагато стовпців: 4, а в заголовку 3.", "Too many columns: 4"),
    (f"rnokpp,{'1' * 600},1", "document_number", "Значення задовге", "The value is too long"),
    # A formula is only text here: a malformed number, never evaluated or echoed.
    ("rnokpp,=cmd|' /C calc'!A0,1", "document_number", "РНОКПП має складатися з 10 цифр.", "10 digits"),
    (f"rnokpp,{GOOD_A},=1+2", "projects", "Вкажіть номери проєктів цифрами", "Give project numbers"),
    # A right-to-left override makes a cell look like something else: refused, not cleaned.
    (f"rnokpp,\u202e{GOOD_A},1", "document_number", "РНОКПП має складатися з 10 цифр.", "10 digits"),
    (f"rnokpp,{GOOD_A},1\u202e 2", "projects", "Вкажіть номери проєктів цифрами", "Give project numbers"),
]


@pytest.mark.parametrize(("line", "column", "uk", "en"), BAD_ROWS)
def test_each_bad_row_is_reported_with_its_number_and_column_in_both_languages(ctx, line, column, uk, en):
    data = csv_bytes("document_kind,document_number,projects", f"rnokpp,{GOOD_B},1", line)
    result = check(data, ctx)
    assert [row for row, _record in result.records] == [2]
    assert result.problems, line
    assert {(p.row, p.column) for p in result.problems} == {(3, column)}
    assert uk in result.problems[0].message("uk")
    assert en in result.problems[0].message("en")


def test_the_voting_time_is_checked_against_the_cycle_and_the_clock(ctx):
    data = csv_bytes(
        "document_kind,document_number,projects,voted_at",
        f"rnokpp,{GOOD_A},1,вчора",
        f"rnokpp,{GOOD_B},1,{(NOW + timedelta(hours=2)).isoformat()}",
        f"rnokpp,{GOOD_C},1,2027-04-01 10:00",
    )
    result = check(data, ctx)
    assert result.records == []
    assert report(result, "en") == [
        (
            2,
            "voted_at",
            "The voting time looks like 2027-05-01 14:30 (Kyiv time) or 2027-05-01T14:30:00+03:00.",
        ),
        (3, "voted_at", "The voting time is in the future."),
        (4, "voted_at", "The vote was cast outside the voting window."),
    ]


def test_a_voter_twice_in_the_file_is_reported_at_the_second_row(ctx):
    data = csv_bytes(
        "document_kind,document_number,projects",
        f"rnokpp,{GOOD_A},1",
        f"rnokpp,{GOOD_B},1",
        f"rnokpp,{GOOD_A[:5]} {GOOD_A[5:]},2",  # the same number, typed with a space
    )
    result = check(data, ctx)
    assert [row for row, _record in result.records] == [2, 3]
    assert report(result) == [(4, None, "Цей виборець уже є в рядку 2.")]
    assert report(result, "en") == [(4, None, "This voter is already in row 2.")]


def test_a_row_can_have_several_problems_and_all_are_listed(ctx):
    data = csv_bytes("document_kind,document_number,projects", "rnokpp,12,1 99")
    result = check(data, ctx)
    assert [(p.row, p.column, p.code) for p in result.problems] == [
        (2, "document_number", "identity.rnokpp_format"),
        (2, "projects", "ballot.unknown_project"),
    ]


def test_document_numbers_never_appear_in_the_report(ctx):
    data = csv_bytes(
        "document_kind,document_number,projects",
        f"rnokpp,{GOOD_A},1",
        f"rnokpp,{GOOD_A},99",
        "rnokpp,1234567890,1",
    )
    result = check(data, ctx)
    assert len(result.problems) == 3
    texts = [p.message(locale) for p in result.problems for locale in ("uk", "en")]
    shown = repr(result.problems) + "".join(texts)
    assert GOOD_A not in shown and "1234567890" not in shown


# --- the file as a whole ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "uk"),
    [
        (b"", "Файл порожній."),
        (b"  \r\n", "Файл порожній."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "Це не текстовий файл CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 100, "Це не текстовий файл CSV"),
        (b"document_kind,document_number,projects\r\nrnokpp,\x00123,1\r\n", "Це не текстовий файл CSV"),
        ("номер,проєкти\r\n1,2\r\n".encode("cp1251"), "Це не текстовий файл CSV"),
        (b"name,projects\r\nx,1\r\n", "Невідомий стовпець «name»."),
        (b"document_kind,projects\r\nrnokpp,1\r\n", "Перший рядок має містити назви стовпців"),
        (b"voter_key,projects,projects\r\n", "Стовпець «projects» повторюється."),
        (b"voter_key,projects\r\n", "У файлі немає жодного рядка з голосом."),
        (b'voter_key,projects\r\n"abc,1\r\n', "файл CSV пошкоджено"),
        # one cell over csv's 128 KB field limit, quotes closed: too long, not damaged
        (b'voter_key,projects\r\n"' + b"a" * 140_000 + b'",1\r\n', "Рядок 2: поле довше за 128 КБ"),
        (b"voter_key,projects\r\n" + b"a" * 140_000 + b",1\r\n", "Рядок 2: поле довше за 128 КБ"),
        (b"=cmd|' /C calc'!A0,projects\r\n", "Невідомий стовпець «=cmd|' /c calc'!a0»."),
        ("voter_key,projects,\u202evoted_at\r\n".encode(), "Невідомий стовпець «voted_at»."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole_with_a_clear_message(ctx, data, uk):
    result = check(data, ctx)
    assert result.file_refused and result.records == []
    assert uk in result.problems[0].message("uk")
    assert result.problems[0].message("en") != result.problems[0].message("uk")


def test_a_file_over_five_megabytes_is_refused_unread(ctx):
    data = b"voter_key,projects\r\n" + b"x" * MAX_BYTES
    result = check(data, ctx)
    assert report(result) == [(None, None, "Файл завеликий: не більше 5 МБ.")]
    assert report(result, "en") == [(None, None, "The file is too large: at most 5 MB.")]


def test_a_file_of_sixty_thousand_rows_is_refused(ctx):
    key = "ab" * 32
    data = csv_bytes("voter_key,projects", *([f"{key},1"] * 60_000))
    assert len(data) < MAX_BYTES
    result = check(data, ctx)
    assert result.records == []
    assert report(result, "en") == [
        (None, None, "Too many rows: at most 50000 in one file. Split the file into parts.")
    ]


def test_a_row_of_ten_thousand_columns_is_one_problem_not_ten_thousand(ctx):
    data = csv_bytes("voter_key,projects", "," * 9_999 + "x")
    result = check(data, ctx)
    assert report(result, "en") == [(2, None, "Too many columns: 10000, while the header has 2.")]


def test_a_header_of_ten_thousand_columns_is_refused(ctx):
    data = csv_bytes("voter_key,projects," + ",".join(["voted_at"] * 9_998))
    result = check(data, ctx)
    assert result.file_refused
    assert report(result) == [(None, None, "Стовпець «voted_at» повторюється.")]
