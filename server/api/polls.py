"""Polls through the integration API: the online platform reads the community's
published polls, pushes its residents' answers, and reads the count.

    GET  /api/v1/polls                      published polls with questions and options
    POST /api/v1/polls/<id>/answers         {"answers": [answer, ...]}, all or nothing
    GET  /api/v1/polls/<id>/results         each question's result

An answer: {"id": uuid made where cast, "voter_key": 64 hex | "identity": {...},
"cast_at": RFC 3339, "answers": {"<question id>": [option ids] | [[option id, points]]}}.
A batch with any problem stores nothing and names every problem; an answer that breaks
its question's rule is refused with the domain's message (voting/messages.py), and so is
one from a resident the poll's "who may answer" turns away (server.polls.who), with the
codes a vote gets: eligibility.not_listed, eligibility.too_young, poll.wrong_district.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, jsonify
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import db
from server.i18n import _
from server.models import Community, Poll
from server.polls.answers import PollAnswerConflict, store_answers
from server.polls.count import count_poll
from server.polls.results import render_result
from server.polls.store import community_poll, poll_rule, questions_of, who_of
from server.polls.who import Resident, refusals
from server.services.integration import api_source
from server.services.pushed_fields import Problems, check_fields, read_cast_at, read_voter_key
from voting.channels import Channel
from voting.eligibility import birth_date
from voting.identity import IdentityError, community_voter_secret, normalise_identifier
from voting.polls import PollAnswerRecord, PollAnswerRefused, PollRule
from voting.record import canonical_vote_id

from .auth import current_client
from .responses import ApiError, read_json_body, render_problem
from .views import bp

BATCH_FIELDS = frozenset({"answers"})
ANSWER_FIELDS = frozenset({"id", "voter_key", "identity", "cast_at", "answers"})


def _poll_or_404(poll_id: int) -> Poll:
    poll = community_poll(db.session(), current_client().community_id, poll_id)
    if poll is None:
        raise ApiError(404, "not_found", _("Серед оприлюднених опитувань вашої громади такого немає."))
    return poll


def _render_poll(session: Session, poll: Poll) -> dict[str, Any]:
    who = who_of(poll)
    return {
        "id": poll.id,
        "title": poll.title,
        "description": poll.description,
        "opens_at": poll.opens_at.isoformat(),
        "closes_at": poll.closes_at.isoformat(),
        "who": {"min_age": who.min_age, "voter_list": who.voter_list, "district": who.district or None},
        "questions": [
            {
                "id": q.id,
                "text": q.text,
                "kind": q.kind.value,
                "max_choices": q.max_choices,
                "max_points": q.max_points,
                "options": [{"id": o, "text": t} for o, t in q.options],
            }
            for q in questions_of(session, poll)
        ],
    }


@bp.get("/polls")
def list_polls() -> Response:
    session = db.session()
    polls = session.scalars(
        select(Poll)
        .where(
            Poll.community_id == current_client().community_id,
            Poll.published_at.is_not(None),
            Poll.school_id.is_(None),  # a school's poll is answered only with its students' codes
        )
        .order_by(Poll.id)
    ).all()
    return jsonify(polls=[_render_poll(session, poll) for poll in polls])


# A well-read answer's item index, the field naming its resident, and the resident.
ReadResident = tuple[int, str, Resident]


def read_answer_batch(
    payload: Any,
    *,
    poll: Poll,
    rule: PollRule,
    secret: bytes,
    max_batch: int,
    residents: list[ReadResident] | None = None,
) -> tuple[list[PollAnswerRecord], Problems]:
    """The batch as canonical answer records, and every problem found (none stored).
    `residents`, when given, gets each well-read answer's resident, for who may answer."""
    problems = Problems()
    if not isinstance(payload, dict):
        problems.add(None, "", "api.not_object")
        return [], problems
    check_fields(problems, None, "", payload, BATCH_FIELDS)
    items = payload.get("answers")
    if not isinstance(items, list):
        problems.add(None, "answers", "api.answers_not_list")
        return [], problems
    if not 1 <= len(items) <= max_batch:
        problems.add(None, "answers", "api.answer_batch_size", max=max_batch)
        return [], problems
    records = []
    for index, item in enumerate(items):
        record = _read_answer(problems, index, item, poll, rule, secret)
        if record is not None:
            records.append(record)
            if residents is not None and record.voter_key is not None:
                field = "identity" if "identity" in item else "voter_key"
                resident = Resident(record.voter_key, record.cast_at, _born(item))
                residents.append((index, field, resident))
    return records, problems


def _born(item: dict) -> date | None:
    """The birth date the answer's document shows (a РНОКПП's or УНЗР's), None for a
    voter key or a document without one. Read here and never kept."""
    identity = item.get("identity")
    if not isinstance(identity, dict):
        return None
    try:
        kind, number = identity["kind"], identity["number"]
        return birth_date(kind, normalise_identifier(kind, number))
    except (KeyError, IdentityError, ValueError):  # read already: read_voter_key named it
        return None


def _read_answer(
    problems: Problems, index: int, item: Any, poll: Poll, rule: PollRule, secret: bytes
) -> PollAnswerRecord | None:
    if not isinstance(item, dict):
        problems.add(index, "", "api.not_object")
        return None
    before = problems.total
    check_fields(problems, index, "", item, ANSWER_FIELDS)
    for name in ("id", "cast_at", "answers"):
        if name not in item:
            problems.add(index, name, "api.required")
    answer_id = None
    if "id" in item:
        try:
            answer_id = canonical_vote_id(item["id"])
        except (ValueError, TypeError):
            problems.add(index, "id", "api.not_uuid")
    voter_key = read_voter_key(problems, index, item, secret)
    cast_at = read_cast_at(item["cast_at"]) if "cast_at" in item else None
    if "cast_at" in item:
        if cast_at is None:
            problems.add(index, "cast_at", "api.cast_at_format")
        elif not poll.opens_at <= cast_at <= poll.closes_at:
            problems.add(index, "cast_at", "api.poll_outside_window")
    given = item.get("answers")
    answers: dict[int, Any] = {}
    if "answers" in item:
        if not isinstance(given, dict) or any(
            not (isinstance(k, str) and k.isdigit() and len(k) <= 10) for k in given
        ):
            problems.add(index, "answers", "api.poll_answers_shape")
        else:
            answers = {int(k): v for k, v in given.items()}
    if problems.total > before:
        return None
    assert answer_id is not None and cast_at is not None  # else a problem above
    try:
        return PollAnswerRecord.create(
            answer_id=answer_id,
            poll=rule,
            answers=answers,
            channel=Channel.WEB,
            cast_at=cast_at,
            voter_key=voter_key,
        )
    except PollAnswerRefused as refused:
        for problem in refused.problems:
            problems.add(index, "answers", problem.code, **problem.params)
    except ValueError:  # not the shape an answer has (a string for a list, a float...)
        problems.add(index, "answers", "api.poll_answers_shape")
    return None


@bp.post("/polls/<int:poll_id>/answers")
def push_answers(poll_id: int) -> Response:
    client = current_client()
    client_id, community_id = client.id, client.community_id
    poll = _poll_or_404(poll_id)
    if poll.school_id is not None:
        raise ApiError(
            409,
            "school_poll",
            _(
                "Це опитування школи: на нього відповідають лише учні школи своїми кодами. "
                "Відповіді з платформи не приймаються."
            ),
        )
    payload = read_json_body()
    session = db.session()
    community = session.get(Community, community_id)
    assert community is not None  # the client's own community
    secret = community_voter_secret(current_app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)
    rule = poll_rule(session, poll)
    residents: list[ReadResident] = []
    records, problems = read_answer_batch(
        payload,
        poll=poll,
        rule=rule,
        secret=secret,
        max_batch=current_app.config["API_MAX_BATCH"],
        residents=residents,
    )
    # Who may answer: judged for every well-read answer, so one 422 names every problem.
    refused = refusals(session, community_id, rule.who, [r for _i, _f, r in residents])
    for (index, field, _resident), problem in zip(residents, refused, strict=True):
        if problem is not None:
            problems.add(index, field, problem.code, **problem.params)
    if problems.total:
        raise ApiError(
            422,
            "invalid_answers",
            _("Пакет не прийнято: виправте позначені помилки. Жодної відповіді не збережено."),
            extra={"items": [render_problem(p) for p in problems.kept], "problems_total": problems.total},
        )
    try:
        standings = store_answers(session, poll, rule, records, source=api_source(client_id))
        session.commit()
    except IntegrityError:
        # Another request stored one of these ids a moment ago, for another voter (the
        # lock is per voter): sent again, the batch meets it as stored and is answered.
        session.rollback()
        raise ApiError(
            503,
            "busy",
            _("Сервер зайнятий одночасними надсиланнями тих самих відповідей. Надішліть пакет ще раз."),
            headers={"Retry-After": "1"},
        ) from None
    except PollAnswerConflict as conflict:
        session.rollback()
        raise ApiError(
            409,
            "answer_conflict",
            _("Відповіді з такими ідентифікаторами вже отримано з іншим вмістом. Пакет не прийнято."),
            extra={"conflicting_ids": sorted({c.answer_id for c in conflict.conflicts})},
        ) from None
    return jsonify(
        results=[
            {"id": s.answer_id, "status": s.status, "counted_answer_id": s.counted_answer_id}
            for s in standings
        ]
    )


@bp.get("/polls/<int:poll_id>/results")
def poll_results(poll_id: int) -> Response:
    poll = _poll_or_404(poll_id)
    session = db.session()
    questions = questions_of(session, poll)
    texts = {o: t for q in questions for o, t in q.options}
    results = count_poll(session, poll_rule(session, poll))
    return jsonify(
        poll=poll.id,
        method={"rank": "borda", "points": "mean_points"},
        questions=[
            {**render_result(result, texts), "text": q.text}
            for result, q in zip(results, questions, strict=True)
        ],
    )
