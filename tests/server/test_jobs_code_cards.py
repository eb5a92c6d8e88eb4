"""Code cards of a whole contest as a job: the request starts it and answers with the
job's page, the job draws every printable card of every class into one PDF, kept sealed
for a day and downloadable by the school's own staff only, each download in the audit
log; a cancel leaves no file; a run that dies midway draws the same cards again, once."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select, update

from server.jobs import store
from server.jobs.kinds import code_cards
from server.jobs.runner import JobRun, run_job
from server.jobs.sealed import open_sealed
from server.models import AuditEvent, Job, JobFile, Role, SchoolContest, utcnow
from server.school.codes import issue_codes, revoke_code
from server.school.contests import load_contest
from server.school.keys import app_code_keys
from tests.factories import CSRF_TOKEN, sign_in

PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def actions(session) -> list[str]:
    session.expire_all()
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def signed_in(client, user):
    sign_in(client, user)
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF_TOKEN


@pytest.fixture
def school(app, make, session):
    """A school whose contest has 25 cards in two classes (one of them revoked)."""
    community = make.community()
    school = make.school(community, name="Ліцей № 5")
    moderator = make.user(Role.SCHOOL_MODERATOR, community, school_id=school.id)
    contest = make.school_contest(school, open_now=False)
    keys = app_code_keys(app)
    issue_codes(session, contest, "6-А", 12, keys)
    [first, *_rest] = issue_codes(session, contest, "7-Б", 14, keys)
    session.commit()
    from server.models import VotingCode

    revoke_code(session, contest, session.get_one(VotingCode, first.code_id), "Загублено", user=None)
    session.commit()
    return {"community": community, "school": school, "moderator": moderator, "contest": contest}


def start(client, contest_id: int, layout: str = "10"):
    return client.post(
        f"/console/contests/{contest_id}/cards", data={"csrf_token": CSRF_TOKEN, "layout": layout}
    )


def test_a_school_moderator_makes_every_class_s_cards_as_a_job_and_downloads_them(client, session, school):
    contest = school["contest"]
    signed_in(client, school["moderator"])
    assert "Картки всіх класів одним файлом" in client.get(f"/console/contests/{contest.id}").get_data(
        as_text=True
    )
    answer = start(client, contest.id)
    assert answer.status_code == 303
    job_url = answer.headers["Location"]
    job = session.scalar(select(Job))
    assert job_url.endswith(f"/console/jobs/{job.id}")
    assert (job.kind, job.state, job.progress_unit) == ("school_codes.cards", "done", "cards")
    assert (job.progress_done, job.progress_total) == (25, 25)
    assert job.summary["cards"] == 25 and job.summary["pages"] == 3 and job.summary["layout"] == "10"
    # Kept sealed: the live codes are not in the database as they are printed.
    sealed = session.scalar(select(JobFile.data).where(JobFile.job_id == job.id))
    assert not sealed.startswith(b"%PDF")

    page = client.get(job_url).get_data(as_text=True)
    assert 'data-state="done"' in page and "Намальовано карток: 25 з 25" in page
    assert f'href="/console/jobs/{job.id}/cards.pdf"' in page
    assert "Фонові завдання</a>" not in page  # the list of every job is the community's
    assert "Cards drawn: 25 of 25" in client.get(f"{job_url}?lang=en").get_data(as_text=True)
    client.get(f"{job_url}?lang=uk")
    assert f'href="/console/jobs/{job.id}"' in client.get(f"/console/contests/{contest.id}").get_data(
        as_text=True
    )

    pdf = client.get(f"/console/jobs/{job.id}/cards.pdf")
    assert pdf.status_code == 200 and pdf.headers["Cache-Control"] == "no-store"
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert pdf.data.startswith(b"%PDF-") and len(PAGE.findall(pdf.data)) == 3
    assert actions(session)[-2:] == ["job.done", "school_codes.download"]
    download = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert download.details["count"] == 25 and download.details["job"] == job.id
    assert all(len(value) < 40 for value in map(str, download.details.values()))  # never a code

    # A day later the file is gone: a clear page, nothing in the audit log.
    session.execute(update(Job).where(Job.id == job.id).values(finished_at=utcnow() - timedelta(hours=25)))
    session.commit()
    gone = client.get(f"/console/jobs/{job.id}/cards.pdf")
    assert gone.status_code == 410 and "Створіть картки знову" in gone.get_data(as_text=True)
    assert actions(session)[-1] == "school_codes.download"
    # ...and dropped from the database by the next job of its kind.
    assert start(client, contest.id, layout="21").status_code == 303
    session.expire_all()
    assert session.scalar(select(JobFile.data).where(JobFile.job_id == job.id)) is None


def test_the_cards_read_and_carry_the_public_address(app, client, session, school, tmp_path):
    app.config["PUBLIC_URL"] = "https://vote.example.ua"
    signed_in(client, school["moderator"])
    job_id = int(start(client, school["contest"].id, layout="8").headers["Location"].rsplit("/", 1)[1])
    job = session.get(Job, job_id)
    sealed = session.scalar(select(JobFile.data).where(JobFile.job_id == job_id))
    data = open_sealed(app.config["VOTER_KEY_SECRET_BYTES"], job_id, sealed)
    assert job.summary["pages"] == 4  # 25 cards, 8 a sheet
    # The first sheet as a printer renders it: eight codes, each the public address.
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")], check=True
    )
    [png] = tmp_path.glob("p-*.png")
    found = {r.text for r in zxingcpp.read_barcodes(np.array(Image.open(png).convert("L")))}
    assert len(found) == 8 and all(t.startswith("https://vote.example.ua/s/") for t in found)


def test_other_schools_and_communities_get_not_found(client, make, session, school):
    signed_in(client, school["moderator"])
    job_id = int(start(client, school["contest"].id).headers["Location"].rsplit("/", 1)[1])
    other_school = make.school(school["community"], name="Гімназія № 2")
    neighbour = make.user(Role.SCHOOL_MODERATOR, school["community"], school_id=other_school.id)
    outsider = make.user(Role.COMMUNITY_MODERATOR, make.community(name="Громада Б"))
    before = actions(session)
    for user in (neighbour, outsider):
        signed_in(client, user)
        for url in (
            f"/console/jobs/{job_id}",
            f"/console/jobs/{job_id}/status.json",
            f"/console/jobs/{job_id}/cards.pdf",
        ):
            assert client.get(url).status_code == 404, (user.role, url)
        assert (
            client.post(f"/console/jobs/{job_id}/cancel", data={"csrf_token": CSRF_TOKEN}).status_code == 404
        )
        assert start(client, school["contest"].id).status_code == 404
    # The community's own manager may take the file; the community's jobs stay closed to schools.
    signed_in(client, make.user(Role.COMMUNITY_MODERATOR, school["community"]))
    assert client.get(f"/console/jobs/{job_id}/cards.pdf").status_code == 200
    community_job = store.create_job(
        session,
        community_id=school["community"].id,
        kind="eligibility.upload",
        user=None,
        unit="rows",
        params={},
        files=[],
        target=("community", school["community"].id),
        now=utcnow(),
    )
    session.commit()
    signed_in(client, school["moderator"])
    assert client.get(f"/console/jobs/{community_job.id}").status_code == 404
    assert client.get("/console/jobs").status_code == 403
    assert actions(session) == [*before, "school_codes.download"]


def test_a_cancel_between_chunks_leaves_no_file(app, client, session, school, monkeypatch):
    monkeypatch.setattr(code_cards, "REPORT_EVERY", 5)
    contest = load_contest(session, session.get_one(SchoolContest, school["contest"].id))
    job = code_cards.start_code_cards(
        session,
        contest,
        class_name=None,
        layout="10",
        base_url="https://vote.example.ua/",
        locale="uk",
        cards=25,
        user=school["moderator"],
        now=utcnow(),
    )
    session.commit()
    original = JobRun.report

    def moderator_cancels_at_ten(run, done, total):
        if done == 10:
            from sqlalchemy.orm import Session

            with Session(app.extensions["spilno.engine"]) as other:
                store.request_cancel(
                    other, other.get_one(Job, job.id), user=school["moderator"], now=utcnow()
                )
                other.commit()
        original(run, done, total)

    monkeypatch.setattr(JobRun, "report", moderator_cancels_at_ten)
    with app.app_context():
        assert run_job(app, job.id) == "cancelled"
    session.expire_all()
    assert session.scalar(select(JobFile).where(JobFile.job_id == job.id)) is None
    assert actions(session)[-2:] == ["job.cancel_requested", "job.cancelled"]


def test_a_run_that_died_midway_draws_the_cards_again_once(app, session, school, monkeypatch):
    """kill -9 in the middle: nothing was committed but progress; the next run (after
    the lease) makes the one file."""
    contest = load_contest(session, session.get_one(SchoolContest, school["contest"].id))
    job = code_cards.start_code_cards(
        session,
        contest,
        class_name="6-А",
        layout="10",
        base_url="https://vote.example.ua/",
        locale="en",
        cards=12,
        user=None,
        now=utcnow(),
    )
    session.commit()

    class WorkerKilled(BaseException):
        """Stands for SIGKILL: nothing after it runs, no handler sees it."""

    original = JobRun.report

    def killed_at_five(run, done, total):
        original(run, done, total)
        if done == 5:
            raise WorkerKilled()

    monkeypatch.setattr(code_cards, "REPORT_EVERY", 5)
    monkeypatch.setattr(JobRun, "report", killed_at_five)
    with app.app_context(), pytest.raises(WorkerKilled):
        run_job(app, job.id)
    session.expire_all()
    dead = session.get(Job, job.id)
    assert (dead.state, dead.progress_done) == ("running", 5)
    assert session.scalar(select(JobFile).where(JobFile.job_id == job.id)) is None
    monkeypatch.setattr(JobRun, "report", original)
    session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    with app.app_context():
        assert run_job(app, job.id) == "done"
    session.expire_all()
    done = session.get(Job, job.id)
    assert (done.attempts, done.progress_done, done.summary["cards"], done.summary["class_name"]) == (
        2,
        12,
        12,
        "6-А",
    )
    assert len(session.scalars(select(JobFile).where(JobFile.job_id == job.id)).all()) == 1
    assert actions(session).count("job.done") == 1
