"""Printable poll sheets: a PDF with one sheet (all its pages) per serial.

Drawn from the sheet's plan (paper.poll_layout) with the ballot sheets' drawing
(paper.forms): the same corner marks, boxes, QR code with its quiet zone, header and
footer, so the reader and a person at the support point meet one kind of paper. Each
page's static part is made into PDF operators once and repeated for every serial.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from paper import layout as L
from paper.forms import TEXTS as BALLOT_TEXTS
from paper.forms import _Page, check_serials, open_canvas, write_sheets
from paper.messages import catalog
from paper.poll_layout import (
    CHOICE_TEXT_LEFT,
    GRID_LEFT,
    OPTION_LEADING,
    OPTION_SIZE,
    QUESTION_LEADING,
    QUESTION_SIZE,
    PollPagePlan,
    PollSheet,
    column_x,
    columns,
    plan_poll_sheet,
)
from qr_codes.fonts import BOLD, REGULAR, printable, wrap
from sync.cycle_package import PackagedPoll, PackagedQuestion
from voting.polls import QuestionKind

__all__ = ["POLL_TEXTS", "print_poll_sheets", "question_rule_text"]

# The printed poll sheet's words, in Ukrainian; the English is in paper/translations/en/paper.po.
_UKRAINIAN: dict[str, str] = {
    "poll": "Аркуш опитування",
    "instruction": (
        "Поставте позначку ✓ або ✗ у квадраті. Можна відповісти не на всі питання. Не пишіть поза "
        "квадратами; зіпсований аркуш обміняйте в оператора."
    ),
    "one": "оберіть один варіант",
    "up_to": "оберіть не більше {most}",
    "rank": "1 — найкраще місце: у рядку одна позначка, кожне місце — лише одному варіанту",
    "points": "дайте кожному варіанту від 0 до {most}: одна позначка в рядку; рядок без позначки — 0",
    "places": "Місце",
    "points_head": "Бали",
    "document": "Аркуші опитування",
}

POLL_TEXTS: dict[str, dict[str, str]] = {
    language: {"language": language, "footer": BALLOT_TEXTS[language]["footer"]}
    | {key: catalog(language).texts.get(text, text) for key, text in _UKRAINIAN.items()}
    for language in ("uk", "en")
}


def question_rule_text(question: PackagedQuestion, texts: dict[str, str]) -> str:
    """What a resident does in a question's block, as printed under its text."""
    if question.kind is QuestionKind.ONE:
        return texts["one"]
    if question.kind is QuestionKind.UP_TO:
        return texts["up_to"].format(most=question.rule().most_chosen)
    if question.kind is QuestionKind.RANK:
        return texts["rank"]
    return texts["points"].format(most=question.max_points)


def _static_page(
    canvas: Canvas, sheet: PollSheet, page: L.PageLayout, plan: PollPagePlan, texts: dict[str, Any]
) -> str:
    out = _Page(canvas)
    for mark in page.marks:
        out.fill(mark)
    width = L.HEADER_RIGHT - L.HEADER_LEFT
    top = L.MARK_INSET
    for n, line in enumerate(wrap(sheet.layout.cycle_title, BOLD, 13, width, 2)):
        out.text(L.HEADER_LEFT, top + 12 + 15 * n, line, BOLD, 13)
    out.text(L.HEADER_LEFT, top + 44, texts["poll"], BOLD, 11)
    for n, line in enumerate(wrap(texts["instruction"], REGULAR, 8.5, width, 3)):
        out.text(L.HEADER_LEFT, top + 57 + 10.5 * n, line, REGULAR, 8.5)
    content_width = L.CONTENT_RIGHT - L.CONTENT_LEFT
    for y, question, _number, continued, lines in plan.headings:
        for n, line in enumerate(lines):
            suffix = BALLOT_TEXTS[texts["language"]]["continued"] if continued and n == len(lines) - 1 else ""
            out.text(L.CONTENT_LEFT, y + 10.5 + QUESTION_LEADING * n, line + suffix, BOLD, QUESTION_SIZE)
        rule = wrap(question_rule_text(question, texts), REGULAR, 8.5, content_width, 1)[0]
        out.text(L.CONTENT_LEFT, y + QUESTION_LEADING * len(lines) + 8.5, rule, REGULAR, 8.5)
    for y, question in plan.column_heads:
        label = texts["places"] if question.kind is QuestionKind.RANK else texts["points_head"]
        out.text(GRID_LEFT - 6, y + 10, label, BOLD, 8.5, right=True)
        for index, value in enumerate(columns(question)):
            text = str(value)
            centre = column_x(question, index) + L.BOX_SIZE / 2
            out.text(centre - pdfmetrics.stringWidth(text, BOLD, 8.5) / 2, y + 10, text, BOLD, 8.5)
    for row in plan.rows:
        for box in row.boxes:
            out.box(box)
        first = row.boxes[0]
        baseline = first.y + first.h / 2 + 3.4
        grid = first.x >= GRID_LEFT - 1  # a grid's text is at the left, a choice's after its box
        left = L.CONTENT_LEFT if grid else CHOICE_TEXT_LEFT
        for n, line in enumerate(row.text_lines):
            out.text(left, baseline + OPTION_LEADING * n, line, REGULAR, OPTION_SIZE)
    return out.code()


def print_poll_sheets(
    poll: PackagedPoll, serials: list[str], form_key: bytes, out: BinaryIO, *, locale: str = "uk"
) -> PollSheet:
    """Write a PDF to `out`: for each serial, one sheet of `poll` (all its pages), each
    page with its QR code. Returns the sheet (its layout JSON belongs next to the PDF:
    paper.poll_layout.poll_layout_json). LayoutError for a poll no sheet can show,
    SerialError for a malformed serial: nothing is written then."""
    check_serials(serials)
    texts = POLL_TEXTS["en" if locale == "en" else "uk"]
    sheet, plans = plan_poll_sheet(poll)
    layout = sheet.layout
    canvas = open_canvas(out, f"{texts['document']}: {printable(layout.cycle_title)[:200]}")
    statics = [
        _static_page(canvas, sheet, page, plan, texts) for page, plan in zip(layout.pages, plans, strict=True)
    ]
    write_sheets(canvas, layout, statics, serials, texts["footer"], poll.id, form_key, poll=True)
    return sheet
