"""Cycles and their categories: list, create, change, and a cycle's overview.

A school budget (kind `school`) is a programme: its page shows its schools' contests
instead of categories. Each contest votes in a cycle of its own (kind `school_contest`),
made and changed only through the contest's pages, so those cycles are not listed here
and their addresses lead to the contest.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    current_user,
    roles_required,
    scoped_or_404,
    visible_community_ids,
)
from server.i18n import KYIV, _
from server.models import Category, Community, Cycle, CycleKind, Project, utcnow
from server.results.page import percent
from server.school.contests import Contest, contest_for_cycle, contests_of_programme
from server.services.cycles import (
    CategoryFields,
    CycleFields,
    create_cycle,
    save_category,
    update_cycle,
    voting_started,
)
from voting import FundingMethod, TieBreak

from .forms import FormReader, community_for_new_object, managed_communities, submit
from .school_summary import state_label, summarise
from .views import bp

_SHARE = re.compile(r"([0-9]{1,3})(?:[.,]([0-9]{1,2}))?")

# Kinds a moderator gives a cycle in its form; a contest's cycle is made with the contest.
FORM_KINDS = (CycleKind.PUBLIC.value, CycleKind.SCHOOL.value)

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def local_input(moment: datetime | None) -> str:
    """A stored UTC moment as the Kyiv date and time a moderator types."""
    return moment.astimezone(KYIV).strftime(LOCAL_INPUT_FORMAT) if moment else ""


def hryvnias_input(kopiykas: int | None) -> str:
    """Kopiykas as the hryvnia amount a moderator types: "150000" or "150000.50"."""
    if kopiykas is None:
        return ""
    whole, part = divmod(kopiykas, 100)
    return f"{whole}.{part:02d}" if part else str(whole)


# --- cycles ---------------------------------------------------------------------------


@bp.route("/cycles")
@roles_required(*COMMUNITY_MANAGERS)
def cycles() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    s = db.session()
    query = (
        select(Cycle, Community)
        .join(Community, Community.id == Cycle.community_id)
        .where(Cycle.kind != CycleKind.SCHOOL_CONTEST.value)
        .order_by(Cycle.voting_starts_at.desc(), Cycle.id.desc())
    )
    scope = visible_community_ids(user)
    if scope is not None:
        query = query.where(Cycle.community_id.in_(scope))
    return render_template("console/cycles.html", rows=s.execute(query).all(), show_community=scope is None)


@bp.route("/cycles/new", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def cycle_new() -> ResponseReturnValue:
    reader = FormReader()
    if request.method == "POST":
        community_id = community_for_new_object(reader)
        fields = _read_cycle(reader)
        if fields is not None and community_id is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: create_cycle(db.session(), community_id=community_id, fields=fields),
                done=_("Цикл створено. Додайте категорії та проєкти."),
                redirect_to=lambda cycle: url_for("console.cycle_detail", cycle_id=cycle.id),
            ):
                return saved
    values = reader.values() if request.method == "POST" else {"kind": "public", "min_total": "1"}
    return _cycle_form(None, values, reader)


@bp.route("/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def cycle_edit(cycle_id: int) -> ResponseReturnValue:
    cycle = scoped_or_404(Cycle, cycle_id)
    contest = _contest_of(cycle)
    if contest is not None:
        return redirect(url_for("console.contest_edit", contest_id=contest.id))
    reader = FormReader()
    if request.method == "POST":
        fields = _read_cycle(reader, cycle)
        if fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: update_cycle(db.session(), cycle, fields),
                done=_("Зміни збережено."),
                redirect_to=url_for("console.cycle_detail", cycle_id=cycle.id),
            ):
                return saved
        values = reader.values()
    else:
        values = {
            "title": cycle.title,
            "slug": cycle.slug,
            "kind": cycle.kind,
            "voting_starts_at": local_input(cycle.voting_starts_at),
            "voting_ends_at": local_input(cycle.voting_ends_at),
            "min_total": str(cycle.min_total),
            "max_total": "" if cycle.max_total is None else str(cycle.max_total),
            "min_age": "" if cycle.min_age is None else str(cycle.min_age),
        }
    return _cycle_form(cycle, values, reader)


@bp.route("/cycles/<int:cycle_id>")
@roles_required(*COMMUNITY_MANAGERS)
def cycle_detail(cycle_id: int) -> ResponseReturnValue:
    cycle = scoped_or_404(Cycle, cycle_id)
    contest = _contest_of(cycle)
    if contest is not None:
        return redirect(url_for("console.contest_page", contest_id=contest.id))
    s = db.session()
    if cycle.kind == CycleKind.SCHOOL.value:
        now = utcnow()
        return render_template(
            "console/cycle_detail.html",
            cycle=cycle,
            community=s.get(Community, cycle.community_id),
            contests=[summarise(s, c, now, with_winners=True) for c in contests_of_programme(s, cycle.id)],
            state_label=state_label,
            percent=percent,
            started=voting_started(cycle),
        )
    categories = s.scalars(
        select(Category).where(Category.cycle_id == cycle.id).order_by(Category.position, Category.id)
    ).all()
    projects = s.scalars(select(Project).where(Project.cycle_id == cycle.id).order_by(Project.number)).all()
    return render_template(
        "console/cycle_detail.html",
        cycle=cycle,
        community=s.get(Community, cycle.community_id),
        categories=categories,
        category_names={c.id: c.name for c in categories},
        projects=projects,
        started=voting_started(cycle),
    )


def _read_cycle(reader: FormReader, cycle: Cycle | None = None) -> CycleFields | None:
    starts = read_moment(reader, "voting_starts_at", cycle.voting_starts_at if cycle else None)
    ends = read_moment(reader, "voting_ends_at", cycle.voting_ends_at if cycle else None)
    min_total = reader.integer("min_total")
    max_total = reader.integer("max_total", required=False)
    min_age = reader.integer("min_age", required=False)
    kind = reader.choice("kind", FORM_KINDS)
    title, slug = reader.text("title", required=True), reader.text("slug", required=True)
    if starts is None or ends is None or min_total is None or kind is None:
        return None
    return CycleFields(
        title=title,
        slug=slug,
        kind=kind,
        voting_starts_at=starts,
        voting_ends_at=ends,
        min_total=min_total,
        max_total=max_total,
        min_age=min_age,
    )


def _contest_of(cycle: Cycle) -> Contest | None:
    """The school contest a cycle of kind `school_contest` votes for; None for other cycles."""
    if cycle.kind != CycleKind.SCHOOL_CONTEST.value:
        return None
    return contest_for_cycle(db.session(), cycle.id)


def read_moment(reader: FormReader, name: str, stored: datetime | None) -> datetime | None:
    # The form shows minutes; a stored moment with seconds (set some other way) comes
    # back unchanged rather than rounded, so it does not count as a change.
    if stored is not None and reader.form.get(name, "").strip() == local_input(stored):
        return stored
    return reader.local_datetime(name, KYIV.key)


def _cycle_form(cycle: Cycle | None, values: dict[str, str], reader: FormReader) -> tuple[str, int]:
    user = current_user()
    assert user is not None  # roles_required
    return render_template(
        "console/cycle_form.html",
        cycle=cycle,
        values=values,
        errors=reader.errors,
        community_options=[(c.id, c.name) for c in managed_communities()] if cycle is None else [],
        choose_community=cycle is None and visible_community_ids(user) is None,
        started=cycle is not None and voting_started(cycle),
    ), (422 if reader.errors else 200)


# --- categories -----------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/categories/new", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def category_new(cycle_id: int) -> ResponseReturnValue:
    cycle = scoped_or_404(Cycle, cycle_id)
    return _category_page(cycle, None)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def category_edit(category_id: int) -> ResponseReturnValue:
    category = scoped_or_404(Category, category_id)
    cycle = db.session().get(Cycle, category.cycle_id) or abort(404)
    return _category_page(cycle, category)


def _category_page(cycle: Cycle, category: Category | None) -> ResponseReturnValue:
    contest = _contest_of(cycle)
    if contest is not None:
        # A contest has exactly one category, its budget and rule: changed with the contest.
        return redirect(url_for("console.contest_edit", contest_id=contest.id))
    reader = FormReader()
    if request.method == "POST":
        fields = _read_category(reader)
        if fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: save_category(db.session(), cycle, fields, category),
                done=_("Категорію збережено."),
                redirect_to=url_for("console.cycle_detail", cycle_id=cycle.id),
            ):
                return saved
        values = reader.values()
    elif category is not None:
        values = {
            "name": category.name,
            "budget": hryvnias_input(category.budget),
            "min_choices": str(category.min_choices),
            "max_choices": str(category.max_choices),
            "budget_limited": "1" if category.budget_limited else "",
            "max_project_cost": hryvnias_input(category.max_project_cost),
            "min_votes_to_fund": str(category.min_votes_to_fund),
            "position": str(category.position),
            "funding_method": category.funding_method,
            "tie_break": category.tie_break,
            "min_votes_share": share_input(category.min_votes_share),
            "min_project_cost": hryvnias_input(category.min_project_cost),
            "leftover_to_id": "" if category.leftover_to_id is None else str(category.leftover_to_id),
            "exclusive_groups": category.exclusive_groups,
            "completion_step": hryvnias_input(category.completion_step),
            "district": category.district or "",
        }
    else:
        count = db.session().scalar(select(func.count()).where(Category.cycle_id == cycle.id)) or 0
        values = {
            "min_choices": "0",
            "max_choices": "1",
            "min_votes_to_fund": "1",
            "position": str(count + 1),
            "funding_method": FundingMethod.GREEDY.value,
            "tie_break": TieBreak.CHEAPER.value,
            "min_votes_share": "0",
            "completion_step": "1",
        }
    others = db.session().scalars(
        select(Category)
        .where(Category.cycle_id == cycle.id, Category.id != (category.id if category else -1))
        .order_by(Category.position, Category.id)
    )
    return render_template(
        "console/category_form.html",
        cycle=cycle,
        category=category,
        values=values,
        errors=reader.errors,
        started=voting_started(cycle),
        methods=method_options(),
        tie_breaks=tie_break_options(),
        leftover_targets=[(str(c.id), c.name) for c in others],
    ), (422 if reader.errors else 200)


def method_options() -> list[tuple[str, str]]:
    return [
        (FundingMethod.GREEDY.value, _("За рейтингом: фінансувати те, що вміщується, пропускаючи решту")),
        (FundingMethod.GREEDY_NO_SKIP.value, _("За рейтингом: зупинитися на першому, що не вміщується")),
        (FundingMethod.EQUAL_SHARES.value, _("Метод рівних часток з доповненням")),
        (
            FundingMethod.EQUAL_SHARES_COMPARISON.value,
            _("Метод рівних часток, порівняний із рейтингом (обирають виборці)"),
        ),
    ]


def tie_break_options() -> list[tuple[str, str]]:
    return [
        (TieBreak.CHEAPER.value, _("Дешевший проєкт")),
        (TieBreak.NUMBER.value, _("Раніше зареєстрований (менший номер)")),
        (TieBreak.LOT.value, _("Жереб з оприлюдненим зерном")),
    ]


def share_input(hundredths: int) -> str:
    """1 250 hundredths of a per cent as "12,5" (what the moderator typed)."""
    whole, rest = divmod(hundredths, 100)
    return str(whole) if not rest else f"{whole},{rest:02d}".rstrip("0")


def read_share(reader: FormReader, name: str) -> int | None:
    """Hundredths of a per cent from "12,5" or "12.5"; the range is the domain rule's."""
    raw = reader.form.get(name, "").strip() or "0"
    match = _SHARE.fullmatch(raw)
    if match is None:
        reader.add_error(name, _("Введіть частку у відсотках, наприклад 5 або 2,5."))
        return None
    whole, fraction = match.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def _read_category(reader: FormReader) -> CategoryFields | None:
    budget = reader.money("budget")
    min_choices = reader.integer("min_choices")
    max_choices = reader.integer("max_choices")
    max_project_cost = reader.money("max_project_cost", required=False)
    min_votes = reader.integer("min_votes_to_fund")
    position = reader.integer("position")
    name = reader.text("name", required=True)
    share = read_share(reader, "min_votes_share")
    min_project_cost = reader.money("min_project_cost", required=False)
    step = reader.money("completion_step", required=False)
    leftover_to = reader.integer("leftover_to_id", required=False)
    if budget is None or min_choices is None or max_choices is None:
        return None
    if min_votes is None or position is None or share is None:
        return None
    return CategoryFields(
        name=name,
        budget=budget,
        min_choices=min_choices,
        max_choices=max_choices,
        budget_limited=reader.flag("budget_limited"),
        max_project_cost=max_project_cost,
        min_votes_to_fund=min_votes,
        position=position,
        funding_method=reader.text("funding_method") or FundingMethod.GREEDY.value,
        tie_break=reader.text("tie_break") or TieBreak.CHEAPER.value,
        min_votes_share=share,
        min_project_cost=min_project_cost,
        leftover_to_id=leftover_to,
        exclusive_groups=reader.text("exclusive_groups"),
        completion_step=100 if step is None else step,
        district=reader.text("district")[:1000],
    )
