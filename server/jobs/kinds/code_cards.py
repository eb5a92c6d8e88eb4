"""Code cards as a job: a PDF of every printable card of a school's contest (or of one
class of it), drawn card by card while the job's page shows the cards drawn.

The PDF is made in memory and kept (sealed: it holds live codes, server.jobs.sealed)
as the job's output in the same transaction that ends the job done: a run killed
midway leaves nothing, and the next run draws the same cards again from the start,
once. A cancel is honoured between chunks of cards. Cards already used or revoked are
never printed (server.school.codes.printable_codes), as with the direct downloads.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from qr_codes.card_address import CardAddressError
from qr_codes.cards import CodeCard, cards_pdf
from qr_codes.codes import code_url
from server.models import Job, SchoolContest, User, utcnow
from server.school.codes import IssuedCode, printable_codes
from server.school.contests import Contest, load_contest
from server.school.keys import CodeKeys

from .. import store
from ..runner import HANDLERS, JobFailed, JobRun
from ..sealed import seal

__all__ = ["KIND", "MAX_CARDS", "code_cards", "start_code_cards"]

KIND = "school_codes.cards"
# A whole school is a few thousand students; 20 000 cards are a ~16 MB PDF (about 800
# bytes a card), the most a job keeps for download.
MAX_CARDS = 20_000
REPORT_EVERY = 50  # cards drawn between two progress writes (and cancel checks)


def code_cards(contest: Contest, issued: list[IssuedCode], base_url: str) -> list[CodeCard]:
    """The cards of `issued` codes, each QR code carrying `base_url`'s voting address."""
    return [
        CodeCard(
            code=i.code,
            url=code_url(base_url, i.code),
            school=contest.school.name,
            class_name=i.class_name,
            contest=contest.programme.title,
            number=i.number,
        )
        for i in issued
    ]


def start_code_cards(
    session: Session,
    contest: Contest,
    *,
    class_name: str | None,
    layout: str,
    base_url: str,
    locale: str,
    cards: int,
    user: User | None,
    now: datetime,
) -> Job:
    """The job (no input file: the cards are the contest's), in the caller's transaction.
    `cards` is the estimate of how many will be drawn; `base_url` and `locale` are the
    console's at the moment the job is started (a worker has no request)."""
    return store.create_job(
        session,
        community_id=contest.contest.community_id,
        kind=KIND,
        user=user,
        unit="cards",
        params={
            "contest_id": contest.id,
            "class_name": class_name,
            "layout": layout,
            "base_url": base_url,
            "locale": locale,
        },
        files=[],
        target=("school_contest", contest.id),
        now=now,
        total=cards,
    )


def run_code_cards(run: JobRun) -> None:
    session, job, params = run.session, run.job, run.params
    row = session.get(SchoolContest, params.get("contest_id"))
    if row is None or row.community_id != job.community_id:
        raise JobFailed([{"code": "job.target_gone", "params": {}}])
    contest = load_contest(session, row)
    master = current_app.config["VOTER_KEY_SECRET_BYTES"]
    class_name = params.get("class_name")
    issued = printable_codes(session, contest, CodeKeys.from_master(master), class_name=class_name)
    if not issued:
        raise JobFailed([{"code": "school_codes.nothing_to_print", "params": {}}])
    if len(issued) > MAX_CARDS:
        raise JobFailed([{"code": "school_codes.too_many_cards", "params": {"max": MAX_CARDS}}])
    cards = code_cards(contest, issued, params["base_url"])
    total = len(cards)
    run.report(0, total)

    def drawn(count: int, _total: int | None) -> None:
        if count % REPORT_EVERY == 0 and count < total:
            run.report(count, total)

    label = class_name or contest.programme.title
    buffer = io.BytesIO()
    try:
        pages = cards_pdf(
            cards,
            buffer,
            layout=params["layout"],
            title=f"{contest.school.name}, {label}",
            locale=params.get("locale") or "uk",
            on_progress=drawn,
        )
    except CardAddressError as error:
        raise JobFailed(
            [{"code": "school_codes.card_address", "params": {"rule": error.code, **error.params}}]
        ) from error
    data = buffer.getvalue()
    now = utcnow()
    store.drop_old_outputs(session, KIND, now)
    store.keep_output(session, job, "cards.pdf", seal(master, job.id, data))
    summary = {
        "cards": total,
        "pages": pages,
        "layout": params["layout"],
        "class_name": class_name or "",
        "bytes": len(data),
    }
    run.finish_done(summary, done=total)


HANDLERS[KIND] = run_code_cards
