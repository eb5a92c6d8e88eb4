"""Administrators adding communities and renaming them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Community, Role
from tests.factories import CSRF_TOKEN, post, sign_in

TOKEN = CSRF_TOKEN


def test_an_administrator_creates_and_renames_a_community(client, make, session):
    admin = make.user(Role.ADMINISTRATOR)
    sign_in(client, admin)
    assert client.get("/console/communities/new").status_code == 200
    assert (
        post(
            client, "/console/communities/new", {"slug": "poltava", "name": "Полтавська громада"}
        ).status_code
        == 302
    )
    community = session.scalar(select(Community).where(Community.slug == "poltava"))
    assert community.name == "Полтавська громада"
    assert "Полтавська громада" in client.get("/console/communities").get_data(as_text=True)

    edit_url = f"/console/communities/{community.id}/edit"
    assert client.get(edit_url).status_code == 200
    assert post(client, edit_url, {"name": "Полтавська міська громада", "slug": "hijack"}).status_code == 302
    session.refresh(community)
    assert (community.name, community.slug) == ("Полтавська міська громада", "poltava")
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["community.create", "community.update"]
    assert events[1].details == {"name": ["Полтавська громада", "Полтавська міська громада"]}
    assert all(e.user_id == admin.id and e.community_id == community.id for e in events)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"slug": "", "name": "Громада"}, "Заповніть це поле."),
        ({"slug": "Poltava", "name": "Громада"}, "Адреса:"),
        ({"slug": "пол-тава", "name": "Громада"}, "Адреса:"),
        ({"slug": "-poltava", "name": "Громада"}, "Адреса:"),
        ({"slug": "a" * 10_000, "name": "Громада"}, "Адреса:"),
        ({"slug": "poltava", "name": ""}, "Заповніть це поле."),
        ({"slug": "poltava", "name": "Г" * 10_000}, "Не більше 200 символів."),
        ({"slug": "existing", "name": "Громада"}, "Громада з такою адресою вже є."),
    ],
)
def test_a_bad_community_form_is_refused_and_nothing_is_created(client, make, session, form, message):
    make.community(slug="existing")
    sign_in(client, make.user(Role.ADMINISTRATOR))
    response = post(client, "/console/communities/new", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Community)) == 1


def test_renaming_to_nothing_is_refused(client, make, session):
    community = make.community(name="Стара назва")
    sign_in(client, make.user(Role.ADMINISTRATOR))
    response = post(client, f"/console/communities/{community.id}/edit", {"name": "  "})
    assert response.status_code == 422
    session.refresh(community)
    assert community.name == "Стара назва"


def test_an_unknown_community_is_not_found(client, make):
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert client.get("/console/communities/999999/edit").status_code == 404
