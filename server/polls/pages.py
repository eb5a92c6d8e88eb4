"""The console's poll pages: a community's polls, a new poll from its JSON spec (the
same file `spilno server polls create` reads, docs/polls.md) or from the form that
writes that spec (server.polls.form), a poll's questions, its
publication, its count as answers arrive, publishing the count (server.polls.results)
and downloading it as CSV or JSON (the public page's very files, before publication too).

A community moderator sees and changes only their own community's polls (404 for any
other); an administrator chooses the community of a new poll.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    current_user,
    roles_required,
    scoped_or_404,
    visible_community_ids,
)
from server.console.forms import (
    Errors,
    FormReader,
    community_for_new_object,
    confirmed,
    managed_communities,
)
from server.console.views import bp
from server.i18n import _, get_locale
from server.models import Community, Poll, PollAnswer, School, utcnow
from server.polls.form import (
    SHOWN_BLOCKS,
    place_problems,
    read_poll_form,
    school_options,
    shown_blocks,
    used_blocks,
)
from server.polls.results import (
    TEMPLATE_HELPERS,
    PollResults,
    csv_response,
    json_response,
    poll_results,
    publish_poll_results,
    unpublish_poll_results,
)
from server.polls.store import (
    PollSpecError,
    PollStateError,
    create_poll,
    publish_poll,
    questions_of,
    who_of,
)
from server.services import audit, eligibility
from voting.eligibility import MIN_AGE_LIMITS
from voting.polls import MAX_OPTIONS, MAX_POINTS, MAX_QUESTIONS

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
                return _created(poll)
    user = current_user()
    assert user is not None
    return _list_page([], problems, visible_community_ids(user) is None), 422


def _created(poll: Poll) -> ResponseReturnValue:
    """A poll just made (from a file or the form): recorded in the audit log, committed,
    and its page shown with what to do next."""
    session = db.session()
    audit.record(session, "poll.create", community_id=poll.community_id, target=("poll", poll.id))
    session.commit()
    flash(_("Опитування створено як чернетку. Перевірте питання й оприлюдніть."), "success")
    return redirect(url_for("console.poll_detail", poll_id=poll.id), code=303)


@bp.route("/polls/new")
@roles_required(*COMMUNITY_MANAGERS)
def poll_form() -> ResponseReturnValue:
    return _poll_form_page({}, {}, SHOWN_BLOCKS), 200


@bp.route("/polls/new", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def poll_form_submit() -> ResponseReturnValue:
    """The form's two buttons: «Додати ще питання» shows the form again as typed with
    one more block (nothing checked, nothing stored); «Створити чернетку» reads the
    form into the spec and hands it to create_poll, as the upload does."""
    reader = FormReader()
    values = reader.values()
    if request.form.get("action") == "add":
        used, _tampered = used_blocks(reader.form)
        return _poll_form_page(values, {}, shown_blocks(reader.form, used, more=1)), 200
    community_id = community_for_new_object(reader)
    form = read_poll_form(reader)
    if community_id is not None:
        session = db.session()
        try:
            poll = create_poll(session, community_id, form.spec)
        except PollSpecError as error:
            session.rollback()
            place_problems(form, error.problems, get_locale())
        else:
            if not form.errors:
                return _created(poll)
            session.rollback()  # the form refused a field: nothing is stored
    elif not form.errors.get("community_id"):
        reader.add_error("community_id", _("Оберіть громаду."))
    return _poll_form_page(values, form.errors, form.shown), 422


def _poll_form_page(values: dict[str, str], errors: Errors, shown: int) -> str:
    user = current_user()
    assert user is not None  # roles_required
    communities = managed_communities()
    return render_template(
        "console/poll_form.html",
        values=values,
        errors=errors,
        shown=shown,
        most=MAX_QUESTIONS,
        most_options=MAX_OPTIONS,
        most_points=MAX_POINTS,
        age_limits=MIN_AGE_LIMITS,
        choose_community=visible_community_ids(user) is None,
        community_options=[(c.id, c.name) for c in communities],
        school_options=school_options(db.session(), communities),
    )


@bp.route("/polls/<int:poll_id>")
@roles_required(*COMMUNITY_MANAGERS)
def poll_detail(poll_id: int) -> ResponseReturnValue:
    poll = scoped_or_404(Poll, poll_id)
    session = db.session()
    label, badge = _state(poll)
    listing = eligibility.list_state(session, poll.community_id)
    return render_template(
        "console/poll.html",
        poll=poll,
        who=who_of(poll),
        list_on=listing is not None and listing.enabled,
        community=session.get(Community, poll.community_id),
        school=session.get(School, poll.school_id) if poll.school_id is not None else None,
        questions=questions_of(session, poll),
        results=poll_results(session, poll) if poll.published_at is not None else None,
        opened=utcnow() >= poll.opens_at,
        still_open=utcnow() < poll.closes_at,
        heading=3,
        state_label=label,
        state_badge=badge,
        **TEMPLATE_HELPERS,
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


@bp.route("/polls/<int:poll_id>/results/publish", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def poll_results_publish(poll_id: int) -> ResponseReturnValue:
    poll = scoped_or_404(Poll, poll_id)
    if confirmed():
        session = db.session()
        try:
            published = publish_poll_results(session, poll, current_user())
        except PollStateError as error:
            flash(error.in_language(get_locale()), "error")
        else:
            if published:
                session.commit()
                flash(_("Результати опитування оприлюднено: їх бачать усі на публічній сторінці."), "success")
            else:
                flash(_("Результати опитування вже оприлюднено."), "info")
    return redirect(url_for("console.poll_detail", poll_id=poll_id), code=303)


@bp.route("/polls/<int:poll_id>/results/unpublish", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def poll_results_unpublish(poll_id: int) -> ResponseReturnValue:
    poll = scoped_or_404(Poll, poll_id)
    if confirmed():
        session = db.session()
        if unpublish_poll_results(session, poll, current_user()):
            session.commit()
            flash(_("Результати опитування знято з публікації: їх більше не видно на сайті."), "success")
        else:
            flash(_("Результати опитування не були оприлюднені."), "info")
    return redirect(url_for("console.poll_detail", poll_id=poll_id), code=303)


def _results_file(poll_id: int, respond: Callable[[PollResults, str], Response]) -> Response:
    """The poll's results as the public page's file (`respond`: its CSV or JSON builder),
    whether or not they are public; the file says which. A draft takes no answers and
    has no results to check: 404, as on the public page. Never kept by a browser or proxy."""
    poll = scoped_or_404(Poll, poll_id)
    session = db.session()
    community = session.get(Community, poll.community_id)
    if poll.published_at is None or community is None:
        abort(404)
    response = respond(poll_results(session, poll), community.slug)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/polls/<int:poll_id>/results.csv")
@roles_required(*COMMUNITY_MANAGERS)
def poll_results_csv(poll_id: int) -> ResponseReturnValue:
    return _results_file(poll_id, csv_response)


@bp.get("/polls/<int:poll_id>/results.json")
@roles_required(*COMMUNITY_MANAGERS)
def poll_results_json(poll_id: int) -> ResponseReturnValue:
    return _results_file(poll_id, json_response)
