"""A school moderator making voting codes for classes, printing the cards, following how
many have been used, and replacing a lost card: through the console, end to end."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from server.i18n import KYIV
from server.models import AuditEvent, CodeBatch, Project, Role, SchoolContest, User, Vote, VotingCode
from server.school.code_votes import CodeRefused, cast_by_code, find_code
from server.school.codes import issue_codes
from server.school.contests import load_contest
from server.school.keys import app_code_keys
from tests.factories import CSRF_TOKEN, post, sign_in

PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_pages(data: bytes) -> int:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return len(PAGE.findall(data))


def local_input(moment: datetime) -> str:
    """A moment as a moderator types it into a datetime-local field, in Kyiv time."""
    return moment.astimezone(KYIV).strftime("%Y-%m-%dT%H:%M")


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def class_url(contest_id: int, class_name: str, tail: str = "") -> str:
    return f"/console/contests/{contest_id}/classes/{class_name}{tail}"


def open_voting(session, contest_id: int) -> None:
    """Move the contest's window so that voting runs now, as time passing would."""
    contest = load_contest(session, session.get_one(SchoolContest, contest_id))
    contest.programme.voting_starts_at = contest.cycle.voting_starts_at = datetime.now(UTC) - timedelta(
        hours=1
    )
    session.commit()


def code_count(session) -> int:
    return session.scalar(select(func.count()).select_from(VotingCode))


@pytest.fixture
def school_setup(make, session):
    """A school with a moderator and a contest that opens in two days."""
    community = make.community()
    school = make.school(community, name="Ліцей № 5")
    moderator = make.user(Role.SCHOOL_MODERATOR, community, school_id=school.id)
    contest = make.school_contest(school, open_now=False)
    return school, moderator, contest


def test_a_school_moderator_prints_codes_for_two_classes_and_follows_their_use(app, client, make, session):
    # The community moderator adds the school and gives it a moderator.
    community = make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    school_page = post(client, "/console/schools/new", name="Ліцей № 5", address="вул. Шкільна, 1")
    assert school_page.status_code == 302
    school_id = int(school_page.headers["Location"].rsplit("/", 1)[1])
    programme = make.cycle(
        community,
        open_now=False,
        kind="school",
        title="Шкільний бюджет 2027",
        voting_starts_at=datetime.now(UTC) + timedelta(days=1),
        voting_ends_at=datetime.now(UTC) + timedelta(days=60),
    )
    created = post(
        client,
        "/console/users/new",
        login="vchytel@licey5.example",
        display_name="Ірина Коваль",
        role="school_moderator",
        school_id=str(school_id),
        password="a long enough password",
        password_repeated="a long enough password",
    )
    assert created.status_code == 302

    # The school moderator signs in, finds their school, creates the contest.
    teacher = session.scalar(select(User).where(User.login == "vchytel@licey5.example"))
    assert teacher.school_id == school_id
    sign_in(client, teacher)
    assert client.get("/console/my-school").headers["Location"].endswith(f"/console/schools/{school_id}")
    page = client.get(f"/console/schools/{school_id}").get_data(as_text=True)
    assert "Шкільний бюджет 2027" in page and "Створити конкурс" in page
    now = datetime.now(UTC)
    response = post(
        client,
        f"/console/schools/{school_id}/contests/new",
        programme_id=str(programme.id),
        budget="50 000",
        max_choices="2",
        voting_starts_at=local_input(now + timedelta(days=2)),
        voting_ends_at=local_input(now + timedelta(days=20)),
        grades="5-11",
    )
    assert response.status_code == 302
    contest_id = int(response.headers["Location"].rsplit("/", 1)[1])

    # Projects, while voting has not started.
    for number, title, cost in [(1, "Тенісний стіл", "15000"), (2, "Кімнатні рослини", "8000,50")]:
        added = post(
            client, f"/console/contests/{contest_id}/projects/new", number=str(number), title=title, cost=cost
        )
        assert added.status_code == 302 and added.headers["Location"].endswith(
            f"/console/contests/{contest_id}"
        )

    # Codes for two classes ("6а" typed quickly is class 6-А).
    issued = post(client, f"/console/contests/{contest_id}/codes", class_name="6а", count="28")
    assert issued.status_code == 302
    assert "/classes/6-%D0%90" in issued.headers["Location"]
    assert (
        post(client, f"/console/contests/{contest_id}/codes", class_name="6-Б", count="27").status_code == 302
    )
    class_page = client.get(class_url(contest_id, "6-А")).get_data(as_text=True)
    assert "Клас 6-А" in class_page and "Картку втрачено — замінити" in class_page

    # The cards: a PDF of 28 cards is 3 sheets of 10 or 4 of 8; a PNG for each code.
    assert pdf_pages(client.get(class_url(contest_id, "6-А", "/cards.pdf?layout=10")).data) == 3
    assert pdf_pages(client.get(class_url(contest_id, "6-А", "/cards.pdf?layout=8")).data) == 4
    archive = zipfile.ZipFile(io.BytesIO(client.get(class_url(contest_id, "6-А", "/codes.zip")).data))
    names = archive.namelist()
    assert len(names) == 28 and names[0] == "6-A-001.png"
    # A decoder other than ours reads the PNG: the card's link to the student's page.
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(archive.read(names[0]))))
    assert re.fullmatch(r"http://localhost/s/[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", barcode.text)

    # The contest page counts the cards of each class.
    contest_page = client.get(f"/console/contests/{contest_id}").get_data(as_text=True)
    assert re.search(r"6-А</a></td>\s*<td class=\"num\">28</td>", contest_page)
    assert re.search(r"6-Б</a></td>\s*<td class=\"num\">27</td>", contest_page)

    # Voting opens; every code in the CSV is a code a student can vote with.
    open_voting(session, contest_id)
    keys = app_code_keys(app)
    rows = csv_rows(client.get(class_url(contest_id, "6-А", "/codes.csv")).data)
    assert len(rows) == 28 and {r["class"] for r in rows} == {"6-А"} and rows[0]["school"] == "Ліцей № 5"
    assert [int(r["number"]) for r in rows] == list(range(1, 29))
    for row in rows:
        assert find_code(session, keys, row["code"]).contest.id == contest_id
        assert row["url"] == f"http://localhost/s/{row['code']}"
    assert barcode.text in {r["url"] for r in rows}

    # One student votes; the class shows one card used, and it is not printed again.
    first, second = rows[0], rows[1]
    project_ids = list(session.scalars(select(Project.id).order_by(Project.number)))
    cast_by_code(session, keys, first["code"], [project_ids[0]])
    session.commit()
    class_page = client.get(class_url(contest_id, "6-А")).get_data(as_text=True)
    assert re.search(r"<div class=\"big\">1</div>використано", class_page)
    reprint = csv_rows(client.get(class_url(contest_id, "6-А", "/codes.csv")).data)
    assert len(reprint) == 27 and first["code"] not in {r["code"] for r in reprint}
    assert pdf_pages(client.get(class_url(contest_id, "6-А", "/cards.pdf?layout=10")).data) == 3
    used = session.scalar(select(VotingCode).where(VotingCode.class_name == "6-А", VotingCode.number == 1))
    assert client.get(f"/console/codes/{used.id}/card.pdf").status_code == 404

    # A student lost card № 2: it is replaced; the old code no longer votes.
    lost = session.scalar(select(VotingCode).where(VotingCode.class_name == "6-А", VotingCode.number == 2))
    replaced = post(client, f"/console/codes/{lost.id}/replace", confirm="yes", reason="загубив у їдальні")
    assert replaced.status_code == 302
    session.expire_all()
    with pytest.raises(CodeRefused) as refused:
        find_code(session, keys, second["code"])
    assert refused.value.code == "code.revoked"
    new_card = session.scalar(select(VotingCode).where(VotingCode.replaces_id == lost.id))
    assert (new_card.class_name, new_card.number) == ("6-А", 2)
    assert f"replaced={new_card.id}" in replaced.headers["Location"]
    offer = client.get(replaced.headers["Location"]).get_data(as_text=True)
    assert f"/console/codes/{new_card.id}/card.pdf" in offer and "загубив у їдальні" in offer
    assert pdf_pages(client.get(f"/console/codes/{new_card.id}/card.pdf").data) == 1

    # The usage table: issued 29 (28 + the replacement), 1 used, 1 revoked, 27 unused.
    session.expire_all()
    contest_page = client.get(f"/console/contests/{contest_id}").get_data(as_text=True)
    assert re.search(
        r"6-А</a></td>\s*<td class=\"num\">29</td>\s*<td class=\"num\">1</td>\s*"
        r"<td class=\"num\">1</td>\s*<td class=\"num\">27</td>",
        contest_page,
    )

    # Every download is in the audit log, none of them with a code in it.
    downloads = session.scalars(select(AuditEvent).where(AuditEvent.action == "school_codes.download")).all()
    assert len(downloads) == 7 and all(e.user_id == teacher.id for e in downloads)
    assert {e.details["format"] for e in downloads} == {"pdf", "csv", "png"}
    every_event = str([e.details for e in session.scalars(select(AuditEvent))])
    for row in rows:
        assert row["code"] not in every_event and row["code"].replace("-", "") not in every_event


def test_downloads_are_files_that_no_browser_or_proxy_keeps(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    issue_codes(session, contest, "7-В", 3, app_code_keys(app))
    session.commit()
    code_id = session.scalar(select(VotingCode.id).limit(1))
    sign_in(client, moderator)
    for url, mimetype in [
        (class_url(contest.id, "7-В", "/cards.pdf"), "application/pdf"),
        (class_url(contest.id, "7-В", "/codes.csv"), "text/csv; charset=utf-8"),
        (class_url(contest.id, "7-В", "/codes.zip"), "application/zip"),
        (f"/console/codes/{code_id}/card.pdf", "application/pdf"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Type"] == mimetype
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "7-V" in response.headers["Content-Disposition"] or "card" in url


def test_a_batch_just_made_can_be_printed_on_its_own(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    issue_codes(session, contest, "6-А", 25, app_code_keys(app))
    session.commit()
    sign_in(client, moderator)
    response = post(client, f"/console/contests/{contest.id}/codes", class_name="6-А", count="3")
    batch_id = session.scalar(select(func.max(CodeBatch.id)))
    assert f"batch={batch_id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Щойно створені картки" in page
    just_made = csv_rows(client.get(class_url(contest.id, "6-А", f"/codes.csv?batch={batch_id}")).data)
    assert [int(r["number"]) for r in just_made] == [26, 27, 28]
    assert len(csv_rows(client.get(class_url(contest.id, "6-А", "/codes.csv")).data)) == 28


@pytest.mark.parametrize(
    "tail",
    [
        "/cards.pdf?layout=11",
        "/cards.pdf?layout=%00",
        "/cards.pdf?layout=" + "8" * 10_000,
        "/codes.csv?batch=abc",
        "/codes.csv?batch=99999999999999999999",
        "/codes.zip?batch=-1",
    ],
)
def test_odd_download_parameters_find_nothing(app, client, session, school_setup, tail):
    _school, moderator, contest = school_setup
    issue_codes(session, contest, "6-А", 2, app_code_keys(app))
    session.commit()
    sign_in(client, moderator)
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    assert client.get(class_url(contest.id, "6-А", tail)).status_code == 404
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_another_class_batch_or_a_class_without_cards_finds_nothing(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    keys = app_code_keys(app)
    issue_codes(session, contest, "6-А", 2, keys)
    issue_codes(session, contest, "6-Б", 2, keys)
    session.commit()
    batch_of_6b = session.scalar(select(CodeBatch.id).where(CodeBatch.class_name == "6-Б"))
    sign_in(client, moderator)
    assert client.get(class_url(contest.id, "6-А", f"/codes.csv?batch={batch_of_6b}")).status_code == 404
    for name in ["7-А", "0-А", "ZZ", "6-А" * 2_000, "%E2%80%AE6-А", "..", "6-А%00"]:
        assert client.get(class_url(contest.id, name)).status_code == 404, name
        assert client.get(class_url(contest.id, name, "/codes.csv")).status_code == 404, name


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"class_name": "0-А", "count": "28"}, "class_name", "Клас: номер від 1 до 12"),
        ({"class_name": "ZZ", "count": "28"}, "class_name", "Клас: номер від 1 до 12"),
        ({"class_name": "6-А" * 3_334, "count": "28"}, "class_name", "Клас: номер від 1 до 12"),
        ({"class_name": "6\u202e-А", "count": "28"}, "class_name", "Клас: номер від 1 до 12"),
        ({"class_name": "6-А\x00", "count": "28"}, "class_name", "Клас: номер від 1 до 12"),
        ({"class_name": "", "count": "28"}, "class_name", "Заповніть це поле."),
        ({"class_name": "2-А", "count": "28"}, "class_name", "Клас 2-А не голосує в цьому конкурсі"),
        ({"class_name": "6-А", "count": "0"}, "count", "Кількість кодів: від 1 до 200 на клас."),
        ({"class_name": "6-А", "count": "-3"}, "count", "Кількість кодів: від 1 до 200 на клас."),
        ({"class_name": "6-А", "count": "100000"}, "count", "Кількість кодів: від 1 до 200 на клас."),
        ({"class_name": "6-А", "count": "9" * 40}, "count", "Число завелике."),
        ({"class_name": "6-А", "count": "abc"}, "count", "Введіть ціле число."),
        ({"class_name": "6-А", "count": "1e3"}, "count", "Введіть ціле число."),
        ({"class_name": "6-А"}, "count", "Заповніть це поле."),
    ],
)
def test_a_bad_codes_form_is_refused_and_no_code_is_made(client, session, school_setup, form, field, message):
    _school, moderator, contest = school_setup
    sign_in(client, moderator)
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    response = post(client, f"/console/contests/{contest.id}/codes", form)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text
    assert f'id="e-{field}"' in text  # beside the field it concerns
    assert code_count(session) == 0
    assert session.scalar(select(func.count()).select_from(CodeBatch)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_the_codes_form_speaks_english_too(client, session, school_setup):
    _school, moderator, contest = school_setup
    sign_in(client, moderator)
    client.get("/console/?lang=en")
    response = post(client, f"/console/contests/{contest.id}/codes", class_name="ZZ", count="abc")
    text = response.get_data(as_text=True)
    assert "Enter a whole number." in text and "Create codes" in text


def test_codes_without_the_csrf_token_are_refused(client, session, school_setup):
    _school, moderator, contest = school_setup
    sign_in(client, moderator)
    response = client.post(f"/console/contests/{contest.id}/codes", data={"class_name": "6-А", "count": "3"})
    assert response.status_code == 400
    response = client.post(
        f"/console/contests/{contest.id}/codes",
        data={"class_name": "6-А", "count": "3", "csrf_token": "x" * len(CSRF_TOKEN)},
    )
    assert response.status_code == 400
    assert code_count(session) == 0


def test_no_codes_are_made_once_voting_has_ended(client, session, school_setup):
    _school, moderator, contest = school_setup
    contest.cycle.voting_starts_at = datetime.now(UTC) - timedelta(days=3)
    contest.cycle.voting_ends_at = datetime.now(UTC) - timedelta(days=1)
    session.commit()
    sign_in(client, moderator)
    page = client.get(f"/console/contests/{contest.id}").get_data(as_text=True)
    assert "Створити коди" not in page and "голосування завершено" in page
    response = post(client, f"/console/contests/{contest.id}/codes", class_name="6-А", count="3")
    assert response.status_code == 422
    assert "Голосування школи завершено." in response.get_data(as_text=True)
    assert code_count(session) == 0


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("x" * 10_000, "Не більше 200 символів."),
        ("втратив\x00", "Текст містить недопустимі службові символи."),
        ("\u202eвтратив", "Текст містить недопустимі службові символи."),
        ("два\nрядки", "Текст містить недопустимі службові символи."),
    ],
)
@pytest.mark.parametrize("action", ["revoke", "replace"])
def test_a_bad_reason_revokes_nothing(app, client, session, school_setup, action, reason, message):
    _school, moderator, contest = school_setup
    [issued, *_rest] = issue_codes(session, contest, "6-А", 2, app_code_keys(app))
    session.commit()
    sign_in(client, moderator)
    response = post(client, f"/console/codes/{issued.code_id}/{action}", confirm="yes", reason=reason)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(VotingCode, issued.code_id).revoked_at is None
    assert code_count(session) == 2


def test_a_used_card_is_neither_revoked_nor_replaced(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    keys = app_code_keys(app)
    [issued] = issue_codes(session, contest, "6-А", 1, keys)
    session.commit()
    open_voting(session, contest.id)
    project_id = session.scalar(select(Project.id).where(Project.cycle_id == contest.cycle.id).limit(1))
    cast_by_code(session, keys, issued.code, [project_id])
    session.commit()
    sign_in(client, moderator)
    for action in ("revoke", "replace"):
        response = post(client, f"/console/codes/{issued.code_id}/{action}", confirm="yes", reason="втрачено")
        assert response.status_code == 422
        assert "Цим кодом уже проголосували" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(VotingCode, issued.code_id).revoked_at is None and code_count(session) == 1
    # Nothing left to print in that class.
    assert client.get(class_url(contest.id, "6-А", "/cards.pdf")).status_code == 404
    assert "Чинних карток, які можна надрукувати, не лишилося" in client.get(
        class_url(contest.id, "6-А")
    ).get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Vote)) == 1


def test_a_revoked_card_stays_listed_with_its_reason_and_is_never_printed(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    keys = app_code_keys(app)
    [first, second] = issue_codes(session, contest, "6-А", 2, keys)
    session.commit()
    sign_in(client, moderator)
    assert (
        post(
            client, f"/console/codes/{first.code_id}/revoke", confirm="yes", reason="учень вибув"
        ).status_code
        == 302
    )
    page = client.get(class_url(contest.id, "6-А")).get_data(as_text=True)
    assert "відкликано" in page and "учень вибув" in page
    assert client.get(f"/console/codes/{first.code_id}/card.pdf").status_code == 404
    rows = csv_rows(client.get(class_url(contest.id, "6-А", "/codes.csv")).data)
    assert [r["code"] for r in rows] == [second.code]
    again = post(client, f"/console/codes/{first.code_id}/revoke", confirm="yes", reason="ще раз")
    assert again.status_code == 422 and "Цей код уже відкликано." in again.get_data(as_text=True)


def test_cards_carry_the_public_address_when_one_is_configured(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    issue_codes(session, contest, "6-А", 1, app_code_keys(app))
    session.commit()
    app.config["PUBLIC_URL"] = "https://vote.example.gov.ua/"
    sign_in(client, moderator)
    [row] = csv_rows(client.get(class_url(contest.id, "6-А", "/codes.csv")).data)
    assert row["url"] == f"https://vote.example.gov.ua/s/{row['code']}"


def test_the_class_page_never_shows_a_code(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    issued = issue_codes(session, contest, "6-А", 5, app_code_keys(app))
    session.commit()
    sign_in(client, moderator)
    pages = client.get(class_url(contest.id, "6-А")).get_data(as_text=True)
    pages += client.get(f"/console/contests/{contest.id}").get_data(as_text=True)
    for card in issued:
        assert card.code not in pages and card.code.replace("-", "") not in pages
