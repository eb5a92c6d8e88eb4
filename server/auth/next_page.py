"""Where to go after signing in: only a path on this server.

An open redirect would let a phishing link borrow our sign-in page
(`/login?next=//evil.example`). Browsers are lenient in ways that turn innocent-looking
text into another host: they drop tabs and newlines inside a URL (`/<TAB>/evil.example`
becomes `//evil.example`), read `\\` as `/`, and accept a scheme in any case. So the
target must be a plain absolute path: no spaces, controls or backslashes, starting
with exactly one `/`, with no scheme and no host, and not turning into anything else
once percent-decoded. Letters beyond ASCII (a console page's Ukrainian search, say) are
percent-encoded. Everything else is dropped, not repaired.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

MAX_LENGTH = 2000  # the console's longest links are well under 200 characters
_ALLOWED = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"\\"}
_KEEP = "".join(sorted(_ALLOWED - {"%"})) + "%"  # what quote() leaves as it is


def _plain_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    if any(c not in _ALLOWED for c in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this server; None otherwise (use the default page)."""
    if not target or len(target) > MAX_LENGTH:
        return None
    if any(not c.isprintable() or c.isspace() for c in target):
        return None
    target = quote(target, safe=_KEEP)
    if len(target) > MAX_LENGTH or not _plain_path(target):
        return None
    # Once decoded (a proxy or a browser might), it must still be a plain path.
    decoded = unquote(target)
    if decoded.startswith("//") or "\\" in decoded or any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
        return None
    return target
