"""The ways a vote reaches the count."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    WEB = "web"  # the online e-democracy platform
    KIOSK = "kiosk"  # a self-service terminal
    PAPER = "paper"  # a scanned paper ballot from a support point
    SCHOOL_CODE = "school_code"  # a per-student QR voting code
    STAFF_ASSISTED = "staff_assisted"  # an operator typed the resident's document


CHANNEL_LABELS: dict[Channel, tuple[str, str]] = {
    Channel.WEB: ("Онлайн", "Online"),
    Channel.KIOSK: ("Термінал", "Terminal"),
    Channel.PAPER: ("Паперовий бюлетень", "Paper ballot"),
    Channel.SCHOOL_CODE: ("Шкільний код", "School code"),
    Channel.STAFF_ASSISTED: ("З допомогою працівника", "Staff-assisted"),
}


def channel_label(channel: Channel | str, locale: str = "uk") -> str:
    uk, en = CHANNEL_LABELS[Channel(channel)]
    return en if locale == "en" else uk
