# ruff: noqa: F811 - the fixtures imported from test_paper_scans are parameters here
"""Background jobs in the console: an upload is stored and answered at once with the
job's page; the job runs to its end (here inside the request: Huey's immediate mode;
tests/server/test_jobs_worker.py runs a real worker), shows its progress and outcome,
writes every outcome to the audit log, can be cancelled, and is invisible to another
community."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from server.jobs import store
from server.jobs.kinds import voter_list
from server.jobs.runner import JobRun, run_job
from server.models import AuditEvent, Community, EligibilityList, EligibleVoter, Job, JobFile, Role, utcnow
from server.services import eligibility_file
from tests.factories import CSRF_TOKEN, sign_in
from tests.paper.corpus import MarkKind
from tests.server.test_eligibility import A, B, C, list_csv
from tests.server.test_paper_scans import png, setup, sheet_key  # noqa: F401 - fixtures


def actions(session) -> list[str]:
    session.expire_all()
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def signed_in(client, user):
    sign_in(client, user)
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF_TOKEN


def post_scans(client, setup, files):
    return client.post(
        f"/console/cycles/{setup['cycle'].id}/paper-scans",
        data={
            "csrf_token": CSRF_TOKEN,
            "device_id": str(setup["point"].id),
            "files": [(io.BytesIO(content), name) for name, content in files],
        },
        content_type="multipart/form-data",
    )


def post_list(client, community, data: bytes, mode="replace"):
    return client.post(
        f"/console/communities/{community.id}/eligibility/upload",
        data={"csrf_token": CSRF_TOKEN, "mode": mode, "file": (io.BytesIO(data), "list.csv")},
        content_type="multipart/form-data",
    )


def test_a_scan_upload_runs_as_a_job_with_progress_outcome_and_audit(client, session, setup):
    signed_in(client, setup["user"])
    small = setup["small"]
    files = [
        ("one.png", png(setup, {small[0]: MarkKind.TICK}, serial="S0042-000001")),
        ("two.png", png(setup, {small[1]: MarkKind.TICK}, serial="S0042-000002")),
        ("junk.png", b"not an image"),
    ]
    answer = post_scans(client, setup, files)
    assert answer.status_code == 303
    job_url = answer.headers["Location"]
    job = session.scalar(select(Job))
    assert job_url.endswith(f"/console/jobs/{job.id}")
    assert (job.kind, job.state, job.progress_unit) == ("paper_scans.upload", "done", "pages")
    assert (job.progress_done, job.progress_total, job.attempts) == (3, 3, 1)
    assert job.summary["accepted"] == 2 and job.summary["rejected"] == 1
    assert job.created_by == setup["user"].id and job.target_type == "cycle"
    # The input is dropped once the job ends; its digest stays.
    assert session.scalars(select(JobFile.data)).all() == [None, None, None]
    assert len(set(session.scalars(select(JobFile.sha256)))) == 3

    page = client.get(job_url).get_data(as_text=True)
    assert 'data-state="done"' in page and '<progress id="job-progress" max="3" value="3">' in page
    assert 'data-outcome="rejected"' in page and "sheet.not_an_image" in page
    assert f'href="/console/cycles/{setup["cycle"].id}/paper-scans"' in page
    status = client.get(f"{job_url}/status.json").get_json()
    assert status["state"] == "done" and status["done"] == 3 and status["finished"] is True
    assert status["progress_text"] == "Прочитано сторінок: 3 з 3"
    english = client.get(f"{job_url}?lang=en").get_data(as_text=True)
    assert "Reading scanned ballots" in english and "Pages read: 3 of 3" in english
    # The scans page lists its latest uploads, this one among them.
    scans_page = client.get(f"/console/cycles/{setup['cycle'].id}/paper-scans").get_data(as_text=True)
    assert f'href="/console/jobs/{job.id}"' in scans_page
    listed = client.get("/console/jobs").get_data(as_text=True)
    assert f'data-job="{job.id}" data-state="done"' in listed
    assert actions(session).count("paper_scans.upload") == 1 and "job.done" in actions(session)


def test_a_bad_voter_list_ends_failed_with_its_problems_and_changes_nothing(client, session, make):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    signed_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert post_list(client, community, list_csv([A])).status_code == 303
    version = session.get(EligibilityList, community.id).version

    answer = post_list(client, community, b"name,surname\nIvan,Petrenko\n")
    job = session.get(Job, int(answer.headers["Location"].rsplit("/", 1)[1]))
    assert job.state == "failed" and [p["code"] for p in job.problems] == ["list.bad_header"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Перший рядок має містити назви стовпців" in page and "нічого не змінено" in page
    assert "The first row must name the columns" in client.get(
        answer.headers["Location"] + "?lang=en"
    ).get_data(as_text=True)
    session.expire_all()
    assert session.get(EligibilityList, community.id).version == version
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == 1
    assert actions(session)[-1] == "job.failed"


def test_jobs_of_one_community_are_invisible_to_another(client, session, make, setup):
    signed_in(client, setup["user"])
    post_scans(client, setup, [("one.png", png(setup, {setup["small"][0]: MarkKind.TICK}))])
    job = session.scalar(select(Job))
    outsider = make.user(Role.COMMUNITY_MODERATOR, make.community(name="Громада Б"))
    signed_in(client, outsider)
    url = f"/console/jobs/{job.id}"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/status.json").status_code == 404
    assert client.post(f"{url}/cancel", data={"csrf_token": CSRF_TOKEN}).status_code == 404
    assert client.get("/console/jobs/99999999999").status_code == 404
    assert f'data-job="{job.id}"' not in client.get("/console/jobs").get_data(as_text=True)
    # A scan upload is paper work: the community's support-point operator follows it.
    staff = make.user(Role.SUPPORT_OPERATOR, session.get(Community, job.community_id))
    signed_in(client, staff)
    assert client.get(url).status_code == 200
    assert client.get("/console/jobs").status_code == 403
    signed_in(client, make.user(Role.ADMINISTRATOR))
    assert client.get(url).status_code == 200


def test_a_queued_job_is_cancelled_at_once_and_needs_csrf(client, session, make):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    job = voter_list.start_voter_list(
        session,
        community,
        "list.csv",
        list_csv([A, B]),
        mode=voter_list.eligibility.ListMode.REPLACE,
        default_kind=None,
        skip_bad_rows=False,
        user=moderator,
        now=utcnow(),
    )
    session.commit()
    signed_in(client, moderator)
    assert client.post(f"/console/jobs/{job.id}/cancel").status_code == 400
    page = client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="queued"' in page and 'id="job-cancel"' in page
    answer = client.post(
        f"/console/jobs/{job.id}/cancel", data={"csrf_token": CSRF_TOKEN}, follow_redirects=True
    )
    assert "Завдання скасовано; воно нічого не змінило." in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(Job, job.id).state == "cancelled"
    assert actions(session) == ["job.cancelled"]
    # A worker handed it later does not run it.
    assert run_job(client.application, job.id) is None
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == 0


def test_a_running_list_job_cancelled_between_chunks_changes_nothing(app, session, make, monkeypatch):
    monkeypatch.setattr(eligibility_file, "CHUNK", 1)  # a chunk a row: a cancel is seen after the first
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    job = voter_list.start_voter_list(
        session,
        community,
        "list.csv",
        list_csv([A, B, C]),
        mode=voter_list.eligibility.ListMode.REPLACE,
        default_kind=None,
        skip_bad_rows=False,
        user=moderator,
        now=utcnow(),
    )
    session.commit()
    reported = []
    original = JobRun.report

    def moderator_cancels_meanwhile(run, done, total):
        reported.append(done)
        if done == 1:
            from sqlalchemy.orm import Session

            with Session(app.extensions["spilno.engine"]) as other:
                running = other.get(Job, job.id)
                assert running.state == "running"
                assert store.request_cancel(other, running, user=moderator, now=utcnow()) == "requested"
                other.commit()
        original(run, done, total)

    monkeypatch.setattr(JobRun, "report", moderator_cancels_meanwhile)
    with app.app_context():
        assert run_job(app, job.id) == "cancelled"
    assert reported == [1]
    session.expire_all()
    assert session.get(Job, job.id).state == "cancelled"
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == 0
    assert actions(session) == ["job.cancel_requested", "job.cancelled"]


@pytest.mark.parametrize("state", ["done", "failed", "cancelled"])
def test_a_finished_job_cannot_be_cancelled(client, session, make, state):
    community = make.community()
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    job = store.create_job(
        session,
        community_id=community.id,
        kind="eligibility.upload",
        user=moderator,
        unit="rows",
        params={"mode": "add"},
        files=[],
        target=("community", community.id),
        now=utcnow(),
    )
    job.state = state
    session.commit()
    signed_in(client, moderator)
    answer = client.post(
        f"/console/jobs/{job.id}/cancel", data={"csrf_token": CSRF_TOKEN}, follow_redirects=True
    )
    assert "скасувати його не можна" in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(Job, job.id).state == state
    assert re.search(r'data-state="' + state, client.get(f"/console/jobs/{job.id}").get_data(as_text=True))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_runs_jobs_in_process_on_a_sqlite_queue(client, session, make, tmp_path):
    """`make demo`: SQLite for the data and the queue, the worker a thread of the server."""
    import time

    from server.jobs.worker import InProcessWorker

    app = client.application
    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL=str(tmp_path / "jobs.sqlite"))
    community = make.community()
    signed_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    answer = post_list(client, community, list_csv([A, B]))
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert session.get(Job, job_id).state == "queued"  # answered before any work
    worker = InProcessWorker(app, poll_s=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            session.expire_all()
            if session.get(Job, job_id).state == "done":
                break
            time.sleep(0.05)
    finally:
        worker.stopped.set()
        worker.join(5)
    assert session.get(Job, job_id).summary["added"] == 2
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == 2


def test_a_run_that_lost_its_lease_can_commit_nothing(session, make):
    """A worker presumed dead (no heartbeat for the lease) but only slow: once another
    run has taken the job over, the first one's writes find no row."""
    from datetime import timedelta

    community = make.community()
    job = store.create_job(
        session,
        community_id=community.id,
        kind="eligibility.upload",
        user=None,
        unit="rows",
        params={},
        files=[],
        target=("community", community.id),
        now=utcnow(),
    )
    session.commit()
    first = store.claim(session, job.id, worker="a:1", lease_s=60, now=utcnow())
    session.commit()
    assert first is not None and first.attempts == 1
    # Alive: nobody else may take it.
    assert store.claim(session, job.id, worker="b:2", lease_s=60, now=utcnow()) is None
    later = utcnow() + timedelta(seconds=61)
    second = store.claim(session, job.id, worker="b:2", lease_s=60, now=later)
    session.commit()
    assert second is not None and second.attempts == 2
    with pytest.raises(store.LeaseLost):
        store.save_progress(session, job, 1, done=5, total=10, now=later)
    session.rollback()
    with pytest.raises(store.LeaseLost):
        store.finish(session, job, 1, "done", now=later, user=None, summary={})
    session.rollback()
    store.finish(session, job, 2, "done", now=later, user=None, summary={"added": 0})
    session.commit()
    assert session.get(Job, job.id, populate_existing=True).state == "done"
    assert actions(session) == ["job.done"]


def test_a_scan_upload_cancelled_between_pages_keeps_the_pages_read(client, session, setup, monkeypatch):
    signed_in(client, setup["user"])
    original = JobRun.check_cancel

    def moderator_cancels_after_the_first_page(run):
        # Asked between pages: the first page and its progress are committed by now.
        if run.job.progress_done == 0 and not getattr(run, "asked", False):
            run.asked = True
            client.post(f"/console/jobs/{run.job.id}/cancel", data={"csrf_token": CSRF_TOKEN})
        original(run)

    monkeypatch.setattr(JobRun, "check_cancel", moderator_cancels_after_the_first_page)
    small = setup["small"]
    files = [(f"{n}.png", png(setup, {small[0]: MarkKind.TICK}, serial=f"S0042-00000{n}")) for n in (1, 2, 3)]
    answer = post_scans(client, setup, files)
    job = session.get(Job, int(answer.headers["Location"].rsplit("/", 1)[1]))
    assert job.state == "cancelled" and job.progress_done == 1 and job.summary["accepted"] == 1
    from server.models import PaperScanPage

    assert session.scalar(select(func.count()).select_from(PaperScanPage)) == 1
    assert actions(session) == ["job.cancel_requested", "job.cancelled"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Сторінки, прочитані до скасування, збережено" in page


def test_a_voter_list_waits_sealed_for_its_worker(app, session, make):
    """A list holds residents' document numbers, which the database keeps only as voter keys."""
    from server.jobs.sealed import open_sealed

    community = make.community()
    data = list_csv([A, B])
    job = voter_list.start_voter_list(
        session,
        community,
        "list.csv",
        data,
        mode=voter_list.eligibility.ListMode.REPLACE,
        default_kind=None,
        skip_bad_rows=False,
        user=None,
        now=utcnow(),
        master_secret=app.config["VOTER_KEY_SECRET_BYTES"],
    )
    session.commit()
    stored = session.scalar(select(JobFile.data).where(JobFile.job_id == job.id))
    assert A.encode() not in stored and B.encode() not in stored
    assert open_sealed(app.config["VOTER_KEY_SECRET_BYTES"], job.id, stored) == data
    with app.app_context():
        assert run_job(app, job.id) == "done"
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == 2
