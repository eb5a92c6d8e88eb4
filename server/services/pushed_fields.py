"""A pushed item's fields read strictly: every problem named by item and field.

The platform sends JSON its own code built, so anything unexpected is a bug on one side
or an attack: unknown keys, a moment without its offset, a voter given two ways. Votes
(server.services.pushed_votes) and poll answers (server.api.polls) are read alike.

A resident's document number is turned into a voter key here, on arrival, and dropped:
it is never stored, logged, or echoed back in an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any

from voting import IdentityError, IdentityKind, VoterKey

MAX_ID = 2**31 - 1  # ids are PostgreSQL `integer`s; a bigger number could never match
# A hostile batch could carry thousands of problems; the first hundred say enough.
MAX_REPORTED_PROBLEMS = 100
MAX_FIELD_NAME = 64

IDENTITY_FIELDS = frozenset({"kind", "number"})
_VOTER_KEY = re.compile(r"[0-9a-f]{64}")
# RFC 3339, the ISO 8601 profile OpenAPI's "date-time" means; the offset is required so
# a vote's moment never depends on the server's clock settings.
_CAST_AT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """One thing wrong with a pushed batch. `index` is None for the batch as a whole.

    `code` is either an "api.*" code (texts in server.api.messages) or a domain code
    (voting.messages) such as "identity.rnokpp_checksum".
    """

    index: int | None
    field: str
    code: str
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)


class InvalidBatch(Exception):
    def __init__(self, problems: Sequence[ItemProblem], total: int) -> None:
        super().__init__(f"{total} problem(s) in the pushed batch")
        self.problems = list(problems)
        self.total = total


class Problems:
    """What is wrong with a pushed batch, by item and field: every problem counted, the
    first MAX_REPORTED_PROBLEMS kept for the answer (votes and poll answers alike)."""

    def __init__(self) -> None:
        self.kept: list[ItemProblem] = []
        self.total = 0

    def add(self, index: int | None, field_name: str, code: str, **params: Any) -> None:
        self.total += 1
        if len(self.kept) < MAX_REPORTED_PROBLEMS:
            self.kept.append(ItemProblem(index, field_name, code, params))


def _safe_name(name: str) -> str:
    """An unknown key as it may be echoed: short, and no lone surrogates."""
    return name[:MAX_FIELD_NAME].encode("utf-8", "replace").decode("utf-8")


def is_id(value: Any) -> bool:
    # bool is an int subclass: `true` is not a cycle id.
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def check_fields(
    problems: Problems, index: int | None, prefix: str, given: Mapping, allowed: frozenset
) -> None:
    for key in given:
        if key not in allowed:
            problems.add(index, prefix + _safe_name(str(key)), "api.unknown_field")


def read_cast_at(value: Any) -> datetime | None:
    """An aware datetime in UTC from an RFC 3339 string, or None if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    value = value.upper()  # RFC 3339 allows "t" and "z" too
    if not _CAST_AT.fullmatch(value):
        return None
    head, dot, tail = value.partition(".")
    if dot:
        # Python reads at most 6 fraction digits; votes keep milliseconds anyway.
        match = re.match(r"[0-9]+", tail)
        assert match is not None  # _CAST_AT has digits after the dot
        digits = match.group()
        value = f"{head}.{digits[:6]}{tail[len(digits) :]}"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def read_voter_key(problems: Problems, index: int, item: Mapping, community_secret: bytes) -> str | None:
    has_key, has_identity = "voter_key" in item, "identity" in item
    if has_key == has_identity:
        problems.add(index, "voter_key", "api.voter_one_of")
        return None
    if has_key:
        key = item["voter_key"]
        if not isinstance(key, str) or not _VOTER_KEY.fullmatch(key):
            problems.add(index, "voter_key", "api.voter_key_format")
            return None
        return key
    identity = item["identity"]
    if not isinstance(identity, dict):
        problems.add(index, "identity", "api.not_object")
        return None
    before = problems.total
    check_fields(problems, index, "identity.", identity, IDENTITY_FIELDS)
    kind, number = identity.get("kind"), identity.get("number")
    if not isinstance(kind, str) or kind not in {k.value for k in IdentityKind}:
        problems.add(index, "identity.kind", "identity.unknown_kind")
    if "number" not in identity:
        problems.add(index, "identity.number", "api.required")
    elif not isinstance(number, str):
        problems.add(index, "identity.number", "api.not_string")
    if problems.total > before:
        return None
    assert isinstance(kind, str) and isinstance(number, str)  # checked just above
    try:
        return VoterKey.derive(community_secret, kind, number).hex
    except IdentityError as exc:
        # The error carries a code and the kind, never the number itself.
        problems.add(index, "identity.number", exc.code)
        return None
