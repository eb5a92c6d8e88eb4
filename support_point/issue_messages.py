"""What a support-point operator reads while issuing personal ballot sheets: a code
names its Ukrainian text, the English (and the counted texts' forms) is in
support_point/translations/*/support_point.po, as paper.messages has for the rest of
paper ballots. `message` looks here first, then in the domain's texts (voting.messages:
a malformed document number, the community's rules), then in paper.messages,
so every code the issue core, the review page or the CLI may show has its words.

The operator reads the refusals; some of the domain's texts speak to the resident
("зверніться до працівника"), so the few that do are worded here for the operator.
"""

from __future__ import annotations

from paper import messages as ballot_messages
from support_point.texts import catalog
from voting import messages as domain_messages

__all__ = ["MESSAGES", "UI", "both_of", "catalog", "message", "ui_text"]

MESSAGES: dict[str, str] = {
    # refusals while issuing
    "issue.no_cycle": "У пакеті немає такого голосування для мешканців",
    "issue.cycle_not_open": "Голосування зараз не відкрите: бюлетені видають лише під час голосування",
    "issue.voted_here": (
        "Цей мешканець уже проголосував у цьому голосуванні на цьому пункті. Бюлетень не видано"
    ),
    "issue.voted_elsewhere": (
        "Цей мешканець уже проголосував у цьому голосуванні в іншому місці (термінал, онлайн або інший "
        "пункт). Бюлетень не видано"
    ),
    "issue.live_sheet": (
        "Цей мешканець уже має бюлетень {serial}. Якщо його зіпсовано, заберіть його й скасуйте "
        "(«Зіпсований: скасувати й видати новий»)"
    ),
    "issue.document_kind": "Оберіть тип документа: РНОКПП, УНЗР, паспорт-книжечка або ID-картка",
    "issue.one_identity": (
        "Вкажіть або картку (--card-id), або документ (--document-kind і --document-number)"
    ),
    "issue.reader_off": "Зчитувач карток на цьому пункті не налаштовано: введіть документ мешканця",
    "issue.no_reader": "Зчитувач карток не під'єднано або він не працює",
    "issue.no_card": "На зчитувачі немає картки: покладіть її й натисніть ще раз",
    "issue.card_error": "Картку не вдалося прочитати: покладіть її ще раз і тримайте нерухомо",
    # cancelling
    "issue.unknown_serial": "Аркуш {serial} не видавали персонально на цьому пункті",
    "issue.already_cancelled": "Аркуш {serial} уже скасовано",
    "issue.cancel_committed": "Аркуш {serial} уже прочитано й записано як голос: скасувати його не можна",
    "issue.cancel_read": (
        "Аркуш {serial} уже відскановано, тобто вкинуто: скасувати його не можна. Якщо він справді "
        "зіпсований, відхиліть його на сторінці перевірки"
    ),
    "issue.pdf_unavailable": "PDF цього аркуша більше не видається: аркуш скасовано або вже відскановано",
    # serials
    "issue.serials_exhausted": "Номери аркушів цього пункту вичерпано (найбільший — 999999)",
    "issue.serials_used": (
        "Деякі з цих номерів аркушів уже видавали чи друкували: не вказуйте --first, і буде взято наступні "
        "вільні"
    ),
    # done
    "issue.issued": "Видано аркуш {serial}: завантажте PDF і надрукуйте його",
    "issue.cancelled": "Аркуш {serial} скасовано",
    "issue.reissued": (
        "Аркуш {old} скасовано; замість нього видано {serial}: завантажте PDF і надрукуйте його"
    ),
    "issue.not_written": (
        "Аркуш {serial} видано, але PDF не записано ({detail}). Скасуйте його (spilno ballots cancel "
        "--serial {serial} --reissue) і спробуйте знову"
    ),
    "issue.out_needed": "--reissue і --out ідуть разом: PDF нового аркуша записується в --out",
    # a reading of a cancelled sheet (a SheetReading reason)
    "sheet.cancelled": "Цей аркуш скасовано як зіпсований: він не рахується",
    # the community's rules, worded for the operator who has the document in hand
    "eligibility.not_listed": (
        "Мешканця немає у списку тих, хто може голосувати в цій громаді. Бюлетень не видано"
    ),
    "eligibility.too_young": (
        "Мешканцеві ще немає {min_age} років, а голосувати можна з {min_age}. Бюлетень не видано"
    ),
    "eligibility.age_unknown": (
        "За цим документом не видно віку, а голосувати можна з {min_age} років: перевірте вік у документі й "
        "поставте позначку «Вік перевірено»"
    ),
}

UI: dict[str, str] = {
    "issue": "Видати бюлетень",
    "to_queue": "Перевірка аркушів",
    "no_open_cycle": "Зараз немає відкритого голосування: видавати бюлетені нема для чого",
    "cycle": "Голосування",
    "min_age": "голосувати можна з {min_age} років",
    "by_card": "За карткою мешканця",
    "card_hint": "Покладіть картку на зчитувач і натисніть кнопку",
    "read_card": "Зчитати картку й видати",
    "no_reader": "Зчитувач карток не налаштовано: видавайте за документом",
    "by_document": "За документом",
    "document_kind": "Тип документа",
    "kind_rnokpp": "РНОКПП (податковий номер)",
    "kind_unzr": "УНЗР (запис ЄДДР)",
    "kind_passport": "Паспорт-книжечка",
    "kind_id_card": "ID-картка",
    "document_number": "Номер документа (не зберігається й ніде не показується)",
    "age_confirmed": "Вік перевірено за документом (для документа без дати народження в номері)",
    "issue_button": "Перевірити й видати",
    "just_issued": "Аркуш {serial} видано",
    "download": "Завантажити PDF аркуша {serial}",
    "print_hint": "Відкрийте PDF і надрукуйте на A4 без масштабування; віддайте аркуш мешканцю",
    "today": "Видано сьогодні",
    "today_empty": "Сьогодні ще нічого не видано",
    "serial": "Номер аркуша",
    "time": "Час",
    "issued_by": "Видав(ла)",
    "status": "Стан",
    "status_live": "видано",
    "status_read": "відскановано",
    "status_committed": "голос записано",
    "status_cancelled": "скасовано: {reason} — {who}",
    "replaced_by": "замінено на {serial}",
    "pdf": "PDF",
    "cancel_reason": "Причина",
    "cancel_reissue": "Зіпсований: скасувати й видати новий",
    "cancel_only": "Лише скасувати",
}


# Texts with an age in them, by their Ukrainian "one" and "many" forms (gettext's msgid
# and msgid_plural); the catalog holds every form of each language, picked by `min_age`
# (Ukrainian one/few/many: «з 21 року», «з 18 років»). MESSAGES and UI keep the general
# wording for a text read without its age.
COUNTED: dict[str, tuple[str, str]] = {
    "eligibility.too_young": (
        "Мешканцеві ще немає {min_age} року, а голосувати можна з {min_age}. Бюлетень не видано",
        "Мешканцеві ще немає {min_age} років, а голосувати можна з {min_age}. Бюлетень не видано",
    ),
    "eligibility.age_unknown": (
        "За цим документом не видно віку, а голосувати можна з {min_age} року: перевірте вік у документі"
        " й поставте позначку «Вік перевірено»",
        "За цим документом не видно віку, а голосувати можна з {min_age} років: перевірте вік у "
        "документі й поставте позначку «Вік перевірено»",
    ),
    "min_age": ("голосувати можна з {min_age} року", "голосувати можна з {min_age} років"),
}


def _counted(code: str, locale: str, params: dict[str, object]) -> str | None:
    """The form of a COUNTED text for its `min_age`, or None for other texts."""
    min_age = params.get("min_age")
    if code not in COUNTED or not isinstance(min_age, int):
        return None
    one, many = COUNTED[code]
    return catalog(locale).ngettext(one, many, min_age, **params)


def _translated(original: str, locale: str) -> str:
    return catalog(locale).texts.get(original, original)


def message(code: str, locale: str = "uk", **params: object) -> str:
    """The text for `code` in `locale`: this module's, the domain's, or
    paper.messages' (which shows an unknown code as itself)."""
    counted = _counted(code, locale, params)
    if counted is not None:
        return counted
    if code not in MESSAGES and code in domain_messages.MESSAGES:
        try:  # the domain's own: counted texts take the form for their number
            return domain_messages.message(code, locale, **params)
        except (KeyError, IndexError, ValueError):
            original = domain_messages.MESSAGES[code]
            return domain_messages.catalog(locale).texts.get(original, original)
    if code not in MESSAGES:
        return ballot_messages.message(code, locale, **params)
    text = _translated(MESSAGES[code], locale)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text  # a parameter missing must not hide the message itself


def ui_text(key: str, locale: str = "uk", **params: object) -> str:
    """A label of the issue page, or of the review page when it is not one of these."""
    counted = _counted(key, locale, params)
    if counted is not None:
        return counted
    if key not in UI:
        return ballot_messages.ui_text(key, locale, **params)
    text = _translated(UI[key], locale)
    return text.format(**params) if params else text


def both_of(code: str, **params: object) -> str:
    """Ukrainian, then English after " / ": how the CLI tells the operator."""
    return f"{message(code, 'uk', **params)} / {message(code, 'en', **params)}"
