"""What a support-point operator reads when a sheet, a form or a command is refused: a
code names its Ukrainian text, the English is in paper/translations/en/paper.po. Codes
are stable (JSON output, tests and the review queue name them); the texts may be
reworded."""

from __future__ import annotations

from pathlib import Path

from voting.po_catalog import Catalogs

TRANSLATIONS = Path(__file__).parent / "translations"

__all__ = ["MESSAGES", "UI", "catalog", "message", "ui_text"]

MESSAGES: dict[str, str] = {
    # reading a sheet (the codes of SheetReading.reasons)
    "sheet.cancelled": "Цей аркуш скасовано як зіпсований: він не рахується",
    "sheet.unreadable": "Аркуш не вдалося прочитати: перескануйте його рівно й чітко",
    "sheet.no_qr": "На аркуші не знайдено QR-коду бюлетеня",
    "sheet.qr_format": "QR-код не є кодом бюлетеня Spilno",
    "sheet.qr_checksum": "Контрольна сума QR-коду не збігається: аркуш підроблений або з іншої громади",
    "sheet.wrong_cycle": "Аркуш належить до іншого голосування",
    "sheet.unknown_layout": "Невідомий вигляд бюлетеня: аркуш надруковано для іншого переліку проєктів",
    "sheet.marginal_mark": "Нечітка позначка: потрібне рішення людини",
    "sheet.overvote": "Обрано більше проєктів, ніж дозволяють правила",
    "sheet.undervote": "Обрано менше проєктів, ніж вимагають правила",
    "sheet.blank": "Порожній бюлетень: жодної позначки",
    "sheet.too_large": "Файл завеликий для скану аркуша: скануйте з роздільністю 200–300 dpi",
    "sheet.not_an_image": "Файл не є зображенням чи PDF",
    "sheet.too_slow": "Файл читається задовго: сторінки, що лишилися, не прочитано; розділіть його на менші",
    # poll sheets (paper.poll_layout, paper.poll_answers)
    "sheet.wrong_poll": "Аркуш належить до опитування, якого немає в пакеті цього пункту",
    "poll_sheet.no_questions": "В опитуванні немає питань для аркуша",
    "poll_sheet.too_many_places": (
        "На аркуші опитування вміщується не більше 10 місць рейтингу: на це питання відповідають на "
        "терміналі чи онлайн"
    ),
    "poll_sheet.too_many_points": (
        "На аркуші опитування вміщується шкала лише від 0 до 10 балів: на це питання відповідають на "
        "терміналі чи онлайн"
    ),
    "poll_sheet.blank": "Порожній аркуш опитування: жодної відповіді",
    "poll_sheet.rank_row_twice": "У рядку рейтингу позначено більше одного місця",
    "poll_sheet.rank_place_twice": "Одне місце рейтингу позначено для кількох варіантів",
    "poll_sheet.points_row_twice": "У рядку балів позначено більше одного значення",
    "poll_sheet.one_too_many": "У питанні з одним варіантом відповіді позначено кілька",
    "poll_sheet.too_many": "Позначено більше варіантів, ніж дозволяє питання",
    "poll_sheet.rule": "Відповіді порушують правила опитування",
    "poll_sheet.no_poll": (
        "Опитування цього аркуша немає в пакеті пункту: воно завершилося або ще не надійшло"
    ),
    "poll_sheet.outside_window": "Аркуш став готовим поза часом опитування: відповідь не можна записати",
    "polls.no_poll": "У пакеті немає такого опитування",
    "polls.ended": "Опитування вже завершилося",
    "ballots.cycle_or_poll": "Вкажіть одне з двох: --cycle (бюлетені) або --poll (аркуші опитування)",
    # printing forms
    "forms.no_serials": "Немає жодного аркуша для друку",
    "forms.serial": "Неправильний номер аркуша",
    "forms.no_projects": "У голосуванні немає проєктів для бюлетеня",
    "forms.cycle": "Дані голосування пошкоджені",
    "ballots.count": "Кількість аркушів має бути від 1 до 5000",
    "ballots.first": "Номер першого аркуша має бути від 1 до 999999, а останнього — не більше 999999",
    "ballots.device": "Код пристрою має вигляд S-0001",
    "ballots.not_support_point": "Бюлетені друкує пункт супроводу, а цей пристрій ним не є",
    "ballots.device_mismatch": "Код пристрою не збігається з кодом, з яким його зареєстровано",
    "ballots.no_cycle": "У пакеті немає такого голосування для мешканців",
    "ballots.cycle_ended": "Голосування вже завершилося",
    "ballots.no_package": "На пристрої ще немає пакета голосувань",
    "ballots.watch_needs_folders": (
        "Стежити можна лише за папками, і лише разом із --store (прочитане зберігається)"
    ),
    "ballots.no_key": "Пакет із файлу перевіряється ключем сервера: додайте --server-key або --store",
    "ballots.source": "Вкажіть рівно одне джерело: --store або --package",
    "ballots.no_secret": "У пакеті немає ключа громади для бюлетенів",
    # sheets shown to the support point's camera (`spilno ballots import --camera`)
    "sheet.camera_unreadable": (
        "Аркуш під камерою не вдалося прочитати за кілька секунд: покладіть його рівно, без відблисків, "
        "ближче до камери, або відскануйте"
    ),
    "camera.place_sheet": "Покладіть аркуш під камеру й тримайте нерухомо...",
    "camera.read_next": "Прочитано {serial}: заберіть аркуш і покладіть наступний",
    "camera.next_sheet": "Заберіть аркуш і покладіть наступний",
    "camera.qr_not_read": (
        "Аркуш видно, але QR-код ще не прочитано: покладіть аркуш рівно, цілком у кадрі, без відблисків"
    ),
    "camera.cannot_open": (
        "Камеру чи відео не відкрито: перевірте, що камеру під'єднано й не зайнято іншою програмою, або що "
        "файл існує"
    ),
    "camera.low_resolution": (
        "Камера дає лише {size}: аркуш A4 може не прочитатися, потрібно щонайменше 1920×1080"
    ),
    "camera.lost": "Камера перестала давати кадри: під'єднайте її знову, я чекаю...",
    "camera.back": "Камера знову працює",
    "camera.no_frames": "У відео немає жодного кадру, який можна прочитати: файл порожній або пошкоджений",
    "camera.ended_early": (
        "Відео обірвалося на кадрі {frames} з {total}: файл обрізаний або пошкоджений, аркуші з решти запису"
        " не прочитано"
    ),
    "camera.ended": "Кінець відео: кадрів {frames}",
    "ballots.camera_or_paths": "Вкажіть або файли, або --camera (не те й інше разом)",
    # keeping sheets, reviewing and committing them
    "sheet.duplicate_serial": (
        "Цей аркуш (номер і сторінку) уже скановано з іншого зображення: оберіть скан, що відповідає паперу"
    ),
    "sheet.missing_page": "Бракує скану однієї зі сторінок аркуша",
    "sheet.over_budget": "Обрані проєкти коштують більше, ніж бюджет категорії",
    "sheet.serial_format": "Невідомий формат номера аркуша",
    "sheet.other_point": "Аркуш надруковано іншим пунктом супроводу: передайте його туди",
    "sheet.already_committed": "Голос цього аркуша вже записано; новий скан збережено лише для перевірки",
    "sheets.not_support_point": "Паперові бюлетені веде лише пункт супроводу, а цей пристрій ним не є",
    "ballots.sheets_need_store": "Файл аркушів (--sheets) ведеться лише разом із --store",
    "sheets.unreadable_store": "Файл аркушів не відкрито: він пошкоджений або не є файлом аркушів",
    "review.no_pin_hash": (
        "Немає PIN оператора: додайте --pin-hash або SPILNO_SUPPORT_PIN_HASH (spilno kiosk hash-pin)"
    ),
    "review.pin_wrong": "Неправильний PIN",
    "review.pin_locked": "Забагато спроб. Спробуйте знову через {seconds} с",
    "review.csrf": "Сторінка застаріла або форму підроблено: нічого не змінено, спробуйте ще раз",
    "review.operator": "Вкажіть ім'я оператора: до 80 знаків, без службових символів",
    "review.reason": "Вкажіть причину: до 300 знаків, без службових символів",
    "review.bad_form": "Форма пошкоджена: нічого не змінено",
    "review.no_sheet": "Такого аркуша немає",
    "review.not_unclear": "Тут немає кількох сканів однієї сторінки: обирати нема з чого",
    "review.no_box": "На скані, що рахується, немає такої клітинки: нічого не змінено. Оновіть сторінку",
    "review.override_reason": (
        "Щоб змінити позначку, яку машина прочитала чітко, або вже ухвалене рішення, вкажіть причину (до 300"
        " знаків): нічого не змінено"
    ),
    "review.decided_meanwhile": (
        "Поки сторінка була відкрита, рішення вже ухвалив(ла) {who}; воно чинне. Перегляньте й змініть, якщо"
        " треба"
    ),
    "review.committed": "Голос цього аркуша вже записано: рішення змінити не можна",
    "review.already_spoiled": "Аркуш уже відхилено",
    "review.not_spoiled": "Аркуш не відхилено",
    "review.saved": "Рішення збережено",
    "review.committed_now": "Записано голосів: {count}; на перевірці лишилось: {held}",
    "review.device_error": "Помилка файлу пристрою: нічого не записано",
}

# Texts of the review page (not reasons): the same two-language table.
UI: dict[str, str] = {
    "title": "Перевірка паперових бюлетенів",
    "pin_heading": "Вхід оператора",
    "pin_label": "PIN оператора",
    "sign_in": "Увійти",
    "operator_heading": "Хто перевіряє?",
    "operator_label": "Ваше ім'я (записується з кожним рішенням)",
    "continue": "Далі",
    "sign_out": "Вийти",
    "operator_is": "Оператор",
    "queue": "Аркуші на перевірку",
    "queue_empty": "Немає аркушів на перевірку",
    "oldest_first": "Спершу найстаріші",
    "serial": "Номер аркуша",
    "cycle": "Голосування",
    "reasons": "Причини",
    "open": "Переглянути",
    "counts": "Готові до запису: {ready}; записано: {committed}; відхилено: {spoiled}",
    "commit": "Записати готові аркуші як голоси",
    "back": "До черги",
    "sheet": "Аркуш",
    "state_review": "на перевірці",
    "state_ready": "готовий",
    "state_spoiled": "відхилено",
    "state_committed": "голос записано",
    "page": "Сторінка",
    "unclear": "Нечіткі позначки",
    "project": "Проєкт",
    "ink": "частка чорнила",
    "marked": "позначено",
    "unmarked": "не позначено",
    "decided_by": "Рішення: {verdict} — {who}, {when}",
    "decided_by_why": "Рішення: {verdict} — {who}, {when}; причина: «{reason}»",
    "undecided": "Ще не вирішено",
    # every box of the sheet: the reader's verdict, the person's, and a way to change it
    "boxes": "Клітинки аркуша",
    "boxes_hint": (
        "Спершу нечіткі позначки. Будь-яку клітинку можна виправити, якщо машина прочитала її хибно (тінь, "
        "пляма, згин); зміна чіткого прочитання чи вже ухваленого рішення потребує причини."
    ),
    "marginal": "нечітко",
    "needs_decision": "Нечітка позначка: потрібне ваше рішення",
    "read_as": "Машина прочитала: {verdict}",
    "overridden": "виправлено людиною",
    "earlier": "Попередні рішення ({count})",
    "change_to": "Змінити на «{verdict}»",
    "back_to_read": "Повернути «{verdict}», як прочитала машина",
    "override_reason": "Причина зміни (обов'язково)",
    "optional_reason": "Причина (не обов'язково)",
    "no_crop": "Збільшеного зображення цієї клітинки немає: дивіться сторінку {page} нижче",
    "whole_page": "Уся сторінка",
    "crop_alt": "Збільшена клітинка проєкту {project}",
    "page_alt": "Скан сторінки {page}",
    "scans": "Кілька сканів цієї сторінки: оберіть той, що відповідає паперу",
    "use_scan": "Використати цей скан",
    "chosen_scan": "Обрано цей скан",
    "file": "Файл",
    "spoil": "Відхилити аркуш",
    "spoil_reason": "Причина (наприклад, зіпсований бюлетень)",
    "spoiled_by": "Відхилено: {reason} — {who}, {when}",
    "restore": "Повернути на перевірку",
    "selections": "Обрані проєкти",
    "none": "немає",
    "language": "English",
    # poll sheets: a box says which question, option and value it gives
    "poll": "Опитування",
    "poll_box": "Клітинка",
    "poll_answers": "Відповіді",
    "poll_choice": "питання {question}: «{option}»",
    "poll_place": "питання {question}: «{option}», місце {value}",
    "poll_points": "питання {question}: «{option}», бали: {value}",
}


# The texts of this table in each language (`catalog("en")`), read once.
catalog = Catalogs(TRANSLATIONS)


def message(code: str, locale: str = "uk", **params: object) -> str:
    """The text for `code` in `locale` ("uk" or "en"); an unknown code is shown as itself,
    so a new code is never hidden from the operator. `params` fill {named} places."""
    original = MESSAGES.get(code)
    if original is None:
        return code
    text = catalog(locale).texts.get(original, original)
    return text.format(**params) if params else text


def ui_text(key: str, locale: str = "uk", **params: object) -> str:
    """A label of the review page in `locale`."""
    original = UI[key]
    text = catalog(locale).texts.get(original, original)
    return text.format(**params) if params else text
