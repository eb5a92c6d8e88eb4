"""Moderators setting up cycles and their categories, and being stopped from saving a
rule that voters could not satisfy or a budget could not fund."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from server.i18n import KYIV
from server.models import AuditEvent, Category, Cycle, Role
from tests.factories import CSRF_TOKEN, post, sign_in

TOKEN = CSRF_TOKEN


def grn(hryvnias: int) -> str:
    """How the console shows an amount: «300 000 грн»."""
    return f"{hryvnias:,}".replace(",", "\xa0") + " грн"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def moderator(make):
    return make.user(Role.COMMUNITY_MODERATOR, make.community(name="Полтавська громада"))


CYCLE_FORM = {
    "title": "Громадський бюджет 2030",
    "slug": "gb-2030",
    "kind": "public",
    "voting_starts_at": "2030-05-01T09:00",
    "voting_ends_at": "2030-05-31T21:00",
    "min_total": "1",
    "max_total": "",
}

CATEGORY_FORM = {
    "name": "Малі проєкти",
    "budget": "1 500 000,50",
    "min_choices": "0",
    "max_choices": "2",
    "budget_limited": "1",
    "max_project_cost": "300000",
    "min_votes_to_fund": "10",
    "position": "1",
}


# --- cycles ---------------------------------------------------------------------------


def test_a_moderator_creates_a_cycle_with_the_voting_window_in_kyiv_time(client, moderator, session):
    sign_in(client, moderator)
    response = post(client, "/console/cycles/new", CYCLE_FORM)
    assert response.status_code == 302
    cycle = session.scalar(select(Cycle).where(Cycle.slug == "gb-2030"))
    assert cycle.community_id == moderator.community_id
    # 09:00 in Kyiv in May is 06:00 UTC (summer time, UTC+3).
    assert cycle.voting_starts_at == datetime(2030, 5, 1, 6, 0, tzinfo=UTC)
    assert cycle.voting_ends_at == datetime(2030, 5, 31, 18, 0, tzinfo=UTC)
    assert (cycle.min_total, cycle.max_total, cycle.kind) == (1, None, "public")
    assert response.headers["Location"].endswith(f"/console/cycles/{cycle.id}")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "cycle.create"))
    assert event.user_id == moderator.id and event.target_id == str(cycle.id)
    assert event.community_id == moderator.community_id

    listed = client.get("/console/cycles").get_data(as_text=True)
    assert "Громадський бюджет 2030" in listed
    detail = client.get(f"/console/cycles/{cycle.id}").get_data(as_text=True)
    assert "1 травня 2030, 09:00" in detail
    # The edit form shows the same local time that was typed.
    assert 'value="2030-05-01T09:00"' in client.get(f"/console/cycles/{cycle.id}/edit").get_data(as_text=True)


def test_winter_times_are_converted_with_the_winter_offset(client, moderator, session):
    sign_in(client, moderator)
    post(client, "/console/cycles/new", CYCLE_FORM | {"voting_starts_at": "2030-01-15T09:00"})
    cycle = session.scalar(select(Cycle).where(Cycle.slug == "gb-2030"))
    assert cycle.voting_starts_at == datetime(2030, 1, 15, 7, 0, tzinfo=UTC)


def test_a_moderator_cannot_put_a_cycle_into_another_community(client, make, moderator, session):
    elsewhere = make.community()
    sign_in(client, moderator)
    post(client, "/console/cycles/new", CYCLE_FORM | {"community_id": str(elsewhere.id)})
    cycle = session.scalar(select(Cycle).where(Cycle.slug == "gb-2030"))
    assert cycle.community_id == moderator.community_id


def test_an_administrator_chooses_the_community(client, make, session):
    community = make.community(name="Львівська громада")
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert "Львівська громада" in client.get("/console/cycles/new").get_data(as_text=True)
    assert post(client, "/console/cycles/new", CYCLE_FORM).status_code == 422
    assert post(client, "/console/cycles/new", CYCLE_FORM | {"community_id": "999999"}).status_code == 422
    assert (
        post(client, "/console/cycles/new", CYCLE_FORM | {"community_id": str(community.id)}).status_code
        == 302
    )
    assert session.scalar(select(Cycle.community_id).where(Cycle.slug == "gb-2030")) == community.id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Заповніть це поле."),
        ("title", "   ", "Заповніть це поле."),
        ("title", "Б" * 10_000, "Не більше 200 символів."),
        ("title", "Бюджет\x00", "недопустимі службові символи"),
        ("title", "Бюджет\u202eevil", "недопустимі службові символи"),
        ("slug", "", "Заповніть це поле."),
        ("slug", "GB 2030!", "Адреса:"),
        ("slug", "gb/../2030", "Адреса:"),
        ("slug", "a" * 65, "Адреса:"),
        ("kind", "national", "Оберіть один із варіантів."),
        ("voting_starts_at", "", "Заповніть це поле."),
        ("voting_starts_at", "завтра", "Введіть дату й час"),
        ("voting_starts_at", "2030-02-30T09:00", "Введіть дату й час"),
        ("voting_starts_at", "99999-01-01T09:00", "Введіть дату й час"),
        ("voting_starts_at", "1999-05-01T09:00", "Рік має бути від 2000 до 2100."),
        ("voting_starts_at", "2030-03-31T03:30", "Такого часу цього дня немає"),
        ("voting_starts_at", "2020-05-01T09:00", "Початок голосування має бути в майбутньому"),
        ("voting_ends_at", "2030-05-01T08:59", "Кінець голосування має бути пізніше за початок."),
        ("min_total", "", "Заповніть це поле."),
        ("min_total", "один", "Введіть ціле число."),
        ("min_total", "1.5", "Введіть ціле число."),
        ("min_total", "-1", "Обмеження не можуть бути від’ємними."),
        ("min_total", "9" * 40, "Число завелике."),
        ("min_total", "1001", "Не більше 1000."),
        ("max_total", "0", "Максимум (0) менший за мінімум (1)."),
        ("max_total", "<script>", "Введіть ціле число."),
    ],
)
def test_a_bad_cycle_form_is_refused_with_a_message_and_nothing_is_saved(
    client, moderator, session, field, value, message
):
    sign_in(client, moderator)
    response = post(client, "/console/cycles/new", CYCLE_FORM | {field: value})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text
    assert "Не збережено." in text
    assert count(session, Cycle) == 0
    assert count(session, AuditEvent) == 0


def test_every_problem_in_the_form_is_reported_at_once(client, moderator, session):
    sign_in(client, moderator)
    response = post(
        client, "/console/cycles/new", CYCLE_FORM | {"title": "", "min_total": "x", "voting_ends_at": ""}
    )
    text = response.get_data(as_text=True)
    assert 'id="e-title"' in text and 'id="e-min_total"' in text and 'id="e-voting_ends_at"' in text
    assert count(session, Cycle) == 0


def test_refusals_are_explained_in_english_when_the_moderator_reads_english(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    make.category(cycle, name="Малі", max_choices=1)
    sign_in(client, moderator)
    client.get("/console/?lang=en")
    domain = post(client, "/console/cycles/new", CYCLE_FORM | {"voting_ends_at": "2030-04-01T09:00"})
    assert "Voting must end after it starts." in domain.get_data(as_text=True)
    service = post(client, "/console/cycles/new", CYCLE_FORM | {"slug": cycle.slug})
    assert "This community has a cycle with this slug." in service.get_data(as_text=True)
    form = CYCLE_FORM | {"slug": cycle.slug, "min_total": "2"}
    rule = post(client, f"/console/cycles/{cycle.id}/edit", form).get_data(as_text=True)
    assert "The total minimum (2) cannot be reached: the categories allow at most 1." in rule
    assert "Not saved. Correct what is marked below." in rule


def test_the_slug_must_be_unique_within_the_community(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    make.cycle(community, slug="gb-2030", open_now=False)
    sign_in(client, moderator)
    response = post(client, "/console/cycles/new", CYCLE_FORM)
    assert response.status_code == 422
    assert "вже є цикл з такою адресою" in response.get_data(as_text=True)
    assert count(session, Cycle) == 1


def test_html_in_a_title_is_shown_as_text_not_run(client, moderator, session):
    sign_in(client, moderator)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert post(client, "/console/cycles/new", CYCLE_FORM | {"title": payload}).status_code == 302
    cycle = session.scalar(select(Cycle))
    for url in ["/console/cycles", f"/console/cycles/{cycle.id}", "/console/"]:
        text = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in text and "<img src=x" not in text, url
        assert "&lt;script&gt;alert" in text, url


def test_a_moderator_edits_a_cycle_and_the_change_is_audited(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False, slug="gb-old")
    sign_in(client, moderator)
    form = CYCLE_FORM | {"title": "Бюджет участі", "slug": "gb-new", "max_total": "5"}
    assert post(client, f"/console/cycles/{cycle.id}/edit", form).status_code == 302
    session.refresh(cycle)
    assert (cycle.title, cycle.slug, cycle.max_total) == ("Бюджет участі", "gb-new", 5)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "cycle.update"))
    assert event.details["slug"] == ["gb-old", "gb-new"]


def test_a_cycle_total_minimum_the_categories_cannot_reach_is_refused(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    make.category(cycle, name="Малі", max_choices=2)
    make.category(cycle, name="Великі", max_choices=1)
    sign_in(client, moderator)
    form = CYCLE_FORM | {"slug": cycle.slug, "title": cycle.title, "min_total": "4"}
    response = post(client, f"/console/cycles/{cycle.id}/edit", form)
    assert response.status_code == 422
    assert "Загальний мінімум (4) неможливо набрати" in response.get_data(as_text=True)
    session.refresh(cycle)
    assert cycle.min_total == 1


def test_once_voting_has_started_the_rule_is_frozen_but_the_title_can_be_fixed(
    client, make, moderator, session
):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=True)
    sign_in(client, moderator)
    edit = client.get(f"/console/cycles/{cycle.id}/edit").get_data(as_text=True)
    current = {
        "title": cycle.title,
        "slug": cycle.slug,
        "kind": "public",
        "voting_starts_at": edit.split('name="voting_starts_at" type="datetime-local" value="')[1][:16],
        "voting_ends_at": edit.split('name="voting_ends_at" type="datetime-local" value="')[1][:16],
        "min_total": "1",
        "max_total": "",
    }
    refused = post(client, f"/console/cycles/{cycle.id}/edit", current | {"min_total": "2"})
    assert refused.status_code == 422
    assert "Голосування вже почалося" in refused.get_data(as_text=True)
    assert post(client, f"/console/cycles/{cycle.id}/categories/new", CATEGORY_FORM).status_code == 422
    an_hour_ago = (datetime.now(KYIV) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    ended = post(client, f"/console/cycles/{cycle.id}/edit", current | {"voting_ends_at": an_hour_ago})
    assert "новий кінець не може бути в минулому" in ended.get_data(as_text=True)
    assert (
        post(client, f"/console/cycles/{cycle.id}/edit", current | {"title": "Виправлена назва"}).status_code
        == 302
    )
    session.refresh(cycle)
    assert (cycle.title, cycle.min_total) == ("Виправлена назва", 1)
    assert count(session, Category) == 0


def test_the_cycle_page_shows_its_categories_projects_and_a_link_to_results(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.ballot_cycle(community, projects_per_category=2)
    sign_in(client, moderator)
    text = client.get(f"/console/cycles/{cycle.id}").get_data(as_text=True)
    assert "Малі проєкти" in text and "Великі проєкти" in text
    assert "Сквер 1" in text and "Стадіон 2" in text
    assert grn(900_000) in text
    with client.application.test_request_context():
        results_url = url_for("results.console_cycle", cycle_id=cycle.id)
    assert f'href="{results_url}"' in text


# --- categories -----------------------------------------------------------------------


def test_a_moderator_adds_a_category_with_the_budget_in_hryvnias(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    sign_in(client, moderator)
    assert client.get(f"/console/cycles/{cycle.id}/categories/new").status_code == 200
    response = post(client, f"/console/cycles/{cycle.id}/categories/new", CATEGORY_FORM)
    assert response.status_code == 302
    category = session.scalar(select(Category))
    assert category.budget == 150_000_050  # kopiykas
    assert category.max_project_cost == 30_000_000
    assert (category.min_choices, category.max_choices, category.min_votes_to_fund) == (0, 2, 10)
    assert category.budget_limited and category.community_id == community.id
    assert (
        session.scalar(select(AuditEvent.action).where(AuditEvent.target_type == "category"))
        == "category.create"
    )
    edit = client.get(f"/console/categories/{category.id}/edit").get_data(as_text=True)
    assert 'value="1500000.50"' in edit and 'value="300000"' in edit


def test_a_category_edit_is_saved_and_audited(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    category = make.category(make.cycle(community, open_now=False), budget=100_000_00)
    sign_in(client, moderator)
    response = post(client, f"/console/categories/{category.id}/edit", CATEGORY_FORM | {"budget_limited": ""})
    assert response.status_code == 302
    session.refresh(category)
    assert category.budget == 150_000_050 and not category.budget_limited
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "category.update"))
    assert event.details["budget"] == [100_000_00, 150_000_050]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_choices": "0"}, "Максимальна кількість проєктів має бути більшою за нуль."),
        ({"min_choices": "3", "max_choices": "2"}, "Максимум (2) менший за мінімум (3)."),
        ({"min_choices": "-1"}, "Обмеження не можуть бути від’ємними."),
        ({"budget": "0"}, "Бюджет має бути більшим за нуль."),
        ({"budget": "50000"}, f"менший за найдешевший проєкт ({grn(100_000)})"),
        (
            {"min_choices": "3", "max_choices": "3"},
            "Мінімум (3) більший за кількість допущених проєктів (2).",
        ),
        (
            {"max_project_cost": "120000"},
            f"Проєкт коштує {grn(150_000)}, а в категорії «Малі проєкти» межа — {grn(120_000)}.",
        ),
        ({"max_choices": "1"}, "Загальний мінімум (3) неможливо набрати"),
    ],
)
def test_an_impossible_category_rule_is_refused_with_the_domains_message(
    client, make, moderator, session, change, message
):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False, min_total=3)
    category = make.category(cycle, name="Малі проєкти", budget=1_000_000_00, max_choices=2)
    make.category(cycle, name="Великі проєкти", max_choices=1)
    make.project(category, cost=100_000_00)
    make.project(category, cost=150_000_00)
    before = (category.budget, category.min_choices, category.max_choices, category.max_project_cost)
    sign_in(client, moderator)
    form = CATEGORY_FORM | {"budget": "1000000", "max_project_cost": "", "budget_limited": ""} | change
    response = post(client, f"/console/categories/{category.id}/edit", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.refresh(category)
    assert (category.budget, category.min_choices, category.max_choices, category.max_project_cost) == before
    assert count(session, AuditEvent) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Заповніть це поле."),
        ("name", "К" * 10_000, "Не більше 200 символів."),
        ("budget", "", "Заповніть це поле."),
        ("budget", "мільйон", "Введіть суму в гривнях"),
        ("budget", "-5", "Сума не може бути від’ємною."),
        ("budget", "1e9", "Введіть суму в гривнях"),
        ("budget", "12.345", "Введіть суму в гривнях"),
        ("budget", "9" * 30, "Число завелике."),
        ("budget", "200000000000", "Не більше"),
        ("max_project_cost", "0", "Сума має бути більшою за нуль"),
        ("max_project_cost", "NaN", "Введіть суму в гривнях"),
        ("min_choices", "два", "Введіть ціле число."),
        ("max_choices", "100000", "Не більше 1000."),
        ("min_votes_to_fund", "", "Заповніть це поле."),
        ("position", "-1", "Має бути число від 0 до 10000."),
    ],
)
def test_a_bad_category_form_is_refused_and_nothing_is_saved(
    client, make, moderator, session, field, value, message
):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    sign_in(client, moderator)
    response = post(client, f"/console/cycles/{cycle.id}/categories/new", CATEGORY_FORM | {field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(session, Category) == 0


def test_two_categories_of_a_cycle_cannot_share_a_name(client, make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    make.category(cycle, name="Малі проєкти")
    sign_in(client, moderator)
    response = post(client, f"/console/cycles/{cycle.id}/categories/new", CATEGORY_FORM)
    assert response.status_code == 422
    assert "вже є категорія з такою назвою" in response.get_data(as_text=True)
    assert count(session, Category) == 1
