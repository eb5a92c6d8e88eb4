"""The console blueprint and its overview page. Each area of the console lives in its
own module and adds its routes to this blueprint (see the imports at the bottom)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.auth.access import COMMUNITY_MANAGERS, current_user, login_required, visible_community_ids
from server.i18n import get_locale
from server.models import Community, Cycle, CycleKind, Role, School, User, utcnow
from server.models.community import ROLE_LABELS
from server.school.contests import contests_of_school
from server.services.results import counted_participants

from .school_summary import ContestSummary, state_label, summarise

bp = Blueprint("console", __name__, url_prefix="/console")

# The console's menu: (endpoint, Ukrainian label, roles that see it). Areas add
# themselves with `nav_item` so the menu never links to a page a role cannot open.
NAV: list[tuple[str, str, tuple[Role, ...]]] = []


def nav_item(endpoint: str, label: str, roles: tuple[Role, ...]) -> None:
    NAV.append((endpoint, label, roles))


def menu_item_after(
    neighbours: tuple[str, ...], endpoint: str, label: str, roles: tuple[Role, ...]
) -> Callable[[object], None]:
    """A blueprint `record` callback that puts a page in the menu right after the first
    of `neighbours` the menu holds (last if none). The menu's other items are added when
    the console module finishes importing, after the page's module, so the place is found
    when the blueprint is registered; once only, however many apps are made (tests make
    many)."""

    def place(_state: object) -> None:
        endpoints = [e for e, _label, _roles in NAV]
        if endpoint in endpoints:
            return
        neighbour = next((n for n in neighbours if n in endpoints), None)
        NAV.insert(endpoints.index(neighbour) + 1 if neighbour else len(NAV), (endpoint, label, roles))

    return place


@bp.app_context_processor
def console_menu() -> dict:
    def console_nav() -> list[tuple[str, str]]:
        user = current_user()
        if user is None:
            return []
        return [(endpoint, label) for endpoint, label, roles in NAV if user.role_enum in roles]

    return {"console_nav": console_nav}


@bp.app_context_processor
def console_helpers() -> dict:
    def can_open(endpoint: str) -> bool:
        """Whether the signed-in user's role may open `endpoint`, so pages link only
        where the link leads somewhere (roles_required marks each view with its roles)."""
        user = current_user()
        view = current_app.view_functions.get(endpoint)
        if user is None or view is None:
            return False
        roles = getattr(view, "required_roles", None)
        return roles is None or user.role_enum in roles

    def role_label(role: str) -> str:
        return ROLE_LABELS[Role(role)].render(get_locale())

    def shows_overview() -> bool:
        """Whether the menu starts with «Огляд»: an operator's overview is «Мій пункт»."""
        user = current_user()
        return user is None or user.role_enum is not Role.SUPPORT_OPERATOR

    return {"can_open": can_open, "role_label": role_label, "shows_overview": shows_overview}


@bp.route("/")
@login_required
def dashboard() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    if user.role_enum is Role.SUPPORT_OPERATOR:
        # An operator's overview is their workspace: sign-in and «Spilno» land there.
        return redirect(url_for("console.my_point"))
    s = db.session()
    scope = visible_community_ids(user)
    communities_q = select(Community).order_by(Community.name)
    # A school's contest is reached through its school, not listed as a cycle of its own.
    cycles_q = (
        select(Cycle)
        .where(Cycle.kind != CycleKind.SCHOOL_CONTEST.value)
        .order_by(Cycle.voting_starts_at.desc())
    )
    if scope is not None:
        communities_q = communities_q.where(Community.id.in_(scope))
        cycles_q = cycles_q.where(Cycle.community_id.in_(scope))
    cycles = s.scalars(cycles_q).all()
    # The same figure the cycle's results give (tally sheets included).
    totals = counted_participants(s, [c.id for c in cycles])
    return render_template(
        "console/dashboard.html",
        communities=s.scalars(communities_q).all(),
        cycles=cycles,
        totals=totals,
        my_school=s.get(School, user.school_id)
        if user.role_enum is Role.SCHOOL_MODERATOR and user.school_id
        else None,
        my_contests=_my_contests(user),
        state_label=state_label,
    )


def _my_contests(user: User) -> list[ContestSummary]:
    """A school moderator's contests with their figures, first on their overview."""
    if user.role_enum is not Role.SCHOOL_MODERATOR or user.school_id is None:
        return []
    now = utcnow()
    return [summarise(db.session(), c, now) for c in contests_of_school(db.session(), user.school_id)]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


# Each area of the console attaches its routes to `bp` when imported.
AREAS = (
    "communities",
    "cycles",
    "projects",
    "schools",
    "school_contests",
    "school_projects",
    "school_codes",
    "school_downloads",
    "school_card_jobs",
    "school_results",
    "devices",
    "bundles",
    "server.paper.import_pages",
    "server.paper.tally_pages",
    "server.paper.scan_pages",
    "server.polls.pages",
    "my_point",
    "eligibility",
    "jobs",
    "users",
    "api_clients",
    "audit_log",
    "account",
)
for _area in AREAS:  # a feature with a room of its own (server/paper/) is named in full
    importlib.import_module(_area if "." in _area else f"{__package__}.{_area}")

# The menu, in the order people use it: set a cycle up (and the schools of a school
# budget), register its devices, give people access, connect the online platform, look
# back at what was done. A school moderator's menu is their school; a support-point
# operator's, their point (its paper pages are reached from there).
nav_item("console.cycles", "Цикли", COMMUNITY_MANAGERS)
nav_item("console.schools", "Школи", COMMUNITY_MANAGERS)
nav_item("console.my_school", "Моя школа", (Role.SCHOOL_MODERATOR,))
nav_item("console.my_point", "Мій пункт", (Role.SUPPORT_OPERATOR,))
nav_item("console.devices", "Пристрої", COMMUNITY_MANAGERS)
nav_item("console.eligibility_index", "Список виборців", COMMUNITY_MANAGERS)
nav_item("console.users", "Користувачі", COMMUNITY_MANAGERS)
nav_item("console.polls", "Опитування", COMMUNITY_MANAGERS)
nav_item("console.api_clients", "Інтеграція", COMMUNITY_MANAGERS)
nav_item("console.audit_log", "Журнал дій", COMMUNITY_MANAGERS)
nav_item("console.communities", "Громади", (Role.ADMINISTRATOR,))
nav_item("console.change_password_page", "Мій пароль", tuple(Role))
