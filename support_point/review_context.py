"""What every view of the support point's review page uses, review_app's and
issue_app's alike: the app's Review context, the session's locale and notice, the
sign-in guard, and integers read from a form.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, redirect, request, session, url_for

from appkit.service_pin import PinGuard
from hardware.card_reader import CardReader
from paper.review import ReviewError
from paper.sheet_store import SheetStore
from support_point.issue import IssueDesk
from sync.cycle_package import CyclePackage
from sync.device_store import DeviceStore

__all__ = ["LOCALES", "Review", "form_int", "locale", "notify", "review", "signed_in"]

LOCALES = ("uk", "en")


@dataclass
class Review:
    """What the views need, kept in app.extensions["spilno.review"]."""

    device_store: DeviceStore
    sheet_store: SheetStore
    pin_guard: PinGuard
    pin_lock: threading.Lock
    clock: Callable[[], int]
    desk: IssueDesk
    card_reader: CardReader | None

    def now_ms(self) -> int:
        """Server-corrected, as kiosk/terminal.py stamps a vote (sync.clock.server_time)."""
        return self.clock() - self.device_store.clock_offset_ms()

    def package(self) -> CyclePackage | None:
        """The current package, read (sync.package_parser), or None before the first."""
        stored = self.device_store.package()
        return stored.content if stored else None


def review() -> Review:
    return current_app.extensions["spilno.review"]


def locale() -> str:
    value = session.get("locale")
    return value if value in LOCALES else "uk"


def notify(code: str, kind: str = "bad", **params: Any) -> None:
    session["notice"] = {"code": code, "kind": kind, "params": {k: str(v)[:100] for k, v in params.items()}}


def form_int(name: str) -> int:
    """A non-negative integer from the form (ReviewError for anything else)."""
    value = request.form.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise ReviewError("review.bad_form", f"{name}={value!r:.20}")
    return int(value)


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not session.get("unlocked") or not session.get("operator"):
            return redirect(url_for("review.home"), code=303)
        return view(*args, **kwargs)

    return wrapper
