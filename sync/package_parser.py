"""Reading a verified cycle package into a sync.cycle_package.CyclePackage, once, where it
arrives (sync.store_packages, after the signature check) and where it is loaded again.

A field a device needs that is missing or of another type refuses the whole package
with PackageError, which says where and what in both languages: no page meets a
KeyError later. Fields the contract lets older servers leave out read as their
defaults; fields this device does not know are ignored. Project details (address,
budget lines, photos) are the exception that reads leniently (sync.project_details_reader).

Fields are read by sync.package_fields; polls, strictly, by sync.package_polls.
"""

from __future__ import annotations

from sync.cycle_package import (
    Community,
    CyclePackage,
    Funding,
    PackagedCategory,
    PackagedCycle,
    PackagedProject,
    School,
)
from sync.package_fields import (
    Fields,
    PackageError,
    list_items,
    read_hex,
    read_int,
    read_text,
    read_time,
)
from sync.package_polls import read_polls
from sync.project_details_reader import project_details
from sync.texts import N_
from sync.wire import PROTOCOL_VERSION


def parse_package(data: object) -> CyclePackage:
    """The package in `data` (its JSON, already verified), or PackageError."""
    top = Fields(data, "")
    if top.number("format") != PROTOCOL_VERSION:
        raise PackageError("format", N_("невідомий формат пакета"))
    version = top.number("version")
    if version < 1:
        raise PackageError("version", N_("має бути додатним числом"))
    issued = top.data.get("issued_at")
    community = top.child("community")
    verifier_key = top.data.get("code_verifier_key")
    return CyclePackage(
        format=PROTOCOL_VERSION,
        version=version,
        issued_at=None if issued is None else read_time(issued, "issued_at"),
        community=Community(
            id=community.number("id"),
            slug=community.optional_text("slug") or "",
            name=community.optional_text("name") or "",
        ),
        server_key=top.text("server_key"),
        voter_key_secret=top.hex("voter_key_secret"),
        # Absent (or empty) from a server that does not send it: no code can be checked here.
        code_verifier_key=read_hex(verifier_key, "code_verifier_key") if verifier_key else None,
        cycles=tuple(_cycle(Fields(item, where)) for item, where in top.items("cycles", required=False)),
        polls=read_polls(top),
    )


def parse_cycle(data: object, where: str = "cycle") -> PackagedCycle:
    """One cycle as a package carries it (server.sync.packages.cycle_body makes one for
    reading sheets on the server), or PackageError naming the field under `where`."""
    return _cycle(Fields(data, where))


def _cycle(cycle: Fields) -> PackagedCycle:
    min_age = cycle.optional_number("min_age")
    school = cycle.optional_child("school")
    return PackagedCycle(
        id=cycle.number("id"),
        title=cycle.text("title"),
        slug=cycle.optional_text("slug") or "",
        kind=cycle.optional_text("kind"),
        voting_starts_at=cycle.time("voting_starts_at"),
        voting_ends_at=cycle.time("voting_ends_at"),
        timezone=cycle.optional_text("timezone"),
        min_total=cycle.number("min_total"),
        max_total=cycle.number_or_none("max_total"),
        # A value no server would send reads as no limit, as it always has.
        min_age=min_age if min_age is not None and 1 <= min_age <= 120 else None,
        categories=tuple(_category(Fields(item, where)) for item, where in cycle.items("categories")),
        projects=tuple(_project(Fields(item, where)) for item, where in cycle.items("projects")),
        school=None if school is None else School(school.number("id"), school.optional_text("name") or ""),
        code_verifiers=frozenset(
            read_text(item, where) for item, where in cycle.items("code_verifiers", required=False)
        ),
    )


def _category(category: Fields) -> PackagedCategory:
    return PackagedCategory(
        id=category.number("id"),
        name=category.text("name"),
        budget=category.number("budget"),
        min_choices=category.number("min_choices"),
        max_choices=category.number("max_choices"),
        budget_limited=category.flag("budget_limited"),
        max_project_cost=category.number_or_none("max_project_cost"),
        min_votes_to_fund=category.number("min_votes_to_fund"),
        position=category.number("position"),
        funding=_funding(category.optional_child("funding")),
        district=category.optional_text("district"),
    )


def _funding(funding: Fields | None) -> Funding:
    """A package from before funding rules carries none: the defaults are that rule."""
    if funding is None:
        return Funding()
    default = Funding()
    groups = tuple(
        tuple(read_int(number, inner) for number, inner in list_items(group, where))
        for group, where in funding.items("exclusive_groups", required=False)
    )
    method, tie_break = funding.optional_text("method"), funding.optional_text("tie_break")
    lot_seed, share = funding.optional_text("lot_seed"), funding.optional_number("min_votes_share")
    step = funding.optional_number("completion_step")
    return Funding(
        method=default.method if method is None else method,
        tie_break=default.tie_break if tie_break is None else tie_break,
        lot_seed=default.lot_seed if lot_seed is None else lot_seed,
        min_votes_share=default.min_votes_share if share is None else share,
        min_project_cost=funding.optional_number("min_project_cost"),
        leftover_to=funding.optional_number("leftover_to"),
        exclusive_groups=groups,
        completion_step=default.completion_step if step is None else step,
    )


def _project(project: Fields) -> PackagedProject:
    return PackagedProject(
        id=project.number("id"),
        number=project.optional_number("number"),
        title=project.text("title"),
        description=project.optional_text("description") or "",
        cost=project.number("cost"),
        district=project.optional_text("district"),
        category_id=project.number("category_id"),
        details=project_details(project.data),
    )
