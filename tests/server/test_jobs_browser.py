# ruff: noqa: F811 - fixtures imported from other test modules are parameters here
"""A moderator watches a background job in a real Chromium: the job's page shows the
progress bar and the counts as the job advances (static/jobs.js polls the status; no
inline script under the CSP), then the outcome once it ends. axe-core finds no WCAG 2.1
A/AA violation on the running job's page, the finished one's, or the jobs list;
screenshots are kept under test-artifacts/jobs/.

Under CI (CI=true) a missing Chromium fails this test instead of skipping it."""

from __future__ import annotations

import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import update

from server.jobs.kinds.scan_upload import start_scan_upload
from server.models import Job, utcnow
from tests.axe_check import assert_accessible
from tests.factories import PASSWORD
from tests.server.school.test_student_browser import chromium, server_url  # noqa: F401
from tests.server.test_paper_scans import setup, sheet_key  # noqa: F401

no_axe_violations = functools.partial(assert_accessible, folder="jobs")


@pytest.fixture
def desk(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="uk-UA")
    context.set_default_timeout(10_000)
    context.add_init_script(script=Axe().axe_script)
    yield context.new_page()
    context.close()


def advance(session, job_id: int, **values) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(**values))
    session.commit()


def test_a_moderator_watches_a_job_advance_and_end(desk, server_url, session, setup):
    # A job a worker is running (the worker is this test: it moves the job along).
    job = start_scan_upload(
        session, setup["cycle"], setup["point"], [("a.png", b"x")] * 10, user=setup["user"], now=utcnow()
    )
    now = utcnow()
    job.state, job.attempts, job.started_at, job.heartbeat_at, job.progress_done = "running", 1, now, now, 3
    session.commit()

    page = desk
    page.goto(f"{server_url}/login")
    page.fill("#login", setup["user"].login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server_url}/console/jobs/{job.id}")
    bar = page.locator("progress#job-progress")
    expect(bar).to_have_js_property("value", 3)
    expect(bar).to_have_js_property("max", 10)
    expect(page.locator("#job-progress-text")).to_have_text("Прочитано сторінок: 3 з 10")
    expect(page.get_by_role("button", name="Скасувати завдання")).to_be_visible()
    no_axe_violations(page, "job-running")

    advance(session, job.id, progress_done=7)  # the page follows without a reload
    expect(bar).to_have_js_property("value", 7)
    expect(page.locator("#job-progress-text")).to_have_text("Прочитано сторінок: 7 з 10")
    expect(page.locator("#job-left")).not_to_have_text("—")

    summary = {"accepted": 8, "needs_review": 1, "rejected": 1, "duplicate": 0, "pages": 10}
    problems = [
        {
            "file": "a.png",
            "page_index": 0,
            "serial": None,
            "page": None,
            "outcome": "rejected",
            "reasons": ["sheet.not_an_image"],
        },
    ]
    advance(
        session,
        job.id,
        state="done",
        progress_done=10,
        finished_at=utcnow(),
        summary=summary,
        problems=problems,
    )
    expect(page.locator("#job")).to_have_attribute("data-state", "done")  # reloaded with the outcome
    expect(page.locator("[data-outcome-count=accepted]")).to_have_text("8")
    expect(page.locator("#scan-pages tr[data-outcome=rejected]")).to_have_count(1)
    expect(page.get_by_role("button", name="Скасувати завдання")).to_have_count(0)
    no_axe_violations(page, "job-done")

    page.get_by_role("link", name="Фонові завдання").first.click()
    expect(page.locator(f"#jobs tr[data-job='{job.id}']")).to_have_attribute("data-state", "done")
    no_axe_violations(page, "jobs-list")
