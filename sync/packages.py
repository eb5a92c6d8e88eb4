"""Cycle packages on a device: which one to trust, which cycles are open, their ballots.

A package is what a terminal knows about voting while offline: the community, the
cycles whose voting has not ended, their categories, admitted projects and rules, and
the secret that turns a resident's document number into a voter key. It is trusted
only when the key the device learned at enrolment signed it.

Projects may carry details for residents (server.sync.packages): an address, a budget
breakdown and photos named by SHA-256 with their descriptions. The photos come beside
the envelope; `verified_photos` keeps those whose bytes have a signed digest. A package
from before details, or a project without them, reads as no details.

School contests (cycles of kind "school_contest") carry their school and the verifiers
of their valid codes; with the package's `code_verifier_key` a terminal turns a scanned
code into its verifier and finds the contest it votes in, offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync import protocol
from sync.protocol import ProtocolError
from voting import Ballot, BallotProject, CategoryRule, Channel, IdentityKind, VoteRecord, VoterKey
from voting.identity import rnokpp_check_digit

CHANNEL_OF_DEVICE = {"terminal": Channel.KIOSK, "support_point": Channel.PAPER}
SCHOOL_CONTEST = "school_contest"  # server.models.CycleKind.SCHOOL_CONTEST
# School budgets are voted with per-student codes, never by residents: the programme
# ("school") has no ballot of its own, and each school's contest is voted in with its
# codes only. Terminals, the simulators and the demo all leave these to school codes.
NOT_RESIDENTS_KINDS = frozenset({"school", SCHOOL_CONTEST})


# A photo the server made is at most 400 KB (server.services.photo_images); anything
# much larger is not one of ours. A package's photos are at most 6 MB together.
MAX_PHOTO_BYTES = 512 * 1024
MAX_PACKAGE_PHOTO_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PhotoRef:
    sha256: str
    width: int
    height: int
    alt_uk: str
    alt_en: str

    def alt(self, locale: str) -> str:
        return (self.alt_en if locale == "en" else "") or self.alt_uk


@dataclass(frozen=True, slots=True)
class BudgetItem:
    item: str
    amount: int  # kopiykas


@dataclass(frozen=True, slots=True)
class ProjectDetails:
    address: str
    budget: tuple[BudgetItem, ...]
    photos: tuple[PhotoRef, ...]


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _digest(value: Any) -> str | None:
    return value if isinstance(value, str) and protocol.HEX64.fullmatch(value) else None


def project_details(project: dict) -> ProjectDetails:
    """A packaged project's details; what is missing (an older package) or not of the
    expected shape reads as absent, never as an error: the ballot must still work."""
    budget = []
    for line in project.get("budget") or ():
        if isinstance(line, dict) and type(line.get("amount")) is int and line["amount"] > 0:
            budget.append(BudgetItem(_text(line.get("item"), 200), line["amount"]))
    photos = []
    for photo in project.get("photos") or ():
        if not isinstance(photo, dict) or _digest(photo.get("sha256")) is None:
            continue
        alt = photo.get("alt")
        if not isinstance(alt, dict):
            alt = {}
        width, height = photo.get("width"), photo.get("height")
        if (
            type(width) is not int
            or type(height) is not int
            or not (0 < width <= 4096 and 0 < height <= 4096)
        ):
            continue
        photos.append(
            PhotoRef(photo["sha256"], width, height, _text(alt.get("uk"), 300), _text(alt.get("en"), 300))
        )
    return ProjectDetails(_text(project.get("address"), 300), tuple(budget), tuple(photos))


def photo_digests(package: dict) -> set[str]:
    """Every photo digest the package's projects name."""
    return {
        photo.sha256
        for cycle in package.get("cycles", [])
        if isinstance(cycle, dict)
        for project in cycle.get("projects", [])
        if isinstance(project, dict)
        for photo in project_details(project).photos
    }


def verified_photos(package: dict, photos: Any) -> dict[str, bytes]:
    """The photos (sent beside the envelope: digest -> base64) that the signed package
    names and whose bytes have that digest: a JPEG of bounded size. Any other is left out
    (the detail view then shows the description without the picture)."""
    if not isinstance(photos, dict):
        return {}
    wanted = photo_digests(package)
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
    envelope: dict  # as signed by the server, kept so it can be checked again
    package: dict


def package_digest(package: dict) -> str:
    """The hash of a package's content, without its version and issue time: the server
    makes a new version exactly when this changes, and a device sends it with the
    version it holds so a restored server sees content it never issued."""
    body = {k: v for k, v in package.items() if k not in ("version", "issued_at")}
    return hashlib.sha256(protocol.canonical_json(body)).hexdigest()


def accept_package(
    envelope: Any, *, server_key: str, community_id: int, current: StoredPackage | None
) -> dict | None:
    """The opened package if the device should take it, None if it is the one we hold;
    ProtocolError when it is not signed by `server_key`, is for another community or is
    not newer than `current` (a replayed old package must not undo a newer one)."""
    package = protocol.open_package(envelope, server_key)
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


def parse_time(value: str) -> datetime:
    """A package time ("2027-05-01T06:00:00Z") as an aware datetime."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ProtocolError("package.time", f"{value!r} has no time zone")
    return moment


def window_state(cycle: dict, now: datetime) -> str:
    """Where `now` (server time) lies in the cycle's voting window: "not_yet", "open"
    or "ended"."""
    if now < parse_time(cycle["voting_starts_at"]):
        return "not_yet"
    return "open" if now < parse_time(cycle["voting_ends_at"]) else "ended"


def open_cycles(package: dict, now: datetime) -> list[dict]:
    """The cycles in which a resident may vote at `now` (server time)."""
    return [
        cycle
        for cycle in package.get("cycles", [])
        if cycle.get("kind") not in NOT_RESIDENTS_KINDS and window_state(cycle, now) == "open"
    ]


def open_school_contests(package: dict, now: datetime) -> list[dict]:
    """The school contests in which students may vote with their codes at `now`."""
    return [
        cycle
        for cycle in package.get("cycles", [])
        if cycle.get("kind") == SCHOOL_CONTEST and window_state(cycle, now) == "open"
    ]


def cycle_by_id(package: dict, cycle_id: int) -> dict | None:
    return next((c for c in package.get("cycles", []) if c.get("id") == cycle_id), None)


def code_verifier_key(package: dict) -> bytes | None:
    """The key that turns a compact school code into its verifier; None in a package
    from a server that does not send it (then no code can be checked here)."""
    raw = package.get("code_verifier_key")
    try:
        return bytes.fromhex(raw) if isinstance(raw, str) and raw else None
    except ValueError:
        return None


def contest_of_code(package: dict, verifier: str) -> dict | None:
    """The school contest cycle whose valid codes include `verifier`, whatever its window.
    A verifier is an HMAC of a random code, so it is in at most one contest; a few
    hundred per school make a linear look-up cheap at the pace of a camera."""
    for cycle in package.get("cycles", []):
        if cycle.get("kind") == SCHOOL_CONTEST and verifier in cycle.get("code_verifiers", ()):
            return cycle
    return None


def min_age_of(cycle: dict) -> int | None:
    """The cycle's minimum age to vote, or None (also for a package made before cycles
    had one, or a value no server would send)."""
    value = cycle.get("min_age")
    return value if type(value) is int and 1 <= value <= 120 else None


def funding_fields(funding: dict) -> dict:
    """A category's funding rule from its package (server.services.cycle_rules.funding_body);
    a package from before these rules carries none, and the defaults are that rule."""
    return {
        "method": funding.get("method", "greedy"),
        "tie_break": funding.get("tie_break", "cheaper"),
        "lot_seed": funding.get("lot_seed", ""),
        "min_votes_share": funding.get("min_votes_share", 0),
        "min_project_cost": funding.get("min_project_cost"),
        "leftover_to": funding.get("leftover_to"),
        "exclusive_groups": tuple(tuple(group) for group in funding.get("exclusive_groups", ())),
        "completion_step": funding.get("completion_step", 100),
    }


def ballot_for_cycle(cycle: dict) -> Ballot:
    """The ballot rule of one packaged cycle, as voting.Ballot checks it everywhere."""
    categories = [
        CategoryRule(
            category_id=c["id"],
            name=c["name"],
            budget=c["budget"],
            min_choices=c["min_choices"],
            max_choices=c["max_choices"],
            budget_limited=c["budget_limited"],
            max_project_cost=c["max_project_cost"],
            min_votes_to_fund=c["min_votes_to_fund"],
            **funding_fields(c.get("funding") or {}),
        )
        for c in sorted(cycle["categories"], key=lambda c: (c["position"], c["id"]))
    ]
    projects = [
        BallotProject(p["id"], p["category_id"], p["cost"], p["title"], p.get("number"))
        for p in cycle["projects"]
    ]
    return Ballot(categories, projects, min_total=cycle["min_total"], max_total=cycle["max_total"])


def random_selection(ballot: Ballot, rng: random.Random, attempts: int = 200) -> list[int]:
    """A random choice of projects that the ballot rule accepts (ValueError if none is
    found, which means the rule cannot be met with these projects)."""
    for _ in range(attempts):
        chosen = _try_selection(ballot, rng)
        if not ballot.check(chosen):
            return sorted(chosen)
    raise ValueError("no selection satisfies this cycle's ballot rule")


def _try_selection(ballot: Ballot, rng: random.Random) -> list[int]:
    rules = {c.category_id: c for c in ballot.categories}
    counts: Counter[int] = Counter()
    spent: Counter[int] = Counter()
    chosen: list[int] = []

    def add_if_allowed(project: BallotProject) -> None:
        rule = rules.get(project.category_id)
        if project.project_id in chosen or rule is None or counts[rule.category_id] >= rule.max_choices:
            return
        if rule.budget_limited and spent[rule.category_id] + project.cost > rule.budget:
            return
        chosen.append(project.project_id)
        counts[rule.category_id] += 1
        spent[rule.category_id] += project.cost

    # Each category's minimum first, then more at random up to a random total.
    for rule in ballot.categories:
        pool = [p for p in ballot.projects if p.category_id == rule.category_id]
        for project in rng.sample(pool, len(pool)):
            if counts[rule.category_id] >= rule.min_choices:
                break
            add_if_allowed(project)
    reachable = sum(c.max_choices for c in ballot.categories)
    most = reachable if ballot.max_total is None else min(ballot.max_total, reachable)
    least = max(1, ballot.min_total, len(chosen))
    target = rng.randint(least, max(least, most))
    for project in rng.sample(list(ballot.projects), len(ballot.projects)):
        if len(chosen) >= target:
            break
        add_if_allowed(project)
    return chosen


def random_rnokpp(rng: random.Random) -> str:
    """A taxpayer number with a valid check digit, as a resident's card would carry."""
    first_nine = f"{rng.randrange(10**9):09d}"
    return first_nine + str(rnokpp_check_digit(first_nine))


def simulated_vote(
    package: dict,
    cycle: dict,
    *,
    device: str,
    kind: str,
    rng: random.Random,
    cast_at: datetime,
    rnokpp: str | None = None,
) -> VoteRecord:
    """One resident's valid vote (a random one unless `rnokpp` names them), made the way
    a terminal or support point makes it."""
    secret = bytes.fromhex(package["voter_key_secret"])
    voter = VoterKey.derive(secret, IdentityKind.RNOKPP, rnokpp or random_rnokpp(rng))
    return VoteRecord.create(
        vote_id=str(uuid.uuid4()),  # not from `rng`: a rerun with the same seed must not reuse ids
        cycle_id=cycle["id"],
        selections=random_selection(ballot_for_cycle(cycle), rng),
        channel=CHANNEL_OF_DEVICE[kind],
        cast_at=cast_at,
        voter_key=voter.hex,
        device_id=device,
    )


# A refused package's reason for a device's command line, both languages (kiosk and
# support point alike).
PACKAGE_REFUSALS = {
    "package.shape": "це не підписаний пакет / this is not a signed package",
    "package.signature": "підпис недійсний: пакет не від вашого сервера або змінений"
    " / bad signature: the package is not from your server or was altered",
    "package.format": "невідомий формат пакета / unknown package format",
    "package.version": "у пакеті немає правильної версії / the package has no valid version",
    "package.community": "пакет для іншої громади / the package is for another community",
    "package.server_key": "пакет називає інший ключ сервера / the package names another server key",
    "package.older": "на терміналі вже новіший пакет / the terminal already holds a newer package",
}
