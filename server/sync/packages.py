"""Packages: what a community's devices need to run its votes offline, signed by the server.

A package holds the community's cycles whose voting has not ended, with their
categories and admitted projects, the server's public key and the community's voter-key
secret (so a terminal can turn a card or document into a voter key with no network).

School contests (cycles of kind `school_contest`) also carry their school and the
verifiers of their codes that are not revoked, and the package the key that turns a
scanned code into its verifier: a school's terminal checks a student's code with no
network. Only verifiers travel, never a plain code, and only the verifier key, never the
sealing key (server/school/keys.py): a lost terminal gives no usable code, and a code's
93 random bits cannot be found from its verifier by guessing.

Project details (what residents decide with): a project's address, budget breakdown
("budget": [{"item", "amount"}], kopiykas) and photos ("photos": [{"sha256", "width",
"height", "size", "alt": {"uk", "en"}}]), each key present only when the project has
it, so packages of projects without details are as before. The signed package names
each photo by its SHA-256; the photos themselves (JPEGs the server made, see
services.photo_images) travel beside the envelope in the same signed answer
(`package_photos`), and a device keeps a photo only if its bytes have the signed digest.
All photos of one package are at most PACKAGE_PHOTO_BYTES together: with base64 (4/3)
and the package itself that keeps the answer well under the device's 16 MB limit
(sync.http_transport.MAX_RESPONSE_BYTES). Over the cap, every project's first photo is taken
before any second one (then projects in ballot order), so each project keeps a picture
for as long as the budget allows; the others stay on the public pages only.

Polls (docs/polls.md): the community's published polls whose window has not ended,
those not yet open included (a terminal offline for a day still has them), each with
its window, who may answer ("who": min_age, voter_list, district, null for none) and its
questions and options in their order, with their ids: what a terminal needs to judge an
answer offline (voting.polls.check_answers). Drafts never travel. The key "polls" is
there only when there is one, so a community without polls gets the package as before.

Versions: the body without its version and issue time is hashed; a new version is
made only when that hash differs from the newest version's. Every change to a cycle,
category or project (and a cycle whose voting ends) thus gives a higher version, and
nothing else does, however often devices ask. Issuing or revoking a school's codes
changes its list of verifiers, so terminals get the new list with the next version.
A poll published, or one whose window ends, changes the body too: a new version.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import (
    Category,
    Community,
    Cycle,
    CycleKind,
    Project,
    ProjectPhoto,
    School,
    SchoolContest,
    SyncPackage,
    VotingCode,
)
from server.school.keys import CodeKeys
from server.services.cycle_catalogue import cycles_catalogue
from server.services.cycle_rules import funding_body
from sync import package_envelope, signing, wire
from sync.packages import package_digest
from voting import community_voter_secret, format_time

from .package_polls import packaged_polls

PACKAGE_PHOTO_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class Package:
    version: int
    issued_at: datetime
    body: dict  # everything but "version" and "issued_at"

    def as_dict(self) -> dict:
        return {**self.body, "version": self.version, "issued_at": format_time(self.issued_at)}

    def envelope(self, key: Ed25519PrivateKey) -> dict:
        return package_envelope.sign_package(key, self.as_dict())


@dataclass(frozen=True)
class _ContestCodes:
    school: School
    verifiers: list[str]  # sorted, so the body (and its hash) does not depend on row order


def _project(p: Project, photos: dict[int, list[dict]]) -> dict:
    body = {
        "id": p.id,
        "number": p.number,
        "title": p.title,
        "description": p.description,
        "cost": p.cost,
        "district": p.district,
        "category_id": p.category_id,
    }
    if p.address:
        body["address"] = p.address
    if p.budget_lines:
        body["budget"] = [{"item": line["item"], "amount": line["amount"]} for line in p.budget_lines]
    if photos.get(p.id):
        body["photos"] = photos[p.id]
    return body


def _photos(session: Session, projects: list[Project]) -> dict[int, list[dict]]:
    """project id -> its photos as the package names them, within PACKAGE_PHOTO_BYTES
    (one query, without the photos' bytes)."""
    if not projects:
        return {}
    order = {p.id: i for i, p in enumerate(projects)}
    rows = session.execute(
        select(
            ProjectPhoto.project_id,
            ProjectPhoto.position,
            ProjectPhoto.id,
            ProjectPhoto.sha256,
            ProjectPhoto.size,
            ProjectPhoto.width,
            ProjectPhoto.height,
            ProjectPhoto.alt_uk,
            ProjectPhoto.alt_en,
        ).where(ProjectPhoto.project_id.in_(list(order)))
    ).all()
    # Each project's photos in their order; then, over the whole package, first photos
    # first: rank within the project, then the project's place on the ballot.
    ranked = sorted(rows, key=lambda r: (r.project_id, r.position, r.id))
    rank: dict[int, int] = {}
    queue = []
    for row in ranked:
        rank[row.project_id] = rank.get(row.project_id, -1) + 1
        queue.append((rank[row.project_id], order[row.project_id], row))
    queue.sort(key=lambda q: (q[0], q[1]))
    spent, taken = 0, set()
    for _rank, _place, row in queue:
        if spent + row.size <= PACKAGE_PHOTO_BYTES:
            spent += row.size
            taken.add(row.id)
    photos: dict[int, list[dict]] = {}
    for row in ranked:
        if row.id in taken:
            photos.setdefault(row.project_id, []).append(
                {
                    "sha256": row.sha256,
                    "width": row.width,
                    "height": row.height,
                    "size": row.size,
                    "alt": {"uk": row.alt_uk, "en": row.alt_en},
                }
            )
    return photos


def package_photos(session: Session, body: dict) -> dict[str, str]:
    """The photos a package names, sha256 -> base64 JPEG, to send beside its envelope
    (loaded only when a device takes a new version)."""
    wanted = sorted(
        {
            photo["sha256"]
            for cycle in body.get("cycles", [])
            for project in cycle.get("projects", [])
            for photo in project.get("photos", [])
        }
    )
    if not wanted:
        return {}
    found: dict[str, str] = {}
    for digest, data in session.execute(
        select(ProjectPhoto.sha256, ProjectPhoto.data).where(
            ProjectPhoto.community_id == body["community"]["id"], ProjectPhoto.sha256.in_(wanted)
        )
    ):
        found.setdefault(digest, base64.b64encode(data).decode("ascii"))
    return found


def _cycle(
    cycle: Cycle,
    categories: list[Category],
    projects: list[Project],
    contest: _ContestCodes | None,
    photos: dict[int, list[dict]],
) -> dict:
    body = {
        "id": cycle.id,
        "title": cycle.title,
        "slug": cycle.slug,
        "kind": cycle.kind,
        "voting_starts_at": format_time(cycle.voting_starts_at),
        "voting_ends_at": format_time(cycle.voting_ends_at),
        "timezone": cycle.timezone,
        "min_total": cycle.min_total,
        "max_total": cycle.max_total,
        "min_age": cycle.min_age,
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "budget": c.budget,
                "min_choices": c.min_choices,
                "max_choices": c.max_choices,
                "budget_limited": c.budget_limited,
                "max_project_cost": c.max_project_cost,
                "min_votes_to_fund": c.min_votes_to_fund,
                "position": c.position,
                "funding": funding_body(c, {p.number: p.id for p in projects}),
                # Only residents whose list entry names this district vote here (None: all).
                "district": c.district,
            }
            for c in categories
        ],
        "projects": [_project(p, photos) for p in projects],
    }
    if cycle.kind == CycleKind.SCHOOL_CONTEST.value:
        # A contest cycle without its contest row (never made by the services) gets an
        # empty list: terminals then refuse every code for it instead of guessing.
        body["school"] = {"id": contest.school.id, "name": contest.school.name} if contest else None
        body["code_verifiers"] = contest.verifiers if contest else []
    return body


def _contest_codes(session: Session, cycles: list[Cycle]) -> dict[int, _ContestCodes]:
    """cycle id -> its school and unrevoked code verifiers, for the contest cycles (two
    queries; a few hundred codes per school)."""
    ids = [c.id for c in cycles if c.kind == CycleKind.SCHOOL_CONTEST.value]
    if not ids:
        return {}
    contests = {
        cycle_id: _ContestCodes(school, [])
        for cycle_id, school in session.execute(
            select(SchoolContest.cycle_id, School)
            .join(School, School.id == SchoolContest.school_id)
            .where(SchoolContest.cycle_id.in_(ids))
        )
    }
    for cycle_id, verifier in session.execute(
        select(SchoolContest.cycle_id, VotingCode.verifier)
        .join(SchoolContest, SchoolContest.id == VotingCode.contest_id)
        .where(SchoolContest.cycle_id.in_(ids), VotingCode.revoked_at.is_(None))
    ):
        contests[cycle_id].verifiers.append(verifier)
    for contest in contests.values():
        contest.verifiers.sort()  # in Python: the database's collation must not move the hash
    return contests


def package_body(
    session: Session, community: Community, *, server_key: str, master_secret: bytes, now: datetime
) -> dict:
    """The package's content for `community` at `now` (five queries, two more when
    school contests are among the cycles and two more when polls are open or coming)."""
    cycles = session.scalars(
        select(Cycle)
        .where(Cycle.community_id == community.id, Cycle.voting_ends_at > now)
        .order_by(Cycle.voting_starts_at, Cycle.id)
    ).all()
    catalogue = cycles_catalogue(session, cycles)
    contests = _contest_codes(session, list(cycles))
    photos = _photos(session, [p for entry in catalogue for p in entry.projects])
    polls = packaged_polls(session, community.id, now)
    body = {
        "format": wire.PROTOCOL_VERSION,
        "community": {"id": community.id, "slug": community.slug, "name": community.name},
        "server_key": server_key,
        "voter_key_secret": community_voter_secret(master_secret, community.key_id).hex(),
        "code_verifier_key": CodeKeys.from_master(master_secret).verifier_key.hex(),
        "cycles": [
            _cycle(e.cycle, e.categories, e.projects, contests.get(e.cycle.id), photos) for e in catalogue
        ],
    }
    if polls:
        body["polls"] = polls
    return body


def cycle_body(session: Session, cycle: Cycle) -> dict:
    """One cycle as a package carries it (but for photos), whether or not its voting has
    ended: what a paper sheet's layout was built from, for reading sheets on the server
    after the close."""
    (entry,) = cycles_catalogue(session, [cycle])
    contest = _contest_codes(session, [cycle]).get(cycle.id)
    # Without photos: what reads sheets needs the ballot, not pictures (and no more queries).
    return _cycle(cycle, entry.categories, entry.projects, contest, {})


def body_hash(body: dict) -> str:
    return package_digest(body)


def _newest(session: Session, community_id: int) -> SyncPackage | None:
    return session.scalar(
        select(SyncPackage)
        .where(SyncPackage.community_id == community_id)
        .order_by(SyncPackage.version.desc())
        .limit(1)
    )


def current_package(
    session: Session,
    community: Community,
    *,
    signing_key: Ed25519PrivateKey,
    master_secret: bytes,
    now: datetime,
    above: int = 0,
) -> Package:
    """The community's newest package, making a new version first if the content changed,
    or if its version is not above `above` (a device holds a version this server never
    issued, or another content under the same number: the server was restored from a
    backup, and the device would refuse anything not newer than what it holds).
    Flushes a new version into the caller's transaction; the caller commits."""
    body = package_body(
        session,
        community,
        server_key=signing.public_key_b64(signing_key),
        master_secret=master_secret,
        now=now,
    )
    digest = body_hash(body)
    newest = _newest(session, community.id)
    if newest is not None and newest.body_hash == digest and newest.version > above:
        return Package(newest.version, newest.issued_at, body)
    if session.get_bind().dialect.name == "postgresql":
        # Devices of one community asking at the same moment must agree on one new
        # version, not race for the next number: one makes it, the others then read it.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('sync_package'), :c)"), {"c": community.id}
        )
        newest = _newest(session, community.id)
        if newest is not None and newest.body_hash == digest and newest.version > above:
            return Package(newest.version, newest.issued_at, body)
    version = max(newest.version if newest is not None else 0, above) + 1
    try:
        with session.begin_nested():
            session.add(
                SyncPackage(community_id=community.id, version=version, body_hash=digest, issued_at=now)
            )
    except IntegrityError:
        # SQLite has no advisory locks: another writer took this number; use theirs.
        newest = _newest(session, community.id)
        assert newest is not None
        return Package(newest.version, newest.issued_at, body)
    return Package(version, now, body)
