"""Alarms are stored as a kind, evidence and the parameters of their text, and read in
the moderator's language (server/sync/alarm_texts.py): English for an English reader,
the right Ukrainian form for every count, the stored sentence for an alarm raised
before texts were kept as parameters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from server.models import Alarm, Community, Role
from server.sync import alarms
from server.sync.alarm_texts import (
    ANSWER_REFUSALS,
    COUNTED,
    HELD_REASONS,
    PLAIN,
    alarm_text,
    render,
    text_of,
)
from server.sync.entry_answers import (
    ANONYMOUS,
    BREAKS_RULE,
    DEVICE_REVOKED,
    NOT_ALLOWED,
    OUTSIDE_WINDOW,
    STORE_SUPERSEDED,
)
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401

from .test_sync_fleet import busy_fleet, row_of, sign_in  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def _params(template: str) -> dict:
    values = {name: 7 for name in re.findall(r"{(\w+)}", template)}
    values["code"] = "T-0042"
    if "why" in values:
        values["why"] = "not_listed"
    if "answer_why" in values:
        values["answer_why"] = "outside_window"
    return values


@pytest.mark.parametrize("key", sorted(PLAIN) + sorted(COUNTED))
def test_every_alarm_text_reads_in_both_languages_with_every_value_filled(key):
    template = PLAIN.get(key) or COUNTED[key][0]
    text = text_of(key, **_params(template))
    uk, en = render(text, "uk"), render(text, "en")
    assert "T-0042" in uk and "T-0042" in en
    assert "{" not in uk + en
    assert uk != en and not re.search("[іїєґ]", en), en  # English, not Ukrainian left over


@pytest.mark.parametrize(
    ("n", "uk_words", "en_words"),
    [
        (1, "1 голос,", "1 vote that"),
        (3, "3 голоси,", "3 votes that"),
        (5, "5 голосів,", "5 votes that"),
        (21, "21 голос,", "21 votes that"),
        (112, "112 голосів,", "112 votes that"),
    ],
)
def test_a_count_reads_right_in_each_language(n, uk_words, en_words):
    text = text_of("votes.held.device", code="T-0042", n=n, why="after_close")
    assert uk_words in render(text, "uk") and en_words in render(text, "en")
    assert HELD_REASONS["after_close"] in render(text, "uk")


@pytest.mark.parametrize(
    "why", [BREAKS_RULE, OUTSIDE_WINDOW, NOT_ALLOWED, ANONYMOUS, DEVICE_REVOKED, STORE_SUPERSEDED]
)
def test_every_reason_a_devices_poll_answer_is_not_counted_reads_in_both_languages(why):
    text = text_of("poll_answers.refused", code="T-0042", n=3, answer_why=why)
    uk, en = render(text, "uk"), render(text, "en")
    assert ANSWER_REFUSALS[why] in uk and "3 відповіді на опитування, які не зараховано" in uk
    assert "3 poll answers that were not counted" in en and ANSWER_REFUSALS[why] not in en


def test_every_alarm_the_server_raises_names_a_text_that_exists():
    """The keys given to text_of in the server's code, found by reading it: a key with no
    text would fail only when that alarm is raised, in production."""
    used = set()
    for path in (ROOT / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "text_of":
                key = node.args[0]
                if isinstance(key, ast.Constant):
                    used.add(key.value)
                else:  # a chosen key: each choice is a literal in the expression
                    used |= {c.value for c in ast.walk(key) if isinstance(c, ast.Constant)}
    assert len(used) >= 15
    assert used <= set(PLAIN) | set(COUNTED), used - set(PLAIN) - set(COUNTED)
    with pytest.raises(KeyError):
        text_of("no.such.text")


def test_an_old_alarm_or_a_broken_text_shows_the_stored_sentence():
    assert alarm_text({"seq": 3}, "Збережене речення.", "en") == "Збережене речення."
    broken = {"text": {"key": "chain.conflict", "params": {"code": "T-1"}}}  # {seq} missing
    assert alarm_text(broken, "Збережене.", "en") == "Збережене."
    assert alarm_text({"text": {"key": "nope", "params": {}}}, "Збережене.", "uk") == "Збережене."
    assert alarm_text({"text": "not a dict"}, "Збережене.", "uk") == "Збережене."


def test_a_repeat_with_other_text_values_is_counted_up_not_raised_again(session, make):
    community = make.community()
    first = alarms.raise_alarm(
        session,
        community_id=community.id,
        source="T-0042",
        kind=alarms.CLOCK_STEP,
        text=text_of("clock.step", code="T-0042", n=2, worst=9),
        details={"first_seq": 1, "last_seq": 2},
    )
    session.flush()
    again = alarms.raise_alarm(
        session,
        community_id=community.id,
        source="T-0042",
        kind=alarms.CLOCK_STEP,
        text=text_of("clock.step", code="T-0042", n=5, worst=11),
        details={"first_seq": 1, "last_seq": 2},
    )
    assert again is first and first.details["repeats"] == 2
    assert "2 голоси" in first.message and first.details["text"]["params"]["n"] == 2


def test_the_fleet_page_shows_each_alarm_in_the_readers_language(client, make, session, busy_fleet):  # noqa: F811
    community, _fast, forger, gone, _never = busy_fleet
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    english = client.get("/console/fleet?lang=en").get_data(as_text=True)
    assert "The log chain of device" in row_of(english, forger.code)
    assert "waits for a moderator" in row_of(english, gone.code) and "розірвано" not in english
    ukrainian = client.get("/console/fleet?lang=uk").get_data(as_text=True)
    assert "розірвано" in row_of(ukrainian, forger.code)
    # An alarm raised before this change: only its sentence was kept.
    session.add(
        Alarm(
            community_id=community.id,
            at=session.scalar(select(Alarm.at).limit(1)),
            kind="chain.broken",
            source=forger.code,
            details={"seq": 1},
            message="Старе речення тривоги.",
        )
    )
    session.commit()
    english = client.get("/console/fleet?lang=en").get_data(as_text=True)
    assert "Старе речення тривоги." in row_of(english, forger.code)
    assert session.get(Community, community.id) is not None


def test_in_chromium_a_moderator_reads_the_alarms_in_english(chromium, server_url, make, busy_fleet):  # noqa: F811
    """The fleet page as a browser gets it: the alarms' sentences in the reader's
    language, and axe-core finds no violation."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    from tests.axe_check import assert_accessible
    from tests.factories import PASSWORD

    community, _fast, forger, gone, _never = busy_fleet
    user = make.user(Role.COMMUNITY_MODERATOR, community, login="fleet@example.org")
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.add_init_script(script=Axe().axe_script)
    page = context.new_page()
    try:
        page.goto(f"{server_url}/login")
        page.fill("#login", user.login)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#login")).to_have_count(0)
        page.goto(f"{server_url}/console/fleet?lang=en")
        forger_row = page.locator("tr", has=page.locator(f"code:text-is('{forger.code}')"))
        expect(forger_row).to_contain_text("The log chain of device")
        gone_row = page.locator("tr", has=page.locator(f"code:text-is('{gone.code}')"))
        expect(gone_row).to_contain_text("waits for a moderator")
        assert "розірвано" not in page.locator("main").inner_text()
        assert_accessible(page, "fleet-alarms-en", folder="console-fleet")
    finally:
        context.close()
