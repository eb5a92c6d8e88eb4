"""Reading a cycle package's JSON field by field (sync.package_parser, sync.package_polls):
each value checked for its type where it is read, and a field that is missing or of
another type refused with PackageError, which says where and what in both languages.
"""

from __future__ import annotations

from datetime import datetime

from sync.texts import N_, catalog
from sync.wire import ProtocolError

# Every whole number in a package is an id, a count or kopiykas: all fit a signed
# 64-bit column on the server. Anything beyond is no number the server made.
INT_LIMIT = 2**63


class PackageError(ProtocolError):
    """A signed package that does not follow the package contract. `where` is the path
    of the field at fault ("cycles[0].categories[1].budget")."""

    def __init__(self, where: str, reason: str) -> None:
        at = f" {where}" if where else ""
        said = (
            catalog(locale).gettext(MALFORMED, at=at, reason=catalog(locale).gettext(reason))
            for locale in ("uk", "en")
        )
        super().__init__("package.malformed", " / ".join(said))
        self.where = where


# The Ukrainian texts (the catalog's keys); the English is in sync/translations/en/.
MALFORMED = N_("пакет пошкоджено:{at} {reason}")
MISSING = N_("поля немає")
NOT_INT = N_("має бути цілим числом")
TOO_BIG = N_("число поза межами")
NOT_TEXT = N_("має бути текстом")
NOT_BOOL = N_("має бути true або false")
NOT_OBJECT = N_("має бути об'єктом JSON")
NOT_LIST = N_("має бути списком")
NOT_TIME = N_("має бути часом ISO 8601 з часовим поясом")
NOT_HEX = N_("має бути шістнадцятковим рядком")
NOT_POSITIVE = N_("має бути додатним числом")
EMPTY = N_("не може бути порожнім")
REPEATED = N_("повторюється")
COUNT = N_("кількість елементів поза межами")
UNKNOWN_KIND = N_("невідомий вид питання")
NOT_FOR_KIND = N_("не буває в питанні цього виду")
NOT_AFTER = N_("має бути пізніше за opens_at")
NOT_DISTRICT = N_("має бути назвою району")
BAD_POLL = N_("опитування не відповідає правилам опитувань")


def fail(where: str, reason: str) -> PackageError:
    return PackageError(where, reason)


def read_int(value: object, where: str) -> int:
    if type(value) is not int:  # not bool, not a float (1.0, NaN, Infinity)
        raise fail(where, NOT_INT)
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise fail(where, TOO_BIG)
    return value


def read_text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise fail(where, NOT_TEXT)
    return value


def read_time(value: object, where: str) -> datetime:
    text = read_text(value, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(where, NOT_TIME) from None
    if moment.tzinfo is None:
        raise fail(where, NOT_TIME)
    return moment


def read_hex(value: object, where: str) -> bytes:
    text = read_text(value, where)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise fail(where, NOT_HEX) from None
    if not raw:
        raise fail(where, NOT_HEX)
    return raw


def list_items(value: object, where: str) -> list[tuple[object, str]]:
    """A list's elements, each with where it is."""
    if not isinstance(value, list):
        raise fail(where, NOT_LIST)
    return [(item, f"{where}[{i}]") for i, item in enumerate(value)]


class Fields:
    """One JSON object of the package and where it is, read field by field."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise fail(where, NOT_OBJECT)
        self.data: dict[str, object] = value
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str) -> object:
        if key not in self.data:
            raise fail(self.at(key), MISSING)
        return self.data[key]

    def number(self, key: str) -> int:
        return read_int(self._get(key), self.at(key))

    def number_or_none(self, key: str) -> int | None:
        """A field that must be there but may be null."""
        value = self._get(key)
        return None if value is None else read_int(value, self.at(key))

    def optional_number(self, key: str) -> int | None:
        value = self.data.get(key)
        return None if value is None else read_int(value, self.at(key))

    def text(self, key: str) -> str:
        return read_text(self._get(key), self.at(key))

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        return None if value is None else read_text(value, self.at(key))

    def text_or_none(self, key: str) -> str | None:
        """A text field that must be there but may be null."""
        value = self._get(key)
        return None if value is None else read_text(value, self.at(key))

    def positive(self, key: str) -> int:
        """An id: a whole number from 1."""
        value = self.number(key)
        if value < 1:
            raise fail(self.at(key), NOT_POSITIVE)
        return value

    def words(self, key: str) -> str:
        """A text a resident reads: not empty, nor only spaces."""
        value = self.text(key)
        if not value.strip():
            raise fail(self.at(key), EMPTY)
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise fail(self.at(key), NOT_BOOL)
        return value

    def hex(self, key: str) -> bytes:
        return read_hex(self._get(key), self.at(key))

    def time(self, key: str) -> datetime:
        return read_time(self._get(key), self.at(key))

    def child(self, key: str) -> Fields:
        return Fields(self._get(key), self.at(key))

    def optional_child(self, key: str) -> Fields | None:
        value = self.data.get(key)
        return None if value is None else Fields(value, self.at(key))

    def items(self, key: str, *, required: bool = True) -> list[tuple[object, str]]:
        """The list's elements, each with where it is; an optional list may be absent."""
        value = self._get(key) if required else self.data.get(key)
        if value is None and not required:
            return []
        return list_items(value, self.at(key))
