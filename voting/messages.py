"""User-facing texts for the domain's error codes, Ukrainian first.

The domain reports problems as a code plus parameters; every app (server, kiosk,
support point) shows them through `message()` so a resident sees the same words
wherever they vote.
"""

from __future__ import annotations

from typing import Any

from .plurals import plural_index

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
    "ballot.wrong_district": (
        "Категорія «{category}» — лише для мешканців району «{district}». За списком громади "
        "ви не мешкаєте в цьому районі, тому голосувати в ній не можете.",
        "The category “{category}” is only for residents of the district “{district}”. By the "
        "community's list you do not live there, so you cannot vote in it.",
    ),
    "ballot.no_category_for_resident": (
        "У цьому голосуванні немає категорій для вашого району. Зверніться до працівника.",
        "This vote has no categories for your district. Please ask a member of staff.",
    ),
    # district names (a category's, a voter-list entry's)
    "district.too_long": (
        "Назва району задовга: не більше {limit} символів.",
        "The district name is too long: at most {limit} characters.",
    ),
    "district.bad_character": (
        "У назві району є недозволені символи: лише літери, цифри, пробіли, дефіс, апостроф, крапка, "
        "кома, дужки.",
        "The district name has characters that are not allowed: only letters, digits, spaces, "
        "hyphen, apostrophe, full stop, comma, brackets.",
    ),
    "district.mixed_alphabets": (
        "У назві району змішано кирилицю й латиницю (наприклад, латинська «i» замість «і»): виправте назву.",
        "The district name mixes Cyrillic and Latin letters (a Latin “i” for “і”, say): correct it.",
    ),
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
        "Оберіть щонайменше {limit} проєктів загалом.",
        "Choose at least {limit} projects in total.",
    ),
    "ballot.too_many_total": (
        "Загалом можна обрати не більше {limit} проєктів.",
        "You may choose at most {limit} projects in total.",
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
    "rule.max_above_limit": (
        "Обмеження {max} більше за найбільше можливе: в одному голосі не більше {limit} проєктів.",
        "The limit {max} is above the most possible: one vote chooses at most {limit} projects.",
    ),
    "rule.district_min_choices": (
        "Категорія «{category}» — районна: мінімальна кількість проєктів у ній має бути 0 "
        "(мешканці інших районів її не бачать).",
        "“{category}” is a district category: its minimum number of projects must be 0 "
        "(residents of other districts do not see it).",
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
    "rule.total_min_above_open_categories": (
        "Загальний мінімум ({min}) недосяжний для частини мешканців: без району або в одному"
        " з районів можна обрати не більше {reachable}. Зменшіть мінімум або змініть категорії.",
        "The total minimum ({min}) is out of some residents' reach: in no district, or in one of"
        " the districts, they can choose at most {reachable}. Lower the minimum or change the categories.",
    ),
    "rule.unknown_method": (
        "Категорія «{category}»: невідомий спосіб визначення переможців «{method}».",
        "“{category}”: unknown funding method “{method}”.",
    ),
    "rule.unknown_tie_break": (
        "Категорія «{category}»: невідоме правило рівних голосів «{tie_break}».",
        "“{category}”: unknown tie-break “{tie_break}”.",
    ),
    "rule.lot_seed_missing": (
        "Категорія «{category}»: для жеребкування потрібне зерно жеребу.",
        "“{category}”: a lot needs its seed.",
    ),
    "rule.share_range": (
        "Категорія «{category}»: частка голосів має бути від 0 до 100 %.",
        "“{category}”: the share of votes must be between 0 and 100 %.",
    ),
    "rule.cost_bounds_order": (
        "Категорія «{category}»: найменша вартість проєкту більша за найбільшу.",
        "“{category}”: the least project cost is above the most.",
    ),
    "rule.project_under_floor": (
        "Проєкт коштує {cost}, а в категорії «{category}» найменша вартість — {floor}.",
        "The project costs {cost}; the least cost in “{category}” is {floor}.",
    ),
    "rule.leftover_to_self": (
        "Категорія «{category}»: залишок не можна передати тій самій категорії.",
        "“{category}”: the leftover cannot move to the same category.",
    ),
    "rule.leftover_unknown": (
        "Категорія «{category}»: залишок передається категорії, якої немає в цьому циклі.",
        "“{category}”: the leftover moves to a category that is not in this cycle.",
    ),
    "rule.leftover_cycle": (
        "Категорія «{category}»: залишки передаються по колу.",
        "“{category}”: leftovers move round in a circle.",
    ),
    "rule.exclusive_group": (
        "Категорія «{category}»: група взаємовиключних проєктів має містити щонайменше два різні "
        "проєкти, і проєкт може бути лише в одній групі.",
        "“{category}”: a group of mutually exclusive projects needs at least two different "
        "projects, and a project may be in one group only.",
    ),
    "rule.exclusive_group_unknown": (
        "Категорія «{category}»: у групі взаємовиключних є проєкт не з цієї категорії.",
        "“{category}”: a group of mutually exclusive projects names a project outside this category.",
    ),
    # funding: why each project was or was not funded
    "funding.funded": ("Профінансовано.", "Funded."),
    "funding.funded_round": (
        "Профінансовано в раунді {round}: кожен прихильник сплатив до {price}.",
        "Funded in round {round}: each supporter paid up to {price}.",
    ),
    "funding.too_few_votes": (
        "Не профінансовано: {votes} голосів, а потрібно щонайменше {threshold}.",
        "Not funded: {votes} votes, at least {threshold} needed.",
    ),
    "funding.over_budget": (
        "Не профінансовано: коштує {cost}, а залишалося {left}.",
        "Not funded: costs {cost}, only {left} was left.",
    ),
    "funding.stopped": (
        "Не розглядався: розподіл зупинився на проєкті {project}, який не вмістився в залишок.",
        "Not considered: funding stopped at project {project}, which did not fit.",
    ),
    "funding.excluded": (
        "Не профінансовано: профінансовано взаємовиключний з ним проєкт {project}.",
        "Not funded: project {project}, which excludes it, was funded.",
    ),
    "funding.cost_out_of_bounds": (
        "Не профінансовано: вартість поза межами категорії.",
        "Not funded: its cost is outside the category's bounds.",
    ),
    "funding.supporters_short": (
        "Не профінансовано: у його прихильників залишалося {money}, а він коштує {cost}.",
        "Not funded: its supporters had {money} left; it costs {cost}.",
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


# Polls (voting/polls.py): a poll's own rule (the console) and a resident's answers.
MESSAGES.update(
    {
        "poll.no_questions": ("В опитуванні немає жодного питання.", "The poll has no questions."),
        "poll.question_few_options": (
            "Питання {question}: потрібно щонайменше два варіанти відповіді.",
            "Question {question}: at least two answer options are needed.",
        ),
        "poll.question_same_option": (
            "Питання {question}: один варіант відповіді вказано двічі.",
            "Question {question}: an answer option is listed twice.",
        ),
        "poll.question_max_choices": (
            "Питання {question}: скільки можна обрати — від 1 до {options}.",
            "Question {question}: how many may be chosen must be between 1 and {options}.",
        ),
        "poll.answer_empty": (
            "Дайте відповідь хоча б на одне питання.",
            "Answer at least one question.",
        ),
        "poll.answer_unknown_question": (
            "Такого питання в опитуванні немає. Нічого не збережено.",
            "The poll has no such question. Nothing was saved.",
        ),
        "poll.answer_shape": (
            "Питання {question}: відповідь має неправильний вигляд.",
            "Question {question}: the answer has the wrong form.",
        ),
        "poll.answer_unknown_option": (
            "Питання {question}: такого варіанта відповіді немає.",
            "Question {question}: there is no such answer option.",
        ),
        "poll.answer_option_twice": (
            "Питання {question}: один варіант обрано двічі.",
            "Question {question}: an option is chosen twice.",
        ),
        "poll.answer_none_chosen": (
            "Питання {question}: оберіть варіант відповіді або пропустіть питання.",
            "Question {question}: choose an answer or skip the question.",
        ),
        "poll.answer_one": (
            "Питання {question}: оберіть один варіант відповіді.",
            "Question {question}: choose one answer.",
        ),
    }
)


# Texts with a count, in every form of each language (voting/plurals.py picks one by the
# parameter named first): Ukrainian one/few/many («з 21 року», «2 голоси», «5 голосів»),
# English one/other. MESSAGES keeps their "many"/"other" forms for readers of the table.
COUNTED: dict[str, tuple[str, tuple[str, str, str], tuple[str, str]]] = {
    "eligibility.too_young": (
        "min_age",
        (
            "Голосувати можна з {min_age} року.",
            "Голосувати можна з {min_age} років.",
            "Голосувати можна з {min_age} років.",
        ),
        ("You may vote from the age of {min_age}.", "You may vote from the age of {min_age}."),
    ),
    "eligibility.age_unknown": (
        "min_age",
        (
            "За цим документом не видно віку, а голосувати можна з {min_age} року. "
            "Зверніться до працівника: він перевірить документ.",
            "За цим документом не видно віку, а голосувати можна з {min_age} років. "
            "Зверніться до працівника: він перевірить документ.",
            "За цим документом не видно віку, а голосувати можна з {min_age} років. "
            "Зверніться до працівника: він перевірить документ.",
        ),
        (MESSAGES["eligibility.age_unknown"][1], MESSAGES["eligibility.age_unknown"][1]),
    ),
    "district.too_long": (
        "limit",
        (
            "Назва району задовга: не більше {limit} символу.",
            "Назва району задовга: не більше {limit} символів.",
            "Назва району задовга: не більше {limit} символів.",
        ),
        (
            "The district name is too long: at most {limit} character.",
            "The district name is too long: at most {limit} characters.",
        ),
    ),
    "ballot.too_few_total": (
        "limit",
        (
            "Оберіть щонайменше {limit} проєкт загалом.",
            "Оберіть щонайменше {limit} проєкти загалом.",
            "Оберіть щонайменше {limit} проєктів загалом.",
        ),
        ("Choose at least {limit} project in total.", "Choose at least {limit} projects in total."),
    ),
    "ballot.too_many_total": (
        "limit",
        (
            "Загалом можна обрати не більше {limit} проєкту.",
            "Загалом можна обрати не більше {limit} проєктів.",
            "Загалом можна обрати не більше {limit} проєктів.",
        ),
        (
            "You may choose at most {limit} project in total.",
            "You may choose at most {limit} projects in total.",
        ),
    ),
    "rule.max_above_limit": (
        "limit",
        (
            "Обмеження {max} більше за найбільше можливе: в одному голосі не більше {limit} проєкту.",
            "Обмеження {max} більше за найбільше можливе: в одному голосі не більше {limit} проєктів.",
            "Обмеження {max} більше за найбільше можливе: в одному голосі не більше {limit} проєктів.",
        ),
        (
            "The limit {max} is above the most possible: one vote chooses at most {limit} project.",
            "The limit {max} is above the most possible: one vote chooses at most {limit} projects.",
        ),
    ),
    "funding.too_few_votes": (
        "votes",
        (
            "Не профінансовано: {votes} голос, а потрібно щонайменше {threshold}.",
            "Не профінансовано: {votes} голоси, а потрібно щонайменше {threshold}.",
            "Не профінансовано: {votes} голосів, а потрібно щонайменше {threshold}.",
        ),
        (
            "Not funded: {votes} vote, at least {threshold} needed.",
            "Not funded: {votes} votes, at least {threshold} needed.",
        ),
    ),
    "poll.too_many_questions": (
        "limit",
        (
            "В опитуванні може бути не більше {limit} питання.",
            "В опитуванні може бути не більше {limit} питань.",
            "В опитуванні може бути не більше {limit} питань.",
        ),
        ("A poll has at most {limit} question.", "A poll has at most {limit} questions."),
    ),
    "poll.question_many_options": (
        "limit",
        (
            "Питання {question}: не більше {limit} варіанта відповіді.",
            "Питання {question}: не більше {limit} варіантів відповіді.",
            "Питання {question}: не більше {limit} варіантів відповіді.",
        ),
        (
            "Question {question}: at most {limit} answer option.",
            "Question {question}: at most {limit} answer options.",
        ),
    ),
    "poll.question_max_points": (
        "limit",
        (
            "Питання {question}: найбільша кількість балів — від 1 до {limit}.",
            "Питання {question}: найбільша кількість балів — від 1 до {limit}.",
            "Питання {question}: найбільша кількість балів — від 1 до {limit}.",
        ),
        (
            "Question {question}: the most points must be between 1 and {limit}.",
            "Question {question}: the most points must be between 1 and {limit}.",
        ),
    ),
    "poll.answer_too_many": (
        "limit",
        (
            "Питання {question}: можна обрати не більше {limit} варіанта.",
            "Питання {question}: можна обрати не більше {limit} варіантів.",
            "Питання {question}: можна обрати не більше {limit} варіантів.",
        ),
        (
            "Question {question}: choose at most {limit} option.",
            "Question {question}: choose at most {limit} options.",
        ),
    ),
    "poll.answer_rank_too_many": (
        "limit",
        (
            "Питання {question}: можна впорядкувати не більше {limit} варіанта.",
            "Питання {question}: можна впорядкувати не більше {limit} варіантів.",
            "Питання {question}: можна впорядкувати не більше {limit} варіантів.",
        ),
        (
            "Question {question}: rank at most {limit} option.",
            "Question {question}: rank at most {limit} options.",
        ),
    ),
    "poll.answer_points_range": (
        "max",
        (
            "Питання {question}: кожному варіанту можна дати від 0 до {max} бала.",
            "Питання {question}: кожному варіанту можна дати від 0 до {max} балів.",
            "Питання {question}: кожному варіанту можна дати від 0 до {max} балів.",
        ),
        (
            "Question {question}: give each option from 0 to {max} point.",
            "Question {question}: give each option from 0 to {max} points.",
        ),
    ),
}

# A counted text read without its count (a table of codes, a log line) shows its
# many / other form.
for _code, (_param, _uk_forms, _en_forms) in COUNTED.items():
    MESSAGES.setdefault(_code, (_uk_forms[2], _en_forms[1]))


def _count(value: Any) -> int:
    """A count given as a number or as a number written with spaces («1 234»)."""
    if isinstance(value, int):
        return value
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return int(digits) if digits else 0


def message(code: str, locale: str = "uk", **params: Any) -> str:
    """The text for `code` in `locale` ("uk" or "en"), with `params` filled in."""
    if code in COUNTED and COUNTED[code][0] in params:
        count, uk_forms, en_forms = COUNTED[code]
        forms: tuple[str, ...] = en_forms if locale == "en" else uk_forms
        return forms[plural_index(locale, _count(params[count]))].format(**params)
    try:
        uk, en = MESSAGES[code]
    except KeyError:
        raise KeyError(f"no message for code {code!r}") from None
    template = en if locale == "en" else uk
    return template.format(**params)
