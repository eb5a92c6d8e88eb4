"""Sheet serials and the text of the QR code printed on every page of a ballot sheet.

A serial names one printed sheet: the support point's device code without its dash and
a 6-digit number, "S0001-000042". Each support point numbers its own sheets, so two
points offline never print the same serial.

The QR text ties a page to its cycle, its layout, its sheet and its place in the sheet:

    SPB1|<cycle id>|<first 16 hex of the layout hash>|<serial>|<page>/<pages>|<check>

A poll sheet's page (paper.poll_layout) carries the same text under its own prefix,
with the poll's id where a ballot has its cycle's: SPQ1|<poll id>|… (QrFields.kind
"poll"). The check covers the prefix, so a ballot's code never reads as a poll's.

where check is the first 10 base32 characters of HMAC-SHA256(form key, the text before
"|<check>"). The form key is derived from the community's voter-key secret, which only
the server and the community's own devices hold, so a sheet printed elsewhere, or a
serial changed by hand, fails the check (50 bits: a forger needs ~10^15 tries per sheet).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from sync.wire import DEVICE_CODE

__all__ = [
    "MAX_NUMBER",
    "QR_MAX_LENGTH",
    "QrFields",
    "SerialError",
    "device_prefix",
    "form_key",
    "is_serial",
    "make_qr_text",
    "make_serial",
    "parse_qr_text",
    "serial_range",
]

MAX_NUMBER = 999_999
QR_MAX_LENGTH = 120  # the longest valid text is ~75 characters; anything far longer is refused unread
_FORM_KEY_LABEL = b"spilno/ballot-forms"
_PREFIX = "SPB1"
_POLL_PREFIX = "SPQ1"
_SERIAL = re.compile(r"[A-Z][0-9]{4,8}-[0-9]{6}", re.ASCII)
_QR = re.compile(
    r"(SPB1|SPQ1)\|([1-9][0-9]{0,9})\|([0-9a-f]{16})\|([A-Z][0-9]{4,8}-[0-9]{6})\|([1-9][0-9]{0,2})/([1-9][0-9]{0,2})"
    r"\|([A-Z2-7]{10})",
    re.ASCII,
)


class SerialError(ValueError):
    """A serial or QR text refused; `code` is a message code (paper.messages)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class QrFields:
    cycle_id: int
    layout_hash_prefix: str  # first 16 hex characters of the layout's hash
    serial: str
    page: int  # 1-based
    pages: int
    kind: str = "ballot"  # "poll": a poll sheet, and cycle_id holds the poll's id

    @property
    def form_id(self) -> int:
        """What the sheet store keys the sheet by: the cycle's id for a ballot, minus the
        poll's id for a poll sheet (paper.poll_layout.poll_form_id)."""
        return -self.cycle_id if self.kind == "poll" else self.cycle_id

    @property
    def page_label(self) -> str:
        return f"{self.page}/{self.pages}"


def form_key(voter_key_secret: bytes) -> bytes:
    """The key that signs QR texts, derived from the community's voter-key secret (the
    package's `voter_key_secret`, as bytes), so that the secret itself is never used
    for two purposes."""
    if not isinstance(voter_key_secret, bytes) or len(voter_key_secret) < 16:
        raise ValueError("the voter-key secret must be at least 16 bytes")
    return hmac.new(voter_key_secret, _FORM_KEY_LABEL, hashlib.sha256).digest()


def device_prefix(device: str) -> str:
    """The serial prefix of a device code: "S-0001" -> "S0001" (SerialError otherwise)."""
    if not isinstance(device, str) or not DEVICE_CODE.fullmatch(device):
        raise SerialError("ballots.device", f"{device!r:.40} is not a device code like S-0001")
    return device.replace("-", "")


def make_serial(device: str, number: int) -> str:
    if type(number) is not int or not 1 <= number <= MAX_NUMBER:
        raise SerialError("ballots.first", f"sheet number {number!r:.20} is not 1…{MAX_NUMBER}")
    return f"{device_prefix(device)}-{number:06d}"


def serial_range(device: str, first: int, count: int) -> list[str]:
    """`count` consecutive serials of `device` from number `first`."""
    if type(count) is not int or not 1 <= count:
        raise SerialError("ballots.count", f"count {count!r:.20} is not positive")
    if type(first) is not int or not 1 <= first or first + count - 1 > MAX_NUMBER:
        raise SerialError("ballots.first", f"sheets {first!r:.20}+{count} leave 1…{MAX_NUMBER}")
    prefix = device_prefix(device)
    return [f"{prefix}-{n:06d}" for n in range(first, first + count)]


def _check(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:10]


def make_qr_text(
    cycle_id: int, layout_hash: str, serial: str, page: int, pages: int, key: bytes, *, poll: bool = False
) -> str:
    """The QR text of page `page` of `pages` of sheet `serial` (ValueError on bad parts:
    a form must never be printed with a code the reader would refuse); `poll`: of a poll
    sheet, `cycle_id` being the poll's id."""
    body = f"{_POLL_PREFIX if poll else _PREFIX}|{cycle_id}|{str(layout_hash)[:16]}|{serial}|{page}/{pages}"
    text = f"{body}|{_check(key, body)}"
    fields = _fields(text)
    if fields is None or fields.page > fields.pages:
        raise ValueError(f"cannot make a valid QR text from {body!r}")
    return text


def _fields(text: str) -> QrFields | None:
    match = _QR.fullmatch(text)
    if match is None:
        return None
    kind, cycle, prefix, serial, page, pages, _check_text = match.groups()
    return QrFields(
        int(cycle), prefix, serial, int(page), int(pages), "poll" if kind == _POLL_PREFIX else "ballot"
    )


def parse_qr_text(text: object, key: bytes) -> QrFields:
    """The fields of a scanned QR text, only if it is well formed and its check matches
    `key`: SerialError("sheet.qr_format") or SerialError("sheet.qr_checksum")."""
    if not isinstance(text, str):
        raise SerialError("sheet.qr_format", f"a {type(text).__name__}, not text")
    if len(text) > QR_MAX_LENGTH:
        raise SerialError("sheet.qr_format", f"{len(text)} characters")
    fields = _fields(text)
    if fields is None or fields.page > fields.pages:
        raise SerialError("sheet.qr_format", f"{text!r:.80}")
    body, _, check = text.rpartition("|")
    if not hmac.compare_digest(_check(key, body), check):
        raise SerialError("sheet.qr_checksum", fields.serial)
    return fields


def is_serial(text: object) -> bool:
    """Whether `text` has a serial's shape (its authenticity is the QR check's job)."""
    return isinstance(text, str) and _SERIAL.fullmatch(text) is not None
