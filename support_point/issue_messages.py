"""What a support-point operator reads while issuing personal ballot sheets: one
Ukrainian and one English text per code, as paper.messages has for the rest of
paper ballots. `message` looks here first, then in the domain's texts (voting.messages:
a malformed document number, the community's rules), then in paper.messages,
so every code the issue core, the review page or the CLI may show has its words.

The operator reads the refusals; some of the domain's texts speak to the resident
("зверніться до працівника"), so the few that do are worded here for the operator.
"""

from __future__ import annotations

from paper import messages as ballot_messages
from voting import messages as domain_messages
from voting.plurals import plural_index

__all__ = ["MESSAGES", "UI", "both", "message", "ui_text"]

MESSAGES: dict[str, tuple[str, str]] = {
    # refusals while issuing
    "issue.no_cycle": (
        "У пакеті немає такого голосування для мешканців",
        "The package has no such cycle for residents",
    ),
    "issue.cycle_not_open": (
        "Голосування зараз не відкрите: бюлетені видають лише під час голосування",
        "The cycle is not open now: ballots are issued only while voting is open",
    ),
    "issue.voted_here": (
        "Цей мешканець уже проголосував у цьому голосуванні на цьому пункті. Бюлетень не видано",
        "This resident has already voted in this cycle at this support point. No ballot was issued",
    ),
    "issue.voted_elsewhere": (
        "Цей мешканець уже проголосував у цьому голосуванні в іншому місці (термінал, онлайн"
        " або інший пункт). Бюлетень не видано",
        "This resident has already voted in this cycle elsewhere (a terminal, online or another"
        " support point). No ballot was issued",
    ),
    "issue.live_sheet": (
        "Цей мешканець уже має бюлетень {serial}. Якщо його зіпсовано, заберіть його"
        " й скасуйте («Зіпсований: скасувати й видати новий»)",
        "This resident already holds ballot {serial}. If it is spoiled, take it back and cancel"
        " it («Spoiled: cancel and issue a new one»)",
    ),
    "issue.document_kind": (
        "Оберіть тип документа: РНОКПП, УНЗР, паспорт-книжечка або ID-картка",
        "Choose the document type: RNOKPP, UNZR, passport booklet or ID card",
    ),
    "issue.one_identity": (
        "Вкажіть або картку (--card-id), або документ (--document-kind і --document-number)",
        "Give either a card (--card-id) or a document (--document-kind and --document-number)",
    ),
    "issue.reader_off": (
        "Зчитувач карток на цьому пункті не налаштовано: введіть документ мешканця",
        "No card reader is set up at this support point: type the resident's document",
    ),
    "issue.no_reader": (
        "Зчитувач карток не під'єднано або він не працює",
        "The card reader is not connected or does not work",
    ),
    "issue.no_card": (
        "На зчитувачі немає картки: покладіть її й натисніть ще раз",
        "There is no card on the reader: put it there and press again",
    ),
    "issue.card_error": (
        "Картку не вдалося прочитати: покладіть її ще раз і тримайте нерухомо",
        "The card could not be read: put it on the reader again and hold it still",
    ),
    # cancelling
    "issue.unknown_serial": (
        "Аркуш {serial} не видавали персонально на цьому пункті",
        "Sheet {serial} was not issued personally at this support point",
    ),
    "issue.already_cancelled": ("Аркуш {serial} уже скасовано", "Sheet {serial} is already cancelled"),
    "issue.cancel_committed": (
        "Аркуш {serial} уже прочитано й записано як голос: скасувати його не можна",
        "Sheet {serial} has been read and recorded as a vote: it cannot be cancelled",
    ),
    "issue.cancel_read": (
        "Аркуш {serial} уже відскановано, тобто вкинуто: скасувати його не можна."
        " Якщо він справді зіпсований, відхиліть його на сторінці перевірки",
        "Sheet {serial} has already been scanned, so it was cast: it cannot be cancelled."
        " If it really is spoiled, set it aside on its review page",
    ),
    "issue.pdf_unavailable": (
        "PDF цього аркуша більше не видається: аркуш скасовано або вже відскановано",
        "This sheet's PDF is no longer given out: the sheet is cancelled or already scanned",
    ),
    # serials
    "issue.serials_exhausted": (
        "Номери аркушів цього пункту вичерпано (найбільший — 999999)",
        "This support point has run out of sheet numbers (the last is 999999)",
    ),
    "issue.serials_used": (
        "Деякі з цих номерів аркушів уже видавали чи друкували: не вказуйте --first,"
        " і буде взято наступні вільні",
        "Some of these sheet numbers were handed out or printed before: leave out --first"
        " to take the next free ones",
    ),
    # done
    "issue.issued": (
        "Видано аркуш {serial}: завантажте PDF і надрукуйте його",
        "Sheet {serial} issued: download the PDF and print it",
    ),
    "issue.cancelled": ("Аркуш {serial} скасовано", "Sheet {serial} cancelled"),
    "issue.reissued": (
        "Аркуш {old} скасовано; замість нього видано {serial}: завантажте PDF і надрукуйте його",
        "Sheet {old} cancelled; {serial} issued in its place: download the PDF and print it",
    ),
    "issue.not_written": (
        "Аркуш {serial} видано, але PDF не записано ({detail}). Скасуйте його"
        " (spilno ballots cancel --serial {serial} --reissue) і спробуйте знову",
        "Sheet {serial} was issued but its PDF was not written ({detail}). Cancel it"
        " (spilno ballots cancel --serial {serial} --reissue) and try again",
    ),
    "issue.out_needed": (
        "--reissue і --out ідуть разом: PDF нового аркуша записується в --out",
        "--reissue and --out go together: the new sheet's PDF is written to --out",
    ),
    # a reading of a cancelled sheet (a SheetReading reason)
    "sheet.cancelled": (
        "Цей аркуш скасовано як зіпсований: він не рахується",
        "This sheet was cancelled as spoiled: it does not count",
    ),
    # the community's rules, worded for the operator who has the document in hand
    "eligibility.not_listed": (
        "Мешканця немає у списку тих, хто може голосувати в цій громаді. Бюлетень не видано",
        "The resident is not on this community's list of those who may vote. No ballot was issued",
    ),
    "eligibility.too_young": (
        "Мешканцеві ще немає {min_age} років, а голосувати можна з {min_age}. Бюлетень не видано",
        "The resident is not yet {min_age}, and voting is from the age of {min_age}. No ballot was issued",
    ),
    "eligibility.age_unknown": (
        "За цим документом не видно віку, а голосувати можна з {min_age} років: перевірте вік"
        " у документі й поставте позначку «Вік перевірено»",
        "This document does not show the age, and voting is from the age of {min_age}: check the"
        " age on the document and tick «Age checked»",
    ),
}

UI: dict[str, tuple[str, str]] = {
    "issue": ("Видати бюлетень", "Issue a ballot"),
    "to_queue": ("Перевірка аркушів", "Sheet review"),
    "no_open_cycle": (
        "Зараз немає відкритого голосування: видавати бюлетені нема для чого",
        "No cycle is open now: there is nothing to issue ballots for",
    ),
    "cycle": ("Голосування", "Cycle"),
    "min_age": ("голосувати можна з {min_age} років", "voting from the age of {min_age}"),
    "by_card": ("За карткою мешканця", "By the resident's card"),
    "card_hint": (
        "Покладіть картку на зчитувач і натисніть кнопку",
        "Put the card on the reader and press the button",
    ),
    "read_card": ("Зчитати картку й видати", "Read the card and issue"),
    "no_reader": (
        "Зчитувач карток не налаштовано: видавайте за документом",
        "No card reader is set up: issue by document",
    ),
    "by_document": ("За документом", "By document"),
    "document_kind": ("Тип документа", "Document type"),
    "kind_rnokpp": ("РНОКПП (податковий номер)", "RNOKPP (taxpayer number)"),
    "kind_unzr": ("УНЗР (запис ЄДДР)", "UNZR (demographic register number)"),
    "kind_passport": ("Паспорт-книжечка", "Passport booklet"),
    "kind_id_card": ("ID-картка", "ID card"),
    "document_number": (
        "Номер документа (не зберігається й ніде не показується)",
        "Document number (never kept, never shown)",
    ),
    "age_confirmed": (
        "Вік перевірено за документом (для документа без дати народження в номері)",
        "Age checked on the document (for a document whose number has no birth date)",
    ),
    "issue_button": ("Перевірити й видати", "Check and issue"),
    "just_issued": ("Аркуш {serial} видано", "Sheet {serial} issued"),
    "download": ("Завантажити PDF аркуша {serial}", "Download the PDF of sheet {serial}"),
    "print_hint": (
        "Відкрийте PDF і надрукуйте на A4 без масштабування; віддайте аркуш мешканцю",
        "Open the PDF and print it on A4 at actual size; hand the sheet to the resident",
    ),
    "today": ("Видано сьогодні", "Issued today"),
    "today_empty": ("Сьогодні ще нічого не видано", "Nothing issued today yet"),
    "serial": ("Номер аркуша", "Sheet serial"),
    "time": ("Час", "Time"),
    "issued_by": ("Видав(ла)", "Issued by"),
    "status": ("Стан", "Status"),
    "status_live": ("видано", "issued"),
    "status_read": ("відскановано", "scanned"),
    "status_committed": ("голос записано", "vote recorded"),
    "status_cancelled": ("скасовано: {reason} — {who}", "cancelled: {reason} — {who}"),
    "replaced_by": ("замінено на {serial}", "replaced by {serial}"),
    "pdf": ("PDF", "PDF"),
    "cancel_reason": ("Причина", "Reason"),
    "cancel_reissue": ("Зіпсований: скасувати й видати новий", "Spoiled: cancel and issue a new one"),
    "cancel_only": ("Лише скасувати", "Cancel only"),
}


# Texts with an age in them, in every form (voting/plurals.py picks one by `min_age`):
# Ukrainian one/few/many («з 21 року», «з 18 років»), English one/other. MESSAGES and UI
# keep their "many"/"other" forms.
COUNTED: dict[str, tuple[tuple[str, str, str], tuple[str, str]]] = {
    "eligibility.too_young": (
        (
            "Мешканцеві ще немає {min_age} року, а голосувати можна з {min_age}. Бюлетень не видано",
            "Мешканцеві ще немає {min_age} років, а голосувати можна з {min_age}. Бюлетень не видано",
            "Мешканцеві ще немає {min_age} років, а голосувати можна з {min_age}. Бюлетень не видано",
        ),
        (MESSAGES["eligibility.too_young"][1], MESSAGES["eligibility.too_young"][1]),
    ),
    "eligibility.age_unknown": (
        (
            "За цим документом не видно віку, а голосувати можна з {min_age} року: перевірте вік"
            " у документі й поставте позначку «Вік перевірено»",
            "За цим документом не видно віку, а голосувати можна з {min_age} років: перевірте вік"
            " у документі й поставте позначку «Вік перевірено»",
            "За цим документом не видно віку, а голосувати можна з {min_age} років: перевірте вік"
            " у документі й поставте позначку «Вік перевірено»",
        ),
        (MESSAGES["eligibility.age_unknown"][1], MESSAGES["eligibility.age_unknown"][1]),
    ),
    "min_age": (
        (
            "голосувати можна з {min_age} року",
            "голосувати можна з {min_age} років",
            "голосувати можна з {min_age} років",
        ),
        (UI["min_age"][1], UI["min_age"][1]),
    ),
}


def _counted(code: str, locale: str, params: dict[str, object]) -> str | None:
    """The form of a COUNTED text for its `min_age`, or None for other texts."""
    min_age = params.get("min_age")
    if code not in COUNTED or not isinstance(min_age, int):
        return None
    ukrainian, english = COUNTED[code]
    forms: tuple[str, ...] = english if locale == "en" else ukrainian
    return forms[plural_index(locale, min_age)].format(**params)


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
            return domain_messages.MESSAGES[code][1 if locale == "en" else 0]
    texts = MESSAGES.get(code)
    if texts is None:
        return ballot_messages.message(code, locale, **params)
    text = texts[1] if locale == "en" else texts[0]
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text  # a parameter missing must not hide the message itself


def ui_text(key: str, locale: str = "uk", **params: object) -> str:
    """A label of the issue page, or of the review page when it is not one of these."""
    counted = _counted(key, locale, params)
    if counted is not None:
        return counted
    texts = UI.get(key)
    if texts is None:
        return ballot_messages.ui_text(key, locale, **params)
    text = texts[1] if locale == "en" else texts[0]
    return text.format(**params) if params else text


def both(code: str, **params: object) -> str:
    """Ukrainian, then English after " / ": how the CLI tells the operator."""
    return f"{message(code, 'uk', **params)} / {message(code, 'en', **params)}"
