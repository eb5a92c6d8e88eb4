"""What a support-point operator reads when a sheet, a form or a command is refused:
one Ukrainian and one English text per code. Codes are stable (JSON output, tests and
the review queue name them); the texts may be reworded."""

from __future__ import annotations

__all__ = ["MESSAGES", "UI", "message", "ui_text"]

MESSAGES: dict[str, tuple[str, str]] = {
    # reading a sheet (the codes of SheetReading.reasons)
    "sheet.cancelled": (
        "Цей аркуш скасовано як зіпсований: він не рахується",
        "This sheet was cancelled as spoiled: it does not count",
    ),
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
    "sheet.too_large": (
        "Файл завеликий для скану аркуша: скануйте з роздільністю 200–300 dpi",
        "The file is too large for a scanned sheet: scan at 200–300 dpi",
    ),
    "sheet.not_an_image": ("Файл не є зображенням чи PDF", "The file is not an image or a PDF"),
    "sheet.too_slow": (
        "Файл читається задовго: сторінки, що лишилися, не прочитано; розділіть його на менші",
        "The file takes too long to read: the pages left were not read; split it into smaller files",
    ),
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
    "ballots.watch_needs_folders": (
        "Стежити можна лише за папками, і лише разом із --store (прочитане зберігається)",
        "Only folders can be watched, and only with --store (what is read is kept)",
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
    # sheets shown to the support point's camera (`spilno ballots import --camera`)
    "sheet.camera_unreadable": (
        "Аркуш під камерою не вдалося прочитати за кілька секунд: покладіть його рівно,"
        " без відблисків, ближче до камери, або відскануйте",
        "The sheet under the camera could not be read within a few seconds: lay it flat,"
        " without glare, closer to the camera, or scan it",
    ),
    "camera.place_sheet": (
        "Покладіть аркуш під камеру й тримайте нерухомо...",
        "Put a sheet under the camera and hold it still...",
    ),
    "camera.read_next": (
        "Прочитано {serial}: заберіть аркуш і покладіть наступний",
        "Read {serial}: take the sheet away and put the next one",
    ),
    "camera.next_sheet": (
        "Заберіть аркуш і покладіть наступний",
        "Take the sheet away and put the next one",
    ),
    "camera.qr_not_read": (
        "Аркуш видно, але QR-код ще не прочитано: покладіть аркуш рівно, цілком у кадрі, без відблисків",
        "The sheet is in view but its QR code does not read yet: lay it flat, wholly in view, without glare",
    ),
    "camera.cannot_open": (
        "Камеру чи відео не відкрито: перевірте, що камеру під'єднано й не зайнято іншою програмою,"
        " або що файл існує",
        "The camera or video could not be opened: check that the camera is connected and not used"
        " by another program, or that the file exists",
    ),
    "camera.low_resolution": (
        "Камера дає лише {size}: аркуш A4 може не прочитатися, потрібно щонайменше 1920×1080",
        "The camera gives only {size}: an A4 sheet may not read, at least 1920×1080 is needed",
    ),
    "camera.lost": (
        "Камера перестала давати кадри: під'єднайте її знову, я чекаю...",
        "The camera stopped giving frames: connect it again, waiting...",
    ),
    "camera.back": ("Камера знову працює", "The camera works again"),
    "camera.no_frames": (
        "У відео немає жодного кадру, який можна прочитати: файл порожній або пошкоджений",
        "The video has no frame that can be read: the file is empty or damaged",
    ),
    "camera.ended_early": (
        "Відео обірвалося на кадрі {frames} з {total}: файл обрізаний або пошкоджений,"
        " аркуші з решти запису не прочитано",
        "The video broke off at frame {frames} of {total}: the file is truncated or damaged,"
        " sheets in the rest of the recording were not read",
    ),
    "camera.ended": ("Кінець відео: кадрів {frames}", "End of the video: {frames} frames"),
    "ballots.camera_or_paths": (
        "Вкажіть або файли, або --camera (не те й інше разом)",
        "Give either files or --camera (not both)",
    ),
    # keeping sheets, reviewing and committing them
    "sheet.duplicate_serial": (
        "Цей аркуш (номер і сторінку) уже скановано з іншого зображення: оберіть скан, що відповідає паперу",
        "This sheet (serial and page) was already scanned from another image:"
        " choose the scan that is the paper",
    ),
    "sheet.missing_page": (
        "Бракує скану однієї зі сторінок аркуша",
        "A page of the sheet has not been scanned",
    ),
    "sheet.over_budget": (
        "Обрані проєкти коштують більше, ніж бюджет категорії",
        "The chosen projects cost more than the category's budget",
    ),
    "sheet.serial_format": ("Невідомий формат номера аркуша", "An unknown sheet serial format"),
    "sheet.other_point": (
        "Аркуш надруковано іншим пунктом супроводу: передайте його туди",
        "The sheet was printed by another support point: take it there",
    ),
    "sheet.already_committed": (
        "Голос цього аркуша вже записано; новий скан збережено лише для перевірки",
        "This sheet's vote is already recorded; the new scan is kept for the record only",
    ),
    "sheets.not_support_point": (
        "Паперові бюлетені веде лише пункт супроводу, а цей пристрій ним не є",
        "Only a support point keeps paper ballots, and this device is not one",
    ),
    "ballots.sheets_need_store": (
        "Файл аркушів (--sheets) ведеться лише разом із --store",
        "A sheet store (--sheets) is kept only together with --store",
    ),
    "sheets.unreadable_store": (
        "Файл аркушів не відкрито: він пошкоджений або не є файлом аркушів",
        "The sheet file could not be opened: it is damaged or not a sheet file",
    ),
    "review.no_pin_hash": (
        "Немає PIN оператора: додайте --pin-hash або SPILNO_SUPPORT_PIN_HASH (spilno kiosk hash-pin)",
        "No operator PIN: give --pin-hash or SPILNO_SUPPORT_PIN_HASH (spilno kiosk hash-pin)",
    ),
    "review.pin_wrong": ("Неправильний PIN", "Wrong PIN"),
    "review.pin_locked": (
        "Забагато спроб. Спробуйте знову через {seconds} с",
        "Too many tries. Try again in {seconds} s",
    ),
    "review.csrf": (
        "Сторінка застаріла або форму підроблено: нічого не змінено, спробуйте ще раз",
        "The page is out of date or the form was tampered with: nothing changed, try again",
    ),
    "review.operator": (
        "Вкажіть ім'я оператора: до 80 знаків, без службових символів",
        "Give the operator's name: up to 80 characters, no control characters",
    ),
    "review.reason": (
        "Вкажіть причину: до 300 знаків, без службових символів",
        "Give a reason: up to 300 characters, no control characters",
    ),
    "review.bad_form": ("Форма пошкоджена: нічого не змінено", "The form is malformed: nothing changed"),
    "review.no_sheet": ("Такого аркуша немає", "There is no such sheet"),
    "review.not_unclear": (
        "Тут немає кількох сканів однієї сторінки: обирати нема з чого",
        "There are not several scans of this page here: there is nothing to choose",
    ),
    "review.no_box": (
        "На скані, що рахується, немає такої клітинки: нічого не змінено. Оновіть сторінку",
        "The scan that counts has no such box: nothing changed. Reload the page",
    ),
    "review.override_reason": (
        "Щоб змінити позначку, яку машина прочитала чітко, або вже ухвалене рішення,"
        " вкажіть причину (до 300 знаків): нічого не змінено",
        "To change a box the machine read clearly, or a decision already made,"
        " give a reason (up to 300 characters): nothing changed",
    ),
    "review.decided_meanwhile": (
        "Поки сторінка була відкрита, рішення вже ухвалив(ла) {who}; воно чинне."
        " Перегляньте й змініть, якщо треба",
        "While the page was open, {who} already decided this; that decision stands."
        " Review it and change it if needed",
    ),
    "review.committed": (
        "Голос цього аркуша вже записано: рішення змінити не можна",
        "This sheet's vote is already recorded: decisions can no longer change",
    ),
    "review.already_spoiled": ("Аркуш уже відхилено", "The sheet is already set aside"),
    "review.not_spoiled": ("Аркуш не відхилено", "The sheet is not set aside"),
    "review.saved": ("Рішення збережено", "Decision saved"),
    "review.committed_now": (
        "Записано голосів: {count}; на перевірці лишилось: {held}",
        "Votes recorded: {count}; still in review: {held}",
    ),
    "review.device_error": (
        "Помилка файлу пристрою: нічого не записано",
        "Device file error: nothing was recorded",
    ),
}

# Texts of the review page (not reasons): the same two-language table.
UI: dict[str, tuple[str, str]] = {
    "title": ("Перевірка паперових бюлетенів", "Paper ballot review"),
    "pin_heading": ("Вхід оператора", "Operator sign-in"),
    "pin_label": ("PIN оператора", "Operator PIN"),
    "sign_in": ("Увійти", "Sign in"),
    "operator_heading": ("Хто перевіряє?", "Who is reviewing?"),
    "operator_label": (
        "Ваше ім'я (записується з кожним рішенням)",
        "Your name (recorded with each decision)",
    ),
    "continue": ("Далі", "Continue"),
    "sign_out": ("Вийти", "Sign out"),
    "operator_is": ("Оператор", "Operator"),
    "queue": ("Аркуші на перевірку", "Sheets to review"),
    "queue_empty": ("Немає аркушів на перевірку", "No sheets to review"),
    "oldest_first": ("Спершу найстаріші", "Oldest first"),
    "serial": ("Номер аркуша", "Sheet serial"),
    "cycle": ("Голосування", "Cycle"),
    "reasons": ("Причини", "Reasons"),
    "open": ("Переглянути", "Open"),
    "counts": (
        "Готові до запису: {ready}; записано: {committed}; відхилено: {spoiled}",
        "Ready to record: {ready}; recorded: {committed}; set aside: {spoiled}",
    ),
    "commit": ("Записати готові аркуші як голоси", "Record ready sheets as votes"),
    "back": ("До черги", "Back to the queue"),
    "sheet": ("Аркуш", "Sheet"),
    "state_review": ("на перевірці", "in review"),
    "state_ready": ("готовий", "ready"),
    "state_spoiled": ("відхилено", "set aside"),
    "state_committed": ("голос записано", "vote recorded"),
    "page": ("Сторінка", "Page"),
    "unclear": ("Нечіткі позначки", "Unclear marks"),
    "project": ("Проєкт", "Project"),
    "ink": ("частка чорнила", "ink share"),
    "marked": ("позначено", "marked"),
    "unmarked": ("не позначено", "not marked"),
    "decided_by": ("Рішення: {verdict} — {who}, {when}", "Decision: {verdict} — {who}, {when}"),
    "decided_by_why": (
        "Рішення: {verdict} — {who}, {when}; причина: «{reason}»",
        "Decision: {verdict} — {who}, {when}; reason: “{reason}”",
    ),
    "undecided": ("Ще не вирішено", "Not decided yet"),
    # every box of the sheet: the reader's verdict, the person's, and a way to change it
    "boxes": ("Клітинки аркуша", "Boxes of the sheet"),
    "boxes_hint": (
        "Спершу нечіткі позначки. Будь-яку клітинку можна виправити, якщо машина прочитала її"
        " хибно (тінь, пляма, згин); зміна чіткого прочитання чи вже ухваленого рішення"
        " потребує причини.",
        "Unclear marks first. Any box can be corrected when the machine misread it (a shadow,"
        " a stain, a fold); changing a clear reading or a decision already made needs a reason.",
    ),
    "marginal": ("нечітко", "unclear"),
    "needs_decision": ("Нечітка позначка: потрібне ваше рішення", "An unclear mark: your decision is needed"),
    "read_as": ("Машина прочитала: {verdict}", "The machine read: {verdict}"),
    "overridden": ("виправлено людиною", "corrected by a person"),
    "earlier": ("Попередні рішення ({count})", "Earlier decisions ({count})"),
    "change_to": ("Змінити на «{verdict}»", "Change to «{verdict}»"),
    "back_to_read": (
        "Повернути «{verdict}», як прочитала машина",
        "Back to «{verdict}», as the machine read it",
    ),
    "override_reason": ("Причина зміни (обов'язково)", "Reason for the change (required)"),
    "optional_reason": ("Причина (не обов'язково)", "Reason (optional)"),
    "no_crop": (
        "Збільшеного зображення цієї клітинки немає: дивіться сторінку {page} нижче",
        "No zoomed picture of this box: see page {page} below",
    ),
    "whole_page": ("Уся сторінка", "Whole page"),
    "crop_alt": ("Збільшена клітинка проєкту {project}", "Zoomed box of project {project}"),
    "page_alt": ("Скан сторінки {page}", "Scan of page {page}"),
    "scans": (
        "Кілька сканів цієї сторінки: оберіть той, що відповідає паперу",
        "Several scans of this page: choose the one that is the paper",
    ),
    "use_scan": ("Використати цей скан", "Use this scan"),
    "chosen_scan": ("Обрано цей скан", "This scan is chosen"),
    "file": ("Файл", "File"),
    "spoil": ("Відхилити аркуш", "Set the sheet aside"),
    "spoil_reason": ("Причина (наприклад, зіпсований бюлетень)", "Reason (e.g. a spoiled ballot)"),
    "spoiled_by": ("Відхилено: {reason} — {who}, {when}", "Set aside: {reason} — {who}, {when}"),
    "restore": ("Повернути на перевірку", "Return to review"),
    "selections": ("Обрані проєкти", "Chosen projects"),
    "none": ("немає", "none"),
    "language": ("English", "Українська"),
}


def message(code: str, locale: str = "uk", **params: object) -> str:
    """The text for `code` in `locale` ("uk" or "en"); an unknown code is shown as itself,
    so a new code is never hidden from the operator. `params` fill {named} places."""
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    text = texts[1] if locale == "en" else texts[0]
    return text.format(**params) if params else text


def ui_text(key: str, locale: str = "uk", **params: object) -> str:
    """A label of the review page in `locale`."""
    uk, en = UI[key]
    text = en if locale == "en" else uk
    return text.format(**params) if params else text
