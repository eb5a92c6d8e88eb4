"""`spilno server polls ...`: make a poll from a JSON file, publish it, read its count,
recount it from the raw answers.

The file (docs/polls.md has an example):
    {"title": "...", "description": "...", "opens_at": "2027-05-01T09:00:00+03:00",
     "closes_at": "...", "questions": [{"text": "...", "kind": "one" | "up_to" | "rank" |
     "points", "max_choices": 2, "max_points": 5, "options": ["...", "..."]}]}
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from server import db
from server.cli_context import app_context
from server.i18n import both
from server.models import Community, Poll
from server.polls.count import count_poll
from server.polls.recount import UnknownPoll, recount_poll
from server.polls.results import render_result
from server.polls.store import (
    PollSpecError,
    PollStateError,
    create_poll,
    poll_rule,
    publish_poll,
    questions_of,
)

MAX_SPEC_BYTES = 1024 * 1024  # a poll of 50 questions of 100 options is ~0.5 MB

polls_group = click.Group("polls", help="Polls beside the budget vote: make, publish, count.")


@polls_group.command("create")
@click.option("--community", "community_slug", required=True, help="The community's slug.")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def create_command(community_slug: str, spec_file: Path) -> None:
    """Make a draft poll from SPEC_FILE (JSON); print its id. Nothing is stored on any error."""
    raw = spec_file.read_bytes()[: MAX_SPEC_BYTES + 1]
    if len(raw) > MAX_SPEC_BYTES:
        raise click.ClickException(both("Файл завеликий (до 1 МБ)"))
    try:
        spec = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise click.ClickException(both("Це не JSON у UTF-8") + f": {error}") from None
    with app_context():
        session = db.session()
        community = session.scalar(select(Community).where(Community.slug == community_slug))
        if community is None:
            raise click.ClickException(both("Громади «{slug}» немає", slug=community_slug))
        try:
            poll = create_poll(session, community.id, spec)
        except PollSpecError as error:
            lines = [f"  {p.where}: {p.what.render('uk')} / {p.what.render('en')}" for p in error.problems]
            raise click.ClickException(both("Опитування не створено") + ":\n" + "\n".join(lines)) from None
        session.commit()
        click.echo(both("Опитування створено (чернетка)") + f": #{poll.id}")


@polls_group.command("publish")
@click.argument("poll_id", type=int)
def publish_command(poll_id: int) -> None:
    """Publish a draft poll: answers are taken from its opening time; its questions are fixed."""
    with app_context():
        session = db.session()
        poll = session.get(Poll, poll_id)
        if poll is None:
            raise click.ClickException(both("Опитування #{poll} немає", poll=poll_id))
        try:
            publish_poll(session, poll)
        except PollStateError as error:
            raise click.ClickException(f"{error.message_uk} / {error.message_en}") from None
        session.commit()
        click.echo(both("Опитування оприлюднено") + f": #{poll.id}")


@polls_group.command("results")
@click.argument("poll_id", type=int)
def results_command(poll_id: int) -> None:
    """Print each question's count as JSON (the same as the API's results)."""
    with app_context():
        session = db.session()
        poll = session.get(Poll, poll_id)
        if poll is None:
            raise click.ClickException(both("Опитування #{poll} немає", poll=poll_id))
        questions = questions_of(session, poll)
        texts = {o: t for q in questions for o, t in q.options}
        results = count_poll(session, poll_rule(session, poll))
        shown = [
            {**render_result(result, texts), "text": q.text}
            for result, q in zip(results, questions, strict=True)
        ]
        click.echo(json.dumps({"poll": poll.id, "questions": shown}, ensure_ascii=False, indent=2))


@polls_group.command("recount")
@click.argument("poll_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def recount_command(poll_id: int, as_json: bool) -> None:
    """Recount a poll from its raw answers: each record and its hash, each device's answers
    against its verified log, who counts, each answer's items and the published count
    (exit 1 on any mismatch)."""
    with app_context():
        try:
            report = recount_poll(db.session(), poll_id)
        except UnknownPoll:
            raise click.ClickException(both("Опитування #{poll} немає", poll=poll_id)) from None
    if as_json:
        for line in report.json_lines():
            click.echo(json.dumps(line, ensure_ascii=False))
    else:
        for chain in report.chains:
            state = both("ланцюжок цілий") if chain.ok else both("ЛАНЦЮЖОК ПОРУШЕНО")
            click.echo(f"{chain.device}\t{state}")
            for problem in chain.problems:
                click.echo(f"  {problem}")
        for problem in report.record_problems:
            click.echo(f"record: {problem}")
        for m in report.status_mismatches:
            click.echo(f"status: {m.answer_id} stored {m.stored} recomputed {m.recomputed}")
        for problem in report.item_problems:
            click.echo(f"items: {problem}")
        agrees = both("збігається") if report.count_agrees else both("НЕ збігається")
        click.echo(f"{both('підрахунок')}: {agrees}")
        click.echo(
            both("відповідей")
            + f": {report.answers}; "
            + (both("збігається") if report.ok else both("НЕ збігається"))
        )
    if not report.ok:
        raise SystemExit(1)
