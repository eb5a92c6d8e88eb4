"""Results pages: moderators see and publish them; residents see them once published."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.models import AuditEvent, Cycle, Project, Role
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from tests.factories import csrf, login
from voting import Channel, VoteRecord

TRICKY_TITLES = ["<script>alert(1)</script>", '=HYPERLINK("http://evil.example","Сквер")', "-2+3", "@SUM(A1)"]


def public_url(cycle: Cycle, community, ext: str = "") -> str:
    return f"/results/{community.slug}/{cycle.slug}{ext}"


@pytest.fixture
def cycle(session, make):
    """A cycle whose small-category projects carry titles a spreadsheet or a browser
    would execute, with a few votes stored through the ballot box."""
    community = make.community(slug="kyiv")
    cycle = make.ballot_cycle(community)
    projects = list(session.scalars(select(Project).where(Project.cycle_id == cycle.id).order_by(Project.id)))
    small = [p for p in projects if p.title.startswith("Сквер")]
    for project, title in zip(small, TRICKY_TITLES, strict=True):
        project.title = title
    session.commit()
    make.device(community, code="T-0100", name="ЦНАП «Центральний»")
    records = [
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=cycle.id,
            selections=[small[voter % 2].id],
            channel=Channel.KIOSK if voter % 2 else Channel.WEB,
            device_id="T-0100" if voter % 2 else None,
            cast_at=cycle.voting_starts_at + timedelta(minutes=10 * voter),
            voter_key=f"{voter:064x}",
        )
        for voter in range(1, 6)
    ]
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, records, source="test")
    session.commit()
    return cycle


@pytest.fixture
def moderator(make, cycle, session):
    from server.models import Community

    return make.user(Role.COMMUNITY_MODERATOR, session.get(Community, cycle.community_id))


def community_of(session, cycle):
    from server.models import Community

    return session.get(Community, cycle.community_id)


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": csrf(client), **data})


def test_moderator_sees_tables_charts_and_the_buttons(client, moderator, cycle):
    login(client, moderator)
    page = client.get(f"/console/cycles/{cycle.id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4  # two categories, channels, turnout
    assert "Опублікувати результати" in html and "Звірити з первинними записами" in html
    assert "ЦНАП «Центральний»" in html and "Термінал" in html
    assert f"/console/cycles/{cycle.id}/results.csv" in html
    assert "results.css" in html


def test_titles_stay_text_and_pages_carry_no_inline_script_or_style(client, moderator, cycle):
    login(client, moderator)
    html = client.get(f"/console/cycles/{cycle.id}/results").get_data(as_text=True)
    assert "<script" not in html and "style=" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_publishing_makes_the_public_page_appear_and_unpublishing_hides_it(client, session, moderator, cycle):
    community = community_of(session, cycle)
    for ext in ("", ".csv", ".json"):
        assert client.get(public_url(cycle, community, ext)).status_code == 404

    login(client, moderator)
    answer = post(client, f"/console/cycles/{cycle.id}/results/publish", confirm="yes")
    assert answer.status_code == 302 and answer.location.endswith(f"/console/cycles/{cycle.id}/results")
    session.refresh(cycle)
    assert cycle.results_published_at is not None
    console = client.get(f"/console/cycles/{cycle.id}/results").get_data(as_text=True)
    assert "Скасувати публікацію" in console and public_url(cycle, community) in console

    client.post("/logout", data={"csrf_token": csrf(client)})
    page = client.get(public_url(cycle, community))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and cycle.title in html
    assert "<svg" in html and "Стадіон 1" in html
    assert client.get(public_url(cycle, community, ".json")).status_code == 200
    assert client.get(public_url(cycle, community, ".csv")).status_code == 200
    assert public_url(cycle, community) in client.get("/").get_data(as_text=True)

    login(client, moderator)
    assert post(client, f"/console/cycles/{cycle.id}/results/unpublish", confirm="yes").status_code == 302
    session.refresh(cycle)
    assert cycle.results_published_at is None
    for ext in ("", ".csv", ".json"):
        assert client.get(public_url(cycle, community, ext)).status_code == 404
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target_type == "cycle", AuditEvent.target_id == str(cycle.id))
        .order_by(AuditEvent.id)
    )
    assert list(actions) == ["results.publish", "results.unpublish"]


def test_publishing_without_the_form_token_is_refused(client, session, moderator, cycle):
    login(client, moderator)
    answer = client.post(f"/console/cycles/{cycle.id}/results/publish", data={})
    assert answer.status_code == 400
    session.refresh(cycle)
    assert cycle.results_published_at is None


@pytest.mark.parametrize(
    ("role", "own_community", "status"),
    [
        (Role.COMMUNITY_MODERATOR, False, 404),
        (Role.SUPPORT_OPERATOR, True, 403),
        (Role.SCHOOL_MODERATOR, True, 403),
    ],
)
def test_only_managers_of_the_cycles_community_may_see_or_publish(
    client, session, make, cycle, role, own_community, status
):
    user = make.user(role, community_of(session, cycle) if own_community else make.community())
    login(client, user)
    base = f"/console/cycles/{cycle.id}/results"
    assert client.get(base).status_code == status
    assert client.get(base + ".csv").status_code == status
    assert client.get(base + ".json").status_code == status
    for action in ("publish", "unpublish", "verify"):
        assert post(client, f"{base}/{action}").status_code == status
    session.refresh(cycle)
    assert cycle.results_published_at is None


def test_an_administrator_may_publish_any_community(client, session, make, cycle):
    login(client, make.user(Role.ADMINISTRATOR))
    assert post(client, f"/console/cycles/{cycle.id}/results/publish", confirm="yes").status_code == 302
    session.refresh(cycle)
    assert cycle.results_published_at is not None


def test_signed_out_visitors_are_sent_to_sign_in(client, cycle):
    answer = client.get(f"/console/cycles/{cycle.id}/results")
    assert answer.status_code == 302 and "/login" in answer.location


@pytest.mark.parametrize(
    "path",
    [
        "/console/cycles/999999/results",
        "/console/cycles/99999999999999999999/results",
        "/console/cycles/abc/results",
        "/console/cycles/-1/results.csv",
    ],
)
def test_unknown_or_malformed_cycle_ids_are_not_found(client, moderator, path):
    login(client, moderator)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/results/kyiv/" + "x" * 300,
        "/results/%3Cscript%3E/gb-1",
        "/results/kyiv/gb..1.json",
        "/results/nowhere/gb-1.csv",
    ],
)
def test_malformed_or_unknown_public_addresses_are_not_found(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and "<script>" not in answer.get_data(as_text=True)


def test_the_public_page_needs_the_right_community_too(client, session, make, cycle):
    cycle.results_published_at = cycle.created_at
    session.commit()
    other = make.community()
    assert client.get(public_url(cycle, other)).status_code == 404
    assert client.get(public_url(cycle, community_of(session, cycle))).status_code == 200


def test_csv_opens_in_excel_and_cannot_run_formulas(client, moderator, cycle):
    login(client, moderator)
    answer = client.get(f"/console/cycles/{cycle.id}/results.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    body = answer.data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Категорія", "Місце", "Номер", "Назва"]
    assert len(rows) == 1 + 8
    titles = [row[3] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","Сквер")' in titles
    assert "'-2+3" in titles and "'@SUM(A1)" in titles and "<script>alert(1)</script>" in titles
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]
    first = rows[1]
    assert first[1:3] != ["", ""] and first[5] == "150000.00" and first[-2:] == ["так", "Профінансовано."]


def test_json_export_has_the_documented_shape(client, session, moderator, cycle):
    login(client, moderator)
    answer = client.get(f"/console/cycles/{cycle.id}/results.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    data = json.loads(answer.data)
    assert data["cycle"]["slug"] == cycle.slug
    assert data["voters"] == {"counted": 5, "duplicate": 0, "invalid": 0}
    assert [c["name"] for c in data["categories"]] == ["Малі проєкти", "Великі проєкти"]
    assert {d["device_id"]: d["name"] for d in data["devices"]} == {"T-0100": "ЦНАП «Центральний»"}
    assert "<script>alert(1)</script>" in answer.get_data(as_text=True)  # JSON is data, not HTML


def test_verify_button_shows_that_the_recount_agrees(client, session, moderator, cycle):
    login(client, moderator)
    answer = post(client, f"/console/cycles/{cycle.id}/results/verify")
    assert answer.status_code == 303  # a job: its page shows the steps, then the comparison
    answer = client.get(answer.headers["Location"])
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Кроків перерахунку: 4 з 4" in html
    assert "Збігається: перерахунок усіх збережених голосів дає ті самі підсумки." in html
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "results.verify"))


def test_the_public_page_reads_in_english(client, session, cycle):
    cycle.results_published_at = cycle.created_at
    session.commit()
    html = client.get(public_url(cycle, community_of(session, cycle)) + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    for text in ("Voting channels", "Funded", "Online", "Terminal", "Turnout by hour (Kyiv time)", "UAH"):
        assert text in html
    assert "Канали голосування" not in html and "Профінансовано" not in html
    english_csv = client.get(public_url(cycle, community_of(session, cycle), ".csv")).data.decode("utf-8-sig")
    assert english_csv.startswith("Category,Rank,Number,Name")
