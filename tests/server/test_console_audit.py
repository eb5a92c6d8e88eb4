"""The audit log: newest first, filtered, paged, scoped, and impossible to rewrite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from server.models import AuditEvent, Role
from server.services import audit
from tests.factories import CSRF_TOKEN, sign_in

TOKEN = CSRF_TOKEN


def events(session, community, count, action="project.update", start=None):
    start = start or datetime(2030, 1, 1, tzinfo=UTC)
    for n in range(count):
        event = audit.record(session, action, community_id=community.id, target=("project", n + 1))
        event.at = start + timedelta(minutes=n)
    session.commit()


def rows(page_text):
    return page_text.count('class="audit-entry"')


def test_the_log_is_newest_first_in_pages_of_fifty(client, make, session):
    community = make.community()
    events(session, community, 120)
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    first = client.get("/console/audit").get_data(as_text=True)
    assert rows(first) == 50
    # The newest is project 120; the oldest on the first page is project 71.
    assert first.index("project 120") < first.index("project 119") and "project 70<" not in first
    assert "page=2" in first and "page=0" not in first
    third = client.get("/console/audit?page=3").get_data(as_text=True)
    assert rows(third) == 20 and "project 1<" in third and "page=4" not in third


def test_the_log_is_filtered_by_action(client, make, session):
    community = make.community()
    events(session, community, 3, action="project.update")
    events(session, community, 2, action="device.revoke")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    page = client.get("/console/audit?action=device.revoke").get_data(as_text=True)
    assert rows(page) == 2 and "project.update</code>" not in page
    assert '<option value="device.revoke" selected>' in page


@pytest.mark.parametrize(
    "query",
    ["page=abc", "page=-1", "page=99999999999999999999", "page=²", "action=<script>", "action=" + "a" * 5000],
)
def test_odd_query_values_fall_back_instead_of_failing(client, make, session, query):
    community = make.community()
    events(session, community, 1)
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    response = client.get(f"/console/audit?{query}")
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True)


def test_every_console_action_is_recorded_with_who_and_where(client, make, session):
    admin = make.user(Role.ADMINISTRATOR)
    sign_in(client, admin)
    client.post("/console/communities/new", data={"slug": "sumy", "name": "Сумська", "csrf_token": TOKEN})
    page = client.get("/console/audit").get_data(as_text=True)
    assert "community.create" in page and admin.login in page and "Сумська" in page


def test_audit_rows_cannot_be_changed_or_deleted(make, session):
    community = make.community()
    events(session, community, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(update(AuditEvent).values(action="nothing.happened"))
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(delete(AuditEvent))
    session.rollback()
    assert session.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1
