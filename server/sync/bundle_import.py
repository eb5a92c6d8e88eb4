"""Importing a bundle: the votes of a terminal that never got a network, carried on a
USB stick (sync.bundle writes it, `spilno kiosk export-bundle`).

Each batch in the bundle goes through the very path a push takes (ingest.apply_batch):
the device must exist in the importer's community (a revoked one's votes are held for a
moderator, server.sync.held), the checkpoint
must carry the device's signature, the chain must continue from the device's stored
position, entries and votes are stored in one transaction per batch, a batch after a
gap waits aside, and tampering is refused with an alarm. Importing the same bundle
again stores nothing new: its entries answer as already known.

Before any batch, the file as a whole is checked (sync.bundle_reader: SQLite, the
right tables, the batches numbered without holes, no oversized rows) and its summary's
signature verified, so a hostile or damaged file changes nothing. The first refused
batch ends the import: what follows it comes from a file that can no longer be trusted,
and the device sends those entries again anyway (its position never moves for a bundle).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.i18n import _
from server.models import Device, User, utcnow
from server.services import audit
from sync.bundle import BundleError, BundleMeta
from sync.bundle_reader import BundleReader, open_bundle

from . import alarms
from .alarm_texts import text_of
from .device_keys import device_keys, signer
from .ingest import apply_batch
from .refusals import SyncRefused, sync_text

DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # ~400 000 votes; override with BUNDLE_MAX_BYTES
BUNDLE_SIGNATURE = "bundle.signature"  # the alarm kind for a summary the device did not sign
AUDIT_ACTION = "device.bundle_import"
# Another push of the same device can hold its row at that moment; apply_batch then
# answers "busy" and the same batch simply goes again, as a device would send it again.
BUSY_ATTEMPTS = 3
BUSY_PAUSE_S = 0.5


@dataclass(frozen=True)
class Refusal:
    code: str
    batch: int | None = None  # the bundle's batch number; None for the file as a whole
    extra: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        """In the current language (server.i18n)."""
        return bundle_text(self.code, **self.extra)


@dataclass
class BundleReport:
    """What one bundle brought, for the console page, the CLI and the audit log."""

    file_name: str
    size_bytes: int = 0
    sha256: str = ""
    device: str | None = None
    community_id: int | None = None
    created_at: str | None = None  # by the device's clock
    first_seq: int | None = None
    last_seq: int | None = None
    batches: int = 0
    entries_read: int = 0
    stored: int = 0  # entries (one vote each) new to the server
    already_known: int = 0  # entries the server held already, by push or an earlier import
    waiting: int = 0  # entries kept aside after a gap in the device's log
    not_read: int = 0  # batches after a refused one
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file_name,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "device": self.device,
            "created_at": self.created_at,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "batches": self.batches,
            "entries_read": self.entries_read,
            "stored": self.stored,
            "already_known": self.already_known,
            "waiting": self.waiting,
            "not_read": self.not_read,
            "ok": self.ok,
            "refusals": [{"batch": r.batch, "code": r.code, **r.extra} for r in self.refusals],
        }


def import_bundle(
    session: Session,
    path: str | os.PathLike[str],
    *,
    scope: Collection[int] | None,
    user: User | None = None,
    file_name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    now: datetime | None = None,
) -> BundleReport:
    """Import the bundle at `path` for someone who may manage the communities in `scope`
    (None: every community). Commits batch by batch and records an audit event; never
    raises for what is in the file: refusals are in the report."""
    path = Path(path)
    report = BundleReport(file_name or path.name)
    try:
        report.size_bytes, report.sha256 = _measure(path, max_bytes)
        with open_bundle(path) as bundle:
            _import(session, bundle, scope, report, now or utcnow())
    except BundleError as error:
        extra = {"limit_mb": max_bytes // (1024 * 1024)} if error.code == "bundle.too_large" else {}
        report.refusals.append(Refusal(error.code, error.batch, extra))
        if error.batch is not None and report.batches:  # a batch unreadable midway
            report.not_read = report.batches - error.batch
    session.rollback()  # nothing half-done of a refused batch reaches the audit commit
    audit.record(
        session,
        AUDIT_ACTION,
        user=user,
        community_id=report.community_id if report.community_id is not None else _single(scope),
        target=("device", report.device) if report.device else None,
        details={**report.as_dict(), "file": report.file_name[:200]},
    )
    session.commit()
    return report


def _measure(path: Path, max_bytes: int) -> tuple[int, str]:
    """Size and SHA-256 of the file, refusing one over the limit before reading it."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BundleError("bundle.too_large", f"{size} bytes, the limit is {max_bytes}")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return size, digest.hexdigest()


def _single(scope: Collection[int] | None) -> int | None:
    return next(iter(scope)) if scope is not None and len(scope) == 1 else None


def _import(
    session: Session, bundle: BundleReader, scope: Collection[int] | None, report: BundleReport, now: datetime
) -> None:
    meta = bundle.meta
    report.device, report.created_at = meta.device, meta.created_at
    report.first_seq, report.last_seq, report.batches = meta.first_seq, meta.last_seq, bundle.batch_count
    device = _importable_device(session, meta, scope)
    report.community_id = device.community_id
    # A bundle from a store the device was enrolled past is signed by an earlier key; its
    # batches are too, and their new votes are held for a moderator (server.sync.ingest).
    if signer(device_keys(session, device), meta.signed_bytes(), meta.signature) is None:
        _alarm_forged_summary(session, device, meta, now)
        raise BundleError("bundle.signature", f"the summary of {meta.device}'s bundle is not signed by it")
    for stored in bundle.batches():
        count = stored.last_seq - stored.first_seq + 1
        before = session.scalar(select(Device.acked_seq).where(Device.id == device.id)) or 0
        try:
            answer = _apply(session, device, stored.data, now)
        except SyncRefused as refused:
            report.refusals.append(Refusal(refused.code, stored.number, dict(refused.extra)))
            report.not_read = bundle.batch_count - stored.number
            return
        # `before` was read without the device's lock, so a push landing in between can
        # shift a few entries from "new" to "known" here; what is stored is exact.
        known = max(0, min(stored.last_seq, before) - stored.first_seq + 1)
        report.entries_read += count
        report.already_known += known
        if answer.gap:
            report.waiting += count - known
        else:
            report.stored += max(0, answer.acked_seq - before)


def _importable_device(session: Session, meta: BundleMeta, scope: Collection[int] | None) -> Device:
    device = session.scalar(select(Device).where(Device.code == meta.device))
    # Another community's device is answered exactly like one that does not exist.
    if (
        device is None
        or (scope is not None and device.community_id not in scope)
        or device.community_id != meta.community_id
    ):
        raise BundleError("bundle.unknown_device", f"{meta.device} is not in the importer's communities")
    if device.public_key is None:
        raise BundleError("bundle.device_not_enrolled", f"{meta.device} has no key yet")
    return device


def _apply(session: Session, device: Device, data: Any, now: datetime) -> Any:
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        try:
            return apply_batch(session, device, data, now=now)
        except SyncRefused as refused:
            if refused.code != "sync.busy" or attempt == BUSY_ATTEMPTS:
                raise
            time.sleep(BUSY_PAUSE_S * attempt)
    raise AssertionError("unreachable")


def _alarm_forged_summary(session: Session, device: Device, meta: BundleMeta, now: datetime) -> None:
    alarms.raise_alarm(
        session,
        community_id=device.community_id,
        source=device.code,
        kind=BUNDLE_SIGNATURE,
        text=text_of("bundle.signature", code=device.code, first=meta.first_seq, last=meta.last_seq),
        details={"first_seq": meta.first_seq, "last_seq": meta.last_seq, "last_hash": meta.last_hash},
        now=now,
    )
    session.commit()


def bundle_text(code: str, **params: Any) -> str:
    """A refusal for people, in the current language: the file's own problems here,
    a batch's from the sync API's texts (the same refusal as for a push)."""
    texts = {
        "bundle.too_large": _("Файл завеликий: не більше {limit_mb} МБ. Нічого не збережено."),
        "bundle.not_sqlite": _(
            "Це не файл перенесення голосів: файл порожній або не є базою SQLite. Нічого не збережено."
        ),
        "bundle.not_a_bundle": _(
            "Це база SQLite, але не файл перенесення голосів: немає потрібних таблиць. Нічого не збережено."
        ),
        "bundle.damaged": _(
            "Файл пошкоджено або записано не до кінця (можливо, носій вийняли під час запису). "
            "Створіть файл на терміналі ще раз."
        ),
        "bundle.format": _("Файл створено новішою версією програми терміналу. Оновіть сервер."),
        "bundle.meta": _("Опис файлу пошкоджено або змінено. Нічого не збережено."),
        "bundle.index": _("Пакети у файлі не йдуть поспіль або не збігаються з описом: файл змінено."),
        "bundle.row_too_large": _("Запис у файлі завеликий для пакета голосів: файл змінено."),
        "bundle.batch_json": _("Пакет у файлі не є коректним JSON: файл змінено або пошкоджено."),
        "bundle.unknown_device": _(
            "Файл створено пристроєм, якого немає у вашій громаді. Нічого не збережено."
        ),
        "bundle.device_not_enrolled": _(
            "Пристрій ще не зареєстровано на сервері, тож його підпис нема чим перевірити. "
            "Нічого не збережено."
        ),
        "bundle.signature": _(
            "Підпис файлу не збігається з ключем пристрою. Нічого не збережено, модератора повідомлено."
        ),
        "bundle.no_file": _("Оберіть файл перенесення голосів."),
    }
    text = texts.get(code)
    if text is None:
        return sync_text(code)
    return text.format(**params) if params else text
