"""The console's CSV and JSON of a poll's results: the public page's very files (one
builder), for the community's managers only, before the results are public too (to
check them) and then byte for byte the public download; each file says in its name, and
in a column or a field, whether the results were public when it was made. A draft,
another community's poll or a junk id: 404. Never cached."""

from __future__ import annotations

import copy
import csv
import io
import re

import pytest

from server.models import Role
from server.polls.results import publish_poll_results
from tests.factories import sign_in

from .test_polls import SPEC
from .test_polls_results import _poll, _records, _store

SAFE_NAME = re.compile(
    r'^(attachment|inline); filename="[A-Za-z0-9_-]+-poll-\d+-results-(public|not-public)\.(csv|json)"$'
)


def _console(poll, ext: str) -> str:
    return f"/console/polls/{poll.id}/results.{ext}"


def _public(poll, community, ext: str) -> str:
    return f"/polls/{community.slug}/{poll.id}.{ext}"


def _rows(answer) -> list[list[str]]:
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.fixture
def moderator(make):
    community = make.community()
    return make.user(Role.COMMUNITY_MODERATOR, community), community


def test_a_moderator_downloads_the_results_before_and_after_publication(app, client, session, moderator):
    user, community = moderator
    poll = _poll(session, community)
    _store(session, poll, _records(session, poll, 40))
    sign_in(client, user)

    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert f'href="/console/polls/{poll.id}/results.csv"' in page
    assert f'href="/console/polls/{poll.id}/results.json"' in page
    assert "ще не оприлюднено" in page

    # Not public yet: the moderator's copy, marked so in its name and content.
    answer = client.get(_console(poll, "csv"))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    disposition = answer.headers["Content-Disposition"]
    assert SAFE_NAME.match(disposition), disposition
    assert f'filename="{community.slug}-poll-{poll.id}-results-not-public.csv"' in disposition
    assert disposition.startswith("attachment")
    assert answer.headers["Cache-Control"] == "no-store"
    rows = _rows(answer)
    assert rows[0][-1] == "Результати оприлюднено" and len(rows) > 1
    assert {r[-1] for r in rows[1:]} == {"no"}

    answer = client.get(_console(poll, "json"))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert SAFE_NAME.match(answer.headers["Content-Disposition"])
    assert "-results-not-public.json" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["results_public"] is False and body["results_published_at"] is None
    assert body["poll"] == poll.id and body["residents"] > 0

    anonymous = app.test_client()
    assert anonymous.get(_public(poll, community, "csv")).status_code == 404

    # Published: the console's files are the public ones, byte for byte.
    publish_poll_results(session, poll)
    session.commit()
    for ext in ("csv", "json"):
        console, public = client.get(_console(poll, ext)), anonymous.get(_public(poll, community, ext))
        assert console.status_code == public.status_code == 200
        assert console.get_data() == public.get_data()
        assert console.headers["Content-Type"] == public.headers["Content-Type"]
        assert console.headers["Content-Disposition"] == public.headers["Content-Disposition"]
        assert f"-results-public.{ext}" in console.headers["Content-Disposition"]
        assert console.headers["Cache-Control"] == "no-store"
    assert {r[-1] for r in _rows(client.get(_console(poll, "csv")))[1:]} == {"yes"}
    assert client.get(_console(poll, "json")).get_json()["results_public"] is True
    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert f'href="/console/polls/{poll.id}/results.csv"' in page
    # Headings in the moderator's language (this choice stays for the session: last).
    assert _rows(client.get(_console(poll, "csv") + "?lang=en"))[0][-1] == "Results published"


def test_a_poll_not_yet_open_has_its_empty_results_to_download(client, session, moderator):
    user, community = moderator
    poll = _poll(session, community, opens_days_ago=-3)
    sign_in(client, user)
    body = client.get(_console(poll, "json")).get_json()
    assert body["residents"] == 0 and body["results_public"] is False
    rows = _rows(client.get(_console(poll, "csv")))
    assert len(rows) == 1 + 14 and {r[6] for r in rows[1:]} == {"0"}


def test_a_drafts_results_are_not_found(client, session, moderator):
    user, community = moderator
    draft = _poll(session, community, published=False, title="Чернетка опитування")
    sign_in(client, user)
    page = client.get(f"/console/polls/{draft.id}").get_data(as_text=True)
    assert "results.csv" not in page and "results.json" not in page
    for ext in ("csv", "json"):
        answer = client.get(_console(draft, ext))
        assert answer.status_code == 404
        assert "Чернетка" not in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("moderator", 200),
        ("administrator", 200),
        ("school", 403),
        ("operator", 403),
        ("other_community", 404),
        ("anonymous", 302),
    ],
)
def test_only_the_communitys_managers_download(client, session, make, moderator, who, expected):
    user, community = moderator
    poll = _poll(session, community, title="Таємне опитування")
    if who == "moderator":
        sign_in(client, user)
    elif who == "administrator":
        sign_in(client, make.user(Role.ADMINISTRATOR))
    elif who == "school":
        school = make.school(community)
        sign_in(client, make.user(Role.SCHOOL_MODERATOR, community, school_id=school.id))
    elif who == "operator":
        sign_in(client, make.user(Role.SUPPORT_OPERATOR, community))
    elif who == "other_community":
        sign_in(client, make.user(Role.COMMUNITY_MODERATOR, make.community()))
    for ext in ("csv", "json"):
        answer = client.get(_console(poll, ext))
        assert answer.status_code == expected, (who, ext)
        if expected == 302:
            assert "/login" in answer.headers["Location"] or "sign" in answer.headers["Location"]
        if expected != 200:
            assert "Таємне" not in answer.get_data(as_text=True)


def test_junk_and_huge_ids_are_not_found(client, session, moderator):
    user, community = moderator
    poll = _poll(session, community)
    sign_in(client, user)
    for poll_id in ("0", str(poll.id + 1000), str(2**31), str(10**30), "abc", "-1", "1.5", "%00"):
        for ext in ("csv", "json"):
            assert client.get(f"/console/polls/{poll_id}/results.{ext}").status_code == 404, poll_id


def test_csv_cells_are_not_formulas(client, session, moderator):
    user, community = moderator
    questions = copy.deepcopy(SPEC["questions"])
    questions[0]["options"] = ['=HYPERLINK("http://x")', "+1", "Ні"]
    poll = _poll(session, community, questions=questions)
    sign_in(client, user)
    text = client.get(_console(poll, "csv")).get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and ",+1" not in text
