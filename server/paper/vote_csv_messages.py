"""Texts of the paper-vote CSV import's own problems: a code names its Ukrainian text, the
English is in translations/en/paper.po; identity.* and ballot.* problems take theirs
from voting.messages."""

from __future__ import annotations

from typing import Any

from server.i18n import gettext_in
from voting import message as domain_message

# Texts of this module's own problems; identity.* and ballot.* come from voting.messages.
MESSAGES: dict[str, str] = {
    "paper.empty_file": "Файл порожній.",
    "paper.too_large": "Файл завеликий: не більше {limit_mb} МБ.",
    "paper.not_text": "Це не текстовий файл CSV у кодуванні UTF-8. Збережіть таблицю як «CSV UTF-8».",
    "paper.malformed": (
        "Рядок {row}: файл CSV пошкоджено (наприклад, незакриті лапки); далі його не прочитати."
    ),
    "paper.field_too_long": (
        "Рядок {row}: поле довше за {limit_kb} КБ — такого в цьому файлі бути не може; перевірте, чи "
        "завантажено правильний файл."
    ),
    "paper.too_many_rows": "Забагато рядків: не більше {limit} за один файл. Розділіть файл на частини.",
    "paper.no_rows": "У файлі немає жодного рядка з голосом.",
    "paper.bad_header": (
        "Перший рядок має містити назви стовпців: document_kind,document_number,projects або "
        "voter_key,projects (і, за бажання, voted_at)."
    ),
    "paper.unknown_column": "Невідомий стовпець «{column}».",
    "paper.repeated_column": "Стовпець «{column}» повторюється.",
    "paper.empty_row": "Порожній рядок.",
    "paper.too_many_columns": "Забагато стовпців: {count}, а в заголовку {limit}.",
    "paper.cell_too_long": "Значення задовге: не більше {limit} символів.",
    "paper.missing_value": "Порожнє значення.",
    "paper.bad_voter_key": "Ключ виборця — це 64 шістнадцяткові символи.",
    "paper.bad_project_list": "Вкажіть номери проєктів цифрами, через пробіл або «|», наприклад: 3 7 12.",
    "paper.too_many_projects": "Забагато проєктів у рядку: не більше {limit}.",
    "paper.bad_time": (
        "Час голосування має вигляд 2027-05-01 14:30 (за київським часом) або 2027-05-01T14:30:00+03:00."
    ),
    "paper.future_time": "Час голосування ще не настав.",
    "paper.repeated_voter": "Цей виборець уже є в рядку {first_row}.",
    # The paper channel's window, as for scanned sheets and tally sheets
    # (server.paper.tally.window_problem).
    "paper.before_voting": (
        "Голосування ще не почалося (початок {opens} за київським часом): паперові голоси вносять після "
        "голосування. Нічого не збережено."
    ),
    "paper.window_closed": (
        "Паперові голоси приймали до {closed} за київським часом (голосування завершилося {ended}). Нічого "
        "не збережено."
    ),
    "paper.results_published": (
        "Результати циклу вже опубліковано: паперові голоси змінили б їх. Щоб внести голоси, спершу скасуйте"
        " публікацію на сторінці результатів. Нічого не збережено."
    ),
    "paper.already_imported_elsewhere": (
        "Цей файл уже імпортовано з іншим пунктом супроводу або змінено після імпорту. Нічого не збережено."
    ),
}


def paper_message(code: str, locale: str = "uk", **params: Any) -> str:
    """The text for a problem code of this module or of voting.messages."""
    if code in MESSAGES:
        return gettext_in(locale, MESSAGES[code], **params)
    return domain_message(code, locale, **params)
