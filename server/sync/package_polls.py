"""The polls in a community's package (server.sync.packages builds the rest): its
published polls whose window has not ended, those not yet open included, with their
questions and options, in the form devices read (sync.package_polls)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Poll, PollOption, PollQuestion
from voting import format_time


def packaged_polls(session: Session, community_id: int, now: datetime) -> list[dict]:
    """The community's published polls whose window has not ended, by opening time, each
    with its questions and options in their order (one query, two more when there are
    polls). Positions and ids decide every order, never the database's collation."""
    polls = session.scalars(
        select(Poll)
        .where(
            Poll.community_id == community_id,
            Poll.published_at.is_not(None),
            Poll.closes_at > now,
            # A school's poll is answered only with its students' codes on the students'
            # pages (docs/polls.md, "School polls"): it never travels to a device.
            Poll.school_id.is_(None),
        )
        .order_by(Poll.opens_at, Poll.id)
    ).all()
    if not polls:
        return []
    questions = session.scalars(
        select(PollQuestion)
        .where(PollQuestion.poll_id.in_([p.id for p in polls]))
        .order_by(PollQuestion.poll_id, PollQuestion.position, PollQuestion.id)
    ).all()
    options: dict[int, list[dict]] = {q.id: [] for q in questions}
    for question_id, option_id, position, words in session.execute(
        select(PollOption.question_id, PollOption.id, PollOption.position, PollOption.text)
        .where(PollOption.question_id.in_(list(options)))
        .order_by(PollOption.question_id, PollOption.position, PollOption.id)
    ):
        options[question_id].append({"id": option_id, "position": position, "text": words})
    by_poll: dict[int, list[dict]] = {p.id: [] for p in polls}
    for q in questions:
        by_poll[q.poll_id].append(
            {
                "id": q.id,
                "position": q.position,
                "text": q.text,
                "kind": q.kind,
                "max_choices": q.max_choices,
                "max_points": q.max_points,
                "options": options[q.id],
            }
        )
    return [
        {
            "id": p.id,
            "title": p.title,
            "description": p.description,
            "opens_at": format_time(p.opens_at),
            "closes_at": format_time(p.closes_at),
            # Every field, null for none: a device never reads a left-out rule as "anyone".
            "who": {"min_age": p.min_age, "voter_list": bool(p.voter_list), "district": p.district or None},
            "questions": by_poll[p.id],
        }
        for p in polls
    ]
