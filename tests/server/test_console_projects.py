"""Moderators adding projects to a cycle's ballot, admitting and rejecting them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Community, Project, Role
from tests.factories import CSRF_TOKEN, post, sign_in

TOKEN = CSRF_TOKEN


def grn(hryvnias: int) -> str:
    return f"{hryvnias:,}".replace(",", "\xa0") + " грн"


@pytest.fixture
def setup(make, session):
    """A moderator and a cycle that opens in ten days, with a small-projects category
    (budget 1 000 000 грн, at most 300 000 грн a project)."""
    community = make.community()
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    cycle = make.cycle(community, open_now=False)
    small = make.category(cycle, name="Малі проєкти", budget=1_000_000_00, max_project_cost=300_000_00)
    return community, moderator, cycle, small


def project_form(category, **change):
    return {
        "number": "7",
        "title": "Велодоріжка на Соборній",
        "description": "Два кілометри.\nЗ освітленням.",
        "cost": "250 000",
        "district": "Центральний",
        "category_id": str(category.id),
    } | change


def projects(session):
    return session.scalars(select(Project).order_by(Project.number)).all()


def test_a_moderator_adds_a_project_to_the_ballot(client, session, setup):
    _community, moderator, cycle, small = setup
    sign_in(client, moderator)
    new_page = client.get(f"/console/cycles/{cycle.id}/projects/new").get_data(as_text=True)
    assert 'name="number" type="text" value="1"' in new_page  # the next free number
    response = post(client, f"/console/cycles/{cycle.id}/projects/new", project_form(small))
    assert response.status_code == 302
    [project] = projects(session)
    assert (project.number, project.cost, project.status) == (7, 250_000_00, "admitted")
    assert project.description == "Два кілометри.\nЗ освітленням."
    assert project.community_id == cycle.community_id and project.cycle_id == cycle.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.create"))
    assert event.user_id == moderator.id and event.details["cost"] == 250_000_00
    detail = client.get(f"/console/cycles/{cycle.id}").get_data(as_text=True)
    assert "Велодоріжка на Соборній" in detail and grn(250_000) in detail


def test_a_project_number_is_unique_within_its_cycle(client, make, session, setup):
    _community, moderator, cycle, small = setup
    make.project(small, number=7)
    sign_in(client, moderator)
    response = post(client, f"/console/cycles/{cycle.id}/projects/new", project_form(small))
    assert response.status_code == 422
    assert "У циклі вже є проєкт з номером 7." in response.get_data(as_text=True)
    assert len(projects(session)) == 1


def test_a_project_dearer_than_the_categorys_limit_is_refused(client, session, setup):
    _community, moderator, cycle, small = setup
    sign_in(client, moderator)
    response = post(client, f"/console/cycles/{cycle.id}/projects/new", project_form(small, cost="350000"))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f"Проєкт коштує {grn(350_000)}, а в категорії «Малі проєкти» межа — {grn(300_000)}." in text
    assert projects(session) == []


def test_a_project_that_would_make_the_rule_impossible_is_refused(client, make, session, setup):
    _community, moderator, cycle, _small = setup
    tight = make.category(cycle, name="Двори", budget=100_000_00)
    sign_in(client, moderator)
    response = post(client, f"/console/cycles/{cycle.id}/projects/new", project_form(tight, cost="150000"))
    assert response.status_code == 422
    assert "менший за найдешевший проєкт" in response.get_data(as_text=True)
    assert projects(session) == []


def test_a_project_cannot_be_put_into_another_cycles_category(client, make, session, setup):
    _community, moderator, cycle, _small = setup
    foreign = make.category(make.cycle(open_now=False))  # another community's cycle
    sign_in(client, moderator)
    response = post(client, f"/console/cycles/{cycle.id}/projects/new", project_form(foreign))
    assert response.status_code == 422
    assert "Оберіть категорію цього циклу." in response.get_data(as_text=True)
    assert projects(session) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "", "Заповніть це поле."),
        ("number", "0", "Має бути число від 1 до 99999."),
        ("number", "-3", "Має бути число від 1 до 99999."),
        ("number", "сім", "Введіть ціле число."),
        ("title", "", "Заповніть це поле."),
        ("title", "П" * 10_000, "Не більше 200 символів."),
        ("description", "О" * 10_001, "Не більше 10000 символів."),
        ("district", "Р" * 201, "Не більше 200 символів."),
        ("cost", "0", "Сума має бути більшою за нуль"),
        ("cost", "-100", "Сума не може бути від’ємною."),
        ("cost", "1,5,0", "Введіть суму в гривнях"),
        ("cost", "9" * 100, "Число завелике."),
        ("category_id", "", "Заповніть це поле."),
        ("category_id", "1 OR 1=1", "Введіть ціле число."),
        ("category_id", "999999", "Оберіть категорію цього циклу."),
    ],
)
def test_a_bad_project_form_is_refused_and_nothing_is_saved(client, session, setup, field, value, message):
    _community, moderator, cycle, small = setup
    sign_in(client, moderator)
    response = post(client, f"/console/cycles/{cycle.id}/projects/new", project_form(small, **{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert projects(session) == []


def test_html_in_a_project_is_shown_as_text(client, session, setup):
    _community, moderator, cycle, small = setup
    sign_in(client, moderator)
    payload = "<b onmouseover=alert(1)>Сквер</b>"
    form = project_form(small, title=payload, description=payload, district=payload)
    assert post(client, f"/console/cycles/{cycle.id}/projects/new", form).status_code == 302
    [project] = projects(session)
    assert project.title == payload
    for url in [f"/console/cycles/{cycle.id}", f"/console/projects/{project.id}/edit"]:
        text = client.get(url).get_data(as_text=True)
        assert "<b onmouseover" not in text and "&lt;b onmouseover=alert(1)&gt;" in text


def test_a_moderator_edits_a_project_and_moves_it_to_another_category(client, make, session, setup):
    _community, moderator, cycle, small = setup
    large = make.category(cycle, name="Великі проєкти", budget=5_000_000_00)
    project = make.project(small, number=3, cost=200_000_00)
    sign_in(client, moderator)
    form = project_form(large, number="3", cost="1 200 000,50", title="Стадіон")
    assert post(client, f"/console/projects/{project.id}/edit", form).status_code == 302
    session.refresh(project)
    assert (project.category_id, project.cost, project.title) == (large.id, 120_000_050, "Стадіон")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.update"))
    assert event.details["cost"] == [200_000_00, 120_000_050]


def test_a_project_is_rejected_with_a_reason_and_admitted_again(client, make, session, setup):
    _community, moderator, _cycle, small = setup
    project = make.project(small)
    sign_in(client, moderator)
    assert post(client, f"/console/projects/{project.id}/reject", {"reason": ""}).status_code == 422
    session.refresh(project)
    assert project.status == "admitted"

    response = post(client, f"/console/projects/{project.id}/reject", {"reason": "Земля не комунальна."})
    assert response.status_code == 302
    session.refresh(project)
    assert (project.status, project.rejection_reason) == ("rejected", "Земля не комунальна.")
    assert "Земля не комунальна." in client.get(f"/console/projects/{project.id}/edit").get_data(as_text=True)

    assert post(client, f"/console/projects/{project.id}/admit").status_code == 302
    session.refresh(project)
    assert (project.status, project.rejection_reason) == ("admitted", "")
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["project.reject", "project.admit"]


def test_rejecting_a_project_the_rule_depends_on_is_refused(client, make, session, setup):
    _community, moderator, cycle, _small = setup
    pair = make.category(cycle, name="Оберіть два", min_choices=2, max_choices=2)
    first = make.project(pair)
    make.project(pair)
    sign_in(client, moderator)
    response = post(client, f"/console/projects/{first.id}/reject", {"reason": "Дублює інший."})
    assert response.status_code == 422
    assert "Мінімум (2) більший за кількість допущених проєктів (1)." in response.get_data(as_text=True)
    session.refresh(first)
    assert first.status == "admitted"


def test_a_rejected_project_over_the_limit_cannot_be_admitted(client, make, session, setup):
    _community, moderator, _cycle, small = setup
    project = make.project(small, cost=400_000_00, status="rejected", rejection_reason="Задорогий.")
    sign_in(client, moderator)
    response = post(client, f"/console/projects/{project.id}/admit")
    assert response.status_code == 422
    assert "межа" in response.get_data(as_text=True)
    session.refresh(project)
    assert project.status == "rejected"


def test_once_voting_has_started_the_ballot_is_frozen_but_texts_can_be_fixed(client, make, session):
    community = make.community()
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    cycle = make.cycle(community, open_now=True)
    category = make.category(cycle)
    project = make.project(category, number=1, cost=100_000_00)
    sign_in(client, moderator)
    base = project_form(category, number="1", cost="100000")
    refused = [
        post(client, f"/console/cycles/{cycle.id}/projects/new", project_form(category, number="2")),
        post(client, f"/console/projects/{project.id}/edit", base | {"cost": "90000"}),
        post(client, f"/console/projects/{project.id}/edit", base | {"number": "5"}),
        post(client, f"/console/projects/{project.id}/reject", {"reason": "Пізно."}),
    ]
    assert [r.status_code for r in refused] == [422] * 4
    assert "Голосування вже почалося" in refused[0].get_data(as_text=True)
    assert (
        post(client, f"/console/projects/{project.id}/edit", base | {"title": "Без помилки"}).status_code
        == 302
    )
    session.refresh(project)
    assert (project.title, project.number, project.cost, project.status) == (
        "Без помилки",
        1,
        100_000_00,
        "admitted",
    )
    assert session.scalar(select(func.count()).select_from(Project)) == 1


def test_admit_and_reject_need_a_post_with_the_csrf_token(client, make, session, setup):
    _community, moderator, _cycle, small = setup
    project = make.project(small)
    sign_in(client, moderator)
    assert client.get(f"/console/projects/{project.id}/reject").status_code == 405
    assert client.post(f"/console/projects/{project.id}/reject", data={"reason": "x"}).status_code == 400
    session.refresh(project)
    assert project.status == "admitted"
    assert session.get(Community, project.community_id) is not None
