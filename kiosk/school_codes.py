"""Students' code cards shown to a terminal's camera, checked with no network.

A card's QR code holds the address of the phone voting page, `https://<server>/s/<code>`
(qr_codes.codes.code_url); a QR code with the bare code works too. The terminal reads the
code from the address's last path segment, checks its check symbol (a misprint or a
home-made QR code with a typo gets the same words the phone page shows), turns it into
its verifier with the package's verifier key and looks for the school contest whose
valid codes include it. What the terminal knows is the package: a code revoked after
the package was made still opens the ballot here, and the server then stores that vote
as invalid (`vote.code_not_valid`); a code spent elsewhere is refused once a sync round
has brought the news (the voted-elsewhere list, see kiosk/eligibility.py).

Which host: any. The address's host carries no authority: a code is accepted only when
its HMAC is in the signed package's list for this community, and the terminal does not
know the address the cards were printed with (PUBLIC_URL, possibly changed since, or a
demo server's). A card that names another host but holds a valid code is still that
student's card; a card with someone else's host and a made-up code is refused as
unknown. Refusing by host would turn away real cards and protect nothing.

Text that merely starts like an address (a `javascript:` URL, a poster's link, a URL
with control characters or broken percent-encoding) is not a code card and gets "not
for voting here".
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from kiosk.i18n import N_
from kiosk.qr_handlers import NOT_FOR_VOTING_HERE, QrContext, QrHandlers, QrOutcome, QrRefusal, QrVoter
from qr_codes.codes import CodeError, normalise, verifier
from voting import Channel

# QR encoders often upper-case a whole address to fit the compact alphanumeric mode.
URL_PREFIXES = ("https://", "http://", "HTTPS://", "HTTP://")
_SEPARATORS = frozenset("-_‐‑‒–—―−")
_BARE_CODE_LENGTH = range(16, 25)  # 20 symbols, give or take a few a student mistyped
_MAX_BARE_TEXT = 64

UNKNOWN_CODE = N_(
    "Такого коду немає. Можливо, картку замінено або вона з іншої громади. Зверніться до вчителя."
)
OTHER_SCHOOL = N_("Цей код іншої школи: тут голосують лише учні цієї школи.")
CONTEST_NOT_YET = N_("Голосування школи ще не почалося.")
CONTEST_ENDED = N_("Голосування школи вже завершено.")
NO_VERIFIER_KEY = N_("Термінал ще не отримав даних для перевірки кодів. Зверніться до працівника.")


def code_in_address(text: str) -> str | None:
    """The code part of a card's address (the last path segment after "/s/"), or None
    when the text is not such an address."""
    if any(unicodedata.category(c) == "Cc" for c in text):
        return None  # urlsplit would quietly drop tabs and newlines; a card has none
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. a broken IPv6 host "https://[::1/s/..."
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    segments = parts.path.rstrip("/").split("/")
    if len(segments) < 3 or segments[-2].lower() != "s":
        return None
    try:
        segment = unquote(segments[-1], errors="strict")
    except UnicodeDecodeError:  # "%FF": bytes that are not UTF-8
        return None
    if "%" in segment or "/" in segment:  # "%ZZ" is left as it was; "%2F" hides a path
        return None
    return segment


def looks_like_bare_code(text: str) -> bool:
    """Short text of letters, digits and separators with about 20 symbols: a code typed
    into a QR generator. Anything else is not claimed (a Wi-Fi code, a word, a link)."""
    if len(text) > _MAX_BARE_TEXT:
        return False
    if not all(c.isalnum() or c.isspace() or c in _SEPARATORS for c in text):
        return False
    return sum(c.isalnum() for c in text) in _BARE_CODE_LENGTH


def check_code(code_text: str, context: QrContext) -> QrOutcome:
    """Whether the code may vote on this terminal now, and in which contest."""
    try:
        compact = normalise(code_text)
    except CodeError as exc:
        return QrRefusal(exc.code, dict(exc.params), code_error=True)
    key = context.package.code_verifier_key
    if key is None:
        return QrRefusal(NO_VERIFIER_KEY)
    code_id = verifier(key, compact)
    cycle = context.package.contest_of_code(code_id)
    if cycle is None:
        return QrRefusal(UNKNOWN_CODE)
    school_id = cycle.school.id if cycle.school is not None else None
    if context.school_id is not None and school_id != context.school_id:
        return QrRefusal(OTHER_SCHOOL)
    state = cycle.window_state(context.now)
    if state == "not_yet":
        return QrRefusal(CONTEST_NOT_YET)
    if state == "ended":
        return QrRefusal(CONTEST_ENDED)
    return QrVoter(Channel.SCHOOL_CODE, code_id=code_id, cycle_id=cycle.id)


def handle_address(text: str, context: QrContext) -> QrOutcome:
    code_text = code_in_address(text)
    if code_text is None:
        return QrRefusal(NOT_FOR_VOTING_HERE)
    return check_code(code_text, context)


def register(handlers: QrHandlers) -> None:
    for prefix in URL_PREFIXES:
        handlers.register(prefix, handle_address)
    handlers.register_unprefixed(looks_like_bare_code, check_code)
