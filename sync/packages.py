"""Cycle packages on a device: which one to trust, and reading the raw package.

A package is what a terminal knows about voting while offline: the community, the
cycles whose voting has not ended, their categories, admitted projects and rules, and
the secret that turns a resident's document number into a voter key. It is trusted
only when the key the device learned at enrolment signed it (accept_package); it is
then read once into its typed form (sync.package_parser, sync.cycle_package).

Projects may carry details for residents (server.sync.packages): an address, a budget
breakdown and photos named by SHA-256 with their descriptions. The photos come beside
the envelope; `verified_photos` keeps those whose bytes have a signed digest.

Every reader of a package reads the typed one (StoredPackage.content); the raw dict is
kept for its signature and digest only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync import package_envelope, wire
from sync.texts import N_, both
from sync.wire import ProtocolError

if TYPE_CHECKING:
    from sync.cycle_package import CyclePackage

SCHOOL_CONTEST = "school_contest"  # server.models.CycleKind.SCHOOL_CONTEST
# School budgets are voted with per-student codes, never by residents: the programme
# ("school") has no ballot of its own, and each school's contest is voted in with its
# codes only. Terminals, the simulators and the demo all leave these to school codes.
NOT_RESIDENTS_KINDS = frozenset({"school", SCHOOL_CONTEST})


# A photo the server made is at most 400 KB (server.services.photo_images); anything
# much larger is not one of ours. A package's photos are at most 6 MB together.
MAX_PHOTO_BYTES = 512 * 1024
MAX_PACKAGE_PHOTO_BYTES = 6 * 1024 * 1024


def verified_photos(package: CyclePackage, photos: Any) -> dict[str, bytes]:
    """The photos (sent beside the envelope: digest -> base64) that the signed package
    names and whose bytes have that digest: a JPEG of bounded size. Any other is left out
    (the detail view then shows the description without the picture)."""
    if not isinstance(photos, dict):
        return {}
    wanted = package.photo_digests()
    kept: dict[str, bytes] = {}
    total = 0
    for digest in sorted(wanted):
        encoded = photos.get(digest)
        if not isinstance(encoded, str) or len(encoded) > MAX_PHOTO_BYTES * 4 // 3 + 4:
            continue
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hashlib.sha256(data).hexdigest() != digest or not data.startswith(b"\xff\xd8\xff"):
            continue
        if total + len(data) > MAX_PACKAGE_PHOTO_BYTES:
            break
        total += len(data)
        kept[digest] = data
    return kept


@dataclass(frozen=True, slots=True)
class StoredPackage:
    version: int
    envelope: dict[str, Any]  # as signed by the server, kept so it can be checked again
    package: dict[str, Any]
    content: CyclePackage  # the same package, read (sync.package_parser.parse_package)


def package_digest(package: dict[str, Any]) -> str:
    """The hash of a package's content, without its version and issue time: the server
    makes a new version exactly when this changes, and a device sends it with the
    version it holds so a restored server sees content it never issued."""
    body = {k: v for k, v in package.items() if k not in ("version", "issued_at")}
    return hashlib.sha256(wire.canonical_json(body)).hexdigest()


def accept_package(
    envelope: Any, *, server_key: str, community_id: int, current: StoredPackage | None
) -> dict[str, Any] | None:
    """The opened package if the device should take it, None if it is the one we hold;
    ProtocolError when it is not signed by `server_key`, is for another community or is
    not newer than `current` (a replayed old package must not undo a newer one)."""
    package = package_envelope.open_package(envelope, server_key)
    version, community = package.get("version"), package.get("community")
    if type(version) is not int or version < 1:
        raise ProtocolError("package.version", f"{version!r} is not a version number")
    if not isinstance(community, dict) or community.get("id") != community_id:
        raise ProtocolError("package.community", f"the package is for {community!r:.100}")
    if package.get("server_key") != server_key:
        raise ProtocolError("package.server_key", "the package names another server key")
    if current is not None and version <= current.version:
        if version == current.version and envelope == current.envelope:
            return None
        raise ProtocolError("package.older", f"version {version} is not newer than {current.version}")
    return package


# A refused package's reason for a device's command line, «Ukrainian / English» from the
# sync catalog (kiosk and support point alike).
_PACKAGE_REFUSED = {
    "package.shape": N_("це не підписаний пакет"),
    "package.signature": N_("підпис недійсний: пакет не від вашого сервера або змінений"),
    "package.format": N_("невідомий формат пакета"),
    "package.version": N_("у пакеті немає правильної версії"),
    "package.community": N_("пакет для іншої громади"),
    "package.server_key": N_("пакет називає інший ключ сервера"),
    "package.older": N_("на терміналі вже новіший пакет"),
    "package.malformed": N_("пакет пошкоджений або неповний"),
}
PACKAGE_REFUSALS = {code: both(text) for code, text in _PACKAGE_REFUSED.items()}
