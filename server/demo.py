"""A realistic demo community: two cycles, two categories, 18 projects, terminals,
support points, users, an integration client, and a few thousand votes over several
channels, so every page of the console and the public results has something to show.

Deterministic (seeded random), so a screenshot today matches one tomorrow.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from server.models import Category, Community, Cycle, Device, Project, utcnow
from server.polls.answers import store_answers
from server.polls.store import create_poll, poll_rule, publish_poll
from server.school.demo import SchoolDemo, seed_school_demo
from server.school.keys import CodeKeys
from server.services import eligibility
from server.services.api_clients import create_api_client
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.project_details import add_photo
from server.services.users import create_user
from voting import Channel, VoteRecord, VoterKey, check_ballot_rule, community_voter_secret
from voting.identity import rnokpp_check_digit
from voting.polls import PollAnswerRecord

PROJECTS = [
    # (category, title, district, cost in hryvnias)
    ("small", "Дитячий майданчик у сквері Перемоги", "Центр", 280_000),
    ("small", "Вуличні тренажери біля школи № 5", "Таращанський", 190_000),
    ("small", "Велопарковки біля ЦНАП та бібліотек", "Центр", 95_000),
    ("small", "Інклюзивна пісочниця в парку Шевченка", "Заріччя", 150_000),
    ("small", "Освітлення пішохідної доріжки вздовж Росі", "Заріччя", 240_000),
    ("small", "Книжкова шафа обміну в кожному мікрорайоні", "Гайок", 60_000),
    ("small", "Пандуси до поліклініки № 2", "Піщаний", 210_000),
    ("small", "Сенсорна кімната в дитячому садку «Сонечко»", "Гайок", 295_000),
    ("small", "Лавки й урни на бульварі Олександрійському", "Центр", 120_000),
    ("small", "Майстерня ремонту велосипедів для підлітків", "Турчанинівка", 175_000),
    ("small", "Зелений клас просто неба при ліцеї № 1", "Центр", 260_000),
    ("large", "Реконструкція стадіону «Трудові резерви»", "Піщаний", 2_900_000),
    ("large", "Скейтпарк у парку «Олександрія»", "Заріччя", 1_800_000),
    ("large", "Енергонезалежне укриття при школі № 12", "Гайок", 2_750_000),
    ("large", "Безпечні переходи біля шкіл (12 переходів)", "Місто", 1_350_000),
    ("large", "Сучасна спортивна зала для людей з інвалідністю", "Таращанський", 2_400_000),
    ("large", "Міський сад пам’яті та тиші", "Центр", 900_000),
    ("large", "Сонячні панелі на дах міської лікарні", "Піщаний", 2_200_000),
]

DEVICES = [
    ("terminal", "T-0001", "Термінал у ЦНАП", "вул. Ярослава Мудрого, 2"),
    ("terminal", "T-0002", "Термінал у центральній бібліотеці", "бульв. Олександрійський, 56"),
    ("terminal", "T-0003", "Термінал у ТРЦ «Гермес»", "вул. Київська, 10"),
    ("support_point", "S-0001", "Пункт супроводу в будинку культури", "вул. Леваневського, 51"),
    ("support_point", "S-0002", "Пункт супроводу в центрі соціальних служб", "вул. Гайова, 4"),
]

CHANNEL_MIX = [
    (Channel.WEB, None, 60),
    (Channel.KIOSK, "T-0001", 9),
    (Channel.KIOSK, "T-0002", 6),
    (Channel.KIOSK, "T-0003", 5),
    (Channel.PAPER, "S-0001", 7),
    (Channel.PAPER, "S-0002", 5),
    (Channel.STAFF_ASSISTED, "S-0001", 8),
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


# The fake reader's test cards (kiosk/fake_card_controls.py): a and b are on the demo's
# voter list, c is not, so a person trying a terminal sees both answers.
DEMO_LISTED_CARDS = ("04A1B2C3D4E5F6", "04B7C8D9E0F1A2")
DEMO_MIN_AGE = 14
# Residents on the demo's voter list whom the demo terminal votes as, one each: the
# server holds a vote of anyone not on its list for a moderator, so a terminal voting
# as random people would move no count.
DEMO_TERMINAL_RESIDENTS = 3000


def demo_terminal_residents() -> list[str]:
    """The taxpayer numbers the demo terminal votes as, in order (the same every run)."""
    rng = random.Random(2027)
    return [_random_rnokpp(rng) for _ in range(DEMO_TERMINAL_RESIDENTS)]


@dataclass(frozen=True)
class DemoVoters:
    adult_rnokpp: str  # listed, of age: votes with staff help
    young_rnokpp: str  # listed, but under the minimum age: refused
    min_age: int


def _rnokpp_born(born: date, serial: str) -> str:
    first_nine = f"{(born - date(1899, 12, 31)).days:05d}{serial}"
    return first_nine + str(rnokpp_check_digit(first_nine))


def _demo_voter_list(session: Session, community: Community, secret: bytes, now: datetime) -> DemoVoters:
    """The community's voter list: the listed test cards and two residents to type in."""
    today = now.astimezone(UTC).date()
    voters = DemoVoters(
        adult_rnokpp=_rnokpp_born(date(1984, 6, 12), "2713"),
        young_rnokpp=_rnokpp_born(today.replace(year=today.year - 12, day=1), "0428"),
        min_age=DEMO_MIN_AGE,
    )
    rows = [f"card,{card}" for card in DEMO_LISTED_CARDS]
    rows += [f"rnokpp,{voters.adult_rnokpp}", f"rnokpp,{voters.young_rnokpp}"]
    rows += [f"rnokpp,{number}" for number in dict.fromkeys(demo_terminal_residents())]
    register = ("document_kind,document_number\n" + "\n".join(rows) + "\n").encode()
    _check, change = eligibility.apply_list_file(
        session, community, register, eligibility.ListMode.REPLACE, voter_secret=secret
    )
    assert change is not None and change.added == len(set(rows))
    eligibility.set_enabled(session, community, True)
    return voters


def _random_rnokpp(rng: random.Random) -> str:
    first_nine = f"{rng.randrange(10**8, 10**9):09d}"
    return first_nine + str(rnokpp_check_digit(first_nine))


def make_cycle(
    session: Session, community: Community, title: str, slug: str, starts: datetime, ends: datetime
) -> Cycle:
    cycle = Cycle(
        community_id=community.id,
        title=title,
        slug=slug,
        voting_starts_at=starts,
        voting_ends_at=ends,
        min_total=1,
        max_total=3,
    )
    session.add(cycle)
    session.flush()
    small = Category(
        community_id=community.id,
        cycle_id=cycle.id,
        name="Малі проєкти",
        budget=1_200_000_00,
        min_choices=0,
        max_choices=2,
        max_project_cost=300_000_00,
        position=1,
    )
    large = Category(
        community_id=community.id,
        cycle_id=cycle.id,
        name="Великі проєкти",
        budget=6_000_000_00,
        min_choices=0,
        max_choices=1,
        max_project_cost=3_000_000_00,
        position=2,
    )
    session.add_all([small, large])
    session.flush()
    projects = []
    for number, (kind, title_, district, cost) in enumerate(PROJECTS, start=1):
        projects.append(
            Project(
                community_id=community.id,
                cycle_id=cycle.id,
                category_id=(small if kind == "small" else large).id,
                number=number,
                title=title_,
                district=district,
                cost=cost * 100,
                description=f"{title_}. Район: {district}.",
                address=f"{district} район, біля будинку № {number * 7}",
                budget_lines=_demo_breakdown(cost * 100),
            )
        )
    session.add_all(projects)
    session.flush()
    _demo_photos(session, projects[:3])
    rules = load_cycle_rules(session, cycle)
    problems = check_ballot_rule(rules.ballot)
    assert not problems, problems  # the demo must itself obey the rules it shows
    return cycle


def _demo_photos(session: Session, projects: list[Project]) -> None:
    """A drawn picture for each of `projects` (the demo has no photographs), uploaded
    as a moderator would: the terminal's detail view and the public pages show them."""
    import io

    from PIL import Image, ImageDraw

    for n, project in enumerate(projects):
        picture = Image.new("RGB", (960, 640), (150 + 30 * n, 200, 240))  # sky
        draw = ImageDraw.Draw(picture)
        draw.rectangle((0, 430, 960, 640), fill=(70, 150, 70))  # grass
        draw.ellipse((760 - 90 * n, 60, 860 - 90 * n, 160), fill=(255, 210, 60))  # sun
        draw.rectangle((300, 380, 660, 420), fill=(140, 90, 50))  # what the project builds
        draw.rectangle((320, 420, 340, 470), fill=(90, 60, 40))
        draw.rectangle((620, 420, 640, 470), fill=(90, 60, 40))
        out = io.BytesIO()
        picture.save(out, "PNG")
        add_photo(
            session,
            project,
            out.getvalue(),
            f"Малюнок: місце проєкту «{project.title}» у сонячний день",
            "Drawing: the project's place on a sunny day",
        )


def _demo_breakdown(cost: int) -> list[dict]:
    """What a project's cost is made of (kopiykas), summing to it exactly."""
    works, design = cost * 3 // 10, cost // 10
    return [
        {"item": "Матеріали й обладнання", "amount": cost - works - design},
        {"item": "Роботи", "amount": works},
        {"item": "Проєктування", "amount": design},
    ]


def _votes(
    rng: random.Random, cycle: Cycle, rules, secret: bytes, count: int, until: datetime
) -> list[VoteRecord]:
    ballot = rules.ballot
    by_category: dict[int, list[int]] = {}
    for project in ballot.projects:
        by_category.setdefault(project.category_id, []).append(project.project_id)
    # Popularity: a few favourites, a long tail, as real votes look.
    weights = {
        pid: 1.0 / (rank + 1.5)
        for ids in by_category.values()
        for rank, pid in enumerate(rng.sample(ids, len(ids)))
    }
    channels = [(c, d) for c, d, _w in CHANNEL_MIX]
    channel_weights = [w for _c, _d, w in CHANNEL_MIX]
    span = (min(until, cycle.voting_ends_at) - cycle.voting_starts_at).total_seconds()
    residents = [_random_rnokpp(rng) for _ in range(count)]
    records = []
    for i in range(count):
        # ~3% of residents try a second channel; ~1% of ballots break the rule.
        resident = residents[i] if rng.random() > 0.03 or i == 0 else residents[rng.randrange(i)]
        channel, _device = rng.choices(channels, channel_weights)[0]
        offset = rng.random() ** 0.8 * span
        moment = cycle.voting_starts_at + timedelta(seconds=offset)
        # Daytime rhythm: move night-time votes (Kyiv time, UTC+2/3) into the day.
        if moment.hour < 6 or moment.hour > 19:
            moment = moment.replace(hour=rng.randrange(6, 19))
        moment = min(max(moment, cycle.voting_starts_at), until - timedelta(minutes=1))
        selections: list[int] = []
        for category in ballot.categories:
            ids = by_category[category.category_id]
            k = rng.randint(1, category.max_choices) if rng.random() > 0.1 else 0
            picked: set[int] = set()
            while len(picked) < k:
                picked.add(rng.choices(ids, [weights[p] for p in ids])[0])
            selections.extend(picked)
        if not selections:
            selections = [rng.choice(by_category[ballot.categories[0].category_id])]
        if rng.random() < 0.01:
            selections = by_category[ballot.categories[0].category_id][:3]  # one too many
        records.append(
            VoteRecord.create(
                vote_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                cycle_id=cycle.id,
                selections=selections,
                channel=channel,
                cast_at=moment,
                voter_key=VoterKey.derive(secret, "rnokpp", resident).hex,
                # The seeded history keeps its channel but names no device: no device
                # log carries it, so crediting the demo's terminals would make their
                # page (log entries received) and the results (votes by device)
                # disagree. What the demo terminal casts arrives through sync and is
                # credited to it on both.
                device_id=None,
            )
        )
    return records


def _demo_poll(session: Session, community: Community, rng: random.Random, now: datetime) -> None:
    """A published poll of the four kinds with a few hundred online answers, so the
    console's poll page and the API's results show something (docs/polls.md)."""
    opens = now - timedelta(days=9)
    spec = {
        "title": "Який вигляд має мати парк «Олександрія» біля входу?",
        "description": "Опитування мешканців перед проєктуванням.",
        "opens_at": opens.isoformat(),
        "closes_at": (now + timedelta(days=21)).isoformat(),
        "questions": [
            {
                "text": "Чи потрібна біля входу нова площа?",
                "kind": "one",
                "options": ["Так", "Ні", "Не знаю"],
            },
            {
                "text": "Що на ній має бути? (до двох)",
                "kind": "up_to",
                "max_choices": 2,
                "options": ["Лави в тіні", "Фонтан", "Сцена", "Укриття від дощу"],
            },
            {
                "text": "Упорядкуйте, що зробити першим",
                "kind": "rank",
                "max_choices": 3,
                "options": ["Освітлення", "Доріжки", "Туалет", "Велостоянка"],
            },
            {
                "text": "Оцініть від 0 до 5, наскільки це важливо",
                "kind": "points",
                "max_points": 5,
                "options": ["Безпека ввечері", "Чистота", "Доступність для візків"],
            },
        ],
    }
    poll = create_poll(session, community.id, spec)
    publish_poll(session, poll, now=opens)
    rule = poll_rule(session, poll)
    one, up_to, rank, points = rule.questions
    records = []
    for _ in range(400):
        answers: dict[int, object] = {one.question_id: [rng.choices(one.option_ids, (6, 2, 1))[0]]}
        if rng.random() < 0.8:
            answers[up_to.question_id] = rng.sample(up_to.option_ids, rng.randint(1, 2))
        if rng.random() < 0.7:
            answers[rank.question_id] = rng.sample(rank.option_ids, rng.randint(1, 3))
        if rng.random() < 0.6:
            answers[points.question_id] = {o: rng.randint(0, 5) for o in points.option_ids}
        records.append(
            PollAnswerRecord.create(
                answer_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                poll=rule,
                answers=answers,
                channel="web",
                cast_at=opens + timedelta(minutes=rng.randrange(9 * 24 * 60)),
                voter_key=f"{rng.getrandbits(256):064x}",
            )
        )
    store_answers(session, poll, rule, records, source="demo")


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
    voters = _demo_voter_list(session, community, secret, now)
    stored = 0
    for cycle, until in ((last_year, last_year.voting_ends_at), (this_year, now)):
        rules = load_cycle_rules(session, cycle)
        records = _votes(rng, cycle, rules, secret, votes_per_cycle, until)
        for start in range(0, len(records), 500):
            stored += len(store_votes(session, {cycle.id: rules}, records[start : start + 500], "demo"))
    last_year.results_published_at = datetime(2026, 6, 5, 9, 0, tzinfo=UTC)
    _client, token = create_api_client(session, community_id=community.id, name="Платформа е-демократії")
    _demo_poll(session, community, rng, now)
    schools = seed_school_demo(session, community, CodeKeys.from_master(master_secret), now, rng)
    users.append(schools.moderator)
    session.commit()
    return DemoSummary(community, [last_year, this_year], users, stored, token, schools, voters)
