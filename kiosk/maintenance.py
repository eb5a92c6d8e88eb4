"""What the maintenance screen shows a technician: the hardware, the vote log's sync,
the package and whether voting is open here. Plain data, read fresh each time."""

from __future__ import annotations

from dataclasses import dataclass

from hardware import CardError, CardPresent, CardState, NoCard, NoReader
from kiosk.devices import Devices
from kiosk.freshness import DEFAULT_STALE_AFTER_MIN, terminal_data_age
from kiosk.i18n import N_
from kiosk.terminal import UNAVAILABLE_TEXTS, OpenVoting, Terminal
from sync.device_store import StoreSummary


@dataclass(frozen=True, slots=True)
class DeviceLine:
    name: str  # Ukrainian, translated when shown
    ok: bool
    state: str  # Ukrainian, translated when shown
    detail: str = ""  # the driver's own words, untranslated


# What each device alarm means, for the technician (sync.store_alarms.StoreAlarms.raise_alarm).
ALARM_TEXTS = {
    "answer.forged": N_(
        "Відповідь, що прийшла як від сервера, змінена дорогою або дана на інший запит."
        " Термінал нічого з неї не прийняв; голоси лишаються в черзі."
    ),
    "answer.unsigned": N_(
        "Відповідь без підпису сервера (проксі, підробка або не той сервер)."
        " Термінал нічого з неї не прийняв; голоси лишаються в черзі."
    ),
    "answer.other_key": N_(
        "Відповідь підписана іншим ключем, ніж ключ сервера цього термінала."
        " Перевірте, що всі сервери громади мають один ключ підпису."
    ),
    "package.refused": N_(
        "Пакет від сервера не прийнято (підпис, громада або стара версія). Голоси все одно"
        " надсилаються; термінал працює з попереднім пакетом."
    ),
    "device.revoked": N_(
        "Сервер вивів цей термінал з роботи: він більше не приймає голосів. Уже записані голоси"
        " надсилаються далі; про них вирішує модератор."
    ),
    "device.superseded": N_(
        "Цей пристрій зареєстровано знову з іншим сховищем, тож це сховище більше не приймає"
        " голосів. Уже записані голоси надсилаються далі; про них вирішує модератор."
    ),
    "votes.not_counted": N_(
        "Сервер не зарахував деякі голоси, прийняті цим терміналом: вони чекають рішення"
        " модератора або недійсні (див. подробиці). Якщо причина — закриття голосування"
        " чи список виборців, синхронізуйте термінал частіше."
    ),
    "log.damaged": N_(
        "Запис журналу голосів пошкоджено: його надіслано як доказ і не враховано, решту"
        " голосів надіслано. Перевірте носій термінала."
    ),
}
OTHER_ALARM = N_("Сигнал пристрою, див. подробиці.")


@dataclass(frozen=True, slots=True)
class AlarmLine:
    kind: str
    text: str  # Ukrainian, translated when shown
    detail: str  # the device's own words, untranslated
    repeats: int
    last_at: str | None


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    devices: list[DeviceLine]
    summary: StoreSummary
    backlog: int
    cycle_title: str | None
    voting_state: str  # Ukrainian
    voting_open_here: bool
    can_switch: bool
    voter_list: str  # Ukrainian: whether the community's list applies here
    alarms: list[AlarmLine]
    data_stale: bool = False  # no complete sync round for a while (kiosk.freshness)


def _voter_list_state(terminal: Terminal) -> str:
    state = terminal.store.eligibility.state()
    if not state.enabled:
        return N_("не застосовується")
    if not state.complete:
        return N_("завантажується, ще не застосовується")
    return N_("застосовується")


def _reader_line(state: CardState) -> DeviceLine:
    name = N_("Зчитувач карток")
    if isinstance(state, NoReader):
        return DeviceLine(name, False, N_("не під'єднано"), state.detail)
    if isinstance(state, NoCard):
        return DeviceLine(name, True, N_("готовий, картки немає"), state.reader)
    if isinstance(state, CardPresent):
        # Never the card id: a technician does not need it and the next voter must not see it.
        return DeviceLine(name, True, N_("картка на зчитувачі"), state.reader)
    assert isinstance(state, CardError)
    return DeviceLine(name, False, N_("картку не прочитано"), state.detail)


def maintenance_report(
    terminal: Terminal,
    devices: Devices,
    card_state: CardState,
    stale_after_min: float = DEFAULT_STALE_AFTER_MIN,
) -> MaintenanceReport:
    lines = [_reader_line(card_state)]
    if devices.scanner is None:
        lines.append(DeviceLine(N_("Камера"), True, N_("не налаштовано")))
    else:
        status = devices.scanner.status()
        state = N_("працює") if status.running else N_("не працює")
        detail = f"{status.camera} {status.detail}".strip()
        lines.append(DeviceLine(N_("Камера"), status.running, state, detail))
    if devices.printer is None:
        lines.append(DeviceLine(N_("Принтер квитанцій"), True, N_("не налаштовано")))
    else:
        try:
            ready = devices.printer.ready()
            lines.append(
                DeviceLine(
                    N_("Принтер квитанцій"),
                    ready.printed,
                    N_("готовий") if ready.printed else N_("не готовий"),
                    ready.detail,
                )
            )
        except Exception as exc:  # a driver failure is a state to show, not a crash
            lines.append(DeviceLine(N_("Принтер квитанцій"), False, N_("не готовий"), str(exc)[:200]))
    voting = terminal.voting_now()
    titles = [voting.title] if isinstance(voting, OpenVoting) else []
    # A school's terminal may have only school contests open: that is open too.
    titles += [c.title for c in terminal.open_school_contests()]
    if titles:
        voting_state = N_("Голосування відкрите")
    else:
        assert not isinstance(voting, OpenVoting)
        voting_state = UNAVAILABLE_TEXTS[voting]
    store = terminal.store
    summary = store.summary()
    alarms = [
        AlarmLine(
            a["kind"], ALARM_TEXTS.get(a["kind"], OTHER_ALARM), a["message"], a["repeats"], a["last_at"]
        )
        for a in summary["alarms"]
    ]
    return MaintenanceReport(
        devices=lines,
        summary=summary,
        backlog=store.backlog_count(),
        cycle_title=", ".join(titles) or None,
        voting_state=voting_state,
        voting_open_here=terminal.switch.is_open() if terminal.switch is not None else True,
        can_switch=terminal.switch is not None,
        voter_list=_voter_list_state(terminal),
        alarms=alarms,
        data_stale=terminal_data_age(terminal, stale_after_min).stale,
    )
