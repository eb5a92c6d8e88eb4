"""A cycle's ballot and voting window, loaded once and checked against many votes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Category, Cycle, CycleKind, Project, ProjectStatus, SchoolContest, VotingCode
from voting import Ballot, BallotProject, CategoryRule, Channel, VoteRecord

PAPER_SCAN_GRACE = timedelta(days=3)
# "sheet_" + a support point's sheet serial (paper.serials: S0001-000042).
PAPER_SHEET_CODE = re.compile(r"sheet_[A-Z0-9]{1,16}-[0-9]{6}")


@dataclass(frozen=True)
class CycleRules:
    cycle_id: int
    community_id: int
    ballot: Ballot
    voting_starts_at: datetime
    voting_ends_at: datetime
    # A school contest's id (None for other cycles) and, once resolved for the codes at
    # hand (resolve_codes), which of them are issued for it and not revoked.
    code_contest_id: int | None = None
    valid_codes: frozenset[str] | None = None

    def invalid_reason(self, record: VoteRecord) -> str | None:
        """Why a well-formed vote cannot count, as a message code, or None."""
        if record.cycle_id != self.cycle_id:
            return "vote.cycle_mismatch"
        # Paper: a sheet's time is when the support point read it, and sheets dropped in
        # the box on the last evening are scanned after the close. Sheets are printed only
        # while voting is open, so a short grace after the end admits them and nothing else.
        grace = PAPER_SCAN_GRACE if record.channel == Channel.PAPER else timedelta(0)
        if not (self.voting_starts_at <= record.cast_at < self.voting_ends_at + grace):
            return "vote.outside_window"
        if self.code_contest_id is None:
            # A resident's cycle: a code is either a paper sheet's serial (a blank sheet
            # from a support point counts once per serial) or made up.
            if record.code_id is not None and not (
                record.channel == Channel.PAPER and PAPER_SHEET_CODE.fullmatch(record.code_id)
            ):
                return "vote.code_not_allowed"
        else:
            # A terminal checks codes against the list in its package, which may be older
            # than a revocation: the server's list decides.
            if record.code_id is None:
                return "vote.code_required"
            if self.valid_codes is None:
                raise RuntimeError("a school contest's codes must be resolved before votes are judged")
            if record.code_id not in self.valid_codes:
                return "vote.code_not_valid"
        problems = self.ballot.check(record.selections)
        return problems[0].code if problems else None


MAX_GROUPS_TEXT = 2000


def parse_exclusive_groups(text: str) -> tuple[tuple[int, ...], ...]:
    """Groups of project numbers as a moderator writes them, "3,7; 12,14", or ValueError."""
    if len(text) > MAX_GROUPS_TEXT:
        raise ValueError("too long")
    groups = []
    for part in text.split(";"):
        if not part.strip():
            continue
        numbers = [item.strip() for item in part.split(",")]
        if not all(n.isascii() and n.isdigit() and len(n) <= 9 for n in numbers):
            raise ValueError(f"not a list of project numbers: {part.strip()[:40]!r}")
        groups.append(tuple(int(n) for n in numbers))
    return tuple(groups)


def category_rule(category: Category, id_of_number: dict[int, int] | None = None) -> CategoryRule:
    """The category's rule. `id_of_number` maps the cycle's admitted projects' numbers to
    their ids, for the exclusive groups (a number no longer admitted drops out)."""
    groups: tuple[tuple[int, ...], ...] = ()
    if category.exclusive_groups and id_of_number is not None:
        mapped = (
            tuple(id_of_number[n] for n in group if n in id_of_number)
            for group in parse_exclusive_groups(category.exclusive_groups)
        )
        groups = tuple(g for g in mapped if len(g) >= 2)
    return CategoryRule(
        category_id=category.id,
        name=category.name,
        budget=category.budget,
        min_choices=category.min_choices,
        max_choices=category.max_choices,
        budget_limited=category.budget_limited,
        max_project_cost=category.max_project_cost,
        min_votes_to_fund=category.min_votes_to_fund,
        method=category.funding_method,
        tie_break=category.tie_break,
        lot_seed=category.lot_seed,
        min_votes_share=category.min_votes_share,
        min_project_cost=category.min_project_cost,
        leftover_to=category.leftover_to_id,
        exclusive_groups=groups,
        completion_step=category.completion_step,
        district=category.district or "",
    )


def funding_body(category: Category, id_of_number: dict[int, int]) -> dict:
    """The category's funding rule as it travels in a cycle package (plain JSON data);
    sync.package_parser reads it back (sync.cycle_package.Funding). Exclusive groups go
    as project ids."""
    rule = category_rule(category, id_of_number)
    return {
        "method": rule.method,
        "tie_break": rule.tie_break,
        "lot_seed": rule.lot_seed,
        "min_votes_share": rule.min_votes_share,
        "min_project_cost": rule.min_project_cost,
        "leftover_to": rule.leftover_to,
        "exclusive_groups": [list(group) for group in rule.exclusive_groups],
        "completion_step": rule.completion_step,
    }


def ballot_for(session: Session, cycle: Cycle) -> Ballot:
    """The ballot of admitted projects, categories in their display order."""
    categories = session.scalars(
        select(Category).where(Category.cycle_id == cycle.id).order_by(Category.position, Category.id)
    ).all()
    projects = session.scalars(
        select(Project)
        .where(Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value)
        .order_by(Project.number)
    ).all()
    id_of_number = {p.number: p.id for p in projects}
    return Ballot(
        categories=[category_rule(c, id_of_number) for c in categories],
        projects=[BallotProject(p.id, p.category_id, p.cost, p.title, p.number) for p in projects],
        min_total=cycle.min_total,
        max_total=cycle.max_total,
    )


_CODES_PER_QUERY = 5000


def resolve_codes(session: Session, rules: CycleRules, code_ids: Iterable[str] | None) -> CycleRules:
    """`rules` knowing which of `code_ids` (None: every code) are valid in its contest.
    A batch asks only about its own codes: a contest may hold a million."""
    if rules.code_contest_id is None:
        return rules
    base = select(VotingCode.verifier).where(
        VotingCode.contest_id == rules.code_contest_id, VotingCode.revoked_at.is_(None)
    )
    if code_ids is None:
        found = set(session.scalars(base))
    else:
        wanted = sorted(set(code_ids))
        found = set()
        for start in range(0, len(wanted), _CODES_PER_QUERY):
            chunk = wanted[start : start + _CODES_PER_QUERY]
            found.update(session.scalars(base.where(VotingCode.verifier.in_(chunk))))
    return replace(rules, valid_codes=frozenset(found))


def load_cycle_rules(session: Session, cycle: Cycle) -> CycleRules:
    return CycleRules(
        cycle_id=cycle.id,
        community_id=cycle.community_id,
        ballot=ballot_for(session, cycle),
        voting_starts_at=cycle.voting_starts_at,
        voting_ends_at=cycle.voting_ends_at,
        code_contest_id=(
            session.scalar(select(SchoolContest.id).where(SchoolContest.cycle_id == cycle.id))
            if cycle.kind == CycleKind.SCHOOL_CONTEST.value
            else None
        ),
    )
