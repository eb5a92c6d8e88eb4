"""User-facing texts for the domain's error codes, Ukrainian first.

The domain reports problems as a code plus parameters; every app (server, kiosk,
support point) shows them through `message()` so a resident sees the same words
wherever they vote.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # identity
    "identity.empty": ("Введіть номер документа.", "Enter the document number."),
    "identity.too_long": (
        "Номер документа задовгий.",
        "The document number is too long.",
    ),
    "identity.unknown_kind": ("Невідомий тип документа.", "Unknown document type."),
    "identity.rnokpp_format": (
        "РНОКПП має складатися з 10 цифр.",
        "The taxpayer number (RNOKPP) must be 10 digits.",
    ),
    "identity.rnokpp_checksum": (
        "У РНОКПП помилка: контрольна цифра не збігається.",
        "The taxpayer number (RNOKPP) has a typo: its check digit does not match.",
    ),
    "identity.unzr_format": (
        "Запис ЄДДР (УНЗР) має вигляд РРРРММДД-ЧЧЧЧЧ.",
        "The demographic register number (UNZR) looks like YYYYMMDD-NNNNN.",
    ),
    "identity.passport_format": (
        "Паспорт-книжечка: дві літери серії й шість цифр, наприклад АВ123456.",
        "Passport booklet: two series letters and six digits, e.g. АВ123456.",
    ),
    "identity.id_card_format": (
        "Номер ID-картки має складатися з 9 цифр.",
        "The ID card number must be 9 digits.",
    ),
    "identity.card_format": (
        "Картку не вдалося прочитати.",
        "The card could not be read.",
    ),
    # eligibility (the community's rules: minimum age, list of residents)
    "eligibility.not_listed": (
        "Вас немає у списку мешканців, які можуть голосувати в цій громаді. Зверніться до працівника.",
        "You are not on this community's list of residents who may vote. Please ask a member of staff.",
    ),
    "eligibility.too_young": (
        "Голосувати можна з {min_age} років.",
        "You may vote from the age of {min_age}.",
    ),
    "eligibility.born_in_future": (
        "Дата народження в номері документа ще не настала: перевірте номер.",
        "The birth date in the document number is in the future: check the number.",
    ),
    "eligibility.age_unknown": (
        "За цим документом не видно віку, а голосувати можна з {min_age} років. "
        "Зверніться до працівника: він перевірить документ.",
        "This document does not show your age, and you may vote from the age of {min_age}. "
        "Please ask a member of staff to check your document.",
    ),
    # ballot rule (a selection against the rule)
    "ballot.unknown_project": (
        "Проєкту {project} немає в цьому бюлетені.",
        "Project {project} is not on this ballot.",
    ),
    "ballot.repeated_project": (
        "Проєкт {project} обрано двічі.",
        "Project {project} was chosen twice.",
    ),
    "ballot.too_few_in_category": (
        "У категорії «{category}» оберіть щонайменше {limit}.",
        "In “{category}” choose at least {limit}.",
    ),
    "ballot.too_many_in_category": (
        "У категорії «{category}» можна обрати не більше {limit}.",
        "In “{category}” you may choose at most {limit}.",
    ),
    "ballot.over_category_budget": (
        "Обрані проєкти категорії «{category}» коштують більше за її бюджет.",
        "The chosen projects in “{category}” cost more than its budget.",
    ),
    "ballot.too_few_total": (
        "Оберіть щонайменше {limit} проєкт(и) загалом.",
        "Choose at least {limit} project(s) in total.",
    ),
    "ballot.too_many_total": (
        "Загалом можна обрати не більше {limit} проєкт(ів).",
        "You may choose at most {limit} project(s) in total.",
    ),
    "ballot.empty": ("Не обрано жодного проєкту.", "No project was chosen."),
    # rule definitions (a moderator saving an impossible rule)
    "rule.negative": (
        "Обмеження не можуть бути від’ємними.",
        "Limits cannot be negative.",
    ),
    "rule.max_below_min": (
        "Максимум ({max}) менший за мінімум ({min}).",
        "The maximum ({max}) is below the minimum ({min}).",
    ),
    "rule.max_zero": (
        "Максимальна кількість проєктів має бути більшою за нуль.",
        "The maximum number of projects must be above zero.",
    ),
    "rule.budget_not_positive": (
        "Бюджет має бути більшим за нуль.",
        "The budget must be above zero.",
    ),
    "rule.budget_below_cheapest": (
        "Бюджет категорії «{category}» ({budget}) менший за найдешевший проєкт ({cheapest}).",
        "The budget of “{category}” ({budget}) is below its cheapest project ({cheapest}).",
    ),
    "rule.project_over_cap": (
        "Проєкт коштує {cost}, а в категорії «{category}» межа — {cap}.",
        "The project costs {cost}; the limit in “{category}” is {cap}.",
    ),
    "rule.min_above_projects": (
        "Мінімум ({min}) більший за кількість допущених проєктів ({count}).",
        "The minimum ({min}) is above the number of admitted projects ({count}).",
    ),
    "rule.total_min_above_categories": (
        "Загальний мінімум ({min}) неможливо набрати: у категоріях можна обрати не більше {reachable}.",
        "The total minimum ({min}) cannot be reached: the categories allow at most {reachable}.",
    ),
    "rule.window_order": (
        "Кінець голосування має бути пізніше за початок.",
        "Voting must end after it starts.",
    ),
    # votes
    "vote.outside_window": (
        "Голос подано поза часом голосування.",
        "The vote was cast outside the voting window.",
    ),
    "vote.cycle_mismatch": (
        "Голос належить іншому циклу.",
        "The vote belongs to another cycle.",
    ),
    "vote.code_required": (
        "У шкільному конкурсі голосують лише кодами учнів.",
        "A school contest is voted with student codes only.",
    ),
    "vote.code_not_allowed": (
        "У цьому голосуванні коди не видавали: голосують лише мешканці.",
        "No codes were issued for this vote: only residents vote in it.",
    ),
    "vote.code_not_valid": (
        "Код не видано для цього конкурсу або його відкликано.",
        "The code was not issued for this contest or has been revoked.",
    ),
}


def message(code: str, locale: str = "uk", **params: Any) -> str:
    """The text for `code` in `locale` ("uk" or "en"), with `params` filled in."""
    try:
        uk, en = MESSAGES[code]
    except KeyError:
        raise KeyError(f"no message for code {code!r}") from None
    template = en if locale == "en" else uk
    return template.format(**params)
