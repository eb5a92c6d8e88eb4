# ruff: noqa: F811 - the fixtures imported from test_paper_scans are parameters here
"""The console page «Скановані бюлетені»: upload a support point's scans, decide the
unclear marks on the sheet page, correct any misread box with a reason, commit the ready
sheets; bad requests change nothing."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from paper.messages import message
from server.models import Community, PaperScanDecision, PaperScanPage, Role, Vote
from tests.factories import CSRF_TOKEN, sign_in
from tests.paper.corpus import MarkKind
from tests.server.test_paper_scans import keep_shadow, png, setup, sheet_key  # noqa: F401 - fixtures


@pytest.fixture
def signed_in(client, setup):
    sign_in(client, setup["user"])
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF_TOKEN
    return setup


def page_url(setup) -> str:
    return f"/console/cycles/{setup['cycle'].id}/paper-scans"


def post_files(client, setup, files, device_id=None):
    data = {
        "csrf_token": CSRF_TOKEN,
        "device_id": str(device_id if device_id is not None else setup["point"].id),
        "files": [(io.BytesIO(content), name) for name, content in files],
    }
    return client.post(page_url(setup), data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("role", [Role.COMMUNITY_MODERATOR, Role.SUPPORT_OPERATOR])
def test_upload_review_and_commit_through_the_console(client, make, session, signed_in, role):
    """The community's moderator, and its support-point operator whose paper work it is."""
    setup = signed_in
    if role is Role.SUPPORT_OPERATOR:
        sign_in(client, make.user(role, session.get(Community, setup["point"].community_id)))
    small, large = setup["small"], setup["large"]
    clear = png(setup, {small[0]: MarkKind.TICK, large[0]: MarkKind.CROSS}, serial="S0042-000001")
    unclear = png(setup, {small[2]: MarkKind.CANCELLED, large[1]: MarkKind.TICK}, serial="S0042-000002")
    response = post_files(client, setup, [("clear.png", clear), ("unclear.png", unclear)])
    # The upload becomes a job: stored, then answered at once with the job's page (the
    # tests run jobs in the request; tests/server/test_jobs_worker.py runs a real worker).
    assert response.status_code == 303 and "/console/jobs/" in response.headers["Location"]
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'data-outcome-count="accepted">\s*1<', job_page)
    assert 'data-outcome="needs_review"' in job_page and 'data-outcome="accepted"' not in job_page
    body = client.get(page_url(setup)).get_data(as_text=True)
    assert re.search(r'data-state="review">\s*1<', body) and re.search(r'data-state="ready">\s*1<', body)

    sheet_url = f"{page_url(setup)}/sheets/S0042-000002"
    sheet_page = client.get(sheet_url).get_data(as_text=True)
    crops = re.findall(r'src="([^"]+/boxes/\d+\.png)"', sheet_page)
    previews = re.findall(r'src="([^"]+/pages/\d+\.jpg)"', sheet_page)
    assert crops and previews
    crop = client.get(crops[0])
    assert crop.mimetype == "image/png" and crop.headers["Cache-Control"] == "no-store"
    assert client.get(previews[0]).mimetype == "image/jpeg"

    # Decide every unclear box (listed first, marked out) as the known answer says.
    unclear = "".join(re.findall(r'<li class="scan-box marginal".*?</li>', sheet_page, re.S))
    forms = re.findall(
        r'name="page_id" value="(\d+)">\s*<input type="hidden" name="project_id" value="(\d+)">', unclear
    )
    assert forms and len(forms) < len(setup["small"] + setup["large"])
    for page_id, project_id in forms:
        verdict = "marked" if int(project_id) == large[1] else "unmarked"
        answer = client.post(
            f"{sheet_url}/box",
            data={
                "csrf_token": CSRF_TOKEN,
                "page_id": page_id,
                "project_id": project_id,
                "verdict": verdict,
                "seen": "0",
            },
        )
        assert answer.status_code == 302
    decided = client.get(sheet_url).get_data(as_text=True)
    assert 'data-state="ready"' in decided
    # The same box again with the stale page (seen=0) is refused and says so.
    page_id, project_id = forms[0]
    stale = client.post(
        f"{sheet_url}/box",
        data={
            "csrf_token": CSRF_TOKEN,
            "page_id": page_id,
            "project_id": project_id,
            "verdict": "marked",
            "seen": "0",
        },
        follow_redirects=True,
    )
    assert message("review.decided_meanwhile", "uk", who="").split("{")[0][:20] in html.unescape(
        stale.get_data(as_text=True)
    )
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) == len(forms)

    committed = client.post(
        f"{page_url(setup)}/commit", data={"csrf_token": CSRF_TOKEN}, follow_redirects=True
    )
    # A job (run at once here): its page says what was stored.
    assert committed.status_code == 200 and 'data-state="done"' in committed.get_data(as_text=True)
    assert "Збережено 2 голоси з аркушів." in committed.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Vote).where(Vote.channel == "paper")) == 2
    assert re.search(r'data-state="committed">\s*2<', client.get(page_url(setup)).get_data(as_text=True))


def test_bad_requests_change_nothing(client, session, signed_in, make):
    setup = signed_in
    sheet = f"{page_url(setup)}/sheets/S0042-000001"
    # No files, an unknown point, a point of another kind.
    assert post_files(client, setup, []).status_code == 422
    assert post_files(client, setup, [("a.png", b"x")], device_id="abc").status_code == 422
    assert post_files(client, setup, [("a.png", b"x")], device_id=str(10**12)).status_code == 422
    # Without the CSRF token nothing is read.
    no_csrf = client.post(page_url(setup), data={"device_id": str(setup["point"].id)})
    assert no_csrf.status_code == 400
    # A declared body over the limit is refused unread.
    huge = client.post(
        page_url(setup),
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(10**10)},
    )
    assert huge.status_code == 413
    # Sheet pages: not a serial, a sheet never seen, malformed decisions.
    assert client.get(f"{page_url(setup)}/sheets/..%2F..%2Fetc").status_code == 404
    assert client.get(f"{page_url(setup)}/sheets/{'S' * 5000}").status_code == 404
    assert client.get(sheet).status_code == 404
    post_files(client, setup, [("u.png", png(setup, {setup["small"][0]: MarkKind.CANCELLED}))])
    for form in (
        {"page_id": "x", "project_id": "1", "verdict": "marked", "seen": "0"},
        {"page_id": "1", "project_id": "1", "verdict": "maybe", "seen": "0"},
        {"page_id": "9" * 50, "project_id": "1", "verdict": "marked", "seen": "0"},
        {"page_id": "1", "project_id": "1", "verdict": "marked"},
    ):
        response = client.post(f"{sheet}/box", data={"csrf_token": CSRF_TOKEN, **form})
        assert response.status_code == 400, form
    # A box that is not unclear on this sheet: refused with a message, nothing recorded.
    refused = client.post(
        f"{sheet}/box",
        data={
            "csrf_token": CSRF_TOKEN,
            "page_id": "999",
            "project_id": "1",
            "verdict": "marked",
            "seen": "0",
        },
        follow_redirects=True,
    )
    assert refused.status_code == 200
    # A spoil reason with control characters or 10 kB of text is refused.
    for reason in ("\u202eзлам", "я" * 10_000, ""):
        client.post(f"{sheet}/spoil", data={"csrf_token": CSRF_TOKEN, "reason": reason, "seen": "0"})
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) == 0
    # Images of pages that do not exist, or of another cycle, are 404.
    assert client.get(f"{page_url(setup)}/pages/999999.jpg").status_code == 404
    assert client.get(f"{page_url(setup)}/pages/1/boxes/999.png").status_code == 404
    assert session.scalar(select(func.count()).select_from(PaperScanPage)) == 1


def test_another_communitys_operator_finds_nothing_and_changes_nothing(client, make, session, setup):
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, make.community()))
    assert client.get(page_url(setup)).status_code == 404
    assert (
        post_files(client, setup, [("a.png", png(setup, {setup["small"][0]: MarkKind.TICK}))]).status_code
        == 404
    )
    assert client.post(f"{page_url(setup)}/commit", data={"csrf_token": CSRF_TOKEN}).status_code == 404
    assert session.scalar(select(func.count()).select_from(PaperScanPage)) == 0


def box_forms(client, url) -> dict[int, dict]:
    """Each box's form on the sheet page, by project id: hidden fields, verdicts offered,
    whether the reason is required."""
    page = client.get(url).get_data(as_text=True)
    forms = {}
    for form in re.findall(r'<form method="post" action="[^"]+/box".*?</form>', page, re.S):
        fields = dict(re.findall(r'name="(page_id|project_id|seen)" value="([^"]*)"', form))
        fields["verdicts"] = re.findall(r'name="verdict" value="(\w+)"', form)
        fields["reason_required"] = bool(re.search(r'name="reason"[^>]*required', form))
        forms[int(fields["project_id"])] = fields
    return forms


def post_box(client, url, form, verdict, reason=None, **tamper):
    data = {"csrf_token": CSRF_TOKEN, "page_id": form["page_id"], "project_id": form["project_id"]}
    data |= {"seen": form["seen"], "verdict": verdict, **tamper}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"{url}/box", data=data, follow_redirects=True)


def test_a_moderator_fixes_a_shadow_overvote_box_by_box(client, session, signed_in):
    setup = signed_in
    small, large = setup["small"], setup["large"]
    # Crops of every box but one: the page falls back to the whole page for that one.
    serial = keep_shadow(session, setup, cropped=set(small + large) - {large[3]})
    url = f"{page_url(setup)}/sheets/{serial}"
    page = client.get(url).get_data(as_text=True)
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len([s for s in sources if "/boxes/" in s]) == len(small + large) - 1
    assert all(client.get(src).status_code == 200 for src in sources)  # never a broken image
    missing = re.search(rf'<li class="scan-box[^"]*" id="box-{large[3]}".*?</li>', page, re.S).group(0)
    assert "<img" not in missing and 'href="#page-1"' in missing
    forms = box_forms(client, url)
    assert set(forms) == set(small + large)
    assert all(f["verdicts"] == ["unmarked"] and f["reason_required"] for f in forms.values())
    # Without a reason nothing changes, and the moderator is told why.
    refused = post_box(client, url, forms[small[1]], "unmarked")
    assert message("review.override_reason", "uk")[:40] in html.unescape(refused.get_data(as_text=True))
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) == 0
    for pid in small[1:] + large[1:]:
        answer = post_box(client, url, forms[pid], "unmarked", reason="тінь від телефону <b>")
        assert "Рішення записано." in answer.get_data(as_text=True)
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert 'data-state="ready"' in page and page.count("виправлено людиною") == 6
    assert "причина: «тінь від телефону <b>»" in page  # shown as text, escaped once
    assert "тінь від телефону &lt;b&gt;" in client.get(url).get_data(as_text=True)
    decisions = session.scalars(select(PaperScanDecision)).all()
    assert {(d.operator, d.user_id, d.reason) for d in decisions} == {
        (setup["user"].display_name or setup["user"].login, setup["user"].id, "тінь від телефону <b>")
    }
    committed = client.post(f"{page_url(setup)}/commit", data={"csrf_token": CSRF_TOKEN})
    assert committed.status_code == 303 and "/console/jobs/" in committed.headers["Location"]
    [vote] = session.scalars(select(Vote).where(Vote.channel == "paper")).all()
    assert sorted(vote.selections) == sorted([small[0], large[0]])


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ({"reason": "тінь\u202e"}, "review.reason"),
        ({"reason": "тінь\x1b[31m"}, "review.reason"),
        ({"reason": "я" * 10_000}, "review.reason"),
        ({"reason": "   "}, "review.override_reason"),
        ({"project_id": "999999", "reason": "тінь"}, "review.no_box"),
        ({"seen": "7", "reason": "тінь"}, "review.decided_meanwhile"),
    ],
)
def test_a_hostile_correction_changes_nothing(client, session, signed_in, tamper, code):
    setup = signed_in
    serial = keep_shadow(session, setup)
    url = f"{page_url(setup)}/sheets/{serial}"
    form = box_forms(client, url)[setup["small"][1]]
    answer = post_box(client, url, form, "unmarked", **tamper)
    assert answer.status_code == 200
    shown = html.unescape(answer.get_data(as_text=True))
    assert message(code, "uk", who="—").split("{")[0][:30] in shown
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) == 0


def test_a_correction_without_csrf_or_with_a_bad_verdict_is_refused(client, session, signed_in):
    setup = signed_in
    serial = keep_shadow(session, setup)
    url = f"{page_url(setup)}/sheets/{serial}"
    form = box_forms(client, url)[setup["small"][1]]
    assert post_box(client, url, form, "unmarked", reason="тінь", csrf_token="forged").status_code == 400
    assert post_box(client, url, form, "marginal", reason="тінь").status_code == 400
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) == 0


def test_a_committed_sheet_cannot_be_corrected(client, session, signed_in):
    setup = signed_in
    post_files(client, setup, [("a.png", png(setup, {setup["small"][0]: MarkKind.TICK}))])
    url = f"{page_url(setup)}/sheets/S0042-000001"
    form = box_forms(client, url)[setup["small"][0]]
    client.post(f"{page_url(setup)}/commit", data={"csrf_token": CSRF_TOKEN})
    assert box_forms(client, url) == {}  # no controls on a committed sheet
    answer = post_box(client, url, form, "unmarked", reason="тінь")
    assert message("review.committed", "uk")[:30] in html.unescape(answer.get_data(as_text=True))
    assert session.scalar(select(func.count()).select_from(PaperScanDecision)) == 0


def test_the_corrections_read_in_english(client, session, signed_in):
    setup = signed_in
    serial = keep_shadow(session, setup)
    url = f"{page_url(setup)}/sheets/{serial}"
    client.get(f"{url}?lang=en")
    refused = post_box(client, url, box_forms(client, url)[setup["small"][1]], "unmarked")
    assert "give a reason" in refused.get_data(as_text=True)
    post_box(client, url, box_forms(client, url)[setup["small"][1]], "unmarked", reason="shadow")
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "Boxes of the sheet" in page and "corrected by a person" in page and "reason: “shadow”" in page
