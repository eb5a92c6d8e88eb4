"""«Мій пункт»: a support-point operator signs in to their workspace. It shows their
community's support points (last contact, backlog, open alarms), the cycles taking
paper with the way to their scans, review queue, tally sheet and typed paper votes, and
the latest paper jobs; nothing of another community, no kiosk, nothing they cannot open.
Every link on it opens for them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server.jobs.kinds.voter_list import KIND as VOTER_LIST
from server.jobs.store import create_job
from server.models import Alarm, Community, CycleKind, Role, utcnow
from tests.factories import login, sign_in


@pytest.fixture
def point_world(make, session):
    """A community with two support points (one with a backlog and an open alarm), a
    kiosk, a revoked point; an open cycle, one about to open, one long closed, a school
    budget; a paper job and a voter-list job. Another community with its own of each."""
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    now = utcnow()
    library = make.device(
        community, kind="support_point", code="S-0042", name="Пункт у бібліотеці", backlog=7, last_seen_at=now
    )
    make.device(community, kind="support_point", code="S-0043", name="Пункт у ЦНАП")
    make.device(community, kind="support_point", code="S-0044", name="Старий пункт", status="revoked")
    make.device(community, code="T-0900", name="Термінал у ЦНАП")
    session.add(Alarm(community_id=community.id, at=now, kind="vote_conflict", source="S-0042", message="x"))
    upcoming = make.cycle(community, open_now=False, title="Бюджет участі 2031")
    closed = make.cycle(
        community,
        title="Бюджет участі 2020",
        voting_starts_at=now - timedelta(days=400),
        voting_ends_at=now - timedelta(days=370),
    )
    school = make.cycle(community, kind=CycleKind.SCHOOL.value, title="Шкільний бюджет")
    operator = make.user(Role.SUPPORT_OPERATOR, community, display_name="Петро Мельник")

    other_cycle = make.ballot_cycle()
    other = session.get(Community, other_cycle.community_id)
    make.device(other, kind="support_point", code="S-0777", name="Чужий пункт")
    jobs = {}
    for kind in ("paper_scans.upload", VOTER_LIST):
        jobs[kind] = create_job(
            session,
            community_id=community.id,
            kind=kind,
            user=None,
            unit="pages",
            params={},
            files=[],
            target=("cycle", cycle.id) if kind != VOTER_LIST else ("community", community.id),
            now=now,
        )
    session.commit()
    return {
        "community": community,
        "cycle": cycle,
        "upcoming": upcoming,
        "closed": closed,
        "school": school,
        "library": library,
        "operator": operator,
        "other_cycle": other_cycle,
        "jobs": jobs,
    }


def test_the_operators_sign_in_lands_on_their_workspace(client, point_world):
    response = login(client, point_world["operator"])
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).headers["Location"].endswith("/console/my-point")
    page = client.get("/console/my-point")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<h1>Мій пункт</h1>" in text and point_world["community"].name in text
    # The menu: their point and their password; no «Огляд», nothing of the managers'.
    nav = re.search(r"<nav .*?</nav>", text, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', nav) == ["/console/my-point", "/console/account/password"]


def test_the_workspace_shows_the_points_and_the_cycles_taking_paper(client, point_world):
    w = point_world
    sign_in(client, w["operator"])
    text = client.get("/console/my-point").get_data(as_text=True)
    assert "Пункт у бібліотеці" in text and "Пункт у ЦНАП" in text
    # No kiosk, no revoked point, nothing of another community.
    for absent in ("T-0900", "S-0044", "S-0777", "Чужий пункт", w["other_cycle"].title):
        assert absent not in text, absent
    library = re.search(rf'<li class="card" id="point-{w["library"].id}">.*?</li>', text, re.S).group(0)
    assert re.search(r'data-fact="backlog">7<', library)
    assert "відкритих: 1" in library
    assert "Тривоги переглядає модератор громади" in text

    cycle = w["cycle"]
    assert cycle.title in text and "Бюджет участі 2031" in text  # open, and coming up
    for absent in ("Бюджет участі 2020", "Шкільний бюджет"):
        assert absent not in text, absent
    for address in (
        f"/console/cycles/{cycle.id}/paper-scans#f-files",
        f"/console/cycles/{cycle.id}/paper-scans#scan-counts",
        f"/console/cycles/{cycle.id}/paper-tally",
        f"/console/cycles/{cycle.id}/paper-import",
    ):
        assert f'href="{address}"' in text, address
    assert re.search(r'data-fact="tallies">0 з 2<', text)
    # The paper job is listed; the voter list's is not the operator's.
    assert f'/console/jobs/{w["jobs"]["paper_scans.upload"].id}"' in text
    assert f'/console/jobs/{w["jobs"][VOTER_LIST].id}"' not in text


def test_every_link_on_the_workspace_opens_for_the_operator(client, point_world):
    sign_in(client, point_world["operator"])
    text = client.get("/console/my-point").get_data(as_text=True)
    links = {href.split("#")[0] for href in re.findall(r'href="(/[^"]*)"', text)} - {"/static/spilno.css"}
    assert len(links) >= 6
    for href in sorted(links):
        response = client.get(href, follow_redirects=True)  # «Spilno» leads here again
        assert response.status_code == 200, (href, response.status_code)
        page = response.get_data(as_text=True)
        # The paper pages name the cycle without linking to the cycle page managers keep.
        assert "/console/cycles/" + str(point_world["cycle"].id) + '"' not in page, href


def test_the_workspace_speaks_english_too(client, point_world):
    sign_in(client, point_world["operator"])
    text = client.get("/console/my-point?lang=en").get_data(as_text=True)
    assert "<h1>My point</h1>" in text and "Support points" in text and "Review queue: 0" in text
    assert "Мій пункт" not in text


def test_the_workspace_is_the_operators_only(client, make, point_world):
    for role in (Role.COMMUNITY_MODERATOR, Role.SCHOOL_MODERATOR):
        sign_in(client, make.user(role, point_world["community"]))
        assert client.get("/console/my-point").status_code == 403
        assert 'href="/console/my-point"' not in client.get("/console/").get_data(as_text=True)
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert client.get("/console/my-point").status_code == 403


def test_an_operator_follows_their_communitys_paper_jobs_only(client, make, point_world):
    jobs = point_world["jobs"]
    sign_in(client, point_world["operator"])
    paper = f"/console/jobs/{jobs['paper_scans.upload'].id}"
    assert client.get(paper).status_code == 200
    assert client.get(f"{paper}/status.json").status_code == 200
    voter_list = f"/console/jobs/{jobs[VOTER_LIST].id}"
    assert client.get(voter_list).status_code == 404
    assert client.get(f"{voter_list}/status.json").status_code == 404
    assert client.get("/console/jobs").status_code == 403
    # Another community's operator: not found, paper job or not.
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, make.community()))
    assert client.get(paper).status_code == 404
