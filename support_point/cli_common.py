"""What the `spilno ballots` commands share: where a command's package and stores
come from, and how it refuses.

The cycle comes from a signed package: normally the one the device store holds
(`--store`, verified and read when it was stored), or an envelope file checked with the
server's key and then read (sync.package_parser), exactly as `spilno kiosk load-package`
checks one: a malformed package is refused with the field at fault, before anything
else is done. The device store must be a support point's; the sheet store lies beside
it unless `--sheets` says otherwise.
Messages are Ukrainian first, English after " / ".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paper.messages import message
from support_point.texts import both

if TYPE_CHECKING:
    from sync.cycle_package import CyclePackage
    from sync.wire import ProtocolError

__all__ = [
    "SHEETS_OPTION",
    "STORE_OPTION",
    "fail",
    "open_sheets",
    "open_support_point",
    "package_from_file",
    "package_from_store",
    "package_refused",
]


def fail(code: str, detail: str = "", **params: object) -> click.ClickException:
    text = f"{message(code, 'uk', **params)} / {message(code, 'en', **params)}"
    return click.ClickException(f"{text} ({detail})" if detail else text)


def package_refused(exc: ProtocolError) -> click.ClickException:
    """A refused package, said as `spilno kiosk load-package` says it: a malformed one
    names the field at fault (sync.package_parser.PackageError), in both languages."""
    from sync.package_fields import PackageError
    from sync.packages import PACKAGE_REFUSALS

    reason = exc.detail if isinstance(exc, PackageError) else PACKAGE_REFUSALS.get(exc.code, exc.code)
    return click.ClickException(both("Пакет не прийнято") + f": {reason}")


def package_from_store(store_path: Path, package_file: Path | None) -> tuple[CyclePackage, str]:
    """The verified package, read, and the device code of the support point's store."""
    from sync.device_store import DeviceStore
    from sync.package_parser import parse_package
    from sync.packages import accept_package
    from sync.store_file import StoreError
    from sync.wire import ProtocolError

    if not store_path.is_file():
        raise click.ClickException(both("Файлу пристрою немає: {path}", path=store_path))
    store = DeviceStore(store_path)
    try:
        identity = store.require_identity()
        if identity.kind != "support_point":
            raise fail("ballots.not_support_point", identity.device)
        if package_file is None:
            stored = store.package()
            if stored is None:
                raise fail("ballots.no_package")
            return stored.content, identity.device
        envelope = _read_envelope(package_file)
        package = accept_package(
            envelope, server_key=identity.server_key, community_id=identity.community_id, current=None
        )
        assert package is not None  # with nothing held there is nothing to be the same as
        return parse_package(package), identity.device
    except ProtocolError as exc:
        raise package_refused(exc) from None
    except StoreError as exc:
        raise click.ClickException(both("Помилка пристрою") + f": {exc}") from None
    finally:
        store.close()


def _read_envelope(package_file: Path) -> object:
    try:
        if package_file.stat().st_size > 64 * 1024 * 1024:
            raise ValueError("larger than 64 MB")
        return json.loads(package_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise click.ClickException(both("Файл пакета не прочитано") + f": {exc!s:.200}") from None


def package_from_file(package_file: Path, server_key: str) -> CyclePackage:
    """The package in an envelope file, verified with `server_key` and read."""
    from sync import package_envelope
    from sync.package_parser import parse_package
    from sync.wire import ProtocolError

    envelope = _read_envelope(package_file)
    try:
        package = package_envelope.open_package(envelope, server_key.strip())
        if package.get("server_key") != server_key.strip():
            raise ProtocolError("package.server_key")
        return parse_package(package)
    except ProtocolError as exc:
        raise package_refused(exc) from None


def open_support_point(store_path: Path):
    """The support point's device store (open; the caller closes it), or a clear refusal."""
    from sync.device_store import DeviceStore

    if not store_path.is_file():
        raise click.ClickException(both("Файлу пристрою немає: {path}", path=store_path))
    store = DeviceStore(store_path)
    identity = store.identity()
    if identity is None or identity.kind != "support_point":
        store.close()
        raise fail("sheets.not_support_point", identity.device if identity else str(store_path))
    return store, identity


def open_sheets(store_path: Path, sheets_path: Path | None):
    import sqlite3

    from paper.sheet_store import SheetStore, sheets_path_for

    try:
        return SheetStore(sheets_path or sheets_path_for(store_path))
    except (sqlite3.Error, OSError) as exc:
        raise fail("sheets.unreadable_store", f"{exc!s:.100}") from None


SHEETS_OPTION = click.option(
    "--sheets",
    "sheets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sheet store (default: beside --store, <store>.sheets.db).",
)
STORE_OPTION = click.option(
    "--store",
    "store_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The support point's device file (made by `spilno device enrol`).",
)
