"""Texts of the paper-vote CSV import's own problems, Ukrainian first; identity.* and
ballot.* problems take theirs from voting.messages."""

from __future__ import annotations

from typing import Any

from voting import message as domain_message

# Texts of this module's own problems; identity.* and ballot.* come from voting.messages.
MESSAGES: dict[str, tuple[str, str]] = {
    "paper.empty_file": ("Файл порожній.", "The file is empty."),
    "paper.too_large": (
        "Файл завеликий: не більше {limit_mb} МБ.",
        "The file is too large: at most {limit_mb} MB.",
    ),
    "paper.not_text": (
        "Це не текстовий файл CSV у кодуванні UTF-8. Збережіть таблицю як «CSV UTF-8».",
        "This is not a UTF-8 CSV text file. Save the spreadsheet as “CSV UTF-8”.",
    ),
    "paper.malformed": (
        "Рядок {row}: файл CSV пошкоджено (наприклад, незакриті лапки); далі його не прочитати.",
        "Row {row}: the CSV file is damaged (an unclosed quote, say); it cannot be read further.",
    ),
    "paper.field_too_long": (
        "Рядок {row}: поле довше за {limit_kb} КБ — такого в цьому файлі бути не може;"
        " перевірте, чи завантажено правильний файл.",
        "Row {row}: a field is longer than {limit_kb} KB, which this file never holds;"
        " check that it is the right file.",
    ),
    "paper.too_many_rows": (
        "Забагато рядків: не більше {limit} за один файл. Розділіть файл на частини.",
        "Too many rows: at most {limit} in one file. Split the file into parts.",
    ),
    "paper.no_rows": ("У файлі немає жодного рядка з голосом.", "The file has no rows with votes."),
    "paper.bad_header": (
        "Перший рядок має містити назви стовпців: document_kind,document_number,projects "
        "або voter_key,projects (і, за бажання, voted_at).",
        "The first row must name the columns: document_kind,document_number,projects "
        "or voter_key,projects (and, optionally, voted_at).",
    ),
    "paper.unknown_column": (
        "Невідомий стовпець «{column}».",
        "Unknown column “{column}”.",
    ),
    "paper.repeated_column": ("Стовпець «{column}» повторюється.", "The column “{column}” is repeated."),
    "paper.empty_row": ("Порожній рядок.", "Empty row."),
    "paper.too_many_columns": (
        "Забагато стовпців: {count}, а в заголовку {limit}.",
        "Too many columns: {count}, while the header has {limit}.",
    ),
    "paper.cell_too_long": (
        "Значення задовге: не більше {limit} символів.",
        "The value is too long: at most {limit} characters.",
    ),
    "paper.missing_value": ("Порожнє значення.", "The value is empty."),
    "paper.bad_voter_key": (
        "Ключ виборця — це 64 шістнадцяткові символи.",
        "A voter key is 64 hexadecimal characters.",
    ),
    "paper.bad_project_list": (
        "Вкажіть номери проєктів цифрами, через пробіл або «|», наприклад: 3 7 12.",
        "Give project numbers as digits separated by spaces or “|”, e.g. 3 7 12.",
    ),
    "paper.too_many_projects": (
        "Забагато проєктів у рядку: не більше {limit}.",
        "Too many projects in the row: at most {limit}.",
    ),
    "paper.bad_time": (
        "Час голосування має вигляд 2027-05-01 14:30 (за київським часом) або 2027-05-01T14:30:00+03:00.",
        "The voting time looks like 2027-05-01 14:30 (Kyiv time) or 2027-05-01T14:30:00+03:00.",
    ),
    "paper.future_time": ("Час голосування ще не настав.", "The voting time is in the future."),
    "paper.repeated_voter": (
        "Цей виборець уже є в рядку {first_row}.",
        "This voter is already in row {first_row}.",
    ),
    # The paper channel's window, as for scanned sheets and tally sheets
    # (server.paper.tally.window_problem).
    "paper.before_voting": (
        "Голосування ще не почалося (початок {opens} за київським часом): паперові голоси вносять "
        "після голосування. Нічого не збережено.",
        "Voting has not started yet (it opens {opens}, Kyiv time): paper votes are entered after "
        "the voting. Nothing was stored.",
    ),
    "paper.window_closed": (
        "Паперові голоси приймали до {closed} за київським часом (голосування завершилося "
        "{ended}). Нічого не збережено.",
        "Paper votes were accepted until {closed}, Kyiv time (voting closed {ended}). Nothing was stored.",
    ),
    "paper.results_published": (
        "Результати циклу вже опубліковано: паперові голоси змінили б їх. Щоб внести голоси, "
        "спершу скасуйте публікацію на сторінці результатів. Нічого не збережено.",
        "The cycle's results are already published: paper votes would change them. To enter votes, "
        "first unpublish the results on the results page. Nothing was stored.",
    ),
    "paper.already_imported_elsewhere": (
        "Цей файл уже імпортовано з іншим пунктом супроводу або змінено після імпорту. Нічого не збережено.",
        "This file was already imported for another support point, or changed after its import. "
        "Nothing was stored.",
    ),
}


def paper_message(code: str, locale: str = "uk", **params: Any) -> str:
    """The text for a problem code of this module or of voting.messages."""
    if code in MESSAGES:
        uk, en = MESSAGES[code]
        return (en if locale == "en" else uk).format(**params)
    return domain_message(code, locale, **params)
