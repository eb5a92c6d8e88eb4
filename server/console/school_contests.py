"""A school's contest: create it for one of the community's school budgets, change its
window, budget, rule and voting grades, and its page (projects, codes, results).

The contest votes as a cycle of its own (server.school.contests), so the window is
typed like a cycle's (Kyiv time) and the budget like a category's (hryvnias).
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from qr_codes.cards import LAYOUTS
from server import db
from server.auth.access import MAX_ID, SCHOOL_STAFF, roles_required, school_scoped_or_404
from server.console.job_status import recent_jobs
from server.i18n import _, ngettext
from server.jobs.kinds.code_cards import KIND as CODE_CARDS
from server.models import Cycle, CycleKind, Project, School, SchoolContest, utcnow
from server.school.classes import grades_text, parse_grades
from server.school.codes import MAX_CODES_PER_CLASS, class_usage
from server.school.contests import (
    MAX_CHOICES,
    Contest,
    ContestFields,
    create_contest,
    load_contest,
    programmes,
    update_contest,
)
from server.services.cycles import voting_started

from .cycles import hryvnias_input, local_input, read_moment
from .forms import REFUSALS, Errors, FormReader, refusal_errors, submit
from .school_summary import state_label, summarise
from .views import bp


def contest_or_404(contest_id: int) -> Contest:
    """The contest with the rows its pages need, if the signed-in user may run its school."""
    return load_contest(db.session(), school_scoped_or_404(SchoolContest, contest_id))


@bp.route("/schools/<int:school_id>/contests/new", methods=["GET", "POST"])
@roles_required(*SCHOOL_STAFF)
def contest_new(school_id: int) -> ResponseReturnValue:
    school = school_scoped_or_404(School, school_id)
    choices = open_programmes(school)
    reader = FormReader()
    if request.method == "POST":
        programme = _read_programme(reader, school)
        fields = _read_contest(reader, None)
        if programme is not None and fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: create_contest(db.session(), programme, school, fields),
                done=_("Конкурс створено. Додайте проєкти учнів і створіть коди для класів."),
                redirect_to=lambda contest: url_for("console.contest_page", contest_id=contest.id),
            ):
                return saved
        values = reader.values()
    else:
        # Opened from the school page for one programme: start from its dates.
        chosen = next((p for p in choices if str(p.id) == request.args.get("programme_id")), None)
        chosen = chosen or (choices[0] if choices else None)
        values = {"max_choices": "1", "grades": "5-11"}
        if chosen is not None:
            values |= {
                "programme_id": str(chosen.id),
                "voting_starts_at": local_input(chosen.voting_starts_at),
                "voting_ends_at": local_input(chosen.voting_ends_at),
            }
    return render_template(
        "console/school_contest_form.html",
        school=school,
        contest=None,
        values=values,
        errors=reader.errors,
        programme_options=[(p.id, p.title) for p in choices],
        started=False,
    ), (422 if reader.errors else 200)


@bp.route("/contests/<int:contest_id>/edit", methods=["GET", "POST"])
@roles_required(*SCHOOL_STAFF)
def contest_edit(contest_id: int) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    reader = FormReader()
    if request.method == "POST":
        fields = _read_contest(reader, contest)
        if fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: update_contest(db.session(), contest, fields),
                done=_("Зміни збережено."),
                redirect_to=url_for("console.contest_page", contest_id=contest.id),
            ):
                return saved
        values = reader.values()
    else:
        values = {
            "budget": hryvnias_input(contest.category.budget),
            "max_choices": str(contest.category.max_choices),
            "voting_starts_at": local_input(contest.cycle.voting_starts_at),
            "voting_ends_at": local_input(contest.cycle.voting_ends_at),
            "grades": grades_text(contest.contest.grades),
        }
    return render_template(
        "console/school_contest_form.html",
        school=contest.school,
        contest=contest,
        values=values,
        errors=reader.errors,
        programme_options=[],
        started=voting_started(contest.cycle),
    ), (422 if reader.errors else 200)


@bp.route("/contests/<int:contest_id>")
@roles_required(*SCHOOL_STAFF)
def contest_page(contest_id: int) -> ResponseReturnValue:
    return render_contest_page(contest_or_404(contest_id))


def render_contest_page(
    contest: Contest, *, values: dict[str, str] | None = None, errors: Errors | None = None
) -> str:
    """The contest's page; `values` and `errors` belong to its form for new codes."""
    s = db.session()
    projects = s.scalars(
        select(Project).where(Project.cycle_id == contest.cycle.id).order_by(Project.number)
    ).all()
    return render_template(
        "console/school_contest.html",
        contest=contest,
        summary=summarise(s, contest, utcnow()),
        state_label=state_label,
        grades=grades_text(contest.contest.grades),
        projects=projects,
        usage=class_usage(s, contest),
        values=values or {},
        errors=errors or {},
        max_codes=MAX_CODES_PER_CLASS,
        # Ten cards a sheet first (the usual print), as on a class's page.
        card_layouts=sorted(LAYOUTS, key=lambda name: {"10": 0, "8": 1}.get(name, 2)),
        **recent_jobs(CODE_CARDS, "school_contest", contest.id),
    )


def open_programmes(school: School) -> list[Cycle]:
    """The community's school budgets this school can still join."""
    s = db.session()
    taken = set(
        s.scalars(select(SchoolContest.programme_cycle_id).where(SchoolContest.school_id == school.id))
    )
    now = utcnow()
    return [p for p in programmes(s, school.community_id) if p.voting_ends_at > now and p.id not in taken]


def _read_programme(reader: FormReader, school: School) -> Cycle | None:
    """The programme chosen in the form. An id that is not one of this community's school
    budgets (typed in by hand, say) gets the same answer as an empty choice."""
    raw = reader.form.get("programme_id", "").strip()
    programme_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else None
    programme = db.session().get(Cycle, programme_id) if programme_id and programme_id <= MAX_ID else None
    if (
        programme is None
        or programme.kind != CycleKind.SCHOOL.value
        or programme.community_id != school.community_id
    ):
        reader.add_error("programme_id", _("Оберіть шкільний бюджет вашої громади."))
        return None
    if programme.voting_ends_at <= utcnow():
        reader.add_error("programme_id", _("Голосування цього шкільного бюджету вже завершено."))
        return None
    return programme


def _read_contest(reader: FormReader, contest: Contest | None) -> ContestFields | None:
    budget = reader.money("budget")
    max_choices = reader.integer("max_choices")
    if max_choices is not None and not 1 <= max_choices <= MAX_CHOICES:
        reader.add_error(
            "max_choices", ngettext("Від 1 до {n} проєкту.", "Від 1 до {n} проєктів.", MAX_CHOICES)
        )
    starts = read_moment(reader, "voting_starts_at", contest.cycle.voting_starts_at if contest else None)
    ends = read_moment(reader, "voting_ends_at", contest.cycle.voting_ends_at if contest else None)
    if starts is not None and ends is not None and ends <= starts:
        reader.add_error("voting_ends_at", _("Кінець голосування має бути пізніше за початок."))
    grades: list[int] | None = None
    if reader.text("grades", required=True).strip():
        try:
            grades = parse_grades(reader.text("grades"))
        except REFUSALS as exc:
            reader.errors.update(refusal_errors(exc))
    if budget is None or max_choices is None or starts is None or ends is None or grades is None:
        return None
    return ContestFields(
        budget=budget, max_choices=max_choices, voting_starts_at=starts, voting_ends_at=ends, grades=grades
    )
