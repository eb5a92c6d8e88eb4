"""A moderator sets how a category funds projects, and is stopped from saving a rule
that cannot work; every refusal says why and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Category, Role
from tests.factories import post, sign_in

from .test_console_cycles import CATEGORY_FORM


@pytest.fixture
def moderator(make):
    return make.user(Role.COMMUNITY_MODERATOR, make.community(name="Полтавська громада"))


@pytest.fixture
def setup(make, moderator, session):
    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    small = make.category(cycle, name="Малі проєкти", budget=1_000_000_00, max_choices=2)
    large = make.category(cycle, name="Великі проєкти", budget=3_000_000_00, max_choices=1)
    projects = [make.project(small, cost=100_000_00) for _ in range(3)]
    return cycle, small, large, projects


def form(**change: str) -> dict[str, str]:
    base = CATEGORY_FORM | {"budget": "1000000", "max_project_cost": "", "budget_limited": ""}
    return base | change


def test_a_moderator_sets_every_funding_rule_and_sees_them_again(client, moderator, session, setup):
    _cycle, small, large, projects = setup
    sign_in(client, moderator)
    numbers = [str(p.number) for p in projects]
    response = post(
        client,
        f"/console/categories/{small.id}/edit",
        form(
            funding_method="equal_shares",
            tie_break="number",
            min_votes_share="2,5",
            min_project_cost="50000",
            leftover_to_id=str(large.id),
            exclusive_groups=f"{numbers[0]},{numbers[1]}",
            completion_step="2",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.refresh(small)
    assert (small.funding_method, small.tie_break, small.min_votes_share) == ("equal_shares", "number", 250)
    assert (small.min_project_cost, small.leftover_to_id, small.completion_step) == (5_000_000, large.id, 200)
    assert small.exclusive_groups == f"{numbers[0]}, {numbers[1]}" and small.lot_seed == ""
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "category.update"))
    assert event.details["funding_method"] == ["greedy", "equal_shares"]
    page = client.get(f"/console/categories/{small.id}/edit").get_data(as_text=True)
    assert 'value="2,5"' in page and 'value="50000"' in page and f'value="{large.id}" selected' in page


def test_choosing_a_lot_draws_a_seed_once_and_keeps_it(client, moderator, session, setup):
    _cycle, small, _large, _projects = setup
    sign_in(client, moderator)
    assert post(client, f"/console/categories/{small.id}/edit", form(tie_break="lot")).status_code == 302
    session.refresh(small)
    seed = small.lot_seed
    assert len(seed) == 32
    assert post(client, f"/console/categories/{small.id}/edit", form(tie_break="lot")).status_code == 302
    session.refresh(small)
    assert small.lot_seed == seed
    assert seed in client.get(f"/console/categories/{small.id}/edit").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"funding_method": "dictator"}, "невідомий спосіб"),
        ({"tie_break": "coin"}, "невідоме правило рівних голосів"),
        ({"min_votes_share": "100,01"}, "частка голосів має бути від 0 до 100"),
        ({"min_votes_share": "п’ять"}, "Введіть частку у відсотках"),
        ({"min_votes_share": "-5"}, "Введіть частку у відсотках"),
        ({"min_project_cost": "150000"}, "найменша вартість"),
        ({"min_project_cost": "0"}, "Сума має бути більшою за нуль"),
        ({"completion_step": "0"}, "Сума має бути більшою за нуль"),
        ({"exclusive_groups": "{first}, 999"}, "немає допущеного проєкту № 999"),
        ({"exclusive_groups": "один, два"}, "Запишіть групи номерами"),
        ({"exclusive_groups": "7"}, "немає допущеного проєкту"),
        ({"leftover_to_id": "999999"}, "лише іншій категорії цього циклу"),
        ({"leftover_to_id": "99999999999999"}, "лише іншій категорії цього циклу"),
        ({"leftover_to_id": "{self}"}, "лише іншій категорії цього циклу"),
    ],
)
def test_a_funding_rule_that_cannot_work_is_refused_and_nothing_changes(
    client, moderator, session, setup, change, message
):
    _cycle, small, _large, projects = setup
    sign_in(client, moderator)
    change = {k: v.format(first=projects[0].number, self=small.id) for k, v in change.items()}
    response = post(client, f"/console/categories/{small.id}/edit", form(**change))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.refresh(small)
    assert (small.funding_method, small.tie_break, small.min_votes_share, small.exclusive_groups) == (
        "greedy",
        "cheaper",
        0,
        "",
    )
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_group_of_one_project_is_refused(client, moderator, session, setup):
    _cycle, small, _large, projects = setup
    sign_in(client, moderator)
    number = str(projects[0].number)
    response = post(
        client, f"/console/categories/{small.id}/edit", form(exclusive_groups=f"{number},{number}")
    )
    assert response.status_code == 422
    assert "щонайменше два різні" in response.get_data(as_text=True)


def test_leftovers_may_not_move_in_a_circle(client, moderator, session, setup):
    _cycle, small, large, _projects = setup
    sign_in(client, moderator)
    assert (
        post(client, f"/console/categories/{small.id}/edit", form(leftover_to_id=str(large.id))).status_code
        == 302
    )
    back = {
        "name": "Великі проєкти",
        "budget": "3000000",
        "max_choices": "1",
        "leftover_to_id": str(small.id),
    }
    response = post(client, f"/console/categories/{large.id}/edit", form(**back))
    assert response.status_code == 422
    assert "залишки передаються по колу" in response.get_data(as_text=True)
    assert session.get(Category, large.id).leftover_to_id is None


def test_the_english_form_names_the_methods(client, moderator, setup):
    _cycle, small, _large, _projects = setup
    sign_in(client, moderator)
    page = client.get(f"/console/categories/{small.id}/edit?lang=en").get_data(as_text=True)
    assert "Method of Equal Shares with completion" in page and "By ranking: stop at the first" in page


def test_a_project_cheaper_than_the_categorys_floor_is_refused(client, make, moderator, session):
    from server.models import Project

    community = session.get(type(make.community()), moderator.community_id)
    cycle = make.cycle(community, open_now=False)
    category = make.category(cycle, name="Великі проєкти", budget=3_000_000_00, min_project_cost=500_000_00)
    sign_in(client, moderator)
    project = {
        "number": "7",
        "title": "Сквер",
        "description": "",
        "cost": "499999,99",
        "district": "",
        "category_id": str(category.id),
    }
    response = post(client, f"/console/cycles/{cycle.id}/projects/new", project)
    assert response.status_code == 422
    assert "найменша вартість" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Project)) == 0
    assert (
        post(client, f"/console/cycles/{cycle.id}/projects/new", project | {"cost": "500000"}).status_code
        == 302
    )
