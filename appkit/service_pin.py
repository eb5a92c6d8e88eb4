"""The service PIN: staff unlock the maintenance screen and staff-assisted voting.

The configuration holds only a salted scrypt hash of the PIN (`spilno kiosk hash-pin`
makes one). A PIN is short, so guessing is slowed down on the terminal itself: after
a few wrong tries every further try waits longer (30 s, 60 s, 120 s... up to 15 min).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

# scrypt with N=2**14, r=8: about 50 ms on a terminal's CPU; a stolen config is not a
# quick dictionary of 4-8 digit PINs, and the lock-out below stops guessing at the screen.
_N, _R, _P = 2**14, 8, 1
MAX_PIN_LENGTH = 32
FREE_ATTEMPTS = 3
FIRST_LOCK_S = 30.0
LONGEST_LOCK_S = 15 * 60.0


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (hex), for the SERVICE_PIN_HASH setting."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a service PIN is 4 to 12 digits")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """True only when `pin` hashes to `stored`; a malformed setting matches nothing."""
    if not isinstance(pin, str) or len(pin) > MAX_PIN_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(frozen=True, slots=True)
class PinAnswer:
    accepted: bool
    wait_s: int = 0  # >0: locked out, try again after this many seconds
    not_configured: bool = False


class PinGuard:
    """Checks PIN tries against the configured hash, slowing down repeated failures."""

    def __init__(self, pin_hash: str | None, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._hash = pin_hash or None
        self._monotonic = monotonic
        self._failures = 0
        self._locked_until = 0.0

    @property
    def configured(self) -> bool:
        return self._hash is not None

    def try_pin(self, pin: str) -> PinAnswer:
        if self._hash is None:
            return PinAnswer(False, not_configured=True)
        now = self._monotonic()
        if now < self._locked_until:
            # Not even checked: a locked terminal must not answer "right" or "wrong".
            return PinAnswer(False, wait_s=int(self._locked_until - now + 0.999))
        if pin_matches(pin, self._hash):
            self._failures = 0
            return PinAnswer(True)
        self._failures += 1
        if self._failures >= FREE_ATTEMPTS:
            lock = min(FIRST_LOCK_S * 2 ** (self._failures - FREE_ATTEMPTS), LONGEST_LOCK_S)
            self._locked_until = now + lock
            return PinAnswer(False, wait_s=int(lock))
        return PinAnswer(False)
