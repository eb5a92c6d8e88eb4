"""The ways a vote reaches the count."""

from __future__ import annotations

from enum import StrEnum

from .messages import catalog


class Channel(StrEnum):
    WEB = "web"  # the online e-democracy platform
    KIOSK = "kiosk"  # a self-service terminal
    PAPER = "paper"  # a scanned paper ballot from a support point
    SCHOOL_CODE = "school_code"  # a per-student QR voting code
    STAFF_ASSISTED = "staff_assisted"  # an operator typed the resident's document


# A channel's name in Ukrainian; the English is in the domain's catalog (voting/translations).
CHANNEL_LABELS: dict[Channel, str] = {
    Channel.WEB: "Онлайн",
    Channel.KIOSK: "Термінал",
    Channel.PAPER: "Паперовий бюлетень",
    Channel.SCHOOL_CODE: "Шкільний код",
    Channel.STAFF_ASSISTED: "З допомогою працівника",
}


def channel_label(channel: Channel | str, locale: str = "uk") -> str:
    label = CHANNEL_LABELS[Channel(channel)]
    return catalog(locale).texts.get(label, label)
