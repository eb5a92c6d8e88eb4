"""Factories that build rows for tests, with sensible Ukrainian defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from server.models import Category, Community, Cycle, CycleKind, Device, Project, Role, School, User, Vote

PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_PASSWORD_HASH: dict[str, str] = {}


def _hash(password: str) -> str:
    """A scrypt hash as the server writes it, at a work factor 32 times lower.

    Checking a password reads the cost from the hash itself (scrypt:N:r:p$salt$digest),
    so sign-in runs the server's own code; at the server's cost (N = 32768) each check
    takes ~70 ms, and the suite signs in over a thousand times. Users the server creates
    (the console's user pages, a password change) get the full cost, and the tests of
    those pages check what the server stored."""
    if password not in _PASSWORD_HASH:
        _PASSWORD_HASH[password] = generate_password_hash(password, method="scrypt:1024:8:1")
    return _PASSWORD_HASH[password]


class Factories:
    def __init__(self, session: Session) -> None:
        self.session = session

    def community(self, **kw: Any) -> Community:
        n = next(_counter)
        community = Community(slug=kw.pop("slug", f"hromada-{n}"), name=kw.pop("name", f"Громада {n}"), **kw)
        self.session.add(community)
        self.session.commit()
        return community

    def user(
        self,
        role: Role | str = Role.COMMUNITY_MODERATOR,
        community: Community | None = None,
        password: str = PASSWORD,
        **kw: Any,
    ) -> User:
        n = next(_counter)
        role = Role(role)
        if role is not Role.ADMINISTRATOR and community is None:
            community = self.community()
        user = User(
            login=kw.pop("login", f"user{n}@example.org"),
            display_name=kw.pop("display_name", f"Користувач {n}"),
            password_hash=_hash(password),
            role=role.value,
            community_id=None if role is Role.ADMINISTRATOR else community.id,
            **kw,
        )
        self.session.add(user)
        self.session.commit()
        return user

    def cycle(self, community: Community | None = None, *, open_now: bool = True, **kw: Any) -> Cycle:
        community = community or self.community()
        n = next(_counter)
        now = datetime.now(UTC)
        starts = now - timedelta(days=1) if open_now else now + timedelta(days=10)
        cycle = Cycle(
            community_id=community.id,
            title=kw.pop("title", f"Громадський бюджет {n}"),
            slug=kw.pop("slug", f"gb-{n}"),
            voting_starts_at=kw.pop("voting_starts_at", starts),
            voting_ends_at=kw.pop("voting_ends_at", starts + timedelta(days=30)),
            **kw,
        )
        self.session.add(cycle)
        self.session.commit()
        return cycle

    def category(self, cycle: Cycle, **kw: Any) -> Category:
        category = Category(
            community_id=cycle.community_id,
            cycle_id=cycle.id,
            name=kw.pop("name", "Малі проєкти"),
            budget=kw.pop("budget", 1_000_000_00),
            min_choices=kw.pop("min_choices", 0),
            max_choices=kw.pop("max_choices", 2),
            **kw,
        )
        self.session.add(category)
        self.session.commit()
        return category

    def project(self, category: Category, **kw: Any) -> Project:
        n = next(_counter)
        project = Project(
            community_id=category.community_id,
            cycle_id=category.cycle_id,
            category_id=category.id,
            number=kw.pop("number", n),
            title=kw.pop("title", f"Проєкт {n}"),
            cost=kw.pop("cost", 100_000_00),
            **kw,
        )
        self.session.add(project)
        self.session.commit()
        return project

    def device(self, community: Community, kind: str = "terminal", **kw: Any) -> Device:
        n = next(_counter)
        device = Device(
            community_id=community.id,
            kind=kind,
            code=kw.pop("code", f"T-{n:04d}"),
            name=kw.pop("name", f"Термінал {n}"),
            **kw,
        )
        self.session.add(device)
        self.session.commit()
        return device

    def school(self, community: Community | None = None, **kw: Any) -> School:
        n = next(_counter)
        school = School(
            community_id=(community or self.community()).id,
            name=kw.pop("name", f"Ліцей № {n}"),
            address=kw.pop("address", ""),
            **kw,
        )
        self.session.add(school)
        self.session.commit()
        return school

    def school_contest(
        self,
        school: School | None = None,
        *,
        open_now: bool = True,
        projects: int = 4,
        max_choices: int = 2,
        budget: int = 50_000_00,
        grades: tuple[int, ...] = (5, 6, 7, 8, 9, 10, 11),
    ) -> Any:
        """A school's contest with projects (a server.school.contests.Contest), voting
        open now or in ten days. Made through the service, then moved in time if open."""
        from server.school.contests import ContestFields, create_contest, load_contest

        school = school or self.school()
        community = self.session.get_one(Community, school.community_id)
        now = datetime.now(UTC)
        programme = self.cycle(
            community,
            open_now=False,
            kind=CycleKind.SCHOOL.value,
            title=f"Шкільний бюджет {next(_counter)}",
            voting_starts_at=now + timedelta(days=1),
            voting_ends_at=now + timedelta(days=60),
        )
        contest = create_contest(
            self.session,
            programme,
            school,
            ContestFields(
                budget=budget,
                max_choices=max_choices,
                voting_starts_at=now + timedelta(days=2),
                voting_ends_at=now + timedelta(days=30),
                grades=list(grades),
            ),
        )
        for i in range(projects):
            self.project(contest.category, cost=(5_000 + 1_000 * i) * 100, title=f"Шкільний проєкт {i + 1}")
        if open_now:
            programme.voting_starts_at = contest.cycle.voting_starts_at = now - timedelta(days=1)
        self.session.commit()
        return load_contest(self.session, contest.contest)

    def ballot_cycle(self, community: Community | None = None, projects_per_category: int = 4) -> Cycle:
        """A cycle with two categories of projects, open for voting now."""
        cycle = self.cycle(community)
        small = self.category(
            cycle,
            name="Малі проєкти",
            budget=900_000_00,
            max_choices=2,
            max_project_cost=300_000_00,
            position=1,
        )
        large = self.category(cycle, name="Великі проєкти", budget=3_000_000_00, max_choices=1, position=2)
        for i in range(projects_per_category):
            self.project(small, cost=(100_000 + 50_000 * i) * 100, title=f"Сквер {i + 1}")
            self.project(large, cost=(1_000_000 + 400_000 * i) * 100, title=f"Стадіон {i + 1}")
        return cycle


def stored_vote(session: Session, vote_id: str, community_id: int | None = None) -> Vote | None:
    """The stored vote with this id (ids are per community: name it where two share one)."""
    query = select(Vote).where(Vote.id == vote_id)
    if community_id is not None:
        query = query.where(Vote.community_id == community_id)
    return session.scalar(query)


def login(client: Any, user: User, password: str = PASSWORD) -> Any:
    client.get("/login")
    with client.session_transaction() as sess:
        token = sess.get("csrf")
    return client.post("/login", data={"login": user.login, "password": password, "csrf_token": token})


def csrf(client: Any) -> str:
    with client.session_transaction() as sess:
        if "csrf" not in sess:
            import secrets

            sess["csrf"] = secrets.token_urlsafe(32)
        return sess["csrf"]


CSRF_TOKEN = "t" * 43


def sign_in(client: Any, user: User) -> None:
    """Sign in without hashing a password (test_auth covers the real sign-in)."""
    from server.auth.sessions import session_fields

    with client.session_transaction() as sess:
        sess.update(session_fields(user, client.application.secret_key))
        sess["csrf"] = CSRF_TOKEN


def post(client: Any, url: str, data: dict | None = None, **fields: Any) -> Any:
    """POST a console form with the CSRF token of a `sign_in` session."""
    return client.post(url, data={**(data or {}), **fields, "csrf_token": CSRF_TOKEN})
