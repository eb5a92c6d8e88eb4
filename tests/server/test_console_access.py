"""Who may open which console page: roles, community scope, and the menu that matches."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import ApiClient, AuditEvent, Category, Cycle, Device, Project, Role, User
from server.services.api_clients import create_api_client
from tests.conftest import both_databases
from tests.factories import CSRF_TOKEN, post, sign_in

TOKEN = CSRF_TOKEN


MANAGEMENT_PAGES = [
    "/console/cycles",
    "/console/cycles/new",
    "/console/devices",
    "/console/devices/new",
    "/console/users",
    "/console/users/new",
    "/console/api-clients",
    "/console/api-clients/new",
    "/console/audit",
]
ADMIN_PAGES = ["/console/communities", "/console/communities/new"]


@pytest.fixture
def community_a(make, session):
    """Community A with one of everything a moderator manages."""
    community = make.community(name="Громада А")
    cycle = make.cycle(community, open_now=False)
    category = make.category(cycle)
    project = make.project(category)
    device = make.device(community)
    staff = make.user(Role.SUPPORT_OPERATOR, community)
    client_row, _token = create_api_client(session, community_id=community.id, name="Платформа А")
    session.commit()
    return {
        "community": community,
        "cycle": cycle,
        "category": category,
        "project": project,
        "device": device,
        "staff": staff,
        "api_client": client_row,
    }


def object_routes(a):
    """Every route that names one of community A's objects: (method, url)."""
    cycle, category, project = a["cycle"].id, a["category"].id, a["project"].id
    return [
        ("GET", f"/console/cycles/{cycle}"),
        ("GET", f"/console/cycles/{cycle}/edit"),
        ("POST", f"/console/cycles/{cycle}/edit"),
        ("GET", f"/console/cycles/{cycle}/categories/new"),
        ("POST", f"/console/cycles/{cycle}/categories/new"),
        ("GET", f"/console/categories/{category}/edit"),
        ("POST", f"/console/categories/{category}/edit"),
        ("GET", f"/console/cycles/{cycle}/projects/new"),
        ("POST", f"/console/cycles/{cycle}/projects/new"),
        ("GET", f"/console/projects/{project}/edit"),
        ("POST", f"/console/projects/{project}/edit"),
        ("POST", f"/console/projects/{project}/admit"),
        ("POST", f"/console/projects/{project}/reject"),
        ("POST", f"/console/devices/{a['device'].id}/revoke"),
        ("POST", f"/console/users/{a['staff'].id}/deactivate"),
        ("POST", f"/console/users/{a['staff'].id}/activate"),
        ("POST", f"/console/api-clients/{a['api_client'].id}/revoke"),
    ]


@both_databases
def test_an_administrator_can_open_every_console_page(client, make, community_a):
    sign_in(client, make.user(Role.ADMINISTRATOR))
    urls = MANAGEMENT_PAGES + ADMIN_PAGES + ["/console/", "/console/account/password"]
    urls += [url for method, url in object_routes(community_a) if method == "GET"]
    urls.append(f"/console/communities/{community_a['community'].id}/edit")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        # Every form that changes something carries the CSRF token; none uses inline script or style.
        assert text.count('method="post"') == text.count('name="csrf_token"'), url
        assert "<script" not in text and "style=" not in text, url


def test_a_moderator_of_another_community_gets_not_found_for_every_object_and_changes_nothing(
    client, make, session, community_a
):
    other = make.community(name="Громада Б")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, other))
    form = {
        "title": "Захоплено",
        "name": "Захоплено",
        "reason": "так",
        "number": "1",
        "cost": "1",
        "budget": "1",
    }
    for method, url in object_routes(community_a):
        response = client.get(url) if method == "GET" else post(client, url, **form)
        assert response.status_code == 404, (method, url)
    session.expire_all()
    assert session.get(Cycle, community_a["cycle"].id).title != "Захоплено"
    assert session.get(Category, community_a["category"].id).name != "Захоплено"
    assert session.get(Project, community_a["project"].id).status == "admitted"
    assert session.get(Device, community_a["device"].id).status == "active"
    assert session.get(User, community_a["staff"].id).active
    assert session.get(ApiClient, community_a["api_client"].id).revoked_at is None
    assert session.scalar(select(Category).where(Category.name == "Захоплено")) is None


def test_a_moderator_does_not_see_another_communitys_objects_in_the_lists(client, make, community_a):
    other = make.community(name="Громада Б")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, other))
    for url, secret in [
        ("/console/cycles", community_a["cycle"].title),
        ("/console/devices", community_a["device"].code),
        ("/console/users", community_a["staff"].login),
        ("/console/api-clients", "Платформа А"),
        ("/console/audit", "api_client.create"),
        ("/console/", community_a["cycle"].title),
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert secret not in page.get_data(as_text=True), url


def test_a_moderator_cannot_reach_an_administrator_account(client, make, session):
    admin = make.user(Role.ADMINISTRATOR)
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR))
    assert post(client, f"/console/users/{admin.id}/deactivate").status_code == 404
    session.refresh(admin)
    assert admin.active


@pytest.mark.parametrize("url", [*ADMIN_PAGES, "/console/communities/1/edit"])
def test_community_pages_are_for_administrators_only(client, make, url):
    community = make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    url = url.replace("/1/", f"/{community.id}/")
    assert client.get(url).status_code == 403
    if url != "/console/communities":
        assert post(client, url, slug="x-y", name="X").status_code == 403


@pytest.mark.parametrize("role", [Role.SUPPORT_OPERATOR, Role.SCHOOL_MODERATOR])
def test_operators_and_school_moderators_may_manage_nothing(client, make, role, community_a):
    sign_in(client, make.user(role, community_a["community"]))
    for url in MANAGEMENT_PAGES + ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    for method, url in object_routes(community_a):
        response = client.get(url) if method == "GET" else post(client, url)
        assert response.status_code == 403, (method, url)


def test_an_operators_overview_is_their_point(client, make, community_a):
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, community_a["community"]))
    overview = client.get("/console/")
    assert overview.status_code == 302 and overview.headers["Location"] == "/console/my-point"
    text = client.get("/console/my-point").get_data(as_text=True)
    assert '/console/cycles"' not in text and "/console/users" not in text
    assert "/console/account/password" in text


def test_school_moderators_see_only_the_overview_and_their_password(client, make, community_a):
    role = Role.SCHOOL_MODERATOR
    sign_in(client, make.user(role, community_a["community"]))
    for url in MANAGEMENT_PAGES + ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    for method, url in object_routes(community_a):
        response = client.get(url) if method == "GET" else post(client, url)
        assert response.status_code == 403, (method, url)
    overview = client.get("/console/")
    assert overview.status_code == 200
    text = overview.get_data(as_text=True)
    # The cycle is listed, but not as a link to a page they cannot open.
    assert community_a["cycle"].title in text
    assert f"/console/cycles/{community_a['cycle'].id}" not in text
    assert "/console/cycles" not in text and "/console/users" not in text
    assert "/console/account/password" in text
    assert client.get("/console/account/password").status_code == 200


def test_the_menu_shows_each_role_only_the_pages_it_can_open(client, make):
    community = make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    text = client.get("/console/").get_data(as_text=True)
    for url in [
        "/console/cycles",
        "/console/devices",
        "/console/users",
        "/console/api-clients",
        "/console/audit",
    ]:
        assert f'href="{url}"' in text
    assert 'href="/console/communities"' not in text
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert 'href="/console/communities"' in client.get("/console/").get_data(as_text=True)


def test_the_overview_links_each_cycle_to_its_page_for_moderators(client, make):
    community = make.community()
    cycle = make.cycle(community, title="Бюджет участі 2030")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    text = client.get("/console/").get_data(as_text=True)
    assert f'href="/console/cycles/{cycle.id}">Бюджет участі 2030</a>' in text


def test_the_audit_log_shows_a_moderator_only_their_communitys_events(client, make, session):
    mine, theirs = make.community(), make.community()
    from server.services import audit

    audit.record(session, "cycle.create", community_id=mine.id, target=("cycle", 1))
    audit.record(session, "device.register", community_id=theirs.id, target=("device", "T-0009"))
    session.commit()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, mine))
    text = client.get("/console/audit").get_data(as_text=True)
    assert "cycle.create" in text and "T-0009" not in text
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "device.register")) is not None
