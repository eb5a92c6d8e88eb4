"""Texts for the integration API's own problem codes ("api.*"), Ukrainian first.

Each text is a literal inside _() so the translation check finds it; the table is built
per call because _() reads the language of the current request.
"""

from __future__ import annotations

from typing import Any

from server.i18n import _, ngettext


def _texts() -> dict[str, str]:
    return {
        "api.not_object": _("Очікується об’єкт JSON."),
        "api.unknown_field": _("Невідоме поле."),
        "api.required": _("Обов’язкове поле."),
        "api.not_string": _("Очікується рядок."),
        "api.votes_not_list": _("Поле votes має бути списком голосів."),
        "api.not_uuid": _("Ідентифікатор голосу має бути UUID."),
        "api.not_id": _("Очікується ціле число від 1 до {max}."),
        "api.unknown_cycle": _("Серед циклів громадського бюджету вашої громади такого немає."),
        "api.voter_one_of": _("Потрібне рівно одне з полів voter_key або identity."),
        "api.voter_key_format": _("Ключ виборця — 64 шістнадцяткові символи (0-9, a-f)."),
        "api.selections_not_list": _("Очікується список ідентифікаторів проєктів."),
        "api.cast_at_format": _(
            "Час голосування — у форматі ISO 8601 з часовим поясом, наприклад 2027-05-01T10:00:00+03:00."
        ),
        "api.cast_at_range": _("Час голосування поза можливими межами."),
        "api.answers_not_list": _("Поле answers має бути списком відповідей."),
        "api.poll_outside_window": _("Відповідь подано поза часом опитування."),
        "api.poll_answers_shape": _(
            "Відповіді — об’єкт: номер питання → список варіантів (для балів — пари [варіант, бали])."
        ),
    }


# The codes, for tests and the OpenAPI document; reading it outside a request is fine
# because only the keys are used.
API_CODES = (
    "api.not_object",
    "api.unknown_field",
    "api.required",
    "api.not_string",
    "api.votes_not_list",
    "api.batch_size",
    "api.not_uuid",
    "api.not_id",
    "api.unknown_cycle",
    "api.voter_one_of",
    "api.voter_key_format",
    "api.selections_not_list",
    "api.too_many_selections",
    "api.cast_at_format",
    "api.cast_at_range",
    "api.answers_not_list",
    "api.answer_batch_size",
    "api.poll_outside_window",
    "api.poll_answers_shape",
)


def api_text(code: str, **params: Any) -> str:
    """The text for an "api.*" code in the request's language, with {params} filled in."""
    # The texts with a count take the form for it: «до 1 голосу», «до 5 голосів».
    if code == "api.batch_size":
        return ngettext(
            "У пакеті має бути від 1 до {max} голосу.",
            "У пакеті має бути від 1 до {max} голосів.",
            params["max"],
            **params,
        )
    if code == "api.answer_batch_size":
        return ngettext(
            "У пакеті має бути від 1 до {max} відповіді.",
            "У пакеті має бути від 1 до {max} відповідей.",
            params["max"],
            **params,
        )
    if code == "api.too_many_selections":
        return ngettext(
            "В одному голосі не більше {max} проєкту.",
            "В одному голосі не більше {max} проєктів.",
            params["max"],
            **params,
        )
    return _texts()[code].format(**params)
