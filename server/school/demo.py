"""The demo community's school budget: two schools with contests open now, projects
students proposed, code cards for three classes, and some codes already used.

Contests are made as a moderator makes them (start in the future), then moved to have
started nine days ago, as a demo needs voting under way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Community, Cycle, CycleKind, Project, School
from server.polls.store import create_poll, poll_rule, publish_poll
from server.services.projects import ProjectFields, create_project
from server.services.users import create_user

from .code_polls import answer_by_code, poll_code
from .code_votes import cast_by_code
from .codes import IssuedCode, issue_codes
from .contests import Contest, ContestFields, create_contest
from .keys import CodeKeys

SCHOOLS = [
    (
        "Білоцерківський ліцей № 1",
        "вул. Шевченка, 97",
        [("6-А", 28), ("6-Б", 27)],
        [
            ("Зелений клас просто неба", 18_000),
            ("Настільний теніс у рекреації", 9_500),
            ("Шкільне радіо", 14_000),
            ("Сушарки для рук у вбиральнях", 6_000),
            ("Книжковий куточок коміксів", 7_500),
        ],
    ),
    (
        "Білоцерківська гімназія № 12",
        "вул. Гайова, 20",
        [("7-А", 25)],
        [
            ("Вуличні тренажери на подвір'ї", 19_000),
            ("Кімната тиші для перерв", 12_000),
            ("3D-принтер для гуртка", 15_500),
            ("Велопарковка біля входу", 8_000),
        ],
    ),
]
SCHOOL_MODERATOR = ("school", "Ірина Бондар", "school-demo-2027")
USED_SHARE = 0.4


@dataclass
class SchoolDemo:
    programme: Cycle
    contests: list[Contest]
    cards: list[tuple[Contest, list[IssuedCode]]]  # the codes not used, per contest
    moderator: tuple[str, str, str]  # login, role, password


def seed_school_demo(
    session: Session, community: Community, keys: CodeKeys, now: datetime, rng: random.Random
) -> SchoolDemo:
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    programme = Cycle(
        community_id=community.id,
        kind=CycleKind.SCHOOL.value,
        title="Шкільний бюджет Білої Церкви 2027",
        slug="sb-2027",
        voting_starts_at=now + timedelta(hours=1),
        voting_ends_at=today + timedelta(days=14),
    )
    session.add(programme)
    session.flush()
    contests: list[Contest] = []
    cards: list[tuple[Contest, list[IssuedCode]]] = []
    for name, address, classes, projects in SCHOOLS:
        school = School(community_id=community.id, name=name, address=address)
        session.add(school)
        session.flush()
        contest = create_contest(
            session,
            programme,
            school,
            ContestFields(
                budget=50_000_00,
                max_choices=2,
                voting_starts_at=now + timedelta(hours=2),
                voting_ends_at=today + timedelta(days=14),
                grades=[5, 6, 7, 8, 9, 10, 11],
            ),
            now=now,
        )
        for number, (title, cost) in enumerate(projects, start=1):
            create_project(
                session,
                contest.cycle,
                ProjectFields(number, title, "", cost * 100, "", contest.category.id),
                now,
            )
        contests.append(contest)
        issued: list[IssuedCode] = []
        for class_name, count in classes:
            issued += issue_codes(session, contest, class_name, count, keys, now=now)
        cards.append((contest, issued))
    programme.voting_starts_at = today - timedelta(days=9)
    for contest in contests:
        contest.cycle.voting_starts_at = today - timedelta(days=9)
    session.flush()
    project_ids = {c.id: [p.id for p in _projects(session, c)] for c in contests}
    unused: list[tuple[Contest, list[IssuedCode]]] = []
    used: list[tuple[IssuedCode, datetime]] = []  # the first school's, with when they voted
    for contest, issued in cards:
        left = []
        for card in issued:
            if rng.random() < USED_SHARE:
                chosen = rng.sample(project_ids[contest.id], rng.choice([1, 2]))
                voted_at = contest.cycle.voting_starts_at + timedelta(minutes=rng.randrange(9 * 24 * 60))
                cast_by_code(session, keys, card.code, chosen, now=min(voted_at, now))
                if contest is contests[0]:
                    used.append((card, min(voted_at, now)))
            else:
                left.append(card)
        unused.append((contest, left))
    _school_poll(session, contests[0], used, rng, today, now)
    login, name, password = SCHOOL_MODERATOR
    create_user(
        session,
        login=login,
        display_name=name,
        password=password,
        role="school_moderator",
        community_id=community.id,
        school_id=contests[0].school.id,  # the first school's moderator
    )
    return SchoolDemo(programme, contests, unused, (login, "school_moderator", password))


def _projects(session: Session, contest: Contest) -> list[Project]:
    return list(
        session.scalars(select(Project).where(Project.cycle_id == contest.cycle.id).order_by(Project.number))
    )


def _school_poll(
    session: Session,
    contest: Contest,
    used: list[tuple[IssuedCode, datetime]],
    rng: random.Random,
    today: datetime,
    now: datetime,
) -> None:
    """The first school's poll (docs/polls.md, "School polls"), answered by most of the
    codes that voted, each right after its vote; the codes left for the demo's visitors
    answer it on the students' pages after voting."""
    spec = {
        "title": "Що зробити в шкільному дворі?",
        "description": "Опитування учнів школи: відповідайте кодом зі своєї картки.",
        "opens_at": (today - timedelta(days=9)).isoformat(),
        "closes_at": (today + timedelta(days=14)).isoformat(),
        "school": contest.school.id,
        "questions": [
            {
                "text": "Що потрібно найбільше?",
                "kind": "one",
                "options": ["Лави в тіні", "Спортмайданчик", "Клумби"],
            },
            {
                "text": "Оцініть від 0 до 5",
                "kind": "points",
                "max_points": 5,
                "options": ["Чистота", "Освітлення", "Місця для відпочинку"],
            },
        ],
    }
    poll = create_poll(session, contest.school.community_id, spec)
    publish_poll(session, poll, now=today - timedelta(days=9))
    one, points = poll_rule(session, poll).questions
    for card, voted_at in used:
        if rng.random() < 0.2:
            continue  # not every student answers
        answers: dict[int, object] = {one.question_id: [rng.choice(one.option_ids)]}
        answers[points.question_id] = [[o, rng.randint(0, 5)] for o in points.option_ids]
        answer_by_code(session, poll_code(session, card.code_id), poll.id, answers, now=voted_at)
