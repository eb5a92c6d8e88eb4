"""The demo's budget cycles: two categories and 18 projects of a real-looking town,
with costs broken down and a drawn picture for the first few (server.demo)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.models import Category, Community, Cycle, Project
from server.services.cycle_rules import load_cycle_rules
from server.services.project_details import add_photo
from voting import check_ballot_rule

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
