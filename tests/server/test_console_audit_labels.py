"""The audit log reads as sentences a moderator understands: a named action for every
action code the code base writes, people by name and login, money in hryvnias, dates
in Kyiv time, never `None`; the event as stored stays behind «Як записано в журналі»."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from server.console.audit_labels import (
    ACTION_LABELS,
    CYCLE_KINDS,
    DETAIL_LABELS,
    DEVICE_KINDS,
    HELD_REASONS,
    TARGET_LABELS,
)
from server.i18n import load_catalog
from server.models import Category, Role
from server.models.job import FINISHED_STATES
from server.services import audit
from tests.factories import sign_in

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", "tests", "node_modules", "build", "dist"}
# Codes built at run time, by the source text of the argument: every value they can take.
COMPUTED = {"f'job.{state}'": {f"job.{state}" for state in FINISHED_STATES}}


def _module_constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _audit_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names this module gives the audit module, and names it gives its `record`."""
    modules, functions = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "server.services":
            modules |= {a.asname or a.name for a in node.names if a.name == "audit"}
        elif isinstance(node, ast.ImportFrom) and node.module == "server.services.audit":
            functions |= {a.asname or a.name for a in node.names if a.name == "record"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == "server.services.audit" and a.asname}
    return modules, functions


def _codes(node: ast.expr, constants: dict[str, str]) -> set[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _codes(node.body, constants), _codes(node.orelse, constants)
        return None if body is None or orelse is None else body | orelse
    if isinstance(node, ast.Name) and node.id in constants:
        return {constants[node.id]}
    return COMPUTED.get(ast.unparse(node))


def written_action_codes() -> tuple[dict[str, str], list[str]]:
    """{code: where} of every `audit.record(...)` call, and the calls whose code the scan
    cannot tell (those must be taught to it, in COMPUTED)."""
    found: dict[str, str] = {}
    unknown: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIPPED or relative.parts[0].startswith("."):
            continue
        source = path.read_text(encoding="utf-8")
        if "audit" not in source:
            continue
        tree = ast.parse(source)
        modules, functions = _audit_names(tree)
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            calls_record = (
                isinstance(func, ast.Attribute)
                and func.attr == "record"
                and isinstance(func.value, ast.Name)
                and func.value.id in modules
            ) or (isinstance(func, ast.Name) and func.id in functions)
            if not calls_record:
                continue
            where = f"{relative}:{node.lineno}"
            argument = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "action"), None)
            )
            codes = _codes(argument, constants) if argument is not None else None
            if codes is None:
                unknown.append(where)
                continue
            for code in codes:
                found.setdefault(code, where)
    return found, unknown


def test_every_action_code_the_code_base_writes_has_a_human_label():
    found, unknown = written_action_codes()
    assert unknown == [], "the scan cannot tell which action code these write (teach COMPUTED):"
    missing = sorted(f"{where}: {code}" for code, where in found.items() if code not in ACTION_LABELS)
    assert missing == [], "no label in server/console/audit_labels.py ACTION_LABELS for:\n" + "\n".join(
        missing
    )


def test_the_scan_finds_codes_of_every_shape_so_the_check_above_can_fail():
    found, _unknown = written_action_codes()
    # A literal, both branches of a conditional, a module constant, a computed code.
    assert {"auth.login", "user.activate", "user.deactivate", "device.bundle_import", "job.failed"} <= set(
        found
    )
    assert len(found) >= 45


def test_every_label_has_an_english_translation():
    english = load_catalog("en")
    labels = [
        *ACTION_LABELS.values(),
        *DETAIL_LABELS.values(),
        *TARGET_LABELS.values(),
        *HELD_REASONS.values(),
        *CYCLE_KINDS.values(),
        *DEVICE_KINDS.values(),
    ]
    assert sorted(set(label for label in labels if label not in english)) == []


# --- the page ----------------------------------------------------------------------------

DETAILS = re.compile(r"<details.*?</details>", re.S)


def outside_raw(page: str) -> str:
    """The page as a moderator reads it, without the events as stored (and with the
    no-break spaces of formatted numbers as plain ones)."""
    return DETAILS.sub("", page).replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def desk(client, make, session):
    community = make.community(name="Бучанська громада")
    moderator = make.user(
        Role.COMMUNITY_MODERATOR, community, login="olena@example.org", display_name="Олена Петренко"
    )
    cycle = make.ballot_cycle(community)
    device = make.device(community, code="T-0042", name="ЦНАП «Центральний»")
    sign_in(client, moderator)
    return community, moderator, cycle, device


def test_every_action_code_is_shown_by_its_name(client, session, desk):
    community, moderator, _cycle, _device = desk
    for code in ACTION_LABELS:
        audit.record(session, code, user=moderator, community_id=community.id)
    session.commit()
    # More codes than a page holds: both pages.
    page = client.get("/console/audit").get_data(as_text=True) + client.get("/console/audit?page=2").get_data(
        as_text=True
    )
    readable = outside_raw(page)
    text = re.sub(r"<[^>]+>", " ", readable)  # what is read: no tags, no attributes
    for code, label in ACTION_LABELS.items():
        assert label in readable, code
        assert code not in text, code
    assert 'data-action="auth.login"' in page  # the raw code stays, for an expert
    assert "<code>auth.login</code>" in page


def test_entries_name_people_objects_money_and_moments_and_never_none(client, session, make, desk):
    community, moderator, cycle, device = desk
    category = session.scalars(select(Category).where(Category.cycle_id == cycle.id)).first()
    project = make.project(category, cost=800_000)
    audit.record(
        session, "auth.login", user=moderator, community_id=community.id, target=("user", moderator.id)
    )
    audit.record(
        session,
        "project.update",
        user=moderator,
        community_id=community.id,
        target=("project", project.id),
        details={"cost": [800_000, 950_050], "district": [None, "Поділ"]},
    )
    audit.record(
        session,
        "device.register",
        user=moderator,
        community_id=community.id,
        target=("device", device.code),
        details={"kind": "terminal", "name": device.name, "location": None},
    )
    audit.record(
        session,
        "cycle.update",
        user=moderator,
        community_id=community.id,
        target=("cycle", cycle.id),
        details={"voting_ends_at": ["2027-05-01T06:00:00+00:00", "2027-05-08T06:00:00+00:00"]},
    )
    session.commit()

    page = client.get("/console/audit").get_data(as_text=True)
    readable = outside_raw(page)
    assert "None" not in page
    assert "Вхід у консоль" in readable and "Олена Петренко (olena@example.org)" in readable
    assert "user 1" not in readable and f"user {moderator.id}" not in readable
    assert f"Проєкт №{project.number} «{project.title}»" in readable
    assert "Вартість</dt><dd>8 000 грн → 9 500,5 грн" in readable
    assert "Район</dt><dd>— → Поділ" in readable
    assert "Пристрій T-0042 «ЦНАП «Центральний»»" in readable and "термінал" in readable
    assert "Розташування</dt><dd>—" in readable
    # Kyiv time in words: 06:00 UTC is 09:00 in May.
    assert "1 травня 2027, 09:00 → 8 травня 2027, 09:00" in readable
    assert "cost" not in readable and "800000" not in readable
    # The stored event is still there for an expert.
    assert "[800000, 950050]" in page and f"project {project.id}" in page

    english = outside_raw(client.get("/console/audit?lang=en").get_data(as_text=True))
    assert "Signed in" in english and "Project changed" in english
    assert "UAH 8,000 → UAH 9,500.5" in english and "1 May 2027, 09:00" in english
    assert "Вхід у консоль" not in english


def test_the_filter_offers_actions_by_name(client, session, desk):
    community, moderator, _cycle, _device = desk
    audit.record(session, "results.publish", user=moderator, community_id=community.id)
    audit.record(session, "auth.login", user=moderator, community_id=community.id)
    session.commit()
    page = client.get("/console/audit?action=results.publish").get_data(as_text=True)
    assert '<option value="results.publish" selected>Публікація результатів</option>' in page
    assert page.count('class="audit-entry"') == 1
