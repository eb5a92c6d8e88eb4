"""The file a community uploads as its list of residents who may vote.

A CSV with a header, one resident a row, in one of two shapes:
- `document_kind,document_number`: kinds rnokpp, unzr, passport, id_card, card (a
  resident card's id, as the card register exports it);
- `voter_key`: keys made by this system (a list exported before, say).
A file of one column `document_number` takes its kind from the upload form.
Any of these may carry one more column, `district`: the district the resident lives in,
for the cycle's district categories (voting.district); an empty cell names none.

Every number becomes a voter key as soon as its row is read (the community's secret,
voting.VoterKey) and is dropped: it reaches no problem, log or audit entry. Keys are
handed on in chunks (`on_keys`) so a register of a million residents is never held in
memory at once.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.i18n import gettext_in, ngettext_in
from server.services.csv_limits import csv_problem
from server.services.csv_text import csv_delimiter, csv_lines
from voting import IdentityError, IdentityKind, VoterKey
from voting import message as domain_message
from voting.district import DistrictError, clean_district

MAX_BYTES = 80 * 1024 * 1024  # a million rows of "rnokpp,0123456789" is ~18 MB
MAX_ROWS = 2_000_000
MAX_PROBLEMS_KEPT = 200  # the moderator fixes the file from the first ones; all are counted
CHUNK = 5000
KINDS = tuple(k.value for k in IdentityKind)
_VOTER_KEY = re.compile(r"[0-9a-f]{64}")

# A problem code names its Ukrainian text; the English is in translations/en/eligibility.po.
MESSAGES: dict[str, str] = {
    "list.empty_file": "Файл порожній.",
    "list.too_large": "Файл завеликий: не більше {limit_mb} МБ. Розділіть його і додайте частини по черзі.",
    "list.not_text": "Це не текстовий файл CSV у кодуванні UTF-8. Збережіть таблицю як «CSV UTF-8».",
    "list.malformed": (
        "Рядок {row}: файл CSV пошкоджено (наприклад, незакриті лапки); далі його не прочитати."
    ),
    "list.field_too_long": (
        "Рядок {row}: поле довше за {limit_kb} КБ — такого в цьому файлі бути не може; перевірте, чи "
        "завантажено правильний файл."
    ),
    "list.too_many_rows": "Забагато рядків: не більше {limit} за один файл.",
    "list.no_rows": "У файлі немає жодного рядка з мешканцем.",
    "list.bad_header": (
        "Перший рядок має містити назви стовпців: document_kind,document_number (або лише document_number) "
        "чи voter_key, і за бажанням district."
    ),
    "list.kind_needed": "У файлі немає стовпця document_kind: оберіть тип документа у формі.",
    "list.bad_voter_key": "Ключ виборця — 64 шістнадцяткові символи.",
}


def list_message(code: str, locale: str = "uk", **params: Any) -> str:
    # The messages with a count take its form: «для 1 мешканця», «для 5 мешканців».
    if code == "list.district_conflict":
        return ngettext_in(
            locale,
            "Для {count} мешканця у файлі вказано різні райони в різних рядках: залиште для кожного один.",
            "Для {count} мешканців у файлі вказано різні райони в різних рядках: залиште для кожного один.",
            params["count"],
            **params,
        )
    if code == "list.wrong_cells":
        return ngettext_in(
            locale,
            "У рядку {found} клітинка, а стовпців {expected}.",
            "У рядку {found} клітинок, а стовпців {expected}.",
            params["found"],
            **params,
        )
    if code in MESSAGES:
        return gettext_in(locale, MESSAGES[code], **params)
    return domain_message(code, locale, **params)


@dataclass(frozen=True, slots=True)
class ListProblem:
    """Why one row (or, with row None, the whole file) cannot be read."""

    row: int | None  # the spreadsheet's row number: the header is row 1
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, locale: str = "uk") -> str:
        return list_message(self.code, locale, **self.params)


@dataclass
class ListFileCheck:
    sha256: str
    rows: int = 0
    good_rows: int = 0
    bad_rows: int = 0
    problems: list[ListProblem] = field(default_factory=list)  # the first MAX_PROBLEMS_KEPT
    has_district: bool = False  # the file has a `district` column

    @property
    def file_refused(self) -> bool:
        return any(p.row is None for p in self.problems)

    def add(self, problem: ListProblem) -> None:
        if len(self.problems) < MAX_PROBLEMS_KEPT or problem.row is None:
            self.problems.append(problem)


def read_list_file(
    data: bytes,
    voter_secret: bytes,
    on_keys: Callable[[list[str]], None],
    *,
    default_kind: str | None = None,
    with_districts: bool = False,
) -> ListFileCheck:
    """Read `data`, pass the voter keys of its good rows to `on_keys` in chunks, and
    report every problem with its row and column. A problem with the file itself (too
    large, not text, no header) stops reading; keys passed before then are the caller's
    to discard. `with_districts`: pass (key, district) pairs instead, the district as
    voting.district.clean_district keeps it (None when the cell is empty or the file
    has no `district` column; `check.has_district` tells which)."""
    check = ListFileCheck(sha256=hashlib.sha256(data).hexdigest())
    if len(data) > MAX_BYTES:
        check.add(ListProblem(None, None, "list.too_large", {"limit_mb": MAX_BYTES // 2**20}))
        return check
    if not data.strip():
        check.add(ListProblem(None, None, "list.empty_file"))
        return check
    lines = csv_lines(data)
    if lines is None:
        check.add(ListProblem(None, None, "list.not_text"))
        return check
    row = 1
    try:
        first = next(iter(lines), "")
        delimiter = csv_delimiter(first)
        header = [c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter), [])]
        kind_for_all, problem = _read_header(header, default_kind)
        if problem is not None:
            check.add(problem)
            return check
        check.has_district = "district" in header
        chunk: list = []
        for row, cells in enumerate(csv.reader(lines, delimiter=delimiter, strict=True), start=2):
            if not any(c.strip() for c in cells):
                continue  # a blank line, as spreadsheets leave at the end
            check.rows += 1
            if check.rows > MAX_ROWS:
                check.add(ListProblem(None, None, "list.too_many_rows", {"limit": MAX_ROWS}))
                return check
            key, problem = _row_key(header, cells, row, voter_secret, kind_for_all)
            if problem is not None:
                check.bad_rows += 1
                check.add(problem)
                continue
            district: str | None = None
            if check.has_district:
                try:
                    district = clean_district(cells[header.index("district")]) or None
                except DistrictError as error:
                    check.bad_rows += 1
                    check.add(ListProblem(row, "district", error.code, dict(error.params)))
                    continue
            check.good_rows += 1
            chunk.append((key, district) if with_districts else key)
            if len(chunk) >= CHUNK:
                on_keys(chunk)
                chunk = []
        if chunk:
            on_keys(chunk)
    except csv.Error as error:
        code, params = csv_problem(error, "list", row + 1)
        check.add(ListProblem(None, None, code, params))
        return check
    except UnicodeDecodeError:
        check.add(ListProblem(None, None, "list.not_text"))
        return check
    if check.rows == 0:
        check.add(ListProblem(None, None, "list.no_rows"))
    return check


def _read_header(header: list[str], default_kind: str | None) -> tuple[str | None, ListProblem | None]:
    if header.count("district") == 1:
        header = [name for name in header if name != "district"]
    if header == ["voter_key"]:
        return None, None
    if header == ["document_kind", "document_number"]:
        return None, None
    if header == ["document_number"]:
        if default_kind not in KINDS:
            return None, ListProblem(None, None, "list.kind_needed")
        return default_kind, None
    return None, ListProblem(None, None, "list.bad_header")


def _row_key(
    header: list[str], cells: list[str], row: int, secret: bytes, kind_for_all: str | None
) -> tuple[str, ListProblem | None]:
    if len(cells) != len(header):
        return "", ListProblem(row, None, "list.wrong_cells", {"found": len(cells), "expected": len(header)})
    values = dict(zip(header, cells, strict=True))
    values.pop("district", None)
    if "voter_key" in values:
        key = values["voter_key"].strip().lower()
        if not _VOTER_KEY.fullmatch(key):
            return "", ListProblem(row, "voter_key", "list.bad_voter_key")
        return key, None
    kind = kind_for_all or values["document_kind"].strip().lower()
    if kind not in KINDS:
        return "", ListProblem(row, "document_kind", "identity.unknown_kind")
    try:
        return VoterKey.derive(secret, kind, values["document_number"]).hex, None
    except IdentityError as exc:
        return "", ListProblem(row, "document_number", exc.code)
