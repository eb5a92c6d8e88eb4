"""Why the server refuses a device's request: a stable code for the device's program, a
status, and a message for people in Ukrainian or English.

Services raise `SyncRefused`; the views render it as
{"error": {"status", "code", "message", ...extra}}, the shape of every /api/ error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.i18n import _, ngettext


class SyncRefused(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def _texts() -> dict[str, str]:
    # Built per call: _() reads the language of the current request.
    return {
        "device.signature": _(
            "Запит не підписано відомим пристроєм: перевірте заголовки X-Spilno-* "
            "або зареєструйте пристрій знову."
        ),
        "device.revoked": _("Пристрій відкликано: сервер більше не приймає від нього даних."),
        "device.superseded": _(
            "Пристрій зареєстровано знову з іншим сховищем. Це сховище може лише передати "
            "свої голоси (їх розгляне модератор); нових голосів воно не приймає."
        ),
        "enrolment.code_required": _("Потрібен код реєстрації пристрою (поле code)."),
        "enrolment.invalid": _(
            "Код реєстрації невідомий, уже використаний або прострочений. Попросіть модератора видати новий."
        ),
        "enrolment.too_many_attempts": _(
            "Забагато спроб реєстрації з цієї адреси. Зачекайте й спробуйте знову (див. Retry-After)."
        ),
        "enrolment.malformed": _(
            "Запит на реєстрацію має бути об’єктом JSON з полями code, public_key, software."
        ),
        "enrolment.public_key": _("Поле public_key має містити відкритий ключ Ed25519 у base64 (32 байти)."),
        "enrolment.software": _("Поле software — рядок до 100 символів без службових символів."),
        "package.have": _("Параметр have — ціле невід’ємне число (0, якщо пакета ще немає)."),
        "statuses.since_seq": _("Параметр since_seq — ціле невід’ємне число."),
        "voters.since": _("Параметр since має бути курсором, який повернув сервер."),
        "eligibility.since": _("Параметр since має бути курсором, який повернув сервер."),
        "batch.invalid": _("Пакет записів не відповідає протоколу синхронізації. Нічого не збережено."),
        "entry.invalid": _("Запис журналу недійсний. Нічого не збережено, модератора повідомлено."),
        "chain.broken": _(
            "Ланцюжок журналу пристрою розірвано: записи не продовжують попередні. "
            "Нічого не збережено, модератора повідомлено."
        ),
        "chain.conflict": _(
            "Запис із цим номером уже отримано з іншим вмістом. Нічого не збережено, модератора повідомлено."
        ),
        "checkpoint.signature": _(
            "Підпис контрольної точки не збігається з ключем пристрою. "
            "Нічого не збережено, модератора повідомлено."
        ),
        "vote.conflict": _(
            "Голос із таким ідентифікатором уже отримано з іншим вмістом. "
            "Нічого не збережено, модератора повідомлено."
        ),
        "sync.too_many_pending": _(
            "Сервер уже тримає забагато пакетів після пропуску в журналі. Спершу надішліть пропущені записи."
        ),
        "sync.busy": _("Сервер зайнятий одночасними надсиланнями тих самих голосів. Надішліть пакет ще раз."),
        "malformed_json": _("Тіло запиту — не коректний JSON."),
        "unsupported_media_type": _(
            "Надсилайте тіло запиту як JSON із заголовком Content-Type: application/json."
        ),
    }


def sync_text(code: str, **params: Any) -> str:
    if code == "request_entity_too_large" and "limit" in params:  # «1 байта», «5 байтів»
        return ngettext(
            "Запит завеликий: не більше {limit} байта.",
            "Запит завеликий: не більше {limit} байтів.",
            params["limit"],
            **params,
        )
    text = _texts().get(code)
    if text is None:
        return code
    return text.format(**params) if params else text
