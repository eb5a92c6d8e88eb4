"""Every Ukrainian count reads correctly: 1 голос, 2 голоси, 5 голосів, 21 голос.

Counted texts are marked `ngettext(singular, plural, n)` (voting/po_catalog.py explains
the forms); these tests check the rule, that every counted text has all its forms in
both languages, and a count on the results page, a kiosk page and a students' page."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from kiosk import i18n as kiosk_i18n
from paper.forms import COUNTED_TEXTS, TEXTS, _total_text
from server import i18n as server_i18n
from server.models import Category
from server.paper.tally_messages import COUNTED as TALLY_COUNTED
from server.paper.tally_messages import tally_message
from server.school.student_ballot import rule_text
from support_point.issue_messages import COUNTED as ISSUE_COUNTED
from support_point.issue_messages import catalog as issue_catalog
from support_point.issue_messages import message as issue_message
from support_point.issue_messages import ui_text
from voting.messages import COUNTED, MESSAGES, message
from voting.messages import catalog as domain_catalog
from voting.po_catalog import UKRAINIAN_PLURAL_FORMS, Catalog, plural_rule

ROOT = Path(__file__).resolve().parent.parent
# Which app's catalogs hold the texts of a package (the kiosk keeps its own).
CATALOGS = {"server": server_i18n, "kiosk": kiosk_i18n}
# The literal arguments (singular, plural) of each marker, by position.
MARKERS = {"ngettext": 0, "ngettext_in": 1, "both_counted": 0, "ntranslate": 0}
TEMPLATE_CALL = re.compile(
    r"""\bngettext\(\s*(?P<q>["'])(?P<one>.*?)(?P=q)\s*,\s*(?P<q2>["'])(?P<many>.*?)(?P=q2)\s*,""", re.S
)
NUMBERS = (0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 112)
# The form of «голос» after each of NUMBERS, as a Ukrainian reader expects it.
VOTES = ("голосів", "голос", "голоси", "голоси", "голосів", "голосів", "голосів", "голосів")
VOTES += ("голос", "голоси", "голосів", "голос", "голосів", "голосів")


def counted_in_python() -> list[tuple[str, str, str, str]]:
    """(app, singular, plural, where) of every ngettext call with literal texts."""
    found = []
    for package, app in CATALOGS.items():
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                first = MARKERS.get(node.func.id)
                texts = node.args[first : first + 2] if first is not None else []
                if len(texts) == 2 and all(
                    isinstance(t, ast.Constant) and isinstance(t.value, str) for t in texts
                ):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.append((package, texts[0].value, texts[1].value, where))
    return found


def counted_in_templates() -> list[tuple[str, str, str, str]]:
    found = []
    for package in ("server", "kiosk"):
        for path in (ROOT / package / "templates").rglob("*.html"):
            source = path.read_text(encoding="utf-8")
            for match in TEMPLATE_CALL.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                where = f"{path.relative_to(ROOT)}:{line}"
                found.append((package, match.group("one"), match.group("many"), where))
    return found


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"{\w+}", text))


@pytest.mark.parametrize(("n", "form"), list(zip(NUMBERS, VOTES, strict=True)), ids=[str(n) for n in NUMBERS])
def test_the_ukrainian_rule_picks_one_few_or_many(n, form):
    rule = plural_rule(UKRAINIAN_PLURAL_FORMS)
    assert ("голос", "голоси", "голосів")[rule(n)] == form
    # The server's and the kiosk's Ukrainian catalogs use this rule (from their header).
    for i18n in (server_i18n, kiosk_i18n):
        assert i18n.translations("uk").plural_index(n) == rule(n)
    english = server_i18n.translations("en")
    assert english.plural_index(n) == (0 if n == 1 else 1)


@pytest.mark.parametrize("n", NUMBERS)
def test_a_counted_text_reads_right_in_both_languages(n):
    threshold = (
        "Щоб отримати фінансування, проєкт має набрати щонайменше {n} голос.",
        "Щоб отримати фінансування, проєкт має набрати щонайменше {n} голосів.",
    )
    expected = VOTES[NUMBERS.index(n)]
    assert server_i18n.ngettext_in("uk", *threshold, n).endswith(f" {n} {expected}.")
    english = server_i18n.ngettext_in("en", *threshold, n)
    assert english == f"A project needs at least {n} {'vote' if n == 1 else 'votes'} to be funded."


def test_a_text_missing_from_the_catalog_falls_back_as_gettext_does():
    catalog = Catalog("uk", plural_index=plural_rule("(n%10==1 && n%100!=11 ? 0 : 1)"))
    assert catalog.ngettext("{n} річ", "{n} речей", 21) == "21 річ"
    assert catalog.ngettext("{n} річ", "{n} речей", 7) == "7 речей"


def test_every_counted_text_has_all_its_forms_in_both_languages():
    problems = []
    for app, one, many, where in counted_in_python() + counted_in_templates():
        i18n = CATALOGS[app]
        ukrainian = i18n.translations("uk").counted.get(one)
        english = i18n.translations("en").counted.get(one)
        if not ukrainian or len(ukrainian) != 3 or not all(ukrainian):
            problems.append(f"{where}: no three Ukrainian forms (one, few, many) for {one!r}")
        elif (ukrainian[0], ukrainian[2]) != (one, many):
            problems.append(f"{where}: the Ukrainian catalog's one/many forms differ from the code")
        if not english or len(english) != 2 or not all(english):
            problems.append(f"{where}: no English singular and plural for {one!r}")
        for form in (*(ukrainian or ()), *(english or ())):
            if placeholders(form) != placeholders(one):
                problems.append(f"{where}: {form!r} has other placeholders than {one!r}")
    assert not problems, "\n".join(problems)


def test_the_scan_finds_counted_texts_so_the_check_above_can_fail():
    found = {(app, one) for app, one, _many, _where in counted_in_python() + counted_in_templates()}
    assert ("server", "Щоб отримати фінансування, проєкт має набрати щонайменше {n} голос.") in found
    assert ("server", "Оберіть {n} проєкт") in found
    assert ("kiosk", "Можна обрати до {max} проєкту.") in found


def test_the_domains_counted_messages_have_every_form_of_both_languages():
    for code, (count, one, many) in COUNTED.items():
        ukrainian = domain_catalog("uk").counted[one]
        english = domain_catalog("en").counted[one]
        assert len(ukrainian) == 3 and len(english) == 2 and all(ukrainian) and all(english), code
        assert (ukrainian[0], ukrainian[2]) == (one, many), code  # msgid, msgid_plural
        assert MESSAGES[code] == many, code  # the table keeps the general form
        for form in (*ukrainian, *english):
            assert "{" + count + "}" in form and placeholders(form) == placeholders(one), code


@pytest.mark.parametrize(("n", "form"), list(zip(NUMBERS, VOTES, strict=True)), ids=[str(n) for n in NUMBERS])
def test_a_domain_message_counts_in_good_ukrainian(n, form):
    assert message("funding.too_few_votes", "uk", votes=n, threshold=200) == (
        f"Не профінансовано: {n} {form}, а потрібно щонайменше 200."
    )
    english = message("funding.too_few_votes", "en", votes=n, threshold=200)
    assert english == f"Not funded: {n} {'vote' if n == 1 else 'votes'}, at least 200 needed."


@pytest.mark.parametrize(("n", "form"), list(zip(NUMBERS, VOTES, strict=True)), ids=[str(n) for n in NUMBERS])
def test_a_tally_sheet_problem_counts_its_votes_in_good_ukrainian(n, form):
    text = tally_message("paper_tally.votes_over_ballots", "uk", votes=n, ballots=0)
    assert text.startswith(f"{n} {form} — більше, ніж дійсних бюлетенів (0)")
    for code, (one, _many) in TALLY_COUNTED.items():
        ukrainian = server_i18n.translations("uk").counted[one]
        english = server_i18n.translations("en").counted[one]
        assert len(ukrainian) == 3 and len(english) == 2, code
        assert all(placeholders(f) == placeholders(one) for f in (*ukrainian, *english)), code


def test_the_support_points_age_texts_have_every_form_and_read_right():
    for code, (one, many) in ISSUE_COUNTED.items():
        ukrainian, english = issue_catalog("uk").counted[one], issue_catalog("en").counted[one]
        assert len(ukrainian) == 3 and len(english) == 2 and (ukrainian[0], ukrainian[2]) == (one, many), code
        assert all(placeholders(f) == placeholders(ukrainian[0]) for f in (*ukrainian, *english)), code
    assert issue_message("eligibility.too_young", "uk", min_age=21).startswith("Мешканцеві ще немає 21 року,")
    assert issue_message("eligibility.too_young", "uk", min_age=18).startswith(
        "Мешканцеві ще немає 18 років,"
    )
    assert ui_text("min_age", "uk", min_age=21) == "голосувати можна з 21 року"


@pytest.mark.parametrize(
    ("least", "most", "line"),
    [
        (2, None, "Усього оберіть щонайменше 2 проєкти."),
        (5, None, "Усього оберіть щонайменше 5 проєктів."),
        (21, None, "Усього оберіть щонайменше 21 проєкт."),
        (0, 1, "Усього можна обрати не більше 1 проєкту."),
        (2, 21, "Усього оберіть від 2 до 21 проєкту."),
        (2, 4, "Усього оберіть від 2 до 4 проєктів."),
    ],
)
def test_the_paper_ballot_states_its_total_in_good_ukrainian(least, most, line):
    assert _total_text(SimpleNamespace(min_total=least, max_total=most), TEXTS["uk"]) == line


def test_the_paper_ballots_counted_lines_have_every_form():
    assert set(COUNTED_TEXTS["uk"]) == set(COUNTED_TEXTS["en"])
    for key, ukrainian in COUNTED_TEXTS["uk"].items():
        english = COUNTED_TEXTS["en"][key]
        assert len(ukrainian) == 3 and len(english) == 2, key
        assert all(placeholders(f) == placeholders(ukrainian[0]) for f in (*ukrainian, *english)), key


# --- pages -----------------------------------------------------------------------------


def published_results(session, make, threshold: int) -> str:
    """The public results address of a cycle whose projects need `threshold` votes."""
    community = make.community()
    cycle = make.ballot_cycle(community)
    for category in session.scalars(select(Category).where(Category.cycle_id == cycle.id)):
        category.min_votes_to_fund = threshold
    cycle.results_published_at = datetime.now(UTC)
    session.commit()
    return f"/results/{community.slug}/{cycle.slug}"


@pytest.mark.parametrize(
    ("threshold", "words"),
    [(2, "2 голоси"), (5, "5 голосів"), (12, "12 голосів"), (21, "21 голос"), (22, "22 голоси")],
)
def test_the_results_page_says_how_many_votes_a_project_needs(client, session, make, threshold, words):
    html = client.get(published_results(session, make, threshold)).get_data(as_text=True)
    assert f"проєкт має набрати щонайменше {words}." in html


def test_the_results_page_in_english_counts_one_vote_in_the_singular(client, session, make):
    html = client.get(published_results(session, make, 2) + "?lang=en").get_data(as_text=True)
    assert "A project needs at least 2 votes to be funded." in html


@pytest.mark.parametrize(
    ("least", "most", "text"),
    [
        (1, 1, "Оберіть 1 проєкт"),
        (3, 3, "Оберіть 3 проєкти"),
        (11, 11, "Оберіть 11 проєктів"),
        (21, 21, "Оберіть 21 проєкт"),
        (0, 1, "Оберіть до 1 проєкту"),
        (0, 2, "Оберіть до 2 проєктів"),
        (1, 21, "Оберіть від 1 до 21 проєкту"),
        (1, 11, "Оберіть від 1 до 11 проєктів"),
    ],
)
def test_the_students_ballot_states_its_rule_in_good_ukrainian(app, least, most, text):
    with app.test_request_context("/"):
        assert rule_text(least, most) == text
    with app.test_request_context("/?lang=en"):
        assert rule_text(least, most).endswith("project" if most == 1 else "projects")


@pytest.mark.parametrize(("most", "words"), [(1, "Оберіть 1 проєкт"), (3, "Оберіть від 1 до 3 проєктів")])
def test_the_students_ballot_page_counts_its_projects(app, client, session, make, most, words):
    from server.school.codes import issue_codes
    from server.school.keys import app_code_keys

    contest = make.school_contest(max_choices=most)
    card = issue_codes(session, contest, "6-А", 1, app_code_keys(app))[0]
    session.commit()
    assert client.get(f"/s/{card.code}").status_code == 303
    page = client.get("/s/ballot").get_data(as_text=True)
    assert words in page
