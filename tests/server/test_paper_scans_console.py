# ruff: noqa: F811 - the fixtures imported from test_paper_scans are parameters here
"""The console page «Скановані бюлетені»: upload a support point's scans, decide the
unclear marks on the sheet page, commit the ready sheets; bad requests change nothing."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from ballot_import.messages import message
from server.models import Community, PaperScanDecision, PaperScanPage, Role, Vote
from tests.ballot_import.corpus import MarkKind
from tests.factories import CSRF_TOKEN, sign_in
from tests.server.test_paper_scans import png, setup, sheet_key  # noqa: F401 - fixtures


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


def test_upload_review_and_commit_through_the_console(client, session, signed_in):
    setup = signed_in
    small, large = setup["small"], setup["large"]
    clear = png(setup, {small[0]: MarkKind.TICK, large[0]: MarkKind.CROSS}, serial="S0042-000001")
    unclear = png(setup, {small[2]: MarkKind.CANCELLED, large[1]: MarkKind.TICK}, serial="S0042-000002")
    response = post_files(client, setup, [("clear.png", clear), ("unclear.png", unclear)])
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'data-outcome="accepted"' in body and 'data-outcome="needs_review"' in body
    assert re.search(r'data-state="review">\s*1<', body) and re.search(r'data-state="ready">\s*1<', body)

    sheet_url = f"{page_url(setup)}/sheets/S0042-000002"
    sheet_page = client.get(sheet_url).get_data(as_text=True)
    crops = re.findall(r'src="([^"]+/boxes/\d+\.png)"', sheet_page)
    previews = re.findall(r'src="([^"]+/pages/\d+\.jpg)"', sheet_page)
    assert crops and previews
    crop = client.get(crops[0])
    assert crop.mimetype == "image/png" and crop.headers["Cache-Control"] == "no-store"
    assert client.get(previews[0]).mimetype == "image/jpeg"

    # Decide every unclear box as the known answer says.
    forms = re.findall(
        r'name="page_id" value="(\d+)">\s*<input type="hidden" name="project_id" value="(\d+)">', sheet_page
    )
    assert forms
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
    assert committed.status_code == 200
    assert session.scalar(select(func.count()).select_from(Vote).where(Vote.channel == "paper")) == 2
    assert re.search(r'data-state="committed">\s*2<', committed.get_data(as_text=True))


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


def test_a_support_operator_cannot_open_the_page(client, make, session, setup):
    staff = make.user(Role.SUPPORT_OPERATOR, session.get(Community, setup["point"].community_id))
    sign_in(client, staff)
    assert client.get(page_url(setup)).status_code == 403
    assert session.scalar(select(func.count()).select_from(PaperScanPage)) == 0
