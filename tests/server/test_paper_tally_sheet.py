"""Reading a support point's tally sheet: a good sheet gives every project's votes, and
every bad file, cell or total is refused with the row, the column and a message in
Ukrainian and English. Pure checks, no database."""

from __future__ import annotations

import re

import pytest

from server.paper.tally_csv import MAX_BYTES, MAX_ROWS, check_tally_csv, example_csv
from server.paper.tally_messages import MESSAGES, tally_message
from server.paper.tally_sheet import (
    TallyBallot,
    TallyCategory,
    TallyProject,
    TallySheet,
    check_tally_form,
    sheet_problems,
)

SMALL, LARGE = 10, 20
# Small projects: a ballot may choose 2 of them; large ones: 1.
BALLOT = TallyBallot(
    cycle_id=7,
    projects=(
        TallyProject(101, 3, "Сквер біля школи", SMALL),
        TallyProject(102, 4, "Пандус у бібліотеці", SMALL),
        TallyProject(103, 5, "Дитячий майданчик «Сонечко»", SMALL),
        TallyProject(201, 11, "Стадіон", LARGE),
        TallyProject(202, 12, "Пам'ятник", LARGE),
    ),
    categories=(TallyCategory(SMALL, "Малі проєкти", 2), TallyCategory(LARGE, "Великі проєкти", 1)),
)
GOOD_ROWS = ("3,40", "4,35", "11,50", "12,30", "ballots_issued,100", "ballots_cast,90", "ballots_spoiled,5")


def csv_bytes(*lines: str, header: str = "project_id,votes") -> bytes:
    return ("\r\n".join((header, *lines)) + "\r\n").encode()


def problems_of(check) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.code) for p in check.problems]


# --- good sheets ----------------------------------------------------------------------------


def test_a_good_sheet_gives_every_projects_votes_and_zero_for_the_ones_not_listed():
    check = check_tally_csv(csv_bytes(*GOOD_ROWS), BALLOT)
    assert check.problems == []
    assert check.sheet == TallySheet(
        ballots_issued=100,
        ballots_cast=90,
        ballots_spoiled=5,
        votes={101: 40, 102: 35, 103: 0, 201: 50, 202: 30},
    )
    assert check.sheet.valid_ballots == 85 and check.sheet.total_votes == 155
    assert len(check.sha256) == 64


def test_excel_style_semicolons_a_byte_order_mark_blank_rows_and_trailing_separators_are_read():
    text = (
        "\ufeffproject_id;votes;title;\r\n3;40;;\r\n;;;\r\n11;50;Стадіон;\r\n\r\nballots_cast;90;Вийнято;\r\n"
    )
    check = check_tally_csv(text.encode(), BALLOT)
    assert check.problems == []
    assert check.sheet.votes[101] == 40 and check.sheet.votes[201] == 50
    assert check.sheet.ballots_issued is None and check.sheet.ballots_spoiled == 0


def test_a_title_that_differs_only_in_case_spaces_and_apostrophes_still_matches():
    data = csv_bytes(
        "12,30,ПАМ’ЯТНИК",
        '5,10,"дитячий   майданчик ""Сонечко"""',
        "ballots_cast,90,",
        header="project_id,votes,title",
    )
    check = check_tally_csv(data, BALLOT)
    assert check.problems == [] and check.sheet.votes[202] == 30


def test_the_totals_can_come_from_the_form_beside_the_file():
    check = check_tally_csv(csv_bytes("3,40"), BALLOT, {"ballots_cast": "90", "ballots_spoiled": " 2 "})
    assert check.problems == []
    assert (check.sheet.ballots_cast, check.sheet.ballots_spoiled) == (90, 2)


def test_the_same_total_in_the_file_and_the_form_must_agree():
    check = check_tally_csv(csv_bytes("3,40", "ballots_cast,90"), BALLOT, {"ballots_cast": "91"})
    assert problems_of(check) == [(None, "ballots_cast", "paper_tally.summary_disagrees")]
    assert (
        check.problems[0].message("en") == "ballots_cast: 90 in the file, 91 in the form. Keep one of them."
    )
    assert check.sheet is None


def test_the_example_file_passes_every_check():
    check = check_tally_csv(("\ufeff" + example_csv(BALLOT)).encode(), BALLOT)
    assert check.problems == [] and check.sheet.ballots_cast == 10


def test_a_nil_sheet_is_typed_into_the_form():
    check = check_tally_form({"ballots_cast": "0"}, BALLOT)
    assert check.problems == [] and check.sheet.total_votes == 0


def test_the_form_reads_one_field_per_project_and_empty_means_zero():
    form = {
        "ballots_issued": "",
        "ballots_cast": "90",
        "ballots_spoiled": "",
        "votes_3": "40",
        "votes_11": " 50 ",
    }
    check = check_tally_form(form, BALLOT)
    assert check.problems == []
    assert check.sheet.votes == {101: 40, 102: 0, 103: 0, 201: 50, 202: 0}
    assert check.sha256 is None and check.sheet.ballots_issued is None


# --- bad files and cells ----------------------------------------------------------------------

BAD_FILES = {
    "empty": (b"", "paper_tally.empty_file"),
    "only_spaces": (b"  \r\n\r\n", "paper_tally.empty_file"),
    "byte_order_mark_only": ("\ufeff".encode(), "paper_tally.empty_file"),
    "windows_1251": (
        "project_id,votes\r\n3,40\r\nballots_cast,90\r\n# проєкт".encode("cp1251"),
        "paper_tally.not_text",
    ),
    "nul_bytes": (b"project_id,votes\r\n3,4\x000\r\n", "paper_tally.not_text"),
    "binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "paper_tally.not_text"),
    "oversized": (csv_bytes(*["3,1"] * (MAX_BYTES // 4)), "paper_tally.too_large"),
    "too_many_rows": (csv_bytes(*["3,1"] * (MAX_ROWS + 1)), "paper_tally.too_many_rows"),
    "header_only": (b"project_id,votes\r\n", "paper_tally.no_rows"),
    "no_header": (b"3,40\r\n4,35\r\n", "paper_tally.unknown_column"),
    "votes_missing_from_header": (b"project_id,title\r\n3,x\r\n", "paper_tally.bad_header"),
    "repeated_column": (b"project_id,votes,votes\r\n3,1,1\r\n", "paper_tally.repeated_column"),
    "formula_header": (b"=cmd|' /C calc'!A0,votes\r\n3,1\r\n", "paper_tally.unknown_column_unnamed"),
    "unclosed_quote": (b'project_id,votes\r\n3,"40\r\n4,35\r\n', "paper_tally.malformed"),
    "field_over_128_kb": (b"project_id,votes\r\n3," + b"4" * 140_000 + b"\r\n", "paper_tally.field_too_long"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_is_refused_as_a_whole_with_its_reason(name):
    data, code = BAD_FILES[name]
    check = check_tally_csv(data, BALLOT, {"ballots_cast": "90"})
    assert [p.code for p in check.problems] == [code]
    assert check.file_refused and check.sheet is None


def test_a_formula_in_the_header_is_never_shown_back():
    [problem] = check_tally_csv(BAD_FILES["formula_header"][0], BALLOT).problems
    assert "calc" not in problem.message("uk") and "calc" not in problem.message("en")


BAD_CELLS = {
    # name: (row, expected (column, code))
    "negative": ("3,-5", ("votes", "paper_tally.negative")),
    "decimal": ("3,12.5", ("votes", "paper_tally.not_integer")),
    "decimal_comma": ('3,"12,0"', ("votes", "paper_tally.not_integer")),
    "thousands_space": ("3,1 234", ("votes", "paper_tally.not_integer")),
    "words": ("3,сорок", ("votes", "paper_tally.not_integer")),
    "arabic_indic_digits": ("3,٤٠", ("votes", "paper_tally.not_integer")),
    "superscript": ("3,4²", ("votes", "paper_tally.not_integer")),
    "huge": ("3,1000001", ("votes", "paper_tally.too_big")),
    "enormous": ("3," + "9" * 250, ("votes", "paper_tally.too_big")),
    "empty_votes": ("3,", ("votes", "paper_tally.missing_value")),
    "empty_project": (",5", ("project_id", "paper_tally.missing_value")),
    "formula_votes": ("3,=40+1", ("votes", "paper_tally.formula")),
    "plus_votes": ("3,+40", ("votes", "paper_tally.formula")),
    "minus_formula_votes": ("3,-1+41", ("votes", "paper_tally.formula")),
    "at_project": ("@SUM(A1),5", ("project_id", "paper_tally.formula")),
    "formula_title": (
        '3,5,"=HYPERLINK(""http://evil.example"",""Сквер"")"',
        ("title", "paper_tally.formula"),
    ),
    "unknown_project": ("99999,5", ("project_id", "paper_tally.unknown_project")),
    "rejected_or_other_cycle": ("6,5", ("project_id", "paper_tally.unknown_project")),
    "not_a_number": ("№3,5", ("project_id", "paper_tally.bad_project")),
    "too_many_columns": ("3,5,Сквер біля школи,зайве", (None, "paper_tally.too_many_columns")),
    "too_long": ("3,5," + "я" * 301, ("title", "paper_tally.cell_too_long")),
    "title_of_another_project": ("3,5,Стадіон", ("title", "paper_tally.title_mismatch")),
}


@pytest.mark.parametrize("name", BAD_CELLS)
def test_a_bad_cell_is_reported_with_its_row_and_column_and_nothing_is_taken(name):
    line, (column, code) = BAD_CELLS[name]
    data = csv_bytes("4,1", line, "ballots_cast,90", header="project_id,votes,title")
    check = check_tally_csv(data, BALLOT)
    assert problems_of(check) == [(3, column, code)]
    assert check.sheet is None and not check.file_refused and check.bad_rows == 1
    # Every problem reads in both languages, and never echoes what the cell held.
    for locale in ("uk", "en"):
        text = check.problems[0].message(locale)
        assert text and "evil" not in text and "=40" not in text


def test_a_project_or_a_total_twice_names_the_row_it_first_appeared_in():
    data = csv_bytes("3,40", "4,35", "3,41", "ballots_cast,90", "ballots_cast,91")
    check = check_tally_csv(data, BALLOT)
    assert problems_of(check) == [
        (4, "project_id", "paper_tally.repeated_project"),
        (6, "project_id", "paper_tally.repeated_summary"),
    ]
    assert check.problems[0].message("uk") == "Проєкт №3 уже є в рядку 2."
    assert check.problems[1].message("en") == "The ballots_cast row is already in row 5."


def test_every_bad_row_is_reported_not_only_the_first():
    data = csv_bytes("3,-1", "4,x", "99,1", "11,=1")
    check = check_tally_csv(data, BALLOT, {"ballots_cast": "9"})
    assert [p.row for p in check.problems] == [2, 3, 4, 5] and check.bad_rows == 4


# --- the sheet's totals ---------------------------------------------------------------------


def test_ballots_cast_is_required():
    check = check_tally_csv(csv_bytes("3,40"), BALLOT)
    assert problems_of(check) == [(None, "ballots_cast", "paper_tally.missing_ballots_cast")]


def test_a_project_cannot_have_more_votes_than_valid_ballots():
    data = csv_bytes("11,40", "3,86", "ballots_cast,90", "ballots_spoiled,5")
    check = check_tally_csv(data, BALLOT)
    assert problems_of(check) == [(3, "votes", "paper_tally.votes_over_ballots")]
    assert check.problems[0].message("uk").startswith("86 голосів — більше, ніж дійсних бюлетенів (85)")


def test_a_project_may_have_exactly_as_many_votes_as_valid_ballots():
    check = check_tally_csv(csv_bytes("11,85", "ballots_cast,90", "ballots_spoiled,5"), BALLOT)
    assert check.problems == [] and check.sheet.votes[201] == 85


def test_a_category_cannot_have_more_votes_than_ballots_times_its_choices():
    # Large projects: one choice per ballot, so 50 + 41 on 90 ballots cannot be.
    data = csv_bytes("11,50", "12,41", "ballots_cast,90")
    check = check_tally_csv(data, BALLOT)
    assert problems_of(check) == [(None, None, "paper_tally.category_over_limit")]
    assert check.problems[0].message("en") == (
        "Category “Великі проєкти”: 91 votes in all, while 90 valid ballots × 1 "
        "(the most projects a ballot may choose) allow at most 90."
    )
    # Small projects allow two choices a ballot: 90 + 90 + 0 on 90 ballots is possible.
    assert check_tally_csv(csv_bytes("3,90", "4,90", "ballots_cast,90"), BALLOT).problems == []
    over = check_tally_csv(csv_bytes("3,90", "4,90", "5,1", "ballots_cast,90"), BALLOT)
    assert [p.code for p in over.problems] == ["paper_tally.category_over_limit"]


def test_the_cycles_total_choice_limit_counts_too():
    ballot = TallyBallot(BALLOT.cycle_id, BALLOT.projects, BALLOT.categories, max_total=2)
    data = csv_bytes("3,90", "4,90", "11,1", "ballots_cast,90")
    assert [p.code for p in check_tally_csv(data, ballot).problems] == ["paper_tally.total_over_limit"]


@pytest.mark.parametrize(
    ("summary", "code", "column"),
    [
        (("ballots_issued,80", "ballots_cast,90"), "paper_tally.cast_over_issued", "votes"),
        (("ballots_cast,90", "ballots_spoiled,91"), "paper_tally.spoiled_over_cast", "votes"),
    ],
)
def test_the_ballot_counts_must_be_possible(summary, code, column):
    check = check_tally_csv(csv_bytes("3,1", *summary), BALLOT)
    assert [(p.column, p.code) for p in check.problems] == [(column, code)]


# --- the form ---------------------------------------------------------------------------------


def test_bad_form_fields_are_named_so_the_form_can_mark_them():
    form = {"ballots_cast": "", "votes_3": "-2", "votes_4": "2,5", "votes_11": "=1", "votes_12": "9" * 21}
    check = check_tally_form(form, BALLOT)
    assert {(p.column, p.code) for p in check.problems} == {
        ("ballots_cast", "paper_tally.missing_ballots_cast"),
        ("votes_3", "paper_tally.negative"),
        ("votes_4", "paper_tally.not_integer"),
        ("votes_11", "paper_tally.formula"),
        ("votes_12", "paper_tally.cell_too_long"),
    }
    assert check.bad_fields == {"ballots_cast", "votes_3", "votes_4", "votes_11", "votes_12"}
    assert check.sheet is None


def test_a_typed_project_over_the_valid_ballots_is_placed_on_its_field():
    check = check_tally_form({"ballots_cast": "10", "ballots_spoiled": "2", "votes_4": "9"}, BALLOT)
    assert problems_of(check) == [(None, "votes_4", "paper_tally.votes_over_ballots")]


def test_fields_of_other_projects_are_ignored():
    check = check_tally_form({"ballots_cast": "10", "votes_99": "5", "votes_6": "-1"}, BALLOT)
    assert check.problems == [] and check.sheet.total_votes == 0


def test_a_ballot_without_projects_takes_no_sheet():
    empty = TallyBallot(1, (), ())
    assert [p.code for p in check_tally_form({"ballots_cast": "1"}, empty).problems] == [
        "paper_tally.no_projects"
    ]
    assert [p.code for p in check_tally_csv(csv_bytes("3,1"), empty).problems] == ["paper_tally.no_projects"]


# --- what is stored ---------------------------------------------------------------------------


def test_the_content_hash_covers_the_numbers_the_cycle_and_the_support_point_only():
    sheet = check_tally_csv(csv_bytes(*GOOD_ROWS), BALLOT).sheet
    typed = check_tally_form(
        {
            "ballots_issued": "100",
            "ballots_cast": "90",
            "ballots_spoiled": "5",
            "votes_3": "40",
            "votes_4": "35",
        }
        | {"votes_11": "50", "votes_12": "30", "votes_5": "0"},
        BALLOT,
    ).sheet
    assert sheet.content_hash(7, "S-0001") == typed.content_hash(7, "S-0001")
    assert sheet.content_hash(7, "S-0001") != sheet.content_hash(7, "S-0002")
    assert sheet.content_hash(7, "S-0001") != sheet.content_hash(8, "S-0001")
    changed = TallySheet(100, 90, 5, {**sheet.votes, 103: 1})
    assert changed.content_hash(7, "S-0001") != sheet.content_hash(7, "S-0001")


def test_a_stored_sheet_is_checked_again_without_a_file():
    broken = TallySheet(None, 10, 0, {101: 11})
    assert [p.code for p in sheet_problems(broken, BALLOT)] == ["paper_tally.votes_over_ballots"]


def test_every_problem_code_has_both_languages():
    for code in MESSAGES:
        params = dict.fromkeys(re.findall(r"{(\w+)}", MESSAGES[code]), "x")
        uk, en = tally_message(code, "uk", **params), tally_message(code, "en", **params)
        assert code.startswith("paper_tally.") and uk and en and uk != en, code
