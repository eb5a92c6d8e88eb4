"""Personal issue of paper ballots at a support point: which voter key got which serial.

The operator identifies the resident by their card (its id, as a terminal reads it) or
by a document they type (РНОКПП, УНЗР, passport booklet, ID card). The number becomes
the resident's voter key with the package's `voter_key_secret`, exactly as a terminal
derives it, and is then dropped: it is never stored, shown or logged. Before a sheet is
issued the resident is checked as a terminal checks them (kiosk/terminal.py
`refusal_for`): the cycle is open for residents; the community's list, when it applies,
and the minimum age (voting.eligibility.refusal_code); not already voted in this cycle
here (this device's log) or elsewhere (the server's voted-elsewhere list); and not
already holding a live sheet of this cycle (the operator cancels a spoiled one first).

A sheet issued gets the next serial of the support point's serial book
(paper.issue_store), shared with the blank sheets `spilno ballots print` hands
out, so no serial is ever given twice. Its record and its PDF (paper.forms) are
made in one sheet-store transaction: a sheet whose PDF cannot be made is not issued.
When it is read back and committed, its vote carries the voter key (support_point.commit),
so the count resolves it against the same resident's kiosk or online vote.

A spoiled sheet is cancelled, never deleted; `reissue` cancels it and issues the next
serial to the same voter key in one step. A sheet already scanned (it was cast) or
committed cannot be cancelled, and a cancelled sheet read later is rejected
(sheet.cancelled) and never becomes a vote.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from paper import issue_store
from paper.forms import print_forms
from paper.issue_store import IssuedSheet
from paper.layout import LayoutError
from paper.review import ReviewError, clean_operator, clean_reason
from paper.serials import SerialError, device_prefix, form_key, is_serial
from paper.sheet_store import SheetStore
from sync.clock import datetime_from_ms, system_clock_ms
from sync.cycle_package import DEFAULT_TIMEZONE, CyclePackage, PackagedCycle
from sync.device_store import DeviceStore
from sync.voted_here import VotedHere
from sync.wire import ProtocolError
from voting import IdentityKind, VoterKey
from voting.eligibility import birth_date
from voting.identity import IdentityError, normalise_identifier

__all__ = [
    "DOCUMENT_KINDS",
    "CardIdentity",
    "DocumentIdentity",
    "IssueDesk",
    "IssueRefused",
    "IssueResult",
    "IssueRow",
    "reserve_blank_serials",
]

# What an operator may type, as at a terminal's staff mode (kiosk.identification.STAFF_DOCUMENT_KINDS):
# a card's id is read by the reader, never typed.
DOCUMENT_KINDS = (IdentityKind.RNOKPP, IdentityKind.UNZR, IdentityKind.PASSPORT, IdentityKind.ID_CARD)


class IssueRefused(Exception):
    """Nothing was issued or cancelled; `code` is a message code (issue_messages)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class CardIdentity:
    card_id: str = field(repr=False)  # the card's UID as hex: never stored


@dataclass(frozen=True, slots=True)
class DocumentIdentity:
    kind: str
    number: str = field(repr=False)  # as typed: never stored, never shown, not even in a traceback
    age_confirmed: bool = False  # the operator checked the age on the document


Identity = CardIdentity | DocumentIdentity


@dataclass(frozen=True, slots=True)
class IssueResult:
    sheet: IssuedSheet
    pdf: bytes
    cycle: PackagedCycle
    cancelled: IssuedSheet | None = None  # the spoiled sheet a reissue replaced


@dataclass(frozen=True, slots=True)
class IssueRow:
    """One line of the operator's list of sheets issued today."""

    sheet: IssuedSheet
    status: str  # live | read | committed | cancelled
    cycle_title: str


class IssueDesk:
    """Issuing and cancelling personal sheets at one support point: its device store
    (identity, package, log, voter lists) and its sheet store. `clock` is the device's
    clock in ms; every moment recorded is server-corrected, as a terminal's."""

    def __init__(
        self,
        device_store: DeviceStore,
        sheet_store: SheetStore,
        *,
        clock: Callable[[], int] = system_clock_ms,
        locale: str = "uk",
    ) -> None:
        self.device_store = device_store
        self.sheet_store = sheet_store
        self.clock = clock
        self.locale = locale  # the language the sheets are printed in
        self._voted_here = VotedHere(device_store)  # reads the log once, then only what is new

    def now_ms(self) -> int:
        return self.clock() - self.device_store.clock_offset_ms()

    # --- what the operator chooses from ------------------------------------------------

    def _package(self) -> tuple[CyclePackage, str]:
        """The current package (read: sync.package_parser) and this support point's
        device code."""
        identity = self.device_store.identity()
        if identity is None or identity.kind != "support_point":
            raise IssueRefused("ballots.not_support_point")
        try:
            stored = self.device_store.package()
        except ProtocolError:  # a package stored by a release that read it differently
            raise IssueRefused("forms.cycle") from None
        if stored is None:
            raise IssueRefused("ballots.no_package")
        return stored.content, identity.device

    def open_cycles(self) -> list[PackagedCycle]:
        """The residents' cycles open now, in which sheets may be issued."""
        try:
            package, _device = self._package()
        except IssueRefused:
            return []
        return package.open_cycles(datetime_from_ms(self.now_ms()))

    def _open_cycle(self, package: CyclePackage, cycle_id: object) -> PackagedCycle:
        cycle = package.cycle(cycle_id) if type(cycle_id) is int else None
        if cycle is None or not cycle.for_residents:
            raise IssueRefused("issue.no_cycle")
        if cycle.window_state(datetime_from_ms(self.now_ms())) != "open":
            raise IssueRefused("issue.cycle_not_open")
        return cycle

    # --- who the resident is, and may they vote ------------------------------------------

    @staticmethod
    def _voter(secret: bytes, identity: Identity) -> tuple[str, date | None, bool]:
        """(voter key, birth date from the number or None, age confirmed by the operator)."""
        try:
            if isinstance(identity, CardIdentity):
                return VoterKey.derive(secret, IdentityKind.CARD, identity.card_id).hex, None, False
            if not isinstance(identity, DocumentIdentity) or identity.kind not in DOCUMENT_KINDS:
                raise IssueRefused("issue.document_kind")
            key = VoterKey.derive(secret, identity.kind, identity.number)
            born = birth_date(identity.kind, normalise_identifier(identity.kind, identity.number))
        except IdentityError as exc:
            raise IssueRefused(exc.code) from None  # the code names the rule, never the number
        return key.hex, born, identity.age_confirmed is True

    def _check_voter(
        self,
        cycle: PackagedCycle,
        voter_key: str,
        born: date | None,
        age_confirmed: bool,
        *,
        age: bool = True,
    ) -> None:
        """The terminal's checks (kiosk/terminal.py refusal_for), worded for the operator.
        `age=False` on a reissue: the age was checked when the first sheet was issued, and
        the document is not typed again."""
        refusal = self.device_store.eligibility.refusal(
            cycle,
            voter_key,
            born=born,
            age_confirmed=age_confirmed,
            server_now=datetime_from_ms(self.now_ms()),
            check_age=age,
        )
        if refusal is not None:
            code, min_age = refusal
            raise IssueRefused(code, min_age=min_age)
        voter = f"key:{voter_key}"
        if self._voted_here.contains(cycle.id, voter):
            raise IssueRefused("issue.voted_here")
        if self.device_store.voted_elsewhere(cycle.id, voter):
            raise IssueRefused("issue.voted_elsewhere")

    # --- issuing -------------------------------------------------------------------------

    def issue_sheet(self, cycle_id: int, identity: Identity, *, operator: str) -> IssueResult:
        """Issue one personal sheet of `cycle_id` to the resident `identity` names: its
        record and its PDF, or IssueRefused with nothing recorded."""
        operator = _operator(operator)
        package, device = self._package()
        cycle = self._open_cycle(package, cycle_id)
        secret = _secret(package)
        voter_key, born, age_confirmed = self._voter(secret, identity)
        self._check_voter(cycle, voter_key, born, age_confirmed)
        with self.sheet_store.write():
            held = issue_store.live_sheet(self.sheet_store, cycle_id, voter_key)
            if held is not None:
                raise IssueRefused("issue.live_sheet", serial=held.serial)
            sheet, pdf = self._hand_out(cycle, device, secret, voter_key, operator)
        return IssueResult(sheet, pdf, cycle)

    def _hand_out(
        self,
        cycle: PackagedCycle,
        device: str,
        secret: bytes,
        voter_key: str,
        operator: str,
        replacing: IssuedSheet | None = None,
        reason: str = "",
    ) -> tuple[IssuedSheet, bytes]:
        """Allocate, record and print one sheet, inside the caller's transaction: if the
        PDF cannot be made, the rollback leaves neither a record nor a used serial."""
        now_ms = self.now_ms()
        cycle_id = cycle.id
        try:
            [serial] = issue_store.hand_out_serials(
                self.sheet_store,
                device_prefix(device),
                1,
                purpose="personal",
                cycle_id=cycle_id,
                by=operator,
                now_ms=now_ms,
            )
            if replacing is not None:
                issue_store.mark_cancelled(
                    self.sheet_store, replacing.serial, reason=reason, by=operator, now_ms=now_ms,
                    replaced_by=serial,
                )  # fmt: skip
            sheet = issue_store.record_issue(
                self.sheet_store, serial, cycle_id, voter_key, by=operator, now_ms=now_ms
            )
            out = io.BytesIO()
            print_forms(cycle, [serial], form_key(secret), out, locale=self.locale)
        except (SerialError, LayoutError) as exc:
            raise IssueRefused(exc.code) from None
        return sheet, out.getvalue()

    # --- cancelling ----------------------------------------------------------------------

    def _cancellable(self, serial: object) -> IssuedSheet:
        """The live, unread sheet `serial` (call inside the sheet store's transaction)."""
        if not is_serial(serial):
            raise IssueRefused("issue.unknown_serial", serial=str(serial)[:20])
        assert isinstance(serial, str)
        sheet = issue_store.issued_sheet(self.sheet_store, serial)
        if sheet is None:
            raise IssueRefused("issue.unknown_serial", serial=serial)
        if not sheet.live:
            raise IssueRefused("issue.already_cancelled", serial=serial)
        read = self.sheet_store.sheet(sheet.cycle_id, serial)
        if read is not None:
            # Scanned means cast: a sheet in the box is never swapped for a fresh one.
            code = "issue.cancel_committed" if read.state == "committed" else "issue.cancel_read"
            raise IssueRefused(code, serial=serial)
        return sheet

    def cancel_sheet(self, serial: str, reason: str, *, operator: str) -> IssuedSheet:
        """Cancel a spoiled sheet that has not been scanned: it will never count."""
        operator, reason = _operator(operator), _reason(reason)
        with self.sheet_store.write():
            sheet = self._cancellable(serial)
            issue_store.mark_cancelled(
                self.sheet_store, sheet.serial, reason=reason, by=operator, now_ms=self.now_ms()
            )
            cancelled = issue_store.issued_sheet(self.sheet_store, sheet.serial)
        assert cancelled is not None
        return cancelled

    def reissue(self, serial: str, reason: str, *, operator: str) -> IssueResult:
        """Cancel a spoiled sheet and issue the next serial to the same voter key, in one
        step: both, or neither (the resident is checked again, except for the age)."""
        operator, reason = _operator(operator), _reason(reason)
        package, device = self._package()
        secret = _secret(package)
        with self.sheet_store.write():
            old = self._cancellable(serial)
            cycle = self._open_cycle(package, old.cycle_id)
            self._check_voter(cycle, old.voter_key, None, False, age=False)
            sheet, pdf = self._hand_out(cycle, device, secret, old.voter_key, operator, old, reason)
            cancelled = issue_store.issued_sheet(self.sheet_store, old.serial)
        assert cancelled is not None
        return IssueResult(sheet, pdf, cycle, cancelled)

    # --- what the operator sees ----------------------------------------------------------

    def sheet_pdf(self, serial: str) -> tuple[IssuedSheet, bytes]:
        """The PDF of a live sheet not yet scanned, again (a jammed printer). The same
        serial printed twice is caught when read: a second scan of a serial goes to a
        person (sheet.duplicate_serial), so a copy can never count twice."""
        package, _device = self._package()
        sheet = issue_store.issued_sheet(self.sheet_store, serial) if is_serial(serial) else None
        if sheet is None or not sheet.live or self.sheet_store.sheet(sheet.cycle_id, serial) is not None:
            raise IssueRefused("issue.pdf_unavailable")
        cycle = self._open_cycle(package, sheet.cycle_id)
        out = io.BytesIO()
        try:
            print_forms(cycle, [serial], form_key(_secret(package)), out, locale=self.locale)
        except (SerialError, LayoutError) as exc:
            raise IssueRefused(exc.code) from None
        return sheet, out.getvalue()

    def issued_today(self) -> list[IssueRow]:
        """Sheets issued since midnight (the community's time zone), newest first."""
        try:
            package, _device = self._package()
        except IssueRefused:
            package = None
        cycles = {c.id: c for c in package.cycles} if package else {}
        first = next(iter(cycles.values()), None)
        zone = first.zone if first else ZoneInfo(DEFAULT_TIMEZONE)
        now = datetime_from_ms(self.now_ms()).astimezone(zone)
        midnight = datetime(now.year, now.month, now.day, tzinfo=zone)
        rows = []
        for sheet in issue_store.issued_since(self.sheet_store, int(midnight.timestamp() * 1000)):
            read = self.sheet_store.sheet(sheet.cycle_id, sheet.serial)
            if not sheet.live:
                status = "cancelled"
            elif read is None:
                status = "live"
            else:
                status = "committed" if read.state == "committed" else "read"
            known = cycles.get(sheet.cycle_id)
            title = (known.title if known else "") or str(sheet.cycle_id)
            rows.append(IssueRow(sheet, status, title))
        return rows


def reserve_blank_serials(
    sheet_store: SheetStore,
    device: str,
    cycle_id: int,
    count: int,
    *,
    first: int | None = None,
    by: str = "cli",
    now_ms: int,
) -> list[str]:
    """Serials for `count` blank sheets, recorded in the same serial book personal sheets
    come from (`spilno ballots print --store`): the next free ones, or from `first` if
    none of those was handed out or seen before (SerialError otherwise)."""
    return issue_store.hand_out_serials(
        sheet_store, device_prefix(device), count, purpose="blank", cycle_id=cycle_id, by=by,
        now_ms=now_ms, first=first,
    )  # fmt: skip


def _secret(package: CyclePackage) -> bytes:
    secret = package.voter_key_secret
    try:
        form_key(secret)  # refuses a secret too short to key anything
    except ValueError:
        raise IssueRefused("ballots.no_secret") from None
    return secret


def _operator(name: str) -> str:
    try:
        return clean_operator(name)
    except ReviewError as exc:
        raise IssueRefused(exc.code) from None


def _reason(reason: str) -> str:
    try:
        return clean_reason(reason)
    except ReviewError as exc:
        raise IssueRefused(exc.code) from None
