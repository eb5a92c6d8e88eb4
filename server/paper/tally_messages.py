"""Texts of the tally-sheet import's problems: a code names its Ukrainian text; the
English and the counted forms are in translations/*/paper_tally.po."""

from __future__ import annotations

from typing import Any

from server.i18n import gettext_in, ngettext_in, translations

MESSAGES: dict[str, str] = {
    # --- the file ---
    "paper_tally.empty_file": "Файл порожній.",
    "paper_tally.too_large": (
        "Файл завеликий: не більше {limit_kb} КБ. Протокол одного пункту значно менший — перевірте, чи це "
        "той файл."
    ),
    "paper_tally.not_text": "Це не текстовий файл CSV у кодуванні UTF-8. Збережіть таблицю як «CSV UTF-8».",
    "paper_tally.malformed": (
        "Рядок {row}: файл CSV пошкоджено (наприклад, незакриті лапки); далі його не прочитати."
    ),
    "paper_tally.field_too_long": (
        "Рядок {row}: поле довше за {limit_kb} КБ — такого в цьому файлі бути не може; перевірте, чи "
        "завантажено правильний файл."
    ),
    "paper_tally.too_many_rows": "Забагато рядків: не більше {limit}.",
    "paper_tally.bad_header": (
        "Перший рядок має містити назви стовпців: project_id,votes (і, за бажання, title)."
    ),
    "paper_tally.unknown_column": "Невідомий стовпець «{column}».",
    "paper_tally.unknown_column_unnamed": "Невідомий стовпець у першому рядку.",
    "paper_tally.repeated_column": "Стовпець «{column}» повторюється.",
    "paper_tally.no_rows": (
        "У файлі немає жодного рядка з проєктом. Для протоколу без голосів заповніть форму нижче."
    ),
    "paper_tally.no_projects": "У бюлетені цього циклу немає допущених проєктів.",
    # --- a cell ---
    "paper_tally.too_many_columns": "Забагато стовпців: {count}, а в заголовку {limit}.",
    "paper_tally.cell_too_long": "Значення задовге: не більше {limit} символів.",
    "paper_tally.missing_value": "Порожнє значення.",
    "paper_tally.formula": (
        "Значення схоже на формулу електронної таблиці (починається з =, +, - або @). Вкажіть лише число або"
        " назву."
    ),
    "paper_tally.negative": "Кількість не може бути від'ємною.",
    "paper_tally.not_integer": "Вкажіть ціле число цифрами, без пробілів, крапок і ком, наприклад 125.",
    "paper_tally.too_big": "Число завелике: не більше {limit}.",
    "paper_tally.bad_project": (
        "Вкажіть номер проєкту цифрами (як у консолі та бюлетені) або один із підсумкових рядків: "
        "ballots_issued, ballots_cast, ballots_spoiled."
    ),
    "paper_tally.unknown_project": "Проєкту №{project} немає в бюлетені цього циклу.",
    "paper_tally.repeated_project": "Проєкт №{project} уже є в рядку {first_row}.",
    "paper_tally.repeated_summary": "Рядок {name} уже є в рядку {first_row}.",
    "paper_tally.title_mismatch": (
        "Назва не збігається з назвою проєкту №{project}: «{title}». Перевірте номер."
    ),
    # --- the sheet as a whole ---
    "paper_tally.missing_ballots_cast": "Не вказано, скільки бюлетенів вийнято зі скриньки (ballots_cast).",
    "paper_tally.summary_disagrees": "{name}: у файлі {in_file}, у формі {in_form}. Залиште одне значення.",
    "paper_tally.cast_over_issued": "Бюлетенів у скриньці ({cast}) більше, ніж видано ({issued}).",
    "paper_tally.spoiled_over_cast": (
        "Зіпсованих бюлетенів ({spoiled}) більше, ніж бюлетенів у скриньці ({cast})."
    ),
    # --- storing ---
    "paper_tally.before_voting": (
        "Голосування ще не почалося (початок {opens} за київським часом): протокол підрахунку вносять після "
        "підрахунку голосів."
    ),
    "paper_tally.window_closed": (
        "Протоколи підрахунку приймали до {closed} за київським часом (голосування завершилося {ended}). "
        "Нічого не збережено."
    ),
    "paper_tally.results_published": (
        "Результати циклу вже опубліковано. Щоб внести протокол, спершу скасуйте публікацію на сторінці "
        "результатів, а після звірки опублікуйте знову."
    ),
    "paper_tally.file_used_elsewhere": (
        "Цей самий файл уже внесено як протокол пункту {device}. Протокол кожного пункту — окремий файл. "
        "Нічого не збережено."
    ),
    "paper_tally.concurrent": (
        "Щойно для цього пункту внесено інший протокол. Оновіть сторінку й перевірте. Нічого не збережено."
    ),
}


# Texts with a count of votes, by their Ukrainian "one" and "many" forms (gettext's msgid
# and msgid_plural); the catalog holds every form of each language, picked by {votes}.
COUNTED: dict[str, tuple[str, str]] = {
    "paper_tally.votes_over_ballots": (
        "{votes} голос — більше, ніж дійсних бюлетенів ({ballots}): один бюлетень дає проєкту не більше "
        "одного голосу.",
        "{votes} голосів — більше, ніж дійсних бюлетенів ({ballots}): один бюлетень дає проєкту не "
        "більше одного голосу.",
    ),
    "paper_tally.district_category": (
        "Категорія «{category}» — лише для мешканців району «{district}», а протокол не називає "
        "виборців: {votes} голос у ній не можна зарахувати. Такі бюлетені видають персонально (паперовий"
        " бюлетень на мешканця) або рахують у терміналах.",
        "Категорія «{category}» — лише для мешканців району «{district}», а протокол не називає "
        "виборців: {votes} голосів у ній не можна зарахувати. Такі бюлетені видають персонально "
        "(паперовий бюлетень на мешканця) або рахують у терміналах.",
    ),
    "paper_tally.category_over_limit": (
        "Категорія «{category}»: разом {votes} голос, а дійсні бюлетені ({ballots}) × {max_choices} "
        "(найбільше проєктів у бюлетені) дають не більше {limit}.",
        "Категорія «{category}»: разом {votes} голосів, а дійсні бюлетені ({ballots}) × {max_choices} "
        "(найбільше проєктів у бюлетені) дають не більше {limit}.",
    ),
    "paper_tally.total_over_limit": (
        "Разом {votes} голос, а дійсні бюлетені ({ballots}) × {max_total} (найбільше проєктів у бюлетені"
        " загалом) дають не більше {limit}.",
        "Разом {votes} голосів, а дійсні бюлетені ({ballots}) × {max_total} (найбільше проєктів у "
        "бюлетені загалом) дають не більше {limit}.",
    ),
}


# MESSAGES names every code; a counted one keeps its general form there.
MESSAGES.update({code: many for code, (_one, many) in COUNTED.items()})


def tally_message(code: str, locale: str = "uk", **params: Any) -> str:
    if code in COUNTED:
        one, many = COUNTED[code]
        votes = params.get("votes")
        if isinstance(votes, int):
            return ngettext_in(locale, one, many, votes, **params)
        return translations("en" if locale == "en" else "uk").general_form(one, many).format(**params)
    return gettext_in(locale, MESSAGES[code], **params)
