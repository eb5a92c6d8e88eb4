"""A tally sheet's problems as a report's rows (row, column, message) in the reader's
language: the tally page and the job's outcome page show the same report."""

from __future__ import annotations

from server.i18n import _, get_locale
from server.paper.tally_sheet import SUMMARY_NAMES, TallyProblem


def summary_label(name: str) -> str:
    labels = {
        "ballots_issued": _("Видано бюлетенів"),
        "ballots_cast": _("Бюлетенів у скриньці (разом із зіпсованими)"),
        "ballots_spoiled": _("З них зіпсованих"),
    }
    return labels[name]


def _place(problem: TallyProblem, mode: str) -> tuple[str, str]:
    """Where a problem is, as the report's "row" and "column" cells: a file's row and
    column, or the form's field; a problem of the whole sheet has neither."""
    if problem.row is not None:
        return str(problem.row), problem.column or "—"
    if problem.column in SUMMARY_NAMES:
        return "—", summary_label(problem.column)
    if problem.column and problem.column.startswith("votes_"):
        return "—", _("Проєкт №{number}", number=problem.column.removeprefix("votes_"))
    return (_("файл") if mode == "csv" else "—"), "—"


def problem_rows(problems: list[TallyProblem], mode: str) -> list[tuple[str, str, str]]:
    """The report's (row, column, message) of each problem, in the reader's language."""
    locale = get_locale()
    return [(*_place(p, mode), p.message(locale)) for p in problems]
