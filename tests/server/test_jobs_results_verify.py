# ruff: noqa: F811 - the fixtures imported from test_results_pages are parameters here
"""The recount from the console as a job: the steps show while it reads every vote,
the comparison shows once it ends, and its audit record is written with the job's end,
so a cancel between steps records nothing but the cancel."""

from __future__ import annotations

from sqlalchemy import select

from server.jobs import store
from server.jobs.kinds import results_verify
from server.jobs.runner import JobRun, run_job
from server.models import AuditEvent, Job, utcnow
from tests.factories import login
from tests.server.test_results_pages import cycle, moderator, post  # noqa: F401 - fixtures


def actions(session) -> list[str]:
    session.expire_all()
    query = select(AuditEvent.action).where(
        AuditEvent.action.like("job.%") | AuditEvent.action.like("results.%")
    )
    return session.scalars(query.order_by(AuditEvent.id)).all()


def test_the_recount_is_a_job_whose_page_shows_the_comparison_in_english_too(
    client, session, moderator, cycle
):
    login(client, moderator)
    answer = post(client, f"/console/cycles/{cycle.id}/results/verify")
    assert answer.status_code == 303
    job = session.scalar(select(Job))
    assert (job.kind, job.state, job.progress_done, job.progress_total, job.summary["agrees"]) == (
        "results.verify",
        "done",
        4,
        4,
        True,
    )
    english = client.get(answer.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Checking the results against the raw records" in english and "Recount steps: 4 of 4" in english
    assert f'href="/console/cycles/{cycle.id}/results"' in english
    assert actions(session) == ["results.verify", "job.done"]


def test_a_recount_cancelled_between_steps_records_nothing_but_the_cancel(
    app, session, moderator, cycle, monkeypatch
):
    job = results_verify.start_results_verify(session, cycle, user=moderator, now=utcnow())
    session.commit()
    original = JobRun.report

    def moderator_cancels_after_the_recount(run, done, total):
        if done == 1:
            from sqlalchemy.orm import Session

            with Session(app.extensions["spilno.engine"]) as other:
                store.request_cancel(other, other.get_one(Job, job.id), user=moderator, now=utcnow())
                other.commit()
        original(run, done, total)

    monkeypatch.setattr(JobRun, "report", moderator_cancels_after_the_recount)
    with app.app_context():
        assert run_job(app, job.id) == "cancelled"
    assert actions(session) == ["job.cancel_requested", "job.cancelled"]
