"""Results as files: CSV for spreadsheets, JSON for programs."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence

from flask import Response

from server.i18n import _
from server.services.results_shape import CycleResults

from .page import outcome_text, reason_text

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection);
# a leading apostrophe makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as UTF-8 only when it starts with the byte-order mark.
BOM = "\ufeff"


def guard_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([guard_cell(v) for v in row])
    return out.getvalue()


def _hryvnias(kopiykas: int) -> str:
    # A plain decimal with a dot: the same in every spreadsheet locale's import dialog.
    return f"{kopiykas // 100}.{kopiykas % 100:02d}"


def results_rows(results: CycleResults) -> list[list[object]]:
    """One row per project, in category order then rank, headed in the visitor's language.
    A cycle with tally sheets gets a column saying how many of each project's votes came
    from them, and that those were not checked for residents voting twice."""
    tallies = bool(results.paper_tallies)
    header: list[object] = [
        _("Категорія"),
        _("Місце"),
        _("Номер"),
        _("Назва"),
        _("Район"),
        _("Вартість, грн"),
        _("Голоси"),
    ]
    if tallies:
        header.append(_("З них з паперових протоколів (без перевірки повторного голосування)"))
    header += [_("Частка зарахованих голосів, %"), _("Результат"), _("Профінансовано"), _("Причина")]
    rows: list[list[object]] = [header]
    for category in results.categories:
        for p in category.projects:
            row: list[object] = [
                category.name,
                p.rank,
                p.number,
                p.title,
                p.district,
                _hryvnias(p.cost),
                p.votes,
            ]
            if tallies:
                row.append(results.paper_tally_votes.get(p.project_id, 0))
            row += [
                f"{p.share * 100:.2f}",
                outcome_text(p.outcome),
                _("так") if p.funded else _("ні"),
                reason_text(category, p),
            ]
            rows.append(row)
    return rows


def _file_name(*parts: str, ext: str) -> str:
    # Slugs are already tame; this keeps a header safe whatever a slug holds.
    return "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts) + f".{ext}"


def csv_response(results: CycleResults, community_slug: str) -> Response:
    name = _file_name(community_slug, results.slug, "results", ext="csv")
    return Response(
        csv_text(results_rows(results)).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def json_response(results: CycleResults) -> Response:
    body = json.dumps(results.as_dict(), ensure_ascii=False, indent=1)
    return Response(body.encode("utf-8"), content_type="application/json; charset=utf-8")
