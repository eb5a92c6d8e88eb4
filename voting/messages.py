"""User-facing texts for the domain's error codes, Ukrainian first.

The domain reports problems as a code plus parameters; every app (server, kiosk,
support point) shows them through `message()` so a resident sees the same words
wherever they vote. A code names its Ukrainian text here; the English (and the
Ukrainian forms of a counted text) live in the domain's catalog,
`voting/translations/*/messages.po`, where a translator finds them beside every other
text of the system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .po_catalog import Catalogs

TRANSLATIONS = Path(__file__).parent / "translations"

MESSAGES: dict[str, str] = {
    # identity
    "identity.empty": "Введіть номер документа.",
    "identity.too_long": "Номер документа задовгий.",
    "identity.unknown_kind": "Невідомий тип документа.",
    "identity.rnokpp_format": "РНОКПП має складатися з 10 цифр.",
    "identity.rnokpp_checksum": "У РНОКПП помилка: контрольна цифра не збігається.",
    "identity.unzr_format": "Запис ЄДДР (УНЗР) має вигляд РРРРММДД-ЧЧЧЧЧ.",
    "identity.passport_format": "Паспорт-книжечка: дві літери серії й шість цифр, наприклад АВ123456.",
    "identity.id_card_format": "Номер ID-картки має складатися з 9 цифр.",
    "identity.card_format": "Картку не вдалося прочитати.",
    # eligibility (the community's rules: minimum age, list of residents)
    "eligibility.not_listed": (
        "Вас немає у списку мешканців, які можуть голосувати в цій громаді. Зверніться до працівника."
    ),
    "eligibility.too_young": "Голосувати можна з {min_age} років.",
    "eligibility.born_in_future": "Дата народження в номері документа ще не настала: перевірте номер.",
    "eligibility.age_unknown": (
        "За цим документом не видно віку, а голосувати можна з {min_age} років. Зверніться до працівника: "
        "він перевірить документ."
    ),
    # ballot rule (a selection against the rule)
    "ballot.wrong_district": (
        "Категорія «{category}» — лише для мешканців району «{district}». За списком громади ви не мешкаєте "
        "в цьому районі, тому голосувати в ній не можете."
    ),
    "ballot.no_category_for_resident": (
        "У цьому голосуванні немає категорій для вашого району. Зверніться до працівника."
    ),
    # district names (a category's, a voter-list entry's)
    "district.too_long": "Назва району задовга: не більше {limit} символів.",
    "district.bad_character": (
        "У назві району є недозволені символи: лише літери, цифри, пробіли, дефіс, апостроф, крапка, кома, "
        "дужки."
    ),
    "district.mixed_alphabets": (
        "У назві району змішано кирилицю й латиницю (наприклад, латинська «i» замість «і»): виправте назву."
    ),
    "ballot.unknown_project": "Проєкту {project} немає в цьому бюлетені.",
    "ballot.repeated_project": "Проєкт {project} обрано двічі.",
    "ballot.too_few_in_category": "У категорії «{category}» оберіть щонайменше {limit}.",
    "ballot.too_many_in_category": "У категорії «{category}» можна обрати не більше {limit}.",
    "ballot.over_category_budget": "Обрані проєкти категорії «{category}» коштують більше за її бюджет.",
    "ballot.too_few_total": "Оберіть щонайменше {limit} проєктів загалом.",
    "ballot.too_many_total": "Загалом можна обрати не більше {limit} проєктів.",
    "ballot.empty": "Не обрано жодного проєкту.",
    # rule definitions (a moderator saving an impossible rule)
    "rule.negative": "Обмеження не можуть бути від’ємними.",
    "rule.max_below_min": "Максимум ({max}) менший за мінімум ({min}).",
    "rule.max_above_limit": (
        "Обмеження {max} більше за найбільше можливе: в одному голосі не більше {limit} проєктів."
    ),
    "rule.district_min_choices": (
        "Категорія «{category}» — районна: мінімальна кількість проєктів у ній має бути 0 (мешканці інших "
        "районів її не бачать)."
    ),
    "rule.max_zero": "Максимальна кількість проєктів має бути більшою за нуль.",
    "rule.budget_not_positive": "Бюджет має бути більшим за нуль.",
    "rule.budget_below_cheapest": (
        "Бюджет категорії «{category}» ({budget}) менший за найдешевший проєкт ({cheapest})."
    ),
    "rule.project_over_cap": "Проєкт коштує {cost}, а в категорії «{category}» межа — {cap}.",
    "rule.min_above_projects": "Мінімум ({min}) більший за кількість допущених проєктів ({count}).",
    "rule.total_min_above_categories": (
        "Загальний мінімум ({min}) неможливо набрати: у категоріях можна обрати не більше {reachable}."
    ),
    "rule.total_min_above_open_categories": (
        "Загальний мінімум ({min}) недосяжний для частини мешканців: без району або в одному з районів можна"
        " обрати не більше {reachable}. Зменшіть мінімум або змініть категорії."
    ),
    "rule.unknown_method": "Категорія «{category}»: невідомий спосіб визначення переможців «{method}».",
    "rule.unknown_tie_break": "Категорія «{category}»: невідоме правило рівних голосів «{tie_break}».",
    "rule.lot_seed_missing": "Категорія «{category}»: для жеребкування потрібне зерно жеребу.",
    "rule.share_range": "Категорія «{category}»: частка голосів має бути від 0 до 100 %.",
    "rule.cost_bounds_order": "Категорія «{category}»: найменша вартість проєкту більша за найбільшу.",
    "rule.project_under_floor": (
        "Проєкт коштує {cost}, а в категорії «{category}» найменша вартість — {floor}."
    ),
    "rule.leftover_to_self": "Категорія «{category}»: залишок не можна передати тій самій категорії.",
    "rule.leftover_unknown": (
        "Категорія «{category}»: залишок передається категорії, якої немає в цьому циклі."
    ),
    "rule.leftover_cycle": "Категорія «{category}»: залишки передаються по колу.",
    "rule.exclusive_group": (
        "Категорія «{category}»: група взаємовиключних проєктів має містити щонайменше два різні проєкти, і "
        "проєкт може бути лише в одній групі."
    ),
    "rule.exclusive_group_unknown": (
        "Категорія «{category}»: у групі взаємовиключних є проєкт не з цієї категорії."
    ),
    # funding: why each project was or was not funded
    "funding.funded": "Профінансовано.",
    "funding.funded_round": "Профінансовано в раунді {round}: кожен прихильник сплатив до {price}.",
    "funding.too_few_votes": "Не профінансовано: {votes} голосів, а потрібно щонайменше {threshold}.",
    "funding.over_budget": "Не профінансовано: коштує {cost}, а залишалося {left}.",
    "funding.stopped": (
        "Не розглядався: розподіл зупинився на проєкті {project}, який не вмістився в залишок."
    ),
    "funding.excluded": "Не профінансовано: профінансовано взаємовиключний з ним проєкт {project}.",
    "funding.cost_out_of_bounds": "Не профінансовано: вартість поза межами категорії.",
    "funding.supporters_short": (
        "Не профінансовано: у його прихильників залишалося {money}, а він коштує {cost}."
    ),
    "rule.window_order": "Кінець голосування має бути пізніше за початок.",
    # votes
    "vote.outside_window": "Голос подано поза часом голосування.",
    "vote.cycle_mismatch": "Голос належить іншому циклу.",
    "vote.code_required": "У шкільному конкурсі голосують лише кодами учнів.",
    "vote.code_not_allowed": "У цьому голосуванні коди не видавали: голосують лише мешканці.",
    "vote.code_not_valid": "Код не видано для цього конкурсу або його відкликано.",
}


# Polls (voting/polls.py): a poll's own rule (the console) and a resident's answers.
MESSAGES.update(
    {
        "poll.no_questions": "В опитуванні немає жодного питання.",
        "poll.question_few_options": "Питання {question}: потрібно щонайменше два варіанти відповіді.",
        "poll.question_same_option": "Питання {question}: один варіант відповіді вказано двічі.",
        "poll.question_max_choices": "Питання {question}: скільки можна обрати — від 1 до {options}.",
        "poll.answer_empty": "Дайте відповідь хоча б на одне питання.",
        "poll.answer_unknown_question": "Такого питання в опитуванні немає. Нічого не збережено.",
        "poll.answer_shape": "Питання {question}: відповідь має неправильний вигляд.",
        "poll.answer_unknown_option": "Питання {question}: такого варіанта відповіді немає.",
        "poll.answer_option_twice": "Питання {question}: один варіант обрано двічі.",
        "poll.answer_none_chosen": "Питання {question}: оберіть варіант відповіді або пропустіть питання.",
        "poll.answer_one": "Питання {question}: оберіть один варіант відповіді.",
        # who may answer (WhoMayAnswer); the list and the age refuse with eligibility.*
        "poll.who_min_age": "Найменший вік для відповіді — ціле число від {low} до {high}.",
        "poll.who_voter_list": "Чи потрібен список виборців: true або false.",
        "poll.age_unknown": (
            "За цим документом не видно віку, а відповідати на це опитування можна з {min_age} років. "
            "Зверніться до працівника: він перевірить документ."
        ),
        "poll.too_young": "Відповідати на це опитування можна з {min_age} років.",
        "poll.wrong_district": (
            "Це опитування — лише для мешканців району «{district}». За списком громади ви не мешкаєте в "
            "цьому районі, тому відповісти не можете."
        ),
    }
)


# Texts with a count: the parameter that counts, then the Ukrainian "one" and "many"
# forms (gettext's msgid and msgid_plural). The catalog holds every form of each
# language (Ukrainian one/few/many: «з 21 року», «2 голоси», «5 голосів»; English
# one/other), picked by voting/plurals.py's rules.
COUNTED: dict[str, tuple[str, str, str]] = {
    "eligibility.too_young": (
        "min_age",
        "Голосувати можна з {min_age} року.",
        "Голосувати можна з {min_age} років.",
    ),
    "eligibility.age_unknown": (
        "min_age",
        "За цим документом не видно віку, а голосувати можна з {min_age} року. Зверніться до працівника:"
        " він перевірить документ.",
        "За цим документом не видно віку, а голосувати можна з {min_age} років. Зверніться до "
        "працівника: він перевірить документ.",
    ),
    "poll.too_young": (
        "min_age",
        "Відповідати на це опитування можна з {min_age} року.",
        "Відповідати на це опитування можна з {min_age} років.",
    ),
    "poll.age_unknown": (
        "min_age",
        "За цим документом не видно віку, а відповідати на це опитування можна з {min_age} року. "
        "Зверніться до працівника: він перевірить документ.",
        "За цим документом не видно віку, а відповідати на це опитування можна з {min_age} років. "
        "Зверніться до працівника: він перевірить документ.",
    ),
    "district.too_long": (
        "limit",
        "Назва району задовга: не більше {limit} символу.",
        "Назва району задовга: не більше {limit} символів.",
    ),
    "ballot.too_few_total": (
        "limit",
        "Оберіть щонайменше {limit} проєкт загалом.",
        "Оберіть щонайменше {limit} проєктів загалом.",
    ),
    "ballot.too_many_total": (
        "limit",
        "Загалом можна обрати не більше {limit} проєкту.",
        "Загалом можна обрати не більше {limit} проєктів.",
    ),
    "rule.max_above_limit": (
        "limit",
        "Обмеження {max} більше за найбільше можливе: в одному голосі не більше {limit} проєкту.",
        "Обмеження {max} більше за найбільше можливе: в одному голосі не більше {limit} проєктів.",
    ),
    "funding.too_few_votes": (
        "votes",
        "Не профінансовано: {votes} голос, а потрібно щонайменше {threshold}.",
        "Не профінансовано: {votes} голосів, а потрібно щонайменше {threshold}.",
    ),
    "poll.too_many_questions": (
        "limit",
        "В опитуванні може бути не більше {limit} питання.",
        "В опитуванні може бути не більше {limit} питань.",
    ),
    "poll.question_many_options": (
        "limit",
        "Питання {question}: не більше {limit} варіанта відповіді.",
        "Питання {question}: не більше {limit} варіантів відповіді.",
    ),
    "poll.question_max_points": (
        "limit",
        "Питання {question}: найбільша кількість балів — від 1 до {limit}.",
        "Питання {question}: найбільша кількість балів — від 1 до {limit}.",
    ),
    "poll.answer_too_many": (
        "limit",
        "Питання {question}: можна обрати не більше {limit} варіанта.",
        "Питання {question}: можна обрати не більше {limit} варіантів.",
    ),
    "poll.answer_rank_too_many": (
        "limit",
        "Питання {question}: можна впорядкувати не більше {limit} варіанта.",
        "Питання {question}: можна впорядкувати не більше {limit} варіантів.",
    ),
    "poll.answer_points_range": (
        "max",
        "Питання {question}: кожному варіанту можна дати від 0 до {max} бала.",
        "Питання {question}: кожному варіанту можна дати від 0 до {max} балів.",
    ),
}

# A counted text read without its count (a table of codes, a log line) shows its
# many / other form.
for _code, (_param, _one, _many) in COUNTED.items():
    MESSAGES.setdefault(_code, _many)


# The texts of this table in each language (`catalog("en")`), read once.
catalog = Catalogs(TRANSLATIONS)


def _count(value: Any) -> int:
    """A count given as a number or as a number written with spaces («1 234»)."""
    if isinstance(value, int):
        return value
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return int(digits) if digits else 0


def message(code: str, locale: str = "uk", **params: Any) -> str:
    """The text for `code` in `locale` ("uk" or "en"), with `params` filled in."""
    texts = catalog(locale)
    if code in COUNTED and COUNTED[code][0] in params:
        count, one, many = COUNTED[code]
        return texts.ngettext(one, many, _count(params[count]), **params)
    try:
        original = MESSAGES[code]
    except KeyError:
        raise KeyError(f"no message for code {code!r}") from None
    if code in COUNTED:  # read without its count: the "many" / "other" form
        _param, one, many = COUNTED[code]
        return texts.general_form(one, many).format(**params)
    return texts.texts.get(original, original).format(**params)
