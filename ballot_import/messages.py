"""What a support-point operator reads when a sheet, a form or a command is refused:
one Ukrainian and one English text per code. Codes are stable (JSON output, tests and
the review queue name them); the texts may be reworded."""

from __future__ import annotations

__all__ = ["MESSAGES", "message"]

MESSAGES: dict[str, tuple[str, str]] = {
    # reading a sheet (the codes of SheetReading.reasons)
    "sheet.unreadable": (
        "Аркуш не вдалося прочитати: перескануйте його рівно й чітко",
        "The sheet could not be read: scan it again, straight and sharp",
    ),
    "sheet.no_qr": (
        "На аркуші не знайдено QR-коду бюлетеня",
        "No ballot QR code was found on the sheet",
    ),
    "sheet.qr_format": (
        "QR-код не є кодом бюлетеня Spilno",
        "The QR code is not a Spilno ballot code",
    ),
    "sheet.qr_checksum": (
        "Контрольна сума QR-коду не збігається: аркуш підроблений або з іншої громади",
        "The QR code's check does not match: the sheet is forged or from another community",
    ),
    "sheet.wrong_cycle": (
        "Аркуш належить до іншого голосування",
        "The sheet belongs to another voting cycle",
    ),
    "sheet.unknown_layout": (
        "Невідомий вигляд бюлетеня: аркуш надруковано для іншого переліку проєктів",
        "Unknown ballot layout: the sheet was printed for another list of projects",
    ),
    "sheet.marginal_mark": (
        "Нечітка позначка: потрібне рішення людини",
        "An unclear mark: a person must decide",
    ),
    "sheet.overvote": (
        "Обрано більше проєктів, ніж дозволяють правила",
        "More projects are chosen than the rules allow",
    ),
    "sheet.undervote": (
        "Обрано менше проєктів, ніж вимагають правила",
        "Fewer projects are chosen than the rules require",
    ),
    "sheet.blank": ("Порожній бюлетень: жодної позначки", "A blank ballot: no marks at all"),
    "sheet.too_large": ("Файл завеликий для скану аркуша", "The file is too large for a scanned sheet"),
    "sheet.not_an_image": ("Файл не є зображенням чи PDF", "The file is not an image or a PDF"),
    # printing forms
    "forms.no_serials": ("Немає жодного аркуша для друку", "There are no sheets to print"),
    "forms.serial": ("Неправильний номер аркуша", "A malformed sheet number"),
    "forms.no_projects": ("У голосуванні немає проєктів для бюлетеня", "The cycle has no projects to print"),
    "forms.cycle": ("Дані голосування пошкоджені", "The cycle's data are malformed"),
    "ballots.count": ("Кількість аркушів має бути від 1 до 5000", "The number of sheets must be 1 to 5000"),
    "ballots.first": (
        "Номер першого аркуша має бути від 1 до 999999, а останнього — не більше 999999",
        "The first sheet number must be 1 to 999999, and the last one at most 999999",
    ),
    "ballots.device": (
        "Код пристрою має вигляд S-0001",
        "A device code looks like S-0001",
    ),
    "ballots.not_support_point": (
        "Бюлетені друкує пункт супроводу, а цей пристрій ним не є",
        "Ballots are printed by a support point, and this device is not one",
    ),
    "ballots.device_mismatch": (
        "Код пристрою не збігається з кодом, з яким його зареєстровано",
        "The device code differs from the one the device was enrolled with",
    ),
    "ballots.no_cycle": (
        "У пакеті немає такого голосування для мешканців",
        "The package has no such cycle for residents",
    ),
    "ballots.cycle_ended": ("Голосування вже завершилося", "Voting in this cycle has ended"),
    "ballots.no_package": (
        "На пристрої ще немає пакета голосувань",
        "The device holds no cycle package yet",
    ),
    "ballots.no_key": (
        "Пакет із файлу перевіряється ключем сервера: додайте --server-key або --store",
        "A package from a file is checked with the server's key: add --server-key or --store",
    ),
    "ballots.source": (
        "Вкажіть рівно одне джерело: --store або --package",
        "Give exactly one source: --store or --package",
    ),
    "ballots.no_secret": (
        "У пакеті немає ключа громади для бюлетенів",
        "The package has no community key for ballots",
    ),
}


def message(code: str, locale: str = "uk") -> str:
    """The text for `code` in `locale` ("uk" or "en"); an unknown code is shown as itself,
    so a new code is never hidden from the operator."""
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    return texts[1] if locale == "en" else texts[0]
