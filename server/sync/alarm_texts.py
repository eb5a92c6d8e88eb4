"""What an alarm says, in the reader's language.

An alarm is stored as its kind, its evidence (`details`) and the parameters of its text
(`details["text"]`: which text and its values). The fleet page renders that text in the
moderator's language when it is read, so a moderator reading in English sees English,
and a count reads right in both («1 голос», «5 голосів»). The Ukrainian sentence is also
kept in `message`, for anyone reading the table directly, and it is what the page shows
for an alarm raised before texts were kept as parameters.

Texts are marked here with `_` and `ngettext` (markers only: the catalog check in
tests/test_translations.py and tests/test_plurals.py finds them) and translated in
`render`.
"""

from __future__ import annotations

from typing import Any

from server.i18n import DEFAULT_LOCALE, LOCALES, translations


def _(text: str) -> str:
    """Marks a text for the catalogs; `render` translates it."""
    return text


def ngettext(singular: str, plural: str, count: str) -> tuple[str, str, str]:
    """Marks a counted text; `count` names the parameter that picks the form."""
    return singular, plural, count


PLAIN: dict[str, str] = {
    "device.revoked_push": _("Відкликаний пристрій {code} намагався надіслати журнал. Його не прийнято."),
    "device.superseded_asked": _(
        "Стара копія сховища пристрою {code} (з ключем попередньої реєстрації) просила дані для "
        "голосування. Їй відмовлено: вона може лише передати свої голоси."
    ),
    "device.superseded_delivered": _(
        "Стара копія сховища пристрою {code} (з ключем попередньої реєстрації) передала журнал. "
        "Її нові голоси чекають рішення модератора на сторінці «Голоси на розгляді»."
    ),
    "entry.invalid": _("Пристрій {code} надіслав недійсний запис {seq} ({rule}). Пакет не прийнято."),
    "entry.invalid_unnumbered": _("Пристрій {code} надіслав недійсний запис ({rule}). Пакет не прийнято."),
    "chain.broken": _(
        "Ланцюжок журналу пристрою {code} розірвано на записі {seq}: записи не продовжують попередні "
        "або не збігаються з підписаною контрольною точкою. Пакет не прийнято."
    ),
    "chain.broken_unnumbered": _(
        "Ланцюжок журналу пристрою {code} розірвано: записи не продовжують попередні або не "
        "збігаються з підписаною контрольною точкою. Пакет не прийнято."
    ),
    "chain.conflict": _(
        "Пристрій {code} надіслав запис {seq} з іншим вмістом, ніж отриманий раніше. Пакет не прийнято."
    ),
    "checkpoint.signature": _(
        "Підпис контрольної точки {seq} пристрою {code} не збігається з його ключем. Пакет не прийнято."
    ),
    "entry.damaged": _(
        "Пристрій {code} не може прочитати запис {seq} свого журналу так, як його записано "
        "(пошкоджений диск або змінений файл). Запис збережено як доказ і не враховано; решту "
        "журналу прийнято. Перевірте носій пристрою."
    ),
    "device.forged_request": _(
        "Запит від імені пристрою {code} не підписано його ключем. Його не виконано. "
        "Якщо таке повторюється, хтось підробляє запити до сервера."
    ),
    "package.ahead": _(
        "Пристрій {code} має пакет версії {have}, якого цей сервер не видавав (сервер відновлено з "
        "резервної копії?). Видано версію {issued} з поточним вмістом; пристрій перейде на неї."
    ),
    "bundle.signature": _(
        "Підпис файлу перенесення голосів пристрою {code} (записи {first}–{last}) не збігається з "
        "ключем пристрою. Файл не прийнято."
    ),
}

COUNTED: dict[str, tuple[str, str, str]] = {
    "vote_conflict.device": ngettext(
        "Пристрій {code} надіслав {n} голос з уже відомим ідентифікатором, але іншим вмістом. "
        "Пакет не прийнято.",
        "Пристрій {code} надіслав {n} голосів з уже відомими ідентифікаторами, але іншим вмістом. "
        "Пакет не прийнято.",
        "n",
    ),
    "vote_conflict.api": ngettext(
        "Клієнт API {code} надіслав {n} голос з уже відомим ідентифікатором, але іншим вмістом. "
        "Пакет не прийнято.",
        "Клієнт API {code} надіслав {n} голосів з уже відомими ідентифікаторами, але іншим вмістом. "
        "Пакет не прийнято.",
        "n",
    ),
    "clock.step": ngettext(
        "Годинник пристрою {code} змінювали без зв'язку: {n} голос подано з іншим зсувом "
        "годинника (до {worst} хв). Час його подання може бути неточним.",
        "Годинник пристрою {code} змінювали без зв'язку: {n} голосів подано з іншим зсувом "
        "годинника (до {worst} хв). Час їх подання може бути неточним.",
        "n",
    ),
    "votes.held.device": ngettext(
        "Пристрій {code} надіслав {n} голос, який чекає рішення модератора: {why}. "
        "Він не врахований, доки модератор не вирішить.",
        "Пристрій {code} надіслав {n} голосів, які чекають рішення модератора: {why}. "
        "Вони не враховані, доки модератор не вирішить.",
        "n",
    ),
    "answer_conflict.device": ngettext(
        "Пристрій {code} надіслав {n} відповідь на опитування з уже відомим ідентифікатором, але "
        "іншим вмістом. Пакет не прийнято.",
        "Пристрій {code} надіслав {n} відповідей на опитування з уже відомими ідентифікаторами, але "
        "іншим вмістом. Пакет не прийнято.",
        "n",
    ),
    "poll_answers.refused": ngettext(
        "Пристрій {code} надіслав {n} відповідь на опитування, яку не зараховано: {answer_why}. "
        "Її збережено в журналі як доказ.",
        "Пристрій {code} надіслав {n} відповідей на опитування, які не зараховано: {answer_why}. "
        "Їх збережено в журналі як доказ.",
        "n",
    ),
    "votes.held.api": ngettext(
        "Онлайн-платформа {code} надіслала {n} голос, який чекає рішення модератора: {why}. "
        "Він не врахований, доки модератор не вирішить.",
        "Онлайн-платформа {code} надіслала {n} голосів, які чекають рішення модератора: {why}. "
        "Вони не враховані, доки модератор не вирішить.",
        "n",
    ),
}

# Why votes wait for a moderator (server.sync.held reasons), filled into {why}.
HELD_REASONS: dict[str, str] = {
    "results_published": _("результати циклу вже оприлюднено"),
    "device_revoked": _("пристрій відкликано"),
    "not_listed": _("виборців немає в списку громади на сервері"),
    "after_close": _("з поправкою на хід годинника пристрою голоси подано після завершення"),
    "store_superseded": _("їх надіслало старе сховище пристрою, який зареєстровано знову"),
    "wrong_district": _("вони обирають у районній категорії, а список громади вказує інший район"),
}


# Why a device's poll answers were not counted (server.sync.entry_answers), filled into
# {answer_why}.
ANSWER_REFUSALS: dict[str, str] = {
    "breaks_rule": _("відповіді порушують правила опитування"),
    "outside_window": _("їх подано поза часом опитування"),
    "not_allowed": _("за списком громади на сервері ці мешканці не можуть відповідати на опитування"),
    "anonymous": _("це анонімні бланки, а опитування лише для частини мешканців"),
    "device_revoked": _("пристрій відкликано"),
    "store_superseded": _("їх надіслало старе сховище пристрою, який зареєстровано знову"),
}


def text_of(key: str, **params: Any) -> dict[str, Any]:
    """The `details["text"]` of an alarm: which text, and its values (JSON)."""
    if key not in PLAIN and key not in COUNTED:
        raise KeyError(f"no alarm text {key!r}")
    return {"key": key, "params": params}


def render(text: dict[str, Any], locale: str) -> str:
    """A stored text in `locale`; KeyError or ValueError when it cannot be rendered."""
    catalog = translations(locale if locale in LOCALES else DEFAULT_LOCALE)
    key, params = text["key"], dict(text["params"])
    if "why" in params:
        params["why"] = catalog.texts.get(HELD_REASONS[params["why"]], HELD_REASONS[params["why"]])
    if "answer_why" in params:
        why = ANSWER_REFUSALS[params["answer_why"]]
        params["answer_why"] = catalog.texts.get(why, why)
    if key in COUNTED:
        singular, plural, count = COUNTED[key]
        return catalog.ngettext(singular, plural, int(params[count]), **params)
    template = PLAIN[key]
    return catalog.texts.get(template, template).format(**params)


def alarm_text(details: dict[str, Any], message: str, locale: str) -> str:
    """What the fleet page shows for an alarm: its text in `locale`, or the stored
    Ukrainian message for an alarm raised before texts were kept as parameters."""
    text = details.get("text")
    if isinstance(text, dict):
        try:
            return render(text, locale)
        except (KeyError, ValueError, TypeError, IndexError):
            pass
    return message
