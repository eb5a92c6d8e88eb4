"""The audit log: who did what, newest first, 50 to a page, filterable by action, each
entry in words (audit_labels) with the stored event kept beside it for an expert.
Administrators see every community's events (and their own, which belong to none);
a community moderator sees their community's."""

from __future__ import annotations

import re

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.auth.access import COMMUNITY_MANAGERS, current_user, roles_required, visible_community_ids
from server.models import AuditEvent, Community

from .audit_entries import describe_events
from .audit_labels import action_label
from .forms import page_number
from .views import bp

PAGE_SIZE = 50
_ACTION = re.compile(r"[a-z0-9_.]{1,64}")


@bp.route("/audit")
@roles_required(*COMMUNITY_MANAGERS)
def audit_log() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    s = db.session()
    scope = visible_community_ids(user)
    raw_action = request.args.get("action", "")
    action = raw_action if _ACTION.fullmatch(raw_action) else ""
    page = page_number(request.args.get("page"))

    query = select(AuditEvent)
    actions_query = select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    if scope is not None:
        query = query.where(AuditEvent.community_id.in_(scope))
        actions_query = actions_query.where(AuditEvent.community_id.in_(scope))
    if action:
        query = query.where(AuditEvent.action == action)
    # One row more than a page tells whether there is a next page without counting them all.
    rows = s.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    community_names = dict(s.execute(select(Community.id, Community.name)).all()) if scope is None else {}
    return render_template(
        "console/audit_log.html",
        entries=describe_events(s, list(rows[:PAGE_SIZE]), community_names),
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        action=action,
        actions=sorted(((code, action_label(code)) for code in s.scalars(actions_query)), key=lambda a: a[1]),
        show_community=scope is None,
    )
