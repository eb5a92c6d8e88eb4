"""The console's poll pages: a community's polls, a new poll from its JSON spec (the
same file `spilno server polls create` reads, docs/polls.md), a poll's questions, its
publication, and its count as answers arrive.

A community moderator sees and changes only their own community's polls (404 for any
other); an administrator chooses the community of a new poll.
"""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import func, select

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    current_user,
    roles_required,
    scoped_or_404,
    visible_community_ids,
)
from server.console.forms import FormReader, community_for_new_object, confirmed, managed_communities
from server.console.views import bp
from server.i18n import _, get_locale, ngettext, number
from server.models import Community, Poll, PollAnswer, utcnow
from server.polls.count import count_poll
from server.polls.store import (
    PollSpecError,
    PollStateError,
    create_poll,
    poll_rule,
    publish_poll,
    questions_of,
)
from server.results import charts
from server.services import audit
from voting.poll_count import QuestionResult
from voting.polls import QuestionKind

MAX_SPEC_BYTES = 1024 * 1024


def _state(poll: Poll) -> tuple[str, str]:
    """(label, badge) of a poll's state now."""
    now = utcnow()
    if poll.published_at is None:
        return _("чернетка"), "warn"
    if now < poll.opens_at:
        return _("оприлюднено, ще не почалося"), ""
    if now < poll.closes_at:
        return _("триває"), "good"
    return _("завершено"), ""


@bp.route("/polls")
@roles_required(*COMMUNITY_MANAGERS)
def polls() -> ResponseReturnValue:
    user = current_user()
    assert user is not None  # roles_required
    scope = visible_community_ids(user)
    answers = select(PollAnswer.poll_id, func.count().label("n")).group_by(PollAnswer.poll_id).subquery()
    query = (
        select(Poll, Community.name, func.coalesce(answers.c.n, 0))
        .join(Community, Community.id == Poll.community_id)
        .outerjoin(answers, answers.c.poll_id == Poll.id)
        .order_by(Poll.id.desc())
    )
    if scope is not None:
        query = query.where(Poll.community_id.in_(scope))
    rows = [(poll, community, n, *_state(poll)) for poll, community, n in db.session().execute(query).all()]
    return _list_page(rows, [], scope is None), 200


def _list_page(rows: list, problems: list[str], show_community: bool) -> str:
    return render_template(
        "console/polls.html",
        rows=rows,
        show_community=show_community,
        community_options=[(c.id, c.name) for c in managed_communities()],
        problems=problems,
    )


@bp.route("/polls", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def poll_create() -> ResponseReturnValue:
    reader = FormReader()
    community_id = community_for_new_object(reader)
    problems: list[str] = []
    upload = request.files.get("spec")
    raw = upload.stream.read(MAX_SPEC_BYTES + 1) if upload is not None and upload.filename else b""
    if community_id is None:
        problems.append(_("Оберіть громаду."))
    elif not raw:
        problems.append(_("Оберіть файл опису опитування (JSON)."))
    elif len(raw) > MAX_SPEC_BYTES:
        problems.append(_("Файл завеликий: не більше 1 МБ."))
    else:
        try:
            spec = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            problems.append(_("Це не JSON у кодуванні UTF-8."))
        else:
            session = db.session()
            try:
                poll = create_poll(session, community_id, spec)
            except PollSpecError as error:
                session.rollback()
                problems.extend(p.text(get_locale()) for p in error.problems)
            else:
                audit.record(session, "poll.create", community_id=community_id, target=("poll", poll.id))
                session.commit()
                flash(_("Опитування створено як чернетку. Перевірте питання й оприлюдніть."), "success")
                return redirect(url_for("console.poll_detail", poll_id=poll.id), code=303)
    user = current_user()
    assert user is not None
    return _list_page([], problems, visible_community_ids(user) is None), 422


def _measure(result: QuestionResult) -> list[tuple[int, int, str]]:
    """(option id, the bar's value, its text) in the result's order."""
    rows = []
    for option in result.options:
        if result.kind is QuestionKind.RANK:
            shown = ngettext("{n} бал Борда", "{n} балів Борда", option.borda, n=number(option.borda))
            rows.append((option.option_id, option.borda, shown))
        elif result.kind is QuestionKind.POINTS:
            rows.append(
                (option.option_id, option.points, _("у середньому {mean}", mean=f"{option.mean_points:.2f}"))
            )
        else:
            share = f"{option.share * 100:.1f}%"
            rows.append((option.option_id, option.chosen, f"{number(option.chosen)} ({share})"))
    return rows


def _chart(result: QuestionResult, text: str, texts: dict[int, str]) -> Markup:
    measured = _measure(result)
    svg = charts.bar_chart(
        [
            charts.Bar(label=texts.get(option_id, ""), value=value, value_text=shown, highlighted=n == 0)
            for n, (option_id, value, shown) in enumerate(measured)
        ],
        chart_id=f"poll-question-{result.question_id}",
        title=text,
        description=_(
            "Стовпці — варіанти відповіді від найкращого; перший має суцільну заливку й позначку ✓. "
            "Ті самі числа — у таблиці під графіком."
        ),
        legend=(_("перше місце"), _("інші варіанти")),
    )
    return Markup(svg)  # noqa: S704  (charts escape every text they draw)


@bp.route("/polls/<int:poll_id>")
@roles_required(*COMMUNITY_MANAGERS)
def poll_detail(poll_id: int) -> ResponseReturnValue:
    poll = scoped_or_404(Poll, poll_id)
    session = db.session()
    questions = questions_of(session, poll)
    results = count_poll(session, poll_rule(session, poll)) if poll.published_at is not None else ()
    texts = {o: t for q in questions for o, t in q.options}
    label, badge = _state(poll)
    return render_template(
        "console/poll.html",
        poll=poll,
        questions=questions,
        results=[
            (r, q, _chart(r, q.text, texts), _measure(r)) for r, q in zip(results, questions, strict=False)
        ],
        texts=texts,
        state_label=label,
        state_badge=badge,
    )


@bp.route("/polls/<int:poll_id>/publish", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def poll_publish(poll_id: int) -> ResponseReturnValue:
    poll = scoped_or_404(Poll, poll_id)
    if confirmed():
        session = db.session()
        try:
            publish_poll(session, poll)
        except PollStateError as error:
            flash(error.in_language(get_locale()), "error")
        else:
            audit.record(session, "poll.publish", community_id=poll.community_id, target=("poll", poll.id))
            session.commit()
            flash(_("Опитування оприлюднено: відповіді приймаються з часу початку."), "success")
    return redirect(url_for("console.poll_detail", poll_id=poll_id), code=303)
