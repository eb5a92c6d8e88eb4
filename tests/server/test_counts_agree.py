"""Every page that gives a count gives the same count.

The overview once showed 0 counted votes for a cycle whose results showed 34 (it left
out the support points' tally sheets), and the devices page 0 votes for terminals the
results credited with hundreds (the demo's seeded votes named devices whose logs never
carried them). Here the pages are read as a moderator reads them and held against each
other and against the rows.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from server.demo import seed_demo
from server.models import Community, Cycle, CycleKind, Device, Role, Vote
from server.paper.tally import import_tally, tally_ballot
from server.paper.tally_sheet import check_tally_form
from server.services import eligibility
from tests.factories import sign_in
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401

from .test_sync_support import enrolled_device


def _counted_in_results(html: str) -> int:
    """The results page's headline: participants with a counted vote."""
    found = re.search(r'<div class="big">([^<]+)</div>\s*[^<]*учасників: зараховані голоси', html)
    assert found, "the results page names its counted participants"
    return int(re.sub(r"\D", "", found.group(1)))


def _by_device_in_results(html: str) -> dict[str, int]:
    """Counted votes per device code from the results' device table (its first number)."""
    if 'id="devices-heading"' not in html:
        return {}
    section = html.split('id="devices-heading"', 1)[1].split("</section>", 1)[0]
    found = {}
    for code, row in re.findall(r'<th scope="row">\s*([^<]+?)\s*</th>(.*?)</tr>', section, flags=re.S):
        first = re.search(r'<td class="num[^"]*"[^>]*>([^<]*)</td>', row)
        found[code] = int(re.sub(r"\D", "", first.group(1)))
    return found


def test_the_overview_the_results_and_the_devices_page_agree(app, client, session, make):
    summary = seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=40)
    community = session.get(Community, summary.community.id)
    current = session.get(Cycle, summary.cycles[1].id)

    # A terminal of the community casts through sync, as the demo's terminal does (the
    # list switched off: these residents are not on the demo's list).
    eligibility.set_enabled(session, community, False)
    session.commit()
    terminal = enrolled_device(client, session, make, community)
    projects = [p.project_id for p in tally_ballot(session, current).projects]
    for voter in (901, 902, 903):
        terminal.cast(current.id, [projects[0]], voter=voter)
    assert terminal.push().status_code == 200

    # A support point's tally sheet: 7 valid ballots that exist nowhere as vote rows.
    point = session.scalar(
        select(Device).where(Device.community_id == community.id, Device.kind == "support_point")
    )
    form = {"ballots_issued": "8", "ballots_cast": "8", "ballots_spoiled": "1"}
    form[f"votes_{tally_ballot(session, current).projects[0].number}"] = "7"
    check = check_tally_form(form, tally_ballot(session, current))
    assert check.problems == []
    import_tally(
        session, current, point, check, source="form", replace=False, user=None, now=datetime.now(UTC)
    )
    session.commit()

    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)
    overview = client.get("/console/").get_data(as_text=True)
    cycles = session.scalars(
        select(Cycle).where(Cycle.community_id == community.id, Cycle.kind != CycleKind.SCHOOL_CONTEST.value)
    ).all()
    assert len(cycles) >= 2
    for cycle in cycles:
        stored = session.scalar(
            select(func.count()).where(Vote.cycle_id == cycle.id, Vote.status == "counted")
        )
        row = overview.split(f'/console/cycles/{cycle.id}"', 1)[1].split("</tr>", 1)[0]
        on_overview = int(re.search(r'data-counted="(\d+)"', row).group(1))
        results = client.get(f"/console/cycles/{cycle.id}/results").get_data(as_text=True)
        sheets = 7 if cycle.id == current.id else 0
        assert on_overview == _counted_in_results(results) == stored + sheets, cycle.title

    # The devices page counts what the results credit each device with.
    credited = {
        c.id: _by_device_in_results(client.get(f"/console/cycles/{c.id}/results").get_data(as_text=True))
        for c in cycles
    }
    assert credited[current.id].get(terminal.code) == 3
    fleet = client.get("/console/fleet").get_data(as_text=True)
    for device in session.scalars(select(Device).where(Device.community_id == community.id)):
        row = fleet.split(f"<code>{device.code}</code>", 1)[1].split("</tr>", 1)[0]
        received = int(re.search(r'data-received="(\d+)"', row).group(1))
        counted = int(re.search(r'data-counted="(\d+)"', row).group(1))
        assert counted == sum(by_device.get(device.code, 0) for by_device in credited.values()), device.code
        assert counted <= received, f"{device.code}: counted votes its log never carried"

    # The support-point operator's workspace gives each point the fleet page's count.
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, community))
    workspace = client.get("/console/my-point").get_data(as_text=True)
    points = session.scalars(
        select(Device).where(Device.community_id == community.id, Device.kind == "support_point")
    ).all()
    assert points
    for device in points:
        card = workspace.split(f"<code>{device.code}</code>", 1)[1].split("</li>", 1)[0]
        row = fleet.split(f"<code>{device.code}</code>", 1)[1].split("</tr>", 1)[0]
        on_card = int(re.search(r'data-counted="(\d+)"', card).group(1))
        assert on_card == int(re.search(r'data-counted="(\d+)"', row).group(1)), device.code


def test_a_moderator_reads_the_same_counts_in_chromium(app, session, server_url, chromium):  # noqa: F811
    """As a person sees them: the overview's and the results' counts, and the fleet's,
    in a real browser, with axe-core on each page."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    from tests.axe_check import assert_accessible
    from tests.factories import PASSWORD, Factories

    summary = seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=15)
    community = session.get(Community, summary.community.id)
    current = session.get(Cycle, summary.cycles[1].id)
    moderator = Factories(session).user(Role.COMMUNITY_MODERATOR, community)
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    page = context.new_page()
    try:
        page.goto(f"{server_url}/login")
        page.fill("#login", moderator.login)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#login")).to_have_count(0)
        page.goto(f"{server_url}/console/")
        assert_accessible(page, "overview", folder="counts")
        cell = page.locator(f'tr:has(a[href="/console/cycles/{current.id}"]) td[data-counted]')
        on_overview = int(re.sub(r"\D", "", cell.inner_text()))
        page.goto(f"{server_url}/console/cycles/{current.id}/results")
        shown = _counted_in_results(page.content())
        stored = session.scalar(
            select(func.count()).where(Vote.cycle_id == current.id, Vote.status == "counted")
        )
        assert on_overview == shown == stored
        page.goto(f"{server_url}/console/fleet")
        assert_accessible(page, "fleet", folder="counts")
        assert page.locator("td[data-counted]").count() >= 1
    finally:
        context.close()
