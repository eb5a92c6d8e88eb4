"""A contactless card emulated in Python, put on vsmartcard's virtual reader (vpcd).

vpcd is a PC/SC reader driver loaded by pcscd; it listens on a TCP port (35963 for
"Virtual PCD 00 00" in Debian's /etc/reader.conf.d/vpcd) and whatever connects there is
the card in that reader. Every message either way is a 2-byte big-endian length, then
the payload. From the reader: a 1-byte payload is a control (0 power off, 1 power on,
2 reset, 4 "send your ATR"), anything longer is a command APDU. The card answers an ATR
request with its ATR and an APDU with data + SW1 SW2; controls 0, 1, 2 get no answer.

What vpcd makes of the card side (read from vpcd.c, confirmed by the tests):
- pcscd polls every reader about every 400 ms; vpcd's presence check accepts a waiting
  connection, then asks for the ATR. An ATR answer means "card present".
- A closed connection means "no card": vpcd drops it at its next poll and waits for the
  next card. `remove()` (an orderly close) and `unplug()` (a TCP reset) both show as an
  empty reader, NoCard, within about half a second. The reader itself never disappears:
  it comes from reader.conf, so with vpcd only a stopped pcscd shows "no reader".
- Do not answer an ATR request with an empty payload to mean "card gone": vpcd 3.3
  (Debian 12) then waits forever and pcscd stops polling that reader, so it keeps
  reporting the old card. Close the connection instead.
- A card that drops the connection instead of answering an APDU (`leave_during_read`)
  is a card pulled mid-read: the transmit fails in pcscd.
- vpcd only listens while pcscd runs; a card that connects earlier is refused. So the
  order is: start pcscd, then `insert()` (which retries until vpcd listens). After a
  pcscd restart the old connection is dead and the card must be inserted again.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

# A MIFARE DESFire-like ATR as PC/SC readers synthesise it for contactless cards.
DEFAULT_ATR = "3B8F8001804F0CA0000003060300010000000068"
GET_UID = bytes.fromhex("FFCA000000")  # PC/SC pseudo-APDU: GET DATA, the card's UID

_POWER_OFF, _POWER_ON, _RESET, _SEND_ATR = 0, 1, 2, 4


class VirtualCard:
    """One card on one vpcd slot. `get_data_status` other than "9000" makes a card that
    refuses GET DATA, as a contact-only or unknown card does."""

    def __init__(
        self,
        uid: str = "04A1B2C3D4E5F6",
        atr: str = DEFAULT_ATR,
        *,
        port: int = 35963,
        host: str = "127.0.0.1",
        get_data_status: str = "9000",
        leave_during_read: bool = False,
    ) -> None:
        self.uid = bytes.fromhex(uid)
        self.atr = bytes.fromhex(atr)
        self.port = port
        self.host = host
        self.get_data_status = bytes.fromhex(get_data_status)
        self.apdus: list[bytes] = []  # every command APDU the reader sent, in order
        self.controls: list[int] = []  # every power/reset/ATR control, in order
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.leave_during_read = leave_during_read

    # ---- control methods -------------------------------------------------------------
    def insert(self, timeout_s: float = 5.0) -> None:
        """Put the card on the reader: connect to vpcd, retrying while pcscd starts."""
        if self.inserted:
            return
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"vpcd is not listening on {self.host}:{self.port}: {exc}") from exc
                time.sleep(0.05)
        sock.settimeout(None)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="vpcd-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Take the card away: the card side closes the connection; vpcd finds it closed
        at its next presence poll (every ~400 ms) and reports an empty reader."""
        self._hang_up(abrupt=False)

    def unplug(self) -> None:
        """Cut the connection abruptly (TCP reset), as a cable pulled mid-session would."""
        self._hang_up(abrupt=True)

    def _hang_up(self, *, abrupt: bool) -> None:
        sock = self._sock
        if sock is not None:
            if abrupt:  # linger 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            sock.close()
        if self._thread is not None:
            self._thread.join(3.0)
        self._sock = None
        self._thread = None

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the vpcd protocol -----------------------------------------------------------
    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                message = _receive(sock)
                if message is None:
                    return  # vpcd closed its side: the card is off the reader
                if len(message) == 1:
                    self.controls.append(message[0])
                    if message[0] == _SEND_ATR:
                        _send(sock, self.atr)
                    continue
                self.apdus.append(message)
                if self.leave_during_read:
                    sock.close()  # taken off the reader before answering
                    return
                _send(sock, self._answer(message))
        except OSError:
            return

    def _answer(self, apdu: bytes) -> bytes:
        if apdu == GET_UID:
            if self.get_data_status == b"\x90\x00":
                return self.uid + self.get_data_status
            return self.get_data_status
        return bytes.fromhex("6D00")  # instruction not supported


def _receive(sock: socket.socket) -> bytes | None:
    header = _exactly(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _exactly(sock, length) if length else b""


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)
