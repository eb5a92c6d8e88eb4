"""Schools in the console: the community moderator adds schools and their moderators; a
school moderator runs the school's contest and its projects; the community sees every
school's contest on its school budget's page, and contests are not listed as cycles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.i18n import KYIV
from server.models import (
    AuditEvent,
    Category,
    Cycle,
    Project,
    Role,
    School,
    SchoolContest,
    User,
)
from server.school.code_votes import cast_by_code
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from tests.factories import CSRF_TOKEN, post, sign_in

PASSWORD = "a long enough password"


def local_input(moment: datetime) -> str:
    """A moment as a moderator types it into a datetime-local field, in Kyiv time."""
    return moment.astimezone(KYIV).strftime("%Y-%m-%dT%H:%M")


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def audit_count(session) -> int:
    return count(session, AuditEvent)


@pytest.fixture
def community(make):
    return make.community(name="Полтавська громада")


@pytest.fixture
def programme(make, community):
    """The community's school budget: voting from tomorrow for two months."""
    now = datetime.now(UTC)
    return make.cycle(
        community,
        open_now=False,
        kind="school",
        title="Шкільний бюджет 2027",
        slug="shb-2027",
        voting_starts_at=now + timedelta(days=1),
        voting_ends_at=now + timedelta(days=60),
    )


@pytest.fixture
def school(make, community):
    return make.school(community, name="Ліцей № 5")


@pytest.fixture
def teacher(make, community, school):
    return make.user(Role.SCHOOL_MODERATOR, community, school_id=school.id)


def contest_form(programme, **change):
    now = datetime.now(UTC)
    return {
        "programme_id": str(programme.id),
        "budget": "50 000",
        "max_choices": "2",
        "voting_starts_at": local_input(now + timedelta(days=2)),
        "voting_ends_at": local_input(now + timedelta(days=20)),
        "grades": "5-11",
    } | change


# --- schools ------------------------------------------------------------------------------


def test_a_community_moderator_adds_and_renames_a_school(client, make, session, community):
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)
    assert 'href="/console/schools"' in client.get("/console/").get_data(as_text=True)
    response = post(client, "/console/schools/new", name="  Ліцей № 5 ", address="вул. Шкільна, 1")
    assert response.status_code == 302
    school = session.scalar(select(School))
    assert (school.name, school.address, school.community_id) == (
        "Ліцей № 5",
        "вул. Шкільна, 1",
        community.id,
    )
    assert response.headers["Location"].endswith(f"/console/schools/{school.id}")
    assert "Ліцей № 5" in client.get("/console/schools").get_data(as_text=True)

    assert (
        post(client, f"/console/schools/{school.id}/edit", name="Ліцей № 5 імені Лесі Українки").status_code
        == 302
    )
    session.refresh(school)
    assert school.name == "Ліцей № 5 імені Лесі Українки" and school.address == ""
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["school.create", "school.update"]
    assert session.scalar(select(AuditEvent.user_id).limit(1)) == moderator.id


def test_an_administrator_chooses_the_schools_community(client, make, session, community):
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert post(client, "/console/schools/new", name="Гімназія № 1").status_code == 422
    response = post(client, "/console/schools/new", name="Гімназія № 1", community_id=str(community.id))
    assert response.status_code == 302
    assert session.scalar(select(School.community_id)) == community.id


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": ""}, "Заповніть це поле."),
        ({"name": "   "}, "Заповніть це поле."),
        ({"name": "Ш" * 10_000}, "Не більше 200 символів."),
        ({"name": "Ліцей\x00"}, "Текст містить недопустимі службові символи."),
        ({"name": "\u202eЛіцей"}, "Текст містить недопустимі службові символи."),
        ({"name": "Ліцей\nдругий рядок"}, "Текст містить недопустимі службові символи."),
        ({"name": "Ліцей", "address": "а" * 10_000}, "Не більше 300 символів."),
        ({"name": "Ліцей № 5"}, "У громаді вже є школа з такою назвою."),
    ],
)
def test_a_bad_school_form_is_refused_and_nothing_is_saved(
    client, make, session, community, school, form, message
):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    events = audit_count(session)
    response = post(client, "/console/schools/new", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(session, School) == 1 and audit_count(session) == events
    response = post(client, f"/console/schools/{school.id}/edit", form | {"name": form["name"] or ""})
    if form["name"] != "Ліцей № 5":  # renaming a school to its own name is no clash
        assert response.status_code == 422
    session.refresh(school)
    assert school.name == "Ліцей № 5" and audit_count(session) == events


def test_the_same_school_name_is_fine_in_another_community(client, make, session, school):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, make.community()))
    assert post(client, "/console/schools/new", name="Ліцей № 5").status_code == 302
    assert count(session, School) == 2


def test_school_forms_without_the_csrf_token_change_nothing(
    client, make, session, community, school, programme
):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    for url, data in [
        ("/console/schools/new", {"name": "Нова"}),
        (f"/console/schools/{school.id}/edit", {"name": "Нова"}),
        (f"/console/schools/{school.id}/contests/new", contest_form(programme)),
    ]:
        assert client.post(url, data=data).status_code == 400
        assert client.post(url, data=data | {"csrf_token": "forged" + CSRF_TOKEN[6:]}).status_code == 400
    session.refresh(school)
    assert school.name == "Ліцей № 5" and count(session, School) == 1 and count(session, SchoolContest) == 0


# --- school moderators ------------------------------------------------------------------


def user_form(**change):
    return {
        "login": "vchytel@licey5.example",
        "display_name": "Ірина Коваль",
        "role": "school_moderator",
        "password": PASSWORD,
        "password_repeated": PASSWORD,
    } | change


def test_a_community_moderator_creates_a_school_moderator_for_one_of_its_schools(
    client, make, session, community, school
):
    make.school(community, name="Гімназія № 2")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    form_page = client.get("/console/users/new").get_data(as_text=True)
    assert f'<option value="{school.id}">Ліцей № 5</option>' in form_page and "Гімназія № 2" in form_page
    assert post(client, "/console/users/new", user_form(school_id=str(school.id))).status_code == 302
    teacher = session.scalar(select(User).where(User.login == "vchytel@licey5.example"))
    assert (teacher.role, teacher.community_id, teacher.school_id) == (
        "school_moderator",
        community.id,
        school.id,
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.details["school_id"] == school.id
    listed = client.get("/console/users").get_data(as_text=True)
    assert "vchytel@licey5.example" in listed and "Ліцей № 5" in listed
    school_page = client.get(f"/console/schools/{school.id}").get_data(as_text=True)
    assert "Ірина Коваль" in school_page


@pytest.mark.parametrize("school_id", ["", "abc", "-1", "0", "99999999999999", "1 OR 1=1", "\x00"])
def test_a_school_moderator_without_a_school_of_the_community_is_refused(
    client, make, session, community, school, school_id
):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    users = count(session, User)
    response = post(client, "/console/users/new", user_form(school_id=school_id))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Оберіть школу: модератор школи керує однією школою своєї громади." in text
    assert 'id="e-school_id"' in text
    assert count(session, User) == users and audit_count(session) == 0


def test_a_school_of_another_community_cannot_be_given(client, make, session, community):
    elsewhere = make.school(make.community(), name="Чужа школа")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert "Чужа школа" not in client.get("/console/users/new").get_data(as_text=True)
    response = post(client, "/console/users/new", user_form(school_id=str(elsewhere.id)))
    assert response.status_code == 422
    assert session.scalar(select(User).where(User.login == "vchytel@licey5.example")) is None
    client.get("/console/?lang=en")
    response = post(client, "/console/users/new", user_form(school_id=str(elsewhere.id)))
    assert "Choose a school: a school moderator runs one school of their community." in response.get_data(
        as_text=True
    )


def test_other_roles_are_given_no_school(client, make, session, community, school):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    form = user_form(role="support_operator", school_id=str(school.id))
    assert post(client, "/console/users/new", form).status_code == 302
    assert session.scalar(select(User.school_id).where(User.login == "vchytel@licey5.example")) is None


def test_a_school_moderator_finds_their_school_in_the_menu(client, session, school, teacher):
    sign_in(client, teacher)
    overview = client.get("/console/").get_data(as_text=True)
    assert 'href="/console/my-school"' in overview and 'href="/console/schools"' not in overview
    response = client.get("/console/my-school")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/console/schools/{school.id}"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ліцей № 5" in page and "Змінити назву чи адресу" not in page
    assert client.get("/console/schools").status_code == 403
    assert client.get("/console/schools/new").status_code == 403


def test_a_school_moderator_without_a_school_is_told_whom_to_ask(client, make, community):
    sign_in(client, make.user(Role.SCHOOL_MODERATOR, community))
    response = client.get("/console/my-school")
    assert response.status_code == 403
    assert "Вашому обліковому запису не призначено школу" in response.get_data(as_text=True)


# --- contests ---------------------------------------------------------------------------


def test_a_school_moderator_creates_and_changes_the_schools_contest(
    client, session, school, teacher, programme
):
    sign_in(client, teacher)
    form_page = client.get(f"/console/schools/{school.id}/contests/new?programme_id={programme.id}")
    assert form_page.status_code == 200
    assert local_input(programme.voting_starts_at) in form_page.get_data(as_text=True)
    response = post(
        client, f"/console/schools/{school.id}/contests/new", contest_form(programme, budget="50 000,50")
    )
    assert response.status_code == 302
    contest = session.scalar(select(SchoolContest))
    assert response.headers["Location"].endswith(f"/console/contests/{contest.id}")
    assert (contest.school_id, contest.programme_cycle_id, contest.grades) == (
        school.id,
        programme.id,
        [5, 6, 7, 8, 9, 10, 11],
    )
    category = session.scalar(select(Category).where(Category.cycle_id == contest.cycle_id))
    assert (category.budget, category.max_choices) == (50_000_50, 2)
    cycle = session.get(Cycle, contest.cycle_id)
    assert (
        cycle.kind == "school_contest"
        and local_input(cycle.voting_ends_at) == contest_form(programme)["voting_ends_at"]
    )
    page = client.get(f"/console/contests/{contest.id}").get_data(as_text=True)
    assert "до голосування" in page and "Кожен учень обирає від 1 до 2 проєктів." in page

    # The programme is taken: the school page no longer offers it.
    assert "Створити конкурс" not in client.get(f"/console/schools/{school.id}").get_data(as_text=True)
    again = post(client, f"/console/schools/{school.id}/contests/new", contest_form(programme))
    assert again.status_code == 422
    assert "Ця школа вже має конкурс у цьому шкільному бюджеті." in again.get_data(as_text=True)

    edit = client.get(f"/console/contests/{contest.id}/edit").get_data(as_text=True)
    assert 'value="5-11"' in edit and 'value="50000.50"' in edit
    changed = post(
        client,
        f"/console/contests/{contest.id}/edit",
        contest_form(programme, grades="5, 6, 7", max_choices="1"),
    )
    assert changed.status_code == 302
    session.expire_all()
    assert session.get(SchoolContest, contest.id).grades == [5, 6, 7]
    assert session.scalar(select(Category.max_choices).where(Category.cycle_id == contest.cycle_id)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": "-5"}, "Сума не може бути від’ємною."),
        ({"budget": "abc"}, "Введіть суму в гривнях"),
        ({"budget": "9" * 40}, "Число завелике."),
        ({"budget": ""}, "Заповніть це поле."),
        ({"max_choices": "0"}, "Від 1 до 20 проєктів."),
        ({"max_choices": "21"}, "Від 1 до 20 проєктів."),
        ({"max_choices": "abc"}, "Введіть ціле число."),
        ({"grades": "13"}, "Класи, що голосують: числа від 1 до 12"),
        ({"grades": "11-5"}, "Класи, що голосують: числа від 1 до 12"),
        ({"grades": "5-"}, "Класи, що голосують: числа від 1 до 12"),
        ({"grades": "5" * 10_000}, "Класи, що голосують: числа від 1 до 12"),
        ({"grades": "5\u202e-11"}, "Класи, що голосують: числа від 1 до 12"),
        ({"grades": ""}, "Заповніть це поле."),
        ({"voting_starts_at": "завтра"}, "Введіть дату й час"),
        ({"voting_ends_at": "2027-02-30T10:00"}, "Введіть дату й час"),
        ({"voting_starts_at": "\x00" * 10_000}, "Введіть дату й час"),
        (
            {"voting_ends_at": local_input(datetime.now(UTC) + timedelta(days=1, hours=12))},
            "пізніше за початок",
        ),
        (
            {"voting_ends_at": local_input(datetime.now(UTC) + timedelta(days=90))},
            "в межах шкільного бюджету",
        ),
        ({"programme_id": "abc"}, "Оберіть шкільний бюджет вашої громади."),
        ({"programme_id": "99999999999999"}, "Оберіть шкільний бюджет вашої громади."),
        ({"programme_id": ""}, "Оберіть шкільний бюджет вашої громади."),
    ],
)
def test_a_bad_contest_form_is_refused_and_nothing_changes(
    client, session, school, teacher, programme, change, message
):
    sign_in(client, teacher)
    cycles, events = count(session, Cycle), audit_count(session)
    response = post(client, f"/console/schools/{school.id}/contests/new", contest_form(programme, **change))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(session, SchoolContest) == 0 and count(session, Cycle) == cycles
    assert audit_count(session) == events


def test_a_contest_cannot_be_made_for_another_communitys_or_a_public_budget(
    client, make, session, community, school, teacher
):
    """Id tampering: the form only offers the community's own school budgets."""
    foreign = make.cycle(make.community(), open_now=False, kind="school")
    public = make.cycle(community, open_now=False)
    sign_in(client, teacher)
    for other in (foreign, public):
        response = post(client, f"/console/schools/{school.id}/contests/new", contest_form(other))
        assert response.status_code == 422
        assert "Оберіть шкільний бюджет вашої громади." in response.get_data(as_text=True)
    assert count(session, SchoolContest) == 0 and count(session, Cycle) == 2


def test_a_contest_cannot_join_a_school_budget_whose_voting_has_ended(
    client, make, session, community, school, teacher
):
    now = datetime.now(UTC)
    past = make.cycle(
        community,
        kind="school",
        voting_starts_at=now - timedelta(days=30),
        voting_ends_at=now - timedelta(days=1),
    )
    sign_in(client, teacher)
    assert "Створити конкурс" not in client.get(f"/console/schools/{school.id}").get_data(as_text=True)
    response = post(client, f"/console/schools/{school.id}/contests/new", contest_form(past))
    assert "Голосування цього шкільного бюджету вже завершено." in response.get_data(as_text=True)
    assert count(session, SchoolContest) == 0


def test_once_voting_starts_the_contests_budget_and_rule_are_fixed(client, make, session, school, teacher):
    contest = make.school_contest(school, open_now=True)
    sign_in(client, teacher)
    edit = client.get(f"/console/contests/{contest.id}/edit").get_data(as_text=True)
    assert "Голосування вже почалося" in edit
    values = {
        "budget": "1",
        "max_choices": "2",
        "voting_starts_at": local_input(contest.cycle.voting_starts_at),
        "voting_ends_at": local_input(contest.cycle.voting_ends_at),
        "grades": "5-11",
    }
    response = post(client, f"/console/contests/{contest.id}/edit", values)
    assert response.status_code == 422
    session.expire_all()
    assert session.get(Category, contest.category.id).budget == 50_000_00


# --- projects ---------------------------------------------------------------------------


def test_a_school_moderator_adds_changes_rejects_and_admits_projects(client, make, session, school, teacher):
    contest = make.school_contest(school, open_now=False, projects=0)
    sign_in(client, teacher)
    new_page = client.get(f"/console/contests/{contest.id}/projects/new").get_data(as_text=True)
    assert 'name="number" type="text" value="1"' in new_page and 'name="district"' not in new_page
    form = {"number": "1", "title": "Тенісний стіл", "description": "Для перерв.", "cost": "15 000"}
    response = post(client, f"/console/contests/{contest.id}/projects/new", form)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/console/contests/{contest.id}"
    )
    project = session.scalar(select(Project))
    assert (project.cycle_id, project.category_id, project.cost) == (
        contest.cycle.id,
        contest.category.id,
        15_000_00,
    )

    edited = post(
        client, f"/console/school-projects/{project.id}/edit", form | {"title": "Два тенісні столи"}
    )
    assert edited.status_code == 302 and edited.headers["Location"].endswith(
        f"/console/contests/{contest.id}"
    )
    rejected = post(client, f"/console/school-projects/{project.id}/reject", reason="Немає місця.")
    assert rejected.status_code == 302
    session.refresh(project)
    assert (project.title, project.status, project.rejection_reason) == (
        "Два тенісні столи",
        "rejected",
        "Немає місця.",
    )
    assert post(client, f"/console/school-projects/{project.id}/admit").status_code == 302
    session.refresh(project)
    assert project.status == "admitted"
    page = client.get(f"/console/contests/{contest.id}").get_data(as_text=True)
    assert "Два тенісні столи" in page and "15\xa0000 грн" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Заповніть це поле."),
        ({"title": "П" * 10_000}, "title", "Не більше 200 символів."),
        ({"title": "Стіл\x07"}, "title", "Текст містить недопустимі службові символи."),
        ({"title": "\u202eСтіл"}, "title", "Текст містить недопустимі службові символи."),
        ({"description": "о" * 20_000}, "description", "Не більше 10000 символів."),
        ({"cost": "-1"}, "cost", "Сума не може бути від’ємною."),
        ({"cost": "дорого"}, "cost", "Введіть суму в гривнях"),
        ({"number": "abc"}, "number", "Введіть ціле число."),
        ({"number": "0"}, "number", "Має бути число від 1 до 99999."),
        ({"number": "taken"}, "number", "У циклі вже є проєкт з номером"),
    ],
)
def test_a_bad_project_form_is_refused_and_nothing_is_saved(
    client, make, session, school, teacher, change, field, message
):
    contest = make.school_contest(school, open_now=False, projects=1)
    sign_in(client, teacher)
    before = session.scalars(select(Project.title)).all()
    if change.get("number") == "taken":
        change = {"number": str(session.scalar(select(Project.number)))}
    form = {"number": "2", "title": "Тенісний стіл", "description": "", "cost": "15000"} | change
    response = post(client, f"/console/contests/{contest.id}/projects/new", form)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text and f'id="e-{field}"' in text
    assert session.scalars(select(Project.title)).all() == before


def test_a_schools_project_form_never_moves_a_project_to_another_ballot(
    client, make, session, school, teacher
):
    """The category is the contest's, whatever the form says."""
    contest = make.school_contest(school, open_now=False, projects=1)
    public_category = make.category(make.cycle(make.community(), open_now=False))
    sign_in(client, teacher)
    form = {"number": "2", "title": "Стіл", "cost": "100", "category_id": str(public_category.id)}
    assert post(client, f"/console/contests/{contest.id}/projects/new", form).status_code == 302
    assert session.scalar(select(Project.category_id).where(Project.number == 2)) == contest.category.id


# --- the community's view ---------------------------------------------------------------


def test_contest_cycles_are_not_listed_among_the_communitys_cycles(client, make, session, community, school):
    contest = make.school_contest(school)
    public = make.cycle(community, title="Громадський бюджет 2027")
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)
    for url in ("/console/cycles", "/console/"):
        text = client.get(url).get_data(as_text=True)
        assert public.title in text and contest.programme.title in text, url
        assert contest.cycle.title not in text and f"/console/cycles/{contest.cycle.id}" not in text, url
    # Its address leads to the contest, reached through the school.
    response = client.get(f"/console/cycles/{contest.cycle.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/console/contests/{contest.id}"
    )
    for url in (
        f"/console/cycles/{contest.cycle.id}/edit",
        f"/console/cycles/{contest.cycle.id}/categories/new",
        f"/console/categories/{contest.category.id}/edit",
    ):
        assert client.get(url).headers["Location"].endswith(f"/console/contests/{contest.id}/edit"), url
        assert post(client, url, name="Друга категорія", budget="1").status_code == 302, url
    assert count(session, Category) == 1
    school_page = client.get(f"/console/schools/{school.id}").get_data(as_text=True)
    assert f"/console/contests/{contest.id}" in school_page


def test_a_cycle_form_cannot_make_a_contest_cycle(client, make, session, community):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    now = datetime.now(UTC)
    form = {
        "title": "Підроблений конкурс",
        "slug": "fake",
        "kind": "school_contest",
        "voting_starts_at": local_input(now + timedelta(days=2)),
        "voting_ends_at": local_input(now + timedelta(days=9)),
        "min_total": "1",
    }
    response = post(client, "/console/cycles/new", form)
    assert response.status_code == 422 and "Оберіть один із варіантів." in response.get_data(as_text=True)
    assert count(session, Cycle) == 0


def test_the_school_budget_page_shows_each_schools_contest_and_results(app, client, make, session, community):
    keys = app_code_keys(app)
    first = make.school_contest(make.school(community, name="Ліцей № 5"), projects=2, max_choices=1)
    second = make.school_contest(make.school(community, name="Гімназія № 2"), projects=2)
    # Both contests in one school budget, as schools join it.
    session.get_one(SchoolContest, second.id).programme_cycle_id = first.programme.id
    session.commit()
    codes = issue_codes(session, first, "6-А", 4, keys)
    issue_codes(session, second, "7-Б", 3, keys)
    session.commit()
    winner = session.scalar(
        select(Project).where(Project.cycle_id == first.cycle.id, Project.number.is_not(None))
    )
    cast_by_code(session, keys, codes[0].code, [winner.id])
    session.commit()

    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    page = client.get(f"/console/cycles/{first.programme.id}").get_data(as_text=True)
    assert "Конкурси шкіл" in page and "Ліцей № 5" in page and "Гімназія № 2" in page
    assert "Додати категорію" not in page
    assert "25,0%" in page and "(1 / 4)" in page  # one card of four used
    assert "0,0%" in page and "(0 / 3)" in page
    assert winner.title in page and "проміжні" in page
    assert "немає профінансованих проєктів" in page  # nobody voted at the gymnasium
    assert f"/console/contests/{first.id}/results" in page


def test_contest_results_are_published_only_after_voting_closes(app, client, make, session, school, teacher):
    contest = make.school_contest(school, projects=2)
    keys = app_code_keys(app)
    [code] = issue_codes(session, contest, "6-А", 1, keys)
    project = session.scalar(select(Project).where(Project.cycle_id == contest.cycle.id).limit(1))
    cast_by_code(session, keys, code.code, [project.id])
    session.commit()
    sign_in(client, teacher)
    running = client.get(f"/console/contests/{contest.id}/results").get_data(as_text=True)
    assert "проміжні результати, їх бачать лише модератори" in running and project.title in running
    assert "Опублікувати результати</button>" not in running
    refused = post(client, f"/console/contests/{contest.id}/results/publish", confirm="yes")
    assert refused.status_code == 302
    session.expire_all()
    assert session.get(Cycle, contest.cycle.id).results_published_at is None

    cycle = session.get(Cycle, contest.cycle.id)
    cycle.voting_ends_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    closed = client.get(f"/console/contests/{contest.id}/results").get_data(as_text=True)
    assert "Опублікувати результати</button>" in closed
    assert post(client, f"/console/contests/{contest.id}/results/publish", confirm="yes").status_code == 302
    session.expire_all()
    assert session.get(Cycle, contest.cycle.id).results_published_at is not None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "results.publish"))
    assert event.user_id == teacher.id
    community = session.get_one(School, school.id).community_id
    from server.models import Community

    slug = session.get_one(Community, community).slug
    public = client.get(f"/results/{slug}/{cycle.slug}")
    assert public.status_code == 200 and project.title in public.get_data(as_text=True)
    assert post(client, f"/console/contests/{contest.id}/results/unpublish", confirm="yes").status_code == 302
    assert client.get(f"/results/{slug}/{cycle.slug}").status_code == 404
