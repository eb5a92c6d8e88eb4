"""What the students' ballot page shows and how it reads back what was ticked: the
school's projects, the rule in words, and the choice checked against the rule with
messages a student understands."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.i18n import _, ngettext, problem_text
from server.models import Project, ProjectStatus
from voting import Ballot

from .contests import Contest

# The form has one checkbox per project (a school has a handful); more values than this,
# or values that are not small whole numbers, were not sent by our page.
MAX_SELECTIONS = 100
_PROJECT_ID = re.compile(r"[0-9]{1,9}")


class TamperedForm(ValueError):
    """The ballot form came back with values our page cannot have sent."""


def ballot_projects(session: Session, contest: Contest) -> list[Project]:
    """The contest's admitted projects in ballot order (what the ballot box accepts)."""
    return list(
        session.scalars(
            select(Project)
            .where(Project.cycle_id == contest.cycle.id, Project.status == ProjectStatus.ADMITTED.value)
            .order_by(Project.number, Project.id)
        )
    )


def parse_selections(values: Sequence[str]) -> list[int]:
    """The ticked project ids, or TamperedForm."""
    if len(values) > MAX_SELECTIONS:
        raise TamperedForm(f"{len(values)} selections, at most {MAX_SELECTIONS}")
    chosen = []
    for value in values:
        if not isinstance(value, str) or not _PROJECT_ID.fullmatch(value):
            raise TamperedForm(f"selection {str(value)[:20]!r} is not a project id")
        chosen.append(int(value))
    return chosen


def rule_text(min_choices: int, max_choices: int) -> str:
    """The rule as the ballot says it: «Оберіть від 1 до 2 проєктів»."""
    if min_choices == max_choices:
        return ngettext("Оберіть {n} проєкт", "Оберіть {n} проєктів", max_choices)
    # After «до» the noun is genitive: до 1 (21) проєкту, до 2 (5, 20) проєктів.
    if min_choices <= 0:
        return ngettext("Оберіть до {max} проєкту", "Оберіть до {max} проєктів", max_choices, max=max_choices)
    return ngettext(
        "Оберіть від {min} до {max} проєкту",
        "Оберіть від {min} до {max} проєктів",
        max_choices,
        min=min_choices,
        max=max_choices,
    )


def choice_problems(ballot: Ballot, chosen: Sequence[int], min_choices: int, max_choices: int) -> list[str]:
    """What is wrong with the choice, in the student's words; empty when it may be cast."""
    problems = ballot.check(chosen)
    codes = {p.code for p in problems}
    messages = []
    for problem in problems:
        if problem.code == "ballot.empty":
            messages.append(_("Ви не обрали жодного проєкту."))
        elif problem.code in {"ballot.too_few_in_category", "ballot.too_few_total"}:
            if "ballot.empty" in codes:  # "none chosen" already says it
                continue
            messages.append(_("Обрано замало проєктів."))
        elif problem.code in {"ballot.too_many_in_category", "ballot.too_many_total"}:
            messages.append(_("Обрано забагато проєктів."))
        else:  # a project not on this ballot, or one sent twice: the core's own words
            messages.append(problem_text(problem.code, **problem.params))
    messages = list(dict.fromkeys(messages))
    if messages:
        messages.append(rule_text(min_choices, max_choices) + ".")
    return messages
