"""A realistic demo community: two cycles, two categories, 18 projects, terminals,
support points, users, an integration client, and a few thousand votes over several
channels, so every page of the console and the public results has something to show.

Deterministic (seeded random), so a screenshot today matches one tomorrow. Its cycles are
server.demo_cycles, its residents server.demo_voters, its votes and poll server.demo_votes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from server.models import Community, Cycle, Device, utcnow
from server.school.demo import SchoolDemo, seed_school_demo
from server.school.keys import CodeKeys
from server.services.api_clients import create_api_client
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.users import create_user
from voting import community_voter_secret

from .demo_cycles import make_cycle
from .demo_voters import DEMO_MIN_AGE, DemoVoters, demo_voter_list
from .demo_votes import demo_poll, seeded_votes

DEVICES = [
    ("terminal", "T-0001", "Термінал у ЦНАП", "вул. Ярослава Мудрого, 2"),
    ("terminal", "T-0002", "Термінал у центральній бібліотеці", "бульв. Олександрійський, 56"),
    ("terminal", "T-0003", "Термінал у ТРЦ «Гермес»", "вул. Київська, 10"),
    ("support_point", "S-0001", "Пункт супроводу в будинку культури", "вул. Леваневського, 51"),
    ("support_point", "S-0002", "Пункт супроводу в центрі соціальних служб", "вул. Гайова, 4"),
]

USERS = [
    ("admin", "Адміністратор системи", "administrator", "admin-demo-2027"),
    ("moderator", "Оксана Коваленко", "community_moderator", "moderator-demo-2027"),
    ("operator", "Петро Мельник", "support_operator", "operator-demo-2027"),
]


@dataclass
class DemoSummary:
    community: Community
    cycles: list[Cycle]
    users: list[tuple[str, str, str]]  # login, role, password
    votes_stored: int
    api_token: str  # for trying the integration API
    schools: SchoolDemo  # the school budget: contests, unused code cards
    voters: DemoVoters  # the voter list and minimum age, to try at a terminal


def seed_demo(
    session: Session, master_secret: bytes, now: datetime | None = None, votes_per_cycle: int = 3000
) -> DemoSummary:
    """Fill an empty database with the demo community. Commits."""
    now = now or utcnow()
    rng = random.Random(2027)
    community = Community(slug="bila-tserkva", name="Білоцерківська міська територіальна громада")
    session.add(community)
    session.flush()
    users = []
    for login, name, role, password in USERS:
        create_user(
            session,
            login=login,
            display_name=name,
            password=password,
            role=role,
            community_id=None if role == "administrator" else community.id,
        )
        users.append((login, role, password))
    for kind, code, name, location in DEVICES:
        session.add(Device(community_id=community.id, kind=kind, code=code, name=name, location=location))
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    last_year = make_cycle(
        session,
        community,
        "Громадський бюджет Білої Церкви 2026",
        "gb-2026",
        datetime(2026, 5, 1, 6, 0, tzinfo=UTC),
        datetime(2026, 5, 31, 21, 0, tzinfo=UTC),
    )
    this_year = make_cycle(
        session,
        community,
        "Громадський бюджет Білої Церкви 2027",
        "gb-2027",
        today - timedelta(days=9, hours=-6),
        today + timedelta(days=21),
    )
    secret = community_voter_secret(master_secret, community.key_id)
    this_year.min_age = DEMO_MIN_AGE
    voters = demo_voter_list(session, community, secret, now)
    stored = 0
    for cycle, until in ((last_year, last_year.voting_ends_at), (this_year, now)):
        rules = load_cycle_rules(session, cycle)
        records = seeded_votes(rng, cycle, rules, secret, votes_per_cycle, until)
        for start in range(0, len(records), 500):
            stored += len(store_votes(session, {cycle.id: rules}, records[start : start + 500], "demo"))
    last_year.results_published_at = datetime(2026, 6, 5, 9, 0, tzinfo=UTC)
    _client, token = create_api_client(session, community_id=community.id, name="Платформа е-демократії")
    demo_poll(session, community, rng, now)
    schools = seed_school_demo(session, community, CodeKeys.from_master(master_secret), now, rng)
    users.append(schools.moderator)
    session.commit()
    return DemoSummary(community, [last_year, this_year], users, stored, token, schools, voters)
