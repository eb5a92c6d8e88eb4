"""Slowing down code guessing on the students' pages, without letting one guesser lock
anyone else out.

Only wrong codes count (a typo caught by the check symbol, or a code that does not
exist): a real code refused for its state (spent, revoked, voting closed) tells a
guesser nothing new. They count two ways, each with growing delays (server.auth.throttle):

- per browser (a random id kept in the session cookie, hashed in the key): a few wrong
  codes back to back, then each further try from that browser waits, 2 s, 4 s, ... up
  to a minute. This is checked before the code is looked at, so it truly stops a
  browser; it slows down only the person using it (a shared classroom computer: the
  next student waits at most a minute).
- per network address: a whole school usually reaches us from one address, so the
  allowance is generous (forty students each making a typo fit many times over), and
  it only ever holds back WRONG codes: a right code passes even while its address is
  being slowed down, so one pupil hammering the page cannot keep their classmates from
  voting. Wrong codes beyond the allowance get "too many attempts" instead of "no such
  code" and are not counted further.

Why letting right codes through is safe: a code is 19 random symbols from 30 (93 bits)
plus a check symbol. Even a guesser who gets every guess looked at, at 10 000 a second
(far more than the server answers) for the 30 days of a vote, against 100 000 live
codes, makes 2.6e10 guesses with 1e5 / 2^93 = 1e-23 chance each: about one chance in
4e12 of hitting any code at all. The limits are there to keep the pages from being
hammered and to make a flood visible, not to make guessing hopeless: the code does that.

There is no limit per school page: it let anyone lock a whole school's page.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.auth.throttle import Rule, Verdict, address_subject, refund, take

CLIENT_ID_BYTES = 16


@dataclass(frozen=True)
class CodeLimits:
    """The two rules: per browser and per network address."""

    browser: Rule
    address: Rule

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CodeLimits:
        return cls(
            browser=Rule.from_config("code.browser", config, "CODE", "CODE_MAX_FAILURES_PER_CLIENT"),
            address=Rule.from_config("code.address", config, "CODE", "CODE_MAX_FAILURES_PER_IP"),
        )


@dataclass(frozen=True)
class Guesser:
    """Who is typing codes: the browser (hashed id) and its network address."""

    client: str
    ip: str


def new_client_id() -> str:
    """A random id for a browser, kept in its session cookie."""
    return secrets.token_urlsafe(CLIENT_ID_BYTES)


def client_hash(client_id: str) -> str:
    """What the throttle keys are made from (64 hex digits), never the cookie value."""
    return hashlib.sha256(f"spilno/code-client/{client_id}".encode()).hexdigest()


def before_looking(session: Session, limits: CodeLimits, guesser: Guesser, now: datetime) -> Verdict:
    """Count a try against the browser before the code is looked at (commit at once);
    refused while the browser must wait."""
    return take(session, [(limits.browser, guesser.client)], now)


def not_a_guess(session: Session, limits: CodeLimits, guesser: Guesser, now: datetime) -> None:
    """The code was real (right, or refused for its state): give the browser its try back."""
    refund(session, limits.browser, guesser.client, now)


def wrong_code(session: Session, limits: CodeLimits, guesser: Guesser, now: datetime) -> Verdict:
    """Count a wrong code against the address; refused (say "too many attempts" rather
    than "no such code") while the address must wait."""
    return take(session, [(limits.address, address_subject(guesser.ip))], now)
