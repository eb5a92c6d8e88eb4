"""Registering terminals and support points under codes that are never reused, and revoking them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Device, Role
from tests.conftest import both_databases
from tests.factories import CSRF_TOKEN, post, sign_in

TOKEN = CSRF_TOKEN


def register(client, kind="terminal", name="Термінал у ЦНАП", location="вул. Соборна, 1"):
    return post(client, "/console/devices/new", {"kind": kind, "name": name, "location": location})


@both_databases
def test_devices_get_the_next_code_of_their_kind(client, make, session):
    community = make.community()
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)
    assert client.get("/console/devices/new").status_code == 200
    for kind in ["terminal", "terminal", "support_point"]:
        assert register(client, kind).status_code == 302
    codes = session.scalars(select(Device.code).order_by(Device.id)).all()
    assert codes == ["T-0001", "T-0002", "S-0001"]
    device = session.scalar(select(Device).where(Device.code == "S-0001"))
    assert (device.kind, device.community_id, device.status) == ("support_point", community.id, "active")
    listed = client.get("/console/devices").get_data(as_text=True)
    assert "T-0002" in listed and "Пункт супроводу" in listed
    event = session.scalar(select(AuditEvent).where(AuditEvent.target_id == "S-0001"))
    assert event.action == "device.register" and event.user_id == moderator.id


def test_codes_are_unique_across_communities_and_never_reused(client, make, session):
    first, second = make.community(), make.community()
    make.device(first, code="T-0009", status="revoked")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, second))
    assert register(client).status_code == 302
    assert session.scalar(select(Device.code).where(Device.community_id == second.id)) == "T-0010"


def test_a_revoked_device_is_marked_and_audited(client, make, session):
    community = make.community()
    device = make.device(community, code="T-0001")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert post(client, f"/console/devices/{device.id}/revoke", confirm="yes").status_code == 302
    session.refresh(device)
    assert device.status == "revoked" and device.revoked_at is not None
    # Revoking again changes nothing and records nothing new.
    first_revoked_at = device.revoked_at
    assert post(client, f"/console/devices/{device.id}/revoke", confirm="yes").status_code == 302
    session.refresh(device)
    assert device.revoked_at == first_revoked_at
    assert session.scalars(select(AuditEvent.action)).all() == ["device.revoke"]
    assert "відкликано" in client.get("/console/devices").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "terminal", "name": ""}, "Заповніть це поле."),
        ({"kind": "terminal", "name": "Т" * 10_000}, "Не більше 200 символів."),
        ({"kind": "terminal", "name": "Термінал", "location": "М" * 301}, "Не більше 300 символів."),
        ({"kind": "terminal", "name": "Термінал\n2"}, "недопустимі службові символи"),
        ({"kind": "printer", "name": "Принтер"}, "Оберіть тип пристрою."),
        ({"name": "Без типу"}, "Оберіть тип пристрою."),
    ],
)
def test_a_bad_device_form_is_refused_and_nothing_is_registered(client, make, session, form, message):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR))
    response = post(client, "/console/devices/new", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Device)) == 0


def test_an_administrator_registers_a_device_for_a_chosen_community(client, make, session):
    community = make.community()
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert register(client).status_code == 422  # no community chosen
    form = {"kind": "terminal", "name": "Кіоск", "community_id": str(community.id)}
    assert post(client, "/console/devices/new", form).status_code == 302
    assert session.scalar(select(Device.community_id)) == community.id


def test_two_registrations_given_the_same_code_at_once_leave_one_device_and_a_clear_message(
    client, make, session, monkeypatch
):
    community = make.community()
    make.device(community, code="T-0001")
    # As if another moderator's registration took T-0001 between our reading and our writing.
    monkeypatch.setattr("server.services.devices.next_device_code", lambda _session, _kind: "T-0001")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    response = register(client)
    assert response.status_code == 422
    assert "Ці дані щойно змінив хтось інший." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Device)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_revocation_without_its_confirmation_changes_nothing(client, make, session):
    community = make.community()
    device = make.device(community)
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    for form in ({}, {"confirm": "no"}, {"confirm": "YES "}):
        answer = post(client, f"/console/devices/{device.id}/revoke", **form)
        assert answer.status_code == 302
        session.expire_all()
        assert session.get(Device, device.id).status == "active", form
    page = client.get("/console/devices").get_data(as_text=True)
    assert "Нічого не змінено: підтвердьте дію" in page
