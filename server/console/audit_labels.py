"""What the audit log's codes mean to a person: a name for every action code the code
base writes (`server.services.audit.record`), for every kind of object, for the
details' keys and for the stored values that are codes themselves. Ukrainian here,
English in translations/en/audit.po; audit_entries puts them together into entries.

tests/server/test_console_audit_labels.py finds each `audit.record(...)` call and fails
on a new action code without a label here.
"""

from __future__ import annotations

from server.i18n import _
from server.models.cycle import CycleKind
from server.models.device import DeviceKind

__all__ = ["ACTION_LABELS", "DETAIL_LABELS", "TARGET_LABELS", "action_label"]

# Every action code written to the log, and what it means (Ukrainian; English in
# translations/en/audit.po). Nouns rather than verbs: a Ukrainian verb in the past
# tense would have to guess the person's gender.
ACTION_LABELS: dict[str, str] = {
    "auth.login": "Вхід у консоль",
    "auth.logout": "Вихід з консолі",
    "user.create": "Створення користувача",
    "user.activate": "Повторне ввімкнення користувача",
    "user.deactivate": "Вимкнення користувача",
    "user.password_change": "Зміна власного пароля",
    "api_client.create": "Створення клієнта інтеграції",
    "api_client.revoke": "Відкликання клієнта інтеграції",
    "poll.create": "Створення опитування",
    "poll.publish": "Оприлюднення опитування",
    "poll.results_publish": "Оприлюднення результатів опитування",
    "poll.results_unpublish": "Зняття результатів опитування з публікації",
    "community.create": "Створення громади",
    "community.update": "Зміна громади",
    "cycle.create": "Створення циклу голосування",
    "cycle.update": "Зміна циклу голосування",
    "category.create": "Створення категорії",
    "category.update": "Зміна категорії",
    "project.create": "Додавання проєкту",
    "project.update": "Зміна проєкту",
    "project.admit": "Допуск проєкту до голосування",
    "project.reject": "Відхилення проєкту",
    "project.photo_add": "Додавання фото проєкту",
    "project.photo_remove": "Вилучення фото проєкту",
    "device.register": "Реєстрація термінала чи пункту супроводу",
    "device.revoke": "Відкликання термінала чи пункту супроводу",
    "device.enrolment_code": "Видача коду реєстрації пристрою",
    "device.enrol": "Під’єднання пристрою до сервера",
    "device.bundle_import": "Імпорт голосів з носія даних",
    "alarm.acknowledge": "Перегляд тривоги пристрою",
    "held_votes.count": "Зарахування затриманих голосів",
    "held_votes.reject": "Відхилення затриманих голосів",
    "eligibility.upload": "Завантаження файлу списку виборців",
    "eligibility.enable": "Увімкнення перевірки за списком виборців",
    "eligibility.disable": "Вимкнення перевірки за списком виборців",
    "votes.paper_import": "Імпорт паперових голосів із файлу",
    "paper_scans.upload": "Завантаження сканованих бюлетенів",
    "paper_scans.commit": "Передача голосів зі сканів до підрахунку",
    "paper_tally.import": "Внесення протоколу підрахунку",
    "paper_tally.replace": "Заміна протоколу підрахунку",
    "results.publish": "Публікація результатів",
    "results.unpublish": "Скасування публікації результатів",
    "results.verify": "Перерахунок результатів із записів",
    "school.create": "Додавання школи",
    "school.update": "Зміна школи",
    "school_contest.create": "Створення шкільного конкурсу",
    "school_contest.update": "Зміна шкільного конкурсу",
    "school_codes.issue": "Видача кодів для голосування",
    "school_codes.revoke": "Відкликання коду для голосування",
    "school_codes.replace": "Заміна коду для голосування",
    "school_codes.download": "Завантаження карток з кодами",
    "job.done": "Завдання виконано",
    "job.failed": "Завдання не вдалося",
    "job.cancelled": "Завдання скасовано",
    "job.cancel_requested": "Запит на скасування завдання",
}

# What each kind of object is called before its name.
TARGET_LABELS: dict[str, str] = {
    "user": "Користувач",
    "cycle": "Цикл",
    "project": "Проєкт",
    "category": "Категорія",
    "device": "Пристрій",
    "community": "Громада",
    "api_client": "Клієнт інтеграції",
    "poll": "Опитування",
    "school": "Школа",
    "school_contest": "Шкільний конкурс",
    "voting_code": "Код для голосування",
    "job": "Завдання",
}

# Labels of the details' keys. A key not here is shown only among the raw details.
DETAIL_LABELS: dict[str, str] = {
    "login": "Логін",
    "role": "Роль",
    "school_id": "Школа",
    "name": "Назва",
    "prefix": "Початок ключа",
    "slug": "Коротка назва в адресі",
    "title": "Назва",
    "kind": "Вид",
    "voting_starts_at": "Початок голосування",
    "voting_ends_at": "Кінець голосування",
    "min_total": "Найменше проєктів у бюлетені",
    "max_total": "Найбільше проєктів у бюлетені",
    "min_age": "Найменший вік виборця",
    "cycle_id": "Цикл",
    "programme_cycle_id": "Програма шкільного бюджету",
    "budget": "Бюджет",
    "min_choices": "Найменше виборів",
    "max_choices": "Найбільше виборів",
    "budget_limited": "Вибір обмежено бюджетом",
    "max_project_cost": "Найбільша вартість проєкту",
    "min_project_cost": "Найменша вартість проєкту",
    "min_votes_to_fund": "Найменше голосів для фінансування",
    "position": "Порядок",
    "funding_method": "Спосіб визначення переможців",
    "tie_break": "Рівну кількість голосів вирішує",
    "min_votes_share": "Найменша частка голосів",
    "leftover_to_id": "Залишок передається категорії",
    "exclusive_groups": "Взаємовиключні проєкти",
    "completion_step": "Крок доповнення",
    "district": "Район",
    "lot_seed": "Зерно жеребу",
    "number": "Номер",
    "description": "Опис",
    "cost": "Вартість",
    "category_id": "Категорія",
    "reason": "Причина",
    "note": "Примітка",
    "mode": "Спосіб оновлення списку",
    "rows": "Рядків у файлі",
    "skipped_rows": "Пропущено рядків",
    "bad_rows": "Рядків з помилками",
    "only_good_rows": "Імпортовано лише рядки без помилок",
    "added": "Додано",
    "removed": "Вилучено",
    "moved": "Змінено район",
    "district_column": "Файл має стовпець району",
    "version": "Версія списку",
    "listed": "Мешканців у списку",
    "device": "Пристрій",
    "pages": "Сторінок",
    "accepted": "Прийнято",
    "needs_review": "Чекають на перевірку",
    "rejected": "Відхилено",
    "duplicate": "Повторні",
    "invalid": "Недійсні",
    "truncated": "Оброблено не все",
    "job": "Завдання",
    "committed": "Передано до підрахунку",
    "held": "Затримано",
    "location": "Розташування",
    "expires_at": "Діє до",
    "software": "Версія програми",
    "file": "Файл",
    "size_bytes": "Розмір файлу, байт",
    "created_at": "Створено",
    "first_seq": "Перший запис",
    "last_seq": "Останній запис",
    "batches": "Пакетів",
    "entries_read": "Прочитано записів",
    "stored": "Збережено",
    "already_known": "Уже були на сервері",
    "already_stored": "Уже були збережені",
    "waiting": "Чекають рішення",
    "not_read": "Не прочитано",
    "ok": "Без відмов",
    "refusals": "Відмов",
    "counted": "Зараховано",
    "tally_id": "Протокол",
    "replaced_tally_id": "Замінений протокол",
    "source": "Джерело",
    "ballots_issued": "Видано бюлетенів",
    "ballots_cast": "Бюлетенів у скриньці",
    "ballots_spoiled": "Зіпсовані бюлетені",
    "votes": "Голосів за проєкти",
    "published_at": "Було опубліковано",
    "agrees": "Перерахунок збігається",
    "differences": "Розбіжностей у голосах",
    "tally_findings": "Зауважень до протоколів",
    "funding_differences": "Розбіжностей у фінансуванні",
    "alarm_id": "Тривога",
    "count": "Кількість",
    "format": "Формат",
    "layout": "Макет",
    "class_name": "Клас",
    "batch_id": "Партія кодів",
    "code_id": "Код для голосування",
    "replaces": "Замість коду",
    "grades": "Паралелі",
    "address": "Адреса",
    "attempts": "Спроб",
    "progress": "Виконано кроків",
    "problems": "Проблем",
    "photo": "Фото",
    "alt": "Опис фото",
}

# Fingerprints and nested records say nothing to a person: raw details only.
RAW_ONLY = {"file_sha256", "sha256", "content_hash", "previous"}
MONEY = {"cost", "budget", "max_project_cost", "min_project_cost", "completion_step"}
MOMENTS = {"voting_starts_at", "voting_ends_at", "expires_at", "published_at", "created_at", "entered_at"}
CYCLES = {"cycle_id", "programme_cycle_id"}
CATEGORIES = {"category_id", "leftover_to_id"}
COUNTED_LISTS = {"problems", "refusals"}  # shown as how many

HELD_REASONS = {
    "results_published": "результати циклу вже оприлюднено",
    "device_revoked": "пристрій відкликано",
    "not_listed": "виборців немає в списку громади",
    "after_close": "подано після завершення голосування",
    "store_superseded": "надіслано старим сховищем пристрою",
    "wrong_district": "інший район у списку громади",
}
CYCLE_KINDS = {
    CycleKind.PUBLIC: "громадський бюджет",
    CycleKind.SCHOOL: "шкільний бюджет",
    CycleKind.SCHOOL_CONTEST: "шкільний конкурс",
}
DEVICE_KINDS = {DeviceKind.TERMINAL: "термінал", DeviceKind.SUPPORT_POINT: "пункт супроводу"}


def action_label(code: str) -> str:
    """The action's name in the viewer's language; an unknown code as it is."""
    return _(ACTION_LABELS[code]) if code in ACTION_LABELS else code
