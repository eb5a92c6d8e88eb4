"""The console's one way of saving a form (server.console.forms.submit): a saved change is
committed, flashed and followed by a redirect; a refused one (or one that lost a unique
index to a simultaneous request) leaves nothing saved and its message with the page."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import select

from server import db
from server.console.forms import FormReader, flash_errors, submit
from server.models import Community, Role
from server.services.validation import Refused
from server.texts import _l
from tests.factories import post, sign_in

RACE_UK = "Ці дані щойно змінив хтось інший. Перевірте їх і спробуйте ще раз."
RACE_EN = "Someone else has just changed this data. Check it and try again."


def _slugs(session) -> list[str]:
    """The communities in the database, as another connection sees them."""
    session.expire_all()
    return list(session.scalars(select(Community.slug).order_by(Community.slug)))


def _add(slug: str) -> Community:
    community = Community(slug=slug, name=f"Громада {slug}")
    db.session().add(community)
    db.session().flush()
    return community


def test_a_saved_change_is_committed_then_flashed_and_redirected(app, session):
    with app.test_request_context("/console/communities/new", method="POST"):
        reader = FormReader({})
        response = submit(
            reader,
            lambda: _add("poltava"),
            done=lambda community: f"Створено: {community.name}.",
            redirect_to=lambda community: f"/console/communities/{community.id}/edit",
        )
        assert response is not None
        assert response.status_code == 302
        created = session.scalar(select(Community).where(Community.slug == "poltava"))
        assert created is not None  # committed: another connection sees it
        assert response.location == f"/console/communities/{created.id}/edit"
        assert get_flashed_messages(with_categories=True) == [("success", "Створено: Громада poltava.")]
        assert reader.errors == {}


def test_plain_texts_are_used_as_they_are(app, session):
    with app.test_request_context("/console/communities/new", method="POST"):
        response = submit(FormReader({}), lambda: None, done="Зміни збережено.", redirect_to="/console/")
        assert response is not None
        assert response.location == "/console/"
        assert get_flashed_messages(with_categories=True) == [("success", "Зміни збережено.")]


def test_a_refused_change_leaves_nothing_saved_and_its_message_beside_the_field(app, session, make):
    make.community(slug="existing")

    def change() -> None:
        _add("half-done")  # written, then refused: the whole transaction goes
        raise Refused(_l("Заповніть це поле."), field="name")

    with app.test_request_context("/console/communities/new", method="POST"):
        reader = FormReader({"name": ""})
        reader.add_error("slug", "Уже прочитана помилка поля.")
        response = submit(reader, change, done="Не має з'явитися.", redirect_to="/console/")
        assert response is None
        assert reader.errors == {"slug": ["Уже прочитана помилка поля."], "name": ["Заповніть це поле."]}
        assert get_flashed_messages() == []
        # The request's session was rolled back and is usable for showing the page again.
        assert list(db.session().scalars(select(Community.slug))) == ["existing"]
    assert _slugs(session) == ["existing"]


def test_a_unique_index_won_by_another_request_is_refused_with_the_race_message(app, session, make):
    make.community(slug="poltava")

    def change() -> None:
        _add("lviv")
        _add("poltava")  # what the service checked was free has just been taken

    with app.test_request_context("/console/communities/new", method="POST"):
        reader = FormReader({})
        assert submit(reader, change, done="Не має з'явитися.", redirect_to="/console/") is None
        assert reader.errors == {"": [RACE_UK]}
        assert get_flashed_messages() == []
    assert _slugs(session) == ["poltava"]  # "lviv" went with the rest of the transaction


def test_an_unexpected_error_is_not_a_refusal(app, session):
    def change() -> None:
        _add("lviv")
        raise RuntimeError("a bug, not a refusal")

    with app.test_request_context("/console/communities/new", method="POST"):
        reader = FormReader({})
        with pytest.raises(RuntimeError):
            submit(reader, change, done="Не має з'явитися.", redirect_to="/console/")
        assert reader.errors == {}
    assert _slugs(session) == []


def test_flash_errors_flashes_every_message(app):
    with app.test_request_context("/console/users", method="POST"):
        flash_errors({"": ["Перше."], "login": ["Друге.", "Третє."]})
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Перше."),
            ("error", "Друге."),
            ("error", "Третє."),
        ]


def test_a_refused_form_comes_back_with_what_was_typed_and_the_error_beside_its_field(client, make, session):
    make.community(slug="existing")
    sign_in(client, make.user(Role.ADMINISTRATOR))
    response = post(client, "/console/communities/new", {"slug": "existing", "name": "Моя громада"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Моя громада"' in page
    assert 'value="existing"' in page
    assert '<p class="errors" id="e-slug">Громада з такою адресою вже є.</p>' in page
    assert _slugs(session) == ["existing"]


def test_a_race_lost_on_a_page_is_shown_in_the_readers_language(client, make, session, monkeypatch):
    make.community(slug="existing")
    sign_in(client, make.user(Role.ADMINISTRATOR))

    def create_despite_the_check(_session, *, slug: str, name: str) -> Community:
        return _add("existing")

    monkeypatch.setattr("server.console.communities.create_community", create_despite_the_check)
    response = post(client, "/console/communities/new?lang=en", {"slug": "fresh", "name": "New"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"<li>{RACE_EN}</li>" in page
    assert 'value="fresh"' in page
    assert _slugs(session) == ["existing"]
