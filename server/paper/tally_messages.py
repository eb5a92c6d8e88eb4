"""Texts of the tally-sheet import's problems, Ukrainian first, then English."""

from __future__ import annotations

from typing import Any

from voting.plurals import plural_index

MESSAGES: dict[str, tuple[str, str]] = {
    # --- the file ---
    "paper_tally.empty_file": ("Файл порожній.", "The file is empty."),
    "paper_tally.too_large": (
        "Файл завеликий: не більше {limit_kb} КБ. Протокол одного пункту значно менший — "
        "перевірте, чи це той файл.",
        "The file is too large: at most {limit_kb} KB. One support point's tally sheet is far "
        "smaller — check that this is the right file.",
    ),
    "paper_tally.not_text": (
        "Це не текстовий файл CSV у кодуванні UTF-8. Збережіть таблицю як «CSV UTF-8».",
        "This is not a UTF-8 CSV text file. Save the spreadsheet as “CSV UTF-8”.",
    ),
    "paper_tally.malformed": (
        "Рядок {row}: файл CSV пошкоджено (наприклад, незакриті лапки); далі його не прочитати.",
        "Row {row}: the CSV file is damaged (an unclosed quote, say); it cannot be read further.",
    ),
    "paper_tally.field_too_long": (
        "Рядок {row}: поле довше за {limit_kb} КБ — такого в цьому файлі бути не може;"
        " перевірте, чи завантажено правильний файл.",
        "Row {row}: a field is longer than {limit_kb} KB, which this file never holds;"
        " check that it is the right file.",
    ),
    "paper_tally.too_many_rows": (
        "Забагато рядків: не більше {limit}.",
        "Too many rows: at most {limit}.",
    ),
    "paper_tally.bad_header": (
        "Перший рядок має містити назви стовпців: project_id,votes (і, за бажання, title).",
        "The first row must name the columns: project_id,votes (and, optionally, title).",
    ),
    "paper_tally.unknown_column": ("Невідомий стовпець «{column}».", "Unknown column “{column}”."),
    "paper_tally.unknown_column_unnamed": (
        "Невідомий стовпець у першому рядку.",
        "An unknown column in the first row.",
    ),
    "paper_tally.repeated_column": (
        "Стовпець «{column}» повторюється.",
        "The column “{column}” is repeated.",
    ),
    "paper_tally.no_rows": (
        "У файлі немає жодного рядка з проєктом. Для протоколу без голосів заповніть форму нижче.",
        "The file has no project rows. For a sheet without votes, fill in the form below.",
    ),
    "paper_tally.no_projects": (
        "У бюлетені цього циклу немає допущених проєктів.",
        "This cycle's ballot has no admitted projects.",
    ),
    # --- a cell ---
    "paper_tally.too_many_columns": (
        "Забагато стовпців: {count}, а в заголовку {limit}.",
        "Too many columns: {count}, while the header has {limit}.",
    ),
    "paper_tally.cell_too_long": (
        "Значення задовге: не більше {limit} символів.",
        "The value is too long: at most {limit} characters.",
    ),
    "paper_tally.missing_value": ("Порожнє значення.", "The value is empty."),
    "paper_tally.formula": (
        "Значення схоже на формулу електронної таблиці (починається з =, +, - або @). "
        "Вкажіть лише число або назву.",
        "The value looks like a spreadsheet formula (it starts with =, +, - or @). "
        "Give just the number or the title.",
    ),
    "paper_tally.negative": (
        "Кількість не може бути від'ємною.",
        "A count cannot be negative.",
    ),
    "paper_tally.not_integer": (
        "Вкажіть ціле число цифрами, без пробілів, крапок і ком, наприклад 125.",
        "Give a whole number in digits, without spaces, dots or commas, e.g. 125.",
    ),
    "paper_tally.too_big": (
        "Число завелике: не більше {limit}.",
        "The number is too large: at most {limit}.",
    ),
    "paper_tally.bad_project": (
        "Вкажіть номер проєкту цифрами (як у консолі та бюлетені) або один із підсумкових рядків: "
        "ballots_issued, ballots_cast, ballots_spoiled.",
        "Give the project's number in digits (as in the console and on the ballot) or one of the "
        "summary rows: ballots_issued, ballots_cast, ballots_spoiled.",
    ),
    "paper_tally.unknown_project": (
        "Проєкту №{project} немає в бюлетені цього циклу.",
        "Project No. {project} is not on this cycle's ballot.",
    ),
    "paper_tally.repeated_project": (
        "Проєкт №{project} уже є в рядку {first_row}.",
        "Project No. {project} is already in row {first_row}.",
    ),
    "paper_tally.repeated_summary": (
        "Рядок {name} уже є в рядку {first_row}.",
        "The {name} row is already in row {first_row}.",
    ),
    "paper_tally.title_mismatch": (
        "Назва не збігається з назвою проєкту №{project}: «{title}». Перевірте номер.",
        "The title does not match project No. {project}: “{title}”. Check the number.",
    ),
    # --- the sheet as a whole ---
    "paper_tally.missing_ballots_cast": (
        "Не вказано, скільки бюлетенів вийнято зі скриньки (ballots_cast).",
        "The number of ballots taken out of the box (ballots_cast) is missing.",
    ),
    "paper_tally.summary_disagrees": (
        "{name}: у файлі {in_file}, у формі {in_form}. Залиште одне значення.",
        "{name}: {in_file} in the file, {in_form} in the form. Keep one of them.",
    ),
    "paper_tally.cast_over_issued": (
        "Бюлетенів у скриньці ({cast}) більше, ніж видано ({issued}).",
        "More ballots in the box ({cast}) than were issued ({issued}).",
    ),
    "paper_tally.spoiled_over_cast": (
        "Зіпсованих бюлетенів ({spoiled}) більше, ніж бюлетенів у скриньці ({cast}).",
        "More spoiled ballots ({spoiled}) than ballots in the box ({cast}).",
    ),
    # --- storing ---
    "paper_tally.before_voting": (
        "Голосування ще не почалося (початок {opens} за київським часом): протокол підрахунку вносять "
        "після підрахунку голосів.",
        "Voting has not started yet (it opens {opens}, Kyiv time): a tally sheet is entered after "
        "the votes are counted.",
    ),
    "paper_tally.window_closed": (
        "Протоколи підрахунку приймали до {closed} за київським часом (голосування завершилося "
        "{ended}). Нічого не збережено.",
        "Tally sheets were accepted until {closed}, Kyiv time (voting closed {ended}). Nothing was stored.",
    ),
    "paper_tally.results_published": (
        "Результати циклу вже опубліковано. Щоб внести протокол, спершу скасуйте публікацію на "
        "сторінці результатів, а після звірки опублікуйте знову.",
        "The cycle's results are already published. To enter a tally sheet, first unpublish them "
        "on the results page, then publish again after checking.",
    ),
    "paper_tally.file_used_elsewhere": (
        "Цей самий файл уже внесено як протокол пункту {device}. Протокол кожного пункту — окремий "
        "файл. Нічого не збережено.",
        "This very file is already entered as the tally sheet of {device}. Each support point's "
        "sheet is a file of its own. Nothing was stored.",
    ),
    "paper_tally.concurrent": (
        "Щойно для цього пункту внесено інший протокол. Оновіть сторінку й перевірте. Нічого не збережено.",
        "Another tally sheet was just entered for this support point. Reload the page and check. "
        "Nothing was stored.",
    ),
}


def _votes_forms(uk: str, en: str) -> tuple[tuple[str, str, str], tuple[str, str]]:
    """A text about {votes} in every form: «1 голос», «2 голоси», «5 голосів»; 1 vote, 2 votes."""
    return (
        (
            uk.format(votes="{votes} голос"),
            uk.format(votes="{votes} голоси"),
            uk.format(votes="{votes} голосів"),
        ),
        (en.format(votes="{votes} vote"), en.format(votes="{votes} votes")),
    )


# Texts with a count of votes, in every form (voting/plurals.py picks one by {votes}).
# Each is written once with {{...}} for its other parameters and {votes} for the counted words.
COUNTED: dict[str, tuple[tuple[str, str, str], tuple[str, str]]] = {
    "paper_tally.votes_over_ballots": _votes_forms(
        "{votes} — більше, ніж дійсних бюлетенів ({{ballots}}): один бюлетень дає проєкту "
        "не більше одного голосу.",
        "{votes} is more than the valid ballots ({{ballots}}): one ballot gives a project at most one vote.",
    ),
    "paper_tally.district_category": _votes_forms(
        "Категорія «{{category}}» — лише для мешканців району «{{district}}», а протокол не називає "
        "виборців: {votes} у ній не можна зарахувати. Такі бюлетені видають персонально "
        "(паперовий бюлетень на мешканця) або рахують у терміналах.",
        "The category “{{category}}” is only for residents of “{{district}}”, and a tally sheet names "
        "no voters: its {votes} there cannot count. Issue such ballots to residents in "
        "person (a personal paper ballot) or vote on terminals.",
    ),
    "paper_tally.category_over_limit": _votes_forms(
        "Категорія «{{category}}»: разом {votes}, а дійсні бюлетені ({{ballots}}) × {{max_choices}} "
        "(найбільше проєктів у бюлетені) дають не більше {{limit}}.",
        "Category “{{category}}”: {votes} in all, while {{ballots}} valid ballots × {{max_choices}} "
        "(the most projects a ballot may choose) allow at most {{limit}}.",
    ),
    "paper_tally.total_over_limit": _votes_forms(
        "Разом {votes}, а дійсні бюлетені ({{ballots}}) × {{max_total}} (найбільше проєктів "
        "у бюлетені загалом) дають не більше {{limit}}.",
        "{votes} in all, while {{ballots}} valid ballots × {{max_total}} (the most projects a "
        "ballot may choose in all) allow at most {{limit}}.",
    ),
}


# MESSAGES names every code; a counted one keeps its general form there.
MESSAGES.update({code: (ukrainian[2], english[1]) for code, (ukrainian, english) in COUNTED.items()})


def tally_message(code: str, locale: str = "uk", **params: Any) -> str:
    if code in COUNTED and isinstance(params.get("votes"), int):
        ukrainian, english = COUNTED[code]
        forms: tuple[str, ...] = english if locale == "en" else ukrainian
        return forms[plural_index(locale, params["votes"])].format(**params)
    uk, en = MESSAGES[code]
    return (en if locale == "en" else uk).format(**params)
