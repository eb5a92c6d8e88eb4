"""The audit log in words a moderator reads: every stored event (an action code and its
details, as `server.services.audit.record` writes them) becomes a named action, the
object it concerns and labelled lines, in the viewer's language (names: audit_labels).

Ids become names (a user's name and login, a cycle's title, a terminal's code and name),
kopiykas become hryvnias, moments Kyiv time; nothing shows `None`. What the stored event
holds stays on the page, unchanged, for an expert (`AuditEntry.raw`). Detail keys
without a label are shown only there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.i18n import _, datetime_text, get_locale, money, number
from server.models import (
    ApiClient,
    AuditEvent,
    Category,
    Community,
    Cycle,
    Device,
    Project,
    School,
    SchoolContest,
    User,
    VotingCode,
)
from server.models.community import ROLE_LABELS, Role

from .audit_labels import (
    CATEGORIES,
    COUNTED_LISTS,
    CYCLE_KINDS,
    CYCLES,
    DETAIL_LABELS,
    DEVICE_KINDS,
    HELD_REASONS,
    MOMENTS,
    MONEY,
    RAW_ONLY,
    TARGET_LABELS,
    action_label,
)

__all__ = ["AuditEntry", "Line", "describe_events"]


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    event: AuditEvent
    when: str  # Kyiv time, in the viewer's language
    action: str  # the named action
    target: str  # "Проєкт №3 «Сквер»", or "" when the event concerns no object
    who: str  # "Олена Петренко (olena@example.org)", or "Система"
    community: str
    lines: tuple[Line, ...]
    raw: tuple[Line, ...]  # the stored event as it is, for an expert


@dataclass
class Names:
    """Names of the objects a page of events mentions, looked up once per page."""

    users: dict[int, User]
    cycles: dict[int, Cycle]
    projects: dict[int, Project]
    categories: dict[int, Category]
    devices: dict[str, Device]
    communities: dict[int, Community]
    api_clients: dict[int, ApiClient]
    schools: dict[int, School]
    contests: dict[int, SchoolContest]
    codes: dict[int, VotingCode]


def _ids(values: Iterable[Any]) -> set[int]:
    out = set()
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            out.add(value)
        elif isinstance(value, str) and value.isdigit() and len(value) < 12:
            out.add(int(value))
    return out


def _detail_values(events: list[AuditEvent], keys: set[str]) -> list[Any]:
    found = []
    for event in events:
        for key, value in (event.details or {}).items():
            if key in keys:
                found.extend(value if isinstance(value, list) else [value])
    return found


def _targets(events: list[AuditEvent], kind: str) -> list[str]:
    return [e.target_id for e in events if e.target_type == kind]


def _load(session: Session, model: Any, key: Any, ids: Iterable[Any]) -> dict:
    wanted = set(ids)
    if not wanted:
        return {}
    return {getattr(row, key.key): row for row in session.scalars(select(model).where(key.in_(wanted)))}


def load_names(session: Session, events: list[AuditEvent]) -> Names:
    contests = _load(session, SchoolContest, SchoolContest.id, _ids(_targets(events, "school_contest")))
    return Names(
        users=_load(session, User, User.id, _ids([e.user_id for e in events] + _targets(events, "user"))),
        cycles=_load(
            session,
            Cycle,
            Cycle.id,
            _ids(
                _targets(events, "cycle")
                + _detail_values(events, CYCLES)
                + [c.cycle_id for c in contests.values()]
            ),
        ),
        projects=_load(session, Project, Project.id, _ids(_targets(events, "project"))),
        categories=_load(
            session,
            Category,
            Category.id,
            _ids(_targets(events, "category") + _detail_values(events, CATEGORIES)),
        ),
        devices=_load(
            session,
            Device,
            Device.code,
            {str(v) for v in _targets(events, "device") + _detail_values(events, {"device"}) if v},
        ),
        communities=_load(session, Community, Community.id, _ids(_targets(events, "community"))),
        api_clients=_load(session, ApiClient, ApiClient.id, _ids(_targets(events, "api_client"))),
        schools=_load(
            session,
            School,
            School.id,
            _ids(
                _targets(events, "school")
                + _detail_values(events, {"school_id"})
                + [c.school_id for c in contests.values()]
            ),
        ),
        contests=contests,
        codes=_load(
            session,
            VotingCode,
            VotingCode.id,
            _ids(_targets(events, "voting_code") + _detail_values(events, {"code_id", "replaces"})),
        ),
    )


def describe_events(
    session: Session, events: list[AuditEvent], community_names: dict[int, str]
) -> list[AuditEntry]:
    names = load_names(session, events)
    return [_describe(event, names, community_names) for event in events]


def _describe(event: AuditEvent, names: Names, community_names: dict[int, str]) -> AuditEntry:
    details = event.details or {}
    lines = tuple(
        Line(_(DETAIL_LABELS[key]), _change_or_value(event.action, key, value, names))
        for key, value in details.items()
        if key in DETAIL_LABELS and key not in RAW_ONLY
    )
    raw = [Line(_("Код дії"), event.action)]
    if event.target_type:
        raw.append(Line(_("Об’єкт"), f"{event.target_type} {event.target_id}"))
    if event.user_id is not None:
        raw.append(Line(_("Ідентифікатор користувача"), str(event.user_id)))
    if event.ip:
        raw.append(Line(_("IP-адреса"), event.ip))
    raw.extend(Line(key, json.dumps(value, ensure_ascii=False)) for key, value in details.items())
    return AuditEntry(
        event=event,
        when=datetime_text(event.at, "d MMMM y, HH:mm:ss"),
        action=action_label(event.action),
        target=_target_text(event, names),
        who=_who(event, names),
        community=community_names.get(event.community_id, "—") if event.community_id is not None else "—",
        lines=lines,
        raw=tuple(raw),
    )


def _person(user: User) -> str:
    if user.display_name and user.display_name != user.login:
        return f"{user.display_name} ({user.login})"
    return user.login


def _who(event: AuditEvent, names: Names) -> str:
    user = names.users.get(event.user_id) if event.user_id is not None else None
    if user is not None:
        return _person(user)
    if event.user_login:
        return event.user_login
    if event.action == "device.enrol":
        return _("Сам пристрій")
    return _("Система")


def _number_of(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _target_text(event: AuditEvent, names: Names) -> str:
    kind, raw_id = event.target_type, event.target_id
    if not kind or (kind == "user" and raw_id == str(event.user_id)):  # one's own sign-in: "who" says it
        return ""
    label = _(TARGET_LABELS[kind]) if kind in TARGET_LABELS else kind
    key = _number_of(raw_id)
    name = _object_name(kind, raw_id, key, event.details or {}, names)
    if name is None:  # gone, or never existed: its record number is all there is
        return _("{kind} (запис {id})", kind=label, id=raw_id)
    return f"{label} {name}"


def _object_name(kind: str, raw_id: str, key: int | None, details: dict, names: Names) -> str | None:
    if kind == "device":
        device = names.devices.get(raw_id)
        return f"{raw_id} «{device.name}»" if device is not None and device.name else raw_id
    if key is None:
        return None
    if kind == "user" and key in names.users:
        return _person(names.users[key])
    if kind == "cycle" and key in names.cycles:
        return f"«{names.cycles[key].title}»"
    if kind == "project" and key in names.projects:
        project = names.projects[key]
        return f"№{project.number} «{project.title}»"
    if kind == "category" and key in names.categories:
        return f"«{names.categories[key].name}»"
    if kind == "community" and key in names.communities:
        return f"«{names.communities[key].name}»"
    if kind == "api_client" and key in names.api_clients:
        return f"«{names.api_clients[key].name}»"
    if kind == "school" and key in names.schools:
        return f"«{names.schools[key].name}»"
    if kind == "school_contest" and key in names.contests:
        contest = names.contests[key]
        school = names.schools.get(contest.school_id)
        cycle = names.cycles.get(contest.cycle_id)
        return f"«{school.name if school else contest.school_id}»" + (f", «{cycle.title}»" if cycle else "")
    if kind == "voting_code" and key in names.codes:
        code = names.codes[key]
        return _("клас {class_name}, картка №{number}", class_name=code.class_name, number=code.number)
    if kind == "job":
        kind_text = _job_kind(details.get("kind"))
        return f"№{key}" + (f": {kind_text}" if kind_text else "")
    return None


def _job_kind(kind: object) -> str:
    if not isinstance(kind, str) or not kind:
        return ""
    from server.console.job_status import kind_label  # the jobs page's own names for its kinds

    return kind_label(kind)


def _change_or_value(action: str, key: str, value: Any, names: Names) -> str:
    # A change is stored as [old, new] by services.cycles.apply_changes (".update" events).
    if action.endswith(".update") and isinstance(value, list) and len(value) == 2:
        return f"{_value(action, key, value[0], names)} → {_value(action, key, value[1], names)}"
    return _value(action, key, value, names)


def _value(action: str, key: str, value: Any, names: Names) -> str:
    if value is None or value == "":
        return "—"
    if key in COUNTED_LISTS and isinstance(value, list):
        return number(len(value))
    if isinstance(value, bool):
        return _("так") if value else _("ні")
    if key in MONEY and isinstance(value, int):
        return money(value)
    if key in MOMENTS and isinstance(value, str):
        return _moment(value)
    if key == "min_votes_share" and isinstance(value, int):
        return f"{number(value / 100)} %"
    if key in CYCLES and isinstance(value, int):
        cycle = names.cycles.get(value)
        return f"«{cycle.title}»" if cycle else _("запис {id}", id=value)
    if key in CATEGORIES and isinstance(value, int):
        category = names.categories.get(value)
        return f"«{category.name}»" if category else _("запис {id}", id=value)
    if key == "school_id" and isinstance(value, int):
        school = names.schools.get(value)
        return f"«{school.name}»" if school else _("запис {id}", id=value)
    if key == "device" and isinstance(value, str):
        device = names.devices.get(value)
        return f"{value} «{device.name}»" if device is not None and device.name else value
    if key in {"code_id", "replaces"} and isinstance(value, int):
        code = names.codes.get(value)
        if code is None:
            return _("запис {id}", id=value)
        return _("клас {class_name}, картка №{number}", class_name=code.class_name, number=code.number)
    if key == "alarm_id" and value == "all":
        return _("усі тривоги пристрою")
    text = _named_value(action, key, value)
    if text is not None:
        return text
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list):
        return ", ".join("—" if v is None else str(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _named_value(action: str, key: str, value: Any) -> str | None:
    """Stored codes (a role, a rule, a kind) by their names; None when not one of them."""
    if key == "role" and value in {r.value for r in Role}:
        return ROLE_LABELS[Role(value)].render(get_locale())
    if key == "funding_method" or key == "tie_break":
        from .cycles import method_options, tie_break_options

        options = dict(method_options() if key == "funding_method" else tie_break_options())
        return options.get(value)
    if key == "mode":
        from .eligibility import MODE_LABELS

        return next((_(label) for mode, label in MODE_LABELS.items() if mode.value == value), None)
    if key == "reason" and action.startswith("held_votes.") and value in HELD_REASONS:
        return _(HELD_REASONS[value])
    if key == "kind" and action.startswith("job."):
        return _job_kind(value) or None
    if key == "kind" and action.startswith("device.") and value in DEVICE_KINDS:
        return _(DEVICE_KINDS[value])
    if key == "kind" and action.startswith("cycle.") and value in CYCLE_KINDS:
        return _(CYCLE_KINDS[value])
    return None


def _moment(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:  # stored in UTC without a zone
        moment = moment.replace(tzinfo=UTC)
    return datetime_text(moment)
