"""An uploaded CSV as text (server.services.csv_text), attacked: NUL bytes, byte-order
marks, bytes that are not UTF-8, UTF-16, a lone surrogate, a huge line, line endings of
every kind; and the three readers built on it (the voter list, the paper-vote table, the
tally sheet) accepting and refusing each such file as they always have. Pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.paper.tally_csv import check_tally_csv
from server.paper.tally_sheet import TallyBallot, TallyCategory, TallyProject
from server.paper.vote_csv import PaperContext, check_paper_csv
from server.services.csv_text import NUL_SCAN_BYTES, csv_delimiter, csv_lines, csv_text
from server.services.cycle_rules import CycleRules
from server.services.eligibility_file import read_list_file
from voting import Ballot, BallotProject, CategoryRule
from voting.identity import rnokpp_check_digit

BOM = b"\xef\xbb\xbf"
GOOD = "document_kind,document_number\r\nrnokpp,1234567899\r\n"


# --- the text -------------------------------------------------------------------------------


def test_utf8_is_text_with_or_without_a_byte_order_mark():
    assert csv_text(GOOD.encode()) == GOOD
    assert csv_text(BOM + GOOD.encode()) == GOOD
    assert csv_text("проєкт,голоси\r\n".encode()) == "проєкт,голоси\r\n"
    assert csv_text(b"") == ""
    assert csv_text(BOM) == ""  # a mark and nothing else: the reader says the file is empty


def test_only_the_first_byte_order_mark_is_taken_away():
    # A second one is a character of the first cell, which no header names.
    assert csv_text(BOM + BOM + b"a,b\r\n") == "\ufeffa,b\r\n"
    assert csv_text(b"a," + BOM + b"b\r\n") == "a,\ufeffb\r\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00", id="a_nul_alone"),
        pytest.param(b"\x00" + GOOD.encode(), id="nul_first"),
        pytest.param(GOOD.encode().replace(b"rnokpp", b"rno\x00kpp"), id="nul_in_a_cell"),
        pytest.param(GOOD.encode() + b"\r\n" * 100_000 + b"\x00", id="nul_at_the_far_end"),
        pytest.param(BOM + b"\x00", id="nul_after_a_bom"),
        pytest.param(GOOD.encode() + b"\xff", id="invalid_utf8"),
        pytest.param(GOOD.encode() + "ї".encode()[:1], id="truncated_sequence"),
        pytest.param(b"a,b\r\n\xc0\xaf\r\n", id="overlong_slash"),
        pytest.param(b"a,b\r\n\xed\xa0\x80\r\n", id="lone_surrogate"),
        pytest.param(b"a,b\r\n\xed\xa0\xbd\xed\xb8\x80\r\n", id="surrogate_pair_cesu8"),
        pytest.param(b"a,b\r\n\xf4\x90\x80\x80\r\n", id="beyond_u10ffff"),
        pytest.param(GOOD.encode("utf-16"), id="utf16_with_bom"),
        pytest.param(GOOD.encode("utf-16-le"), id="utf16_le"),
        pytest.param(GOOD.encode("utf-16-be"), id="utf16_be"),
        pytest.param(GOOD.encode("utf-32"), id="utf32"),
        pytest.param("номер,проєкти\r\n1,2\r\n".encode("cp1251"), id="windows_1251"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
    ],
)
def test_what_is_not_utf8_text_is_no_text(data):
    assert csv_text(data) is None


def test_a_huge_line_is_text_all_the_same():
    # A line's length is the csv module's business (csv_limits: field_too_long), not the text's.
    line = "9" * 2_000_000
    assert csv_text(line.encode()) == line
    lines = csv_lines(line.encode() + b"\r\nnext\r\n")
    assert lines is not None and [len(x) for x in lines] == [2_000_002, 6]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_endings_are_kept_as_they_are(newline):
    text = newline.join(["a;b", "1;2", "3;4"]) + newline
    assert csv_text(text.encode()) == text
    lines = csv_lines(BOM + text.encode())
    assert lines is not None and list(lines) == [f"a;b{newline}", f"1;2{newline}", f"3;4{newline}"]


def test_lines_are_decoded_as_they_are_read():
    assert list(csv_lines(BOM + GOOD.encode()) or []) == GOOD.splitlines(keepends=True)
    assert list(csv_lines(BOM) or ["not empty"]) == []
    # A NUL or bad bytes near the start: no text at once.
    assert csv_lines(b"\x00" + GOOD.encode()) is None
    assert csv_lines(GOOD.encode("utf-16")) is None
    # Bytes that are not UTF-8 further on stop the reading there (the reader catches it).
    lines = csv_lines(GOOD.encode() + b"bad\xff\r\n")
    assert lines is not None
    with pytest.raises(UnicodeDecodeError):
        list(lines)
    lines = csv_lines(b"a,b\r\n\xed\xa0\x80\r\n")
    assert lines is not None
    with pytest.raises(UnicodeDecodeError):
        list(lines)


def test_lines_look_for_a_nul_in_the_first_64_kb_only():
    # A register of a million rows is not scanned twice; a NUL past the first 64 KB
    # reaches the csv module, which reads it as a character of its row.
    near = b"a\r\n" * ((NUL_SCAN_BYTES - 10) // 3) + b"\x00\r\n"
    far = b"a\r\n" * (NUL_SCAN_BYTES // 3 + 10) + b"\x00\r\n"
    assert csv_lines(near) is None
    lines = csv_lines(far)
    assert lines is not None and list(lines)[-1] == "\x00\r\n"


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("a,b", ","),
        ("a;b", ";"),
        ("a;b,c", ","),  # as many of each: a comma
        ("a;b;c,d", ";"),
        ("", ","),
        ('"x;y",b', ","),  # quotes are not looked into: the count decides
        ("\ufeffa;b\r\n", ";"),
    ],
)
def test_the_delimiter_is_the_more_frequent_of_semicolon_and_comma(line, delimiter):
    assert csv_delimiter(line) == delimiter


# --- the three readers ----------------------------------------------------------------------

NOW = datetime(2027, 5, 10, 12, 0, tzinfo=UTC)
SECRET = b"s" * 32


def rnokpp(n: int) -> str:
    first = f"{n:09d}"
    return first + str(rnokpp_check_digit(first))


A = rnokpp(123456780)
NUMBERS = {1: 101, 2: 102}
CTX = PaperContext(
    rules=CycleRules(
        cycle_id=7,
        community_id=1,
        ballot=Ballot(
            categories=[CategoryRule(1, "Малі проєкти", budget=900_000_00, max_choices=2)],
            projects=[BallotProject(pid, 1, 100_000_00) for pid in NUMBERS.values()],
        ),
        voting_starts_at=NOW - timedelta(days=5),
        voting_ends_at=NOW + timedelta(days=5),
    ),
    project_ids=NUMBERS,
    voter_secret=SECRET,
    device_code="S-0001",
)
TALLY_BALLOT = TallyBallot(
    cycle_id=7,
    projects=(TallyProject(101, 3, "Сквер біля школи", 10),),
    categories=(TallyCategory(10, "Малі проєкти", 2),),
)
GOOD_LINES = {
    "list": ["document_kind,document_number", f"rnokpp,{A}"],
    "vote": ["document_kind,document_number,projects", f"rnokpp,{A},1"],
    "tally": ["project_id,votes", "3,40", "ballots_issued,100", "ballots_cast,90", "ballots_spoiled,5"],
}


def read(reader: str, data: bytes) -> tuple[list[str], int]:
    """The problem codes a reader gives `data`, and how many votes or keys it takes."""
    if reader == "list":
        keys: list[str] = []
        check = read_list_file(data, SECRET, keys.extend)
        return sorted({p.code for p in check.problems}), len(keys)
    if reader == "vote":
        paper = check_paper_csv(data, CTX, now=NOW)
        return sorted({p.code for p in paper.problems}), len(paper.records)
    tally = check_tally_csv(data, TALLY_BALLOT)
    return sorted({p.code for p in tally.problems}), int(tally.sheet is not None)


def good(reader: str, newline: str = "\r\n") -> str:
    return newline.join(GOOD_LINES[reader]) + newline


FILES = {
    "plain": lambda r: good(r).encode(),
    "bom": lambda r: BOM + good(r).encode(),
    "lf_only": lambda r: good(r, "\n").encode(),
    "cr_only": lambda r: good(r, "\r").encode(),
    "two_boms": lambda r: BOM + BOM + good(r).encode(),
    "bom_only": lambda r: BOM,
    "bom_and_a_line_end": lambda r: BOM + b"\r\n",
    "nul_first": lambda r: b"\x00" + good(r).encode(),
    "nul_in_a_cell": lambda r: good(r).encode().replace(b",", b",\x00", 1),
    "nul_after_64_kb": lambda r: good(r).encode() + b"\r\n" * 40_000 + b"\x00\r\n",
    "invalid_utf8": lambda r: good(r).encode() + b"\xff\r\n",
    "invalid_utf8_after_64_kb": lambda r: good(r).encode() + b"\r\n" * 40_000 + b"\xff\r\n",
    "truncated_sequence": lambda r: good(r).encode() + "ї".encode()[:1],
    "overlong": lambda r: good(r).encode() + b"\xc0\xaf\r\n",
    "lone_surrogate": lambda r: good(r).encode() + b"\xed\xa0\x80\r\n",
    "utf16_with_bom": lambda r: good(r).encode("utf-16"),
    "utf16_be": lambda r: good(r).encode("utf-16-be"),
    "windows_1251": lambda r: (good(r) + "Сквер\r\n").encode("cp1251"),
    "huge_line": lambda r: good(r).encode() + b"9" * 200_000 + b"\r\n",
    "huge_quoted_cell": lambda r: good(r).encode() + b'"' + b"9" * 200_000 + b'"\r\n',
}
# What each reader has always answered: its problem codes (by prefix: list., paper.,
# paper_tally.) and the keys, votes or sheet (1) it took.
ACCEPTED: tuple[list[str], int] = ([], 1)
NOT_TEXT = {
    "list": (["list.not_text"], 0),
    "vote": (["paper.not_text"], 0),
    "tally": (["paper_tally.not_text"], 0),
}
EXPECTED = {
    "plain": dict.fromkeys(GOOD_LINES, ACCEPTED),
    "bom": dict.fromkeys(GOOD_LINES, ACCEPTED),
    "lf_only": dict.fromkeys(GOOD_LINES, ACCEPTED),
    "cr_only": dict.fromkeys(GOOD_LINES, ACCEPTED),
    "two_boms": {
        "list": (["list.bad_header"], 0),
        "vote": (["paper.unknown_column"], 0),
        "tally": (["paper_tally.unknown_column_unnamed"], 0),
    },
    "bom_only": {
        "list": (["list.bad_header"], 0),
        "vote": (["paper.bad_header"], 0),
        "tally": (["paper_tally.empty_file"], 0),
    },
    "bom_and_a_line_end": {
        "list": (["list.bad_header"], 0),
        "vote": (["paper.bad_header"], 0),
        "tally": (["paper_tally.empty_file"], 0),
    },
    "nul_first": NOT_TEXT,
    "nul_in_a_cell": NOT_TEXT,
    # The voter list looks for a NUL in its first 64 KB only; further on it is a character
    # of its row, which then has the wrong number of cells. The good row is still read.
    "nul_after_64_kb": {**NOT_TEXT, "list": (["list.wrong_cells"], 1)},
    "invalid_utf8": NOT_TEXT,
    "invalid_utf8_after_64_kb": NOT_TEXT,
    "truncated_sequence": NOT_TEXT,
    "overlong": NOT_TEXT,
    "lone_surrogate": NOT_TEXT,
    "utf16_with_bom": NOT_TEXT,
    "utf16_be": NOT_TEXT,
    "windows_1251": NOT_TEXT,
    "huge_line": {
        "list": (["list.field_too_long"], 0),
        "vote": (["paper.field_too_long"], 0),
        "tally": (["paper_tally.field_too_long"], 0),
    },
    "huge_quoted_cell": {
        "list": (["list.field_too_long"], 0),
        "vote": (["paper.field_too_long"], 0),
        "tally": (["paper_tally.field_too_long"], 0),
    },
}


@pytest.mark.parametrize("reader", sorted(GOOD_LINES))
@pytest.mark.parametrize("name", list(FILES))
def test_each_reader_accepts_and_refuses_as_before(name, reader):
    assert read(reader, FILES[name](reader)) == EXPECTED[name][reader]
