"""The real card reader: PC/SC through pyscard (pcscd on Linux).

The kiosk calls `state()` every 20 ms while its page waits for a change, so one poll
must stay cheap and must never raise for what happens to a terminal every day (no card,
a strange card, the reader cable pulled, pcscd restarted). A poll is:

1. a PC/SC context, made once and remade only when pcscd went away;
2. the reader list (one round trip to pcscd), so an unplugged reader is noticed;
3. with a card already read: SCardStatus on the card's handle (one round trip). As long
   as the handle stays valid the same card is still there and the answer is reused;
   PC/SC invalidates the handle on removal or reset, so a card swapped between two
   polls is read afresh even when both cards share an ATR;
4. otherwise: the reader's state, and for a new card a connection plus GET DATA.

Measured with pcscd 1.9.9 + vpcd on the project's 2-core test machine (bench
card_poll_ms): a poll costs under 0.15 ms at p95, with the same card present or with
none; reading a new card takes 45-60 ms, most of it the card being powered up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from smartcard import scard

from .card_reader import CardError, CardPresent, CardState, NoCard, NoReader

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]  # PC/SC part 3 pseudo-APDU: GET DATA (UID), any length

# Answers that mean "pcscd is gone or was restarted": the context must be made again.
_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_INVALID_HANDLE,
    scard.SCARD_F_COMM_ERROR,
}


@dataclass
class _ReadCard:
    """A card read once, kept while its PC/SC handle stays valid."""

    reader: str
    handle: int
    state: CardPresent | CardError


class PcscCardReader:
    """CardReader over PC/SC. `reader_name`: a part of the reader's name to pick it
    among several (case-insensitive); without it the first reader is used."""

    def __init__(self, reader_name: str | None = None) -> None:
        self.reader_name = reader_name or None
        self._context: int | None = None
        self._card: _ReadCard | None = None
        self._lock = threading.Lock()  # the kiosk polls from a thread; checks may poll too

    # ---- the CardReader protocol -----------------------------------------------------
    def state(self) -> CardState:
        with self._lock:
            try:
                return self._poll()
            except scard.error as exc:  # pyscard's wrapper refusing a call: still a state
                self._drop_context()
                return NoReader(f"PC/SC error: {exc}")

    def close(self) -> None:
        with self._lock:
            self._drop_context()

    # ---- one poll --------------------------------------------------------------------
    def _poll(self) -> CardState:
        context = self._ensure_context()
        if isinstance(context, NoReader):
            return context
        result, readers = scard.SCardListReaders(context, [])
        if result in _SERVICE_GONE:
            # The context died with an earlier pcscd; a new one reaches the new pcscd.
            self._drop_context()
            context = self._ensure_context()
            if isinstance(context, NoReader):
                return context
            result, readers = scard.SCardListReaders(context, [])
        if result == scard.SCARD_E_NO_READERS_AVAILABLE or (result == scard.SCARD_S_SUCCESS and not readers):
            self._forget_card()
            return NoReader("no card reader is connected")
        if result != scard.SCARD_S_SUCCESS:
            self._drop_context()
            return NoReader(f"cannot list readers: {_message(result)}")
        reader = self._choose(readers)
        if reader is None:
            self._forget_card()
            return NoReader(f"no reader matching {self.reader_name!r}; connected: {', '.join(readers)}")

        if self._card is not None and self._card.reader == reader:
            if self._same_card_still_there(self._card.handle):
                return self._card.state
        self._forget_card()

        result, states = scard.SCardGetStatusChange(context, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if result != scard.SCARD_S_SUCCESS:
            return NoReader(f"reader {reader} does not answer: {_message(result)}")
        flags = states[0][1]
        if flags & (scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_UNKNOWN):
            return NoReader(f"reader {reader} is unavailable")
        if not flags & scard.SCARD_STATE_PRESENT:
            return NoCard(reader)
        if flags & scard.SCARD_STATE_MUTE:
            return CardError(reader, "the card does not answer (unknown kind of card?)")
        return self._read_new_card(context, reader)

    def _read_new_card(self, context: int, reader: str) -> CardState:
        result, handle, protocol = scard.SCardConnect(
            context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if result == scard.SCARD_E_NO_SMARTCARD or result == scard.SCARD_W_REMOVED_CARD:
            return NoCard(reader)  # taken away between the two calls
        if result != scard.SCARD_S_SUCCESS:
            return CardError(reader, f"cannot connect to the card: {_message(result)}")
        result, _name, _state, _protocol, atr = scard.SCardStatus(handle)
        if result != scard.SCARD_S_SUCCESS:
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            if result == scard.SCARD_W_REMOVED_CARD:
                return NoCard(reader)
            return CardError(reader, f"cannot read the card's status: {_message(result)}")
        pci = scard.SCARD_PCI_T0 if protocol == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        result, response = scard.SCardTransmit(handle, pci, GET_UID)
        if result != scard.SCARD_S_SUCCESS:
            # A card pulled mid-read; do not keep a verdict, the next poll reads again.
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            if result in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD):
                return NoCard(reader)
            return CardError(reader, f"the card was not read: {_message(result)}")
        if len(response) < 2:
            # vpcd and some readers pass on "no answer" as an empty response: a card
            # leaving the field mid-read. Not a verdict on the card: read it again next time.
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            return CardError(reader, "the card did not answer; hold it still on the reader")
        state = _card_state(reader, bytes(atr), bytes(response))
        # A card that answered, rightly or wrongly, keeps its verdict until it leaves:
        # asking a card that refused GET DATA again every 300 ms gives the same refusal.
        self._card = _ReadCard(reader, handle, state)
        return state

    def _same_card_still_there(self, handle: int) -> bool:
        # pcsc-lite answers SCARD_W_REMOVED_CARD (or _RESET_CARD) on a handle whose card
        # left or was reset since: then the card is read again.
        result, _name, _state, _protocol, _atr = scard.SCardStatus(handle)
        return result == scard.SCARD_S_SUCCESS

    def _choose(self, readers: list[str]) -> str | None:
        if self.reader_name is None:
            return readers[0]
        wanted = self.reader_name.casefold()
        return next((name for name in readers if wanted in name.casefold()), None)

    # ---- context and handle lifetime -------------------------------------------------
    def _ensure_context(self) -> int | NoReader:
        if self._context is None:
            result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if result != scard.SCARD_S_SUCCESS:
                return NoReader(f"the PC/SC service (pcscd) is not available: {_message(result)}")
            self._context = context
        return self._context

    def _forget_card(self) -> None:
        if self._card is not None:
            scard.SCardDisconnect(self._card.handle, scard.SCARD_LEAVE_CARD)
            self._card = None

    def _drop_context(self) -> None:
        self._forget_card()
        if self._context is not None:
            scard.SCardReleaseContext(self._context)
            self._context = None


def _card_state(reader: str, atr: bytes, response: bytes) -> CardPresent | CardError:
    data, status = response[:-2], response[-2:]
    if status != b"\x90\x00":
        # 6A81 / 6D00: the reader or card does not know GET DATA (a contact card, an
        # unsupported kind); 6282 and the like: a partial read.
        return CardError(reader, f"the card refused to give its id (status {status.hex().upper()})")
    if not data:
        return CardError(reader, "the card gave an empty id")
    return CardPresent(reader, data.hex().upper(), atr.hex().upper())


def _message(result: int) -> str:
    return f"{scard.SCardGetErrorMessage(result).strip()} (0x{result & 0xFFFFFFFF:08X})"
