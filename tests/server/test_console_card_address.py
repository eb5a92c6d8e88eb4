"""A public address too long for a readable code card: the console says so, Ukrainian
first, before any code is made or any card printed, and never answers with an error 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Role, VotingCode
from server.school.codes import issue_codes
from server.school.keys import app_code_keys
from tests.factories import post, sign_in
from tests.server.test_console_school_codes import class_url

TOO_LONG = "https://" + "budzhet-" * 10 + "x.gov.ua/"  # 96 characters: no QR code holds its cards
LONG = "https://gromadskyi-budzhet.example.gov.ua"  # 41: readable, with smaller modules


@pytest.fixture
def school_setup(make, session):
    """A school with a moderator and a contest that opens in two days."""
    community = make.community()
    school = make.school(community, name="Ліцей № 5")
    moderator = make.user(Role.SCHOOL_MODERATOR, community, school_id=school.id)
    return school, moderator, make.school_contest(school, open_now=False)


def downloads(session) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "school_codes.download")
    return session.scalar(query)


def test_with_an_address_too_long_every_card_download_is_refused_with_the_reason(
    app, client, session, school_setup
):
    _school, moderator, contest = school_setup
    issue_codes(session, contest, "6-А", 2, app_code_keys(app))
    session.commit()
    code_id = session.scalar(select(VotingCode.id).limit(1))
    app.config["PUBLIC_URL"] = TOO_LONG
    sign_in(client, moderator)
    for url in [
        class_url(contest.id, "6-А", "/cards.pdf?layout=10"),
        class_url(contest.id, "6-А", "/cards.pdf?layout=8"),
        class_url(contest.id, "6-А", "/codes.zip"),
        f"/console/codes/{code_id}/card.pdf",
    ]:
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 409, url
        assert "Картки не можна надрукувати" in page
        assert "Публічна адреса задовга для QR-коду картки: її довжина — 96" in page
    english = client.get(class_url(contest.id, "6-А", "/cards.pdf?lang=en")).get_data(as_text=True)
    assert "The cards cannot be printed" in english and "it is 96 characters long" in english
    assert downloads(session) == 0  # nothing left the server
    # the CSV carries no QR code: a school can still hand the codes out on paper
    assert client.get(class_url(contest.id, "6-А", "/codes.csv")).status_code == 200


def test_the_class_page_says_why_and_offers_no_card_to_print(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    issue_codes(session, contest, "6-А", 2, app_code_keys(app))
    session.commit()
    app.config["PUBLIC_URL"] = TOO_LONG
    sign_in(client, moderator)
    page = client.get(class_url(contest.id, "6-А")).get_data(as_text=True)
    assert "Публічна адреса задовга для QR-коду картки" in page and 'role="alert"' in page
    assert "/cards.pdf?layout=" not in page and "/codes.zip" not in page
    assert "/codes.csv" in page


def test_no_codes_are_made_while_their_cards_could_not_be_printed(app, client, session, school_setup):
    _school, moderator, contest = school_setup
    app.config["PUBLIC_URL"] = TOO_LONG
    sign_in(client, moderator)
    response = post(client, f"/console/contests/{contest.id}/codes", class_name="6-А", count="3")
    assert response.status_code == 422
    assert "Публічна адреса задовга для QR-коду картки" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(VotingCode)) == 0


def test_a_long_but_readable_address_prints_and_the_page_says_the_modules_are_smaller(
    app, client, session, school_setup
):
    _school, moderator, contest = school_setup
    issue_codes(session, contest, "6-А", 2, app_code_keys(app))
    session.commit()
    app.config["PUBLIC_URL"] = LONG
    sign_in(client, moderator)
    page = client.get(class_url(contest.id, "6-А")).get_data(as_text=True)
    assert "0.68 мм замість 0.85 мм" in page and "/cards.pdf?layout=10" in page
    response = client.get(class_url(contest.id, "6-А", "/cards.pdf?layout=10"))
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
