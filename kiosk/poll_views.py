"""The resident's poll screens: the choice between the budget vote and the open polls,
one question per screen, the review and the confirmation. Thin: each action parses its
form and calls one kiosk.poll_flow method; the screens render kiosk.poll_view's pages."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.wrappers import Response

from kiosk import poll_view
from kiosk.visit import Step
from kiosk.web import action, flow, form_int, render, screen, to_current_step

bp = Blueprint("polls", __name__)


@bp.get("/choose")
@screen(Step.CHOOSE)
def choose() -> str:
    return render("choose.html", choices=flow().choices())


@bp.post("/choose/vote")
@action
def choose_vote() -> None:
    flow().choose_vote()


@bp.post("/choose/poll")
@action
def choose_poll() -> None:
    poll_id = form_int("poll")
    if poll_id is not None:
        flow().choose_poll(poll_id)


@bp.post("/ballot/to-choices")
@action
def ballot_to_choices() -> None:
    flow().ballot_to_choices()


@bp.post("/receipt/continue")
@action
def continue_visit() -> None:
    flow().continue_visit()


@bp.get("/poll")
@screen(Step.POLL)
def question() -> str:
    current = flow()
    assert current.poll is not None
    page = poll_view.question_page(current.poll, current.poll_answers, current.question_index)
    return render("poll_question.html", poll=current.poll, page=page)


@bp.post("/poll/option")
@action
def tap_option() -> Response | None:
    option_id = form_int("option")
    if option_id is None:
        return None
    step = request.form.get("points", "")
    if step in ("up", "down"):
        flow().give_points(option_id, 1 if step == "up" else -1)
    elif step == "":
        flow().tap_option(option_id)
    current = flow()
    if current.step is not Step.POLL or current.poll is None:
        return None
    # Back to the button just tapped, so keyboard focus and scroll stay where they were
    # (a fragment naming a disabled button would leave focus nowhere).
    page = poll_view.question_page(current.poll, current.poll_answers, current.question_index)
    return to_current_step("#" + poll_view.button_after(page, option_id, step))


@bp.post("/poll/undo")
@action
def undo_last() -> None:
    flow().undo_last()


@bp.post("/poll/clear")
@action
def clear_question() -> None:
    flow().clear_question()


@bp.post("/poll/next")
@action
def next_question() -> None:
    flow().next_question()


@bp.post("/poll/back")
@action
def previous_question() -> None:
    flow().previous_question()


@bp.get("/poll/review")
@screen(Step.POLL_REVIEW)
def review() -> str:
    current = flow()
    assert current.poll is not None
    return render(
        "poll_review.html", poll=current.poll, questions=poll_view.review(current.poll, current.poll_answers)
    )


@bp.post("/poll/edit")
@action
def edit_question() -> None:
    index = form_int("question")
    if index is not None:
        flow().edit_question(index)


@bp.post("/poll/review/confirm")
@action
def to_confirm() -> None:
    flow().poll_to_confirm()


@bp.get("/poll/confirm")
@screen(Step.POLL_CONFIRM)
def confirm() -> str:
    current = flow()
    assert current.poll is not None
    answered = len(poll_view.record_answers(current.poll, current.poll_answers))
    return render("poll_confirm.html", poll=current.poll, answered=answered)


@bp.post("/poll/confirm")
@action
def record() -> None:
    flow().confirm_poll()


@bp.post("/poll/confirm/back")
@action
def back_to_review() -> None:
    flow().poll_back_to_review()
