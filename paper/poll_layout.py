"""Poll sheets (опитування на папері): where every box of a poll's sheet sits, and what
a mark in it means.

A poll sheet is a ballot sheet's sibling: the same A4 page, corner marks, QR code (its
text under the prefix SPQ1, paper.serials), header and footer, the same 5 mm boxes read
by the same reader. Its body is the poll's questions in order, each a block: the
question's number and text, its rule, then one row per option.

- `one`, `up_to`: one box per option, at the row's left, as a ballot's project;
- `rank`: a grid, the options as rows and the places 1..k as columns (k: the most
  options the question lets a resident rank); one mark per row, in its place's column;
- `points`: a grid, the options as rows and 0..max_points as columns; one mark per row,
  a row left empty giving 0.

A sheet supports at most MAX_SHEET_PLACES places and MAX_SHEET_POINTS points: a grid
of 11 columns of 5 mm boxes is what fits beside an option's text on A4 and what a
resident's pen can hit without straying into the next column. A poll with a larger
scale is refused before anything is printed (LayoutError "poll_sheet.too_many_places"
or "poll_sheet.too_many_points", naming the question); it is answered on terminals and
online. Options are up to voting.polls.MAX_OPTIONS (100) a question: a block longer than
a page continues on the next one under its repeated heading.

Every box has an id (1, 2, … in print order) that the reader, the sheet store and the
review use where a ballot's box has its project id; `PollSheet.boxes` says what each
means (question, option, and the place or points it gives). The layout, and so its
hash, is computed from the poll alone: the support point that prints and the one that
reads make the same. It is a paper.layout.Layout whose `cycle_id` is the poll's form id
(minus the poll's id: the sheet store keys poll sheets apart from ballots by it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from paper.layout import (
    BODY_BOTTOM,
    BODY_TOP,
    BOX_SIZE,
    CONTENT_LEFT,
    CONTENT_RIGHT,
    PAGE_SIZE,
    QR_RIGHT,
    QR_SIZE,
    QR_TOP,
    ROW_MIN,
    ROW_PADDING,
    BoxRect,
    Layout,
    LayoutError,
    PageLayout,
    Rect,
    canonical_json,
    checked_int,
    clean_text,
    rounded,
)
from paper.messages import ui_text
from paper.sheet_plan import page_marks
from qr_codes.fonts import BOLD, REGULAR, register_fonts, wrap
from sync.cycle_package import PackagedOption, PackagedPoll, PackagedQuestion
from voting.polls import MAX_OPTIONS, PollRule, QuestionKind

__all__ = [
    "MAX_SHEET_PLACES",
    "MAX_SHEET_POINTS",
    "POLL_FORMAT",
    "OptionRow",
    "PollBox",
    "PollPagePlan",
    "PollSheet",
    "plan_poll_sheet",
    "poll_form_id",
    "poll_layout_json",
    "poll_sheet",
]

POLL_FORMAT = "spilno-poll-layout/1"
MAX_SHEET_PLACES = 10
MAX_SHEET_POINTS = 10  # 0..10: eleven columns
GRID_COLUMNS = MAX_SHEET_POINTS + 1
COLUMN_PITCH = BOX_SIZE + 8.0  # 8 pt between boxes: a tick's tail stays out of the next box
GRID_LEFT = CONTENT_RIGHT - GRID_COLUMNS * COLUMN_PITCH + 8.0  # the grids' columns line up
OPTION_SIZE = 9.5
OPTION_LEADING = 12.0
OPTION_LINES = 2
CHOICE_TEXT_LEFT = CONTENT_LEFT + BOX_SIZE + 6
CHOICE_TEXT_WIDTH = CONTENT_RIGHT - CHOICE_TEXT_LEFT
GRID_TEXT_WIDTH = GRID_LEFT - 8 - CONTENT_LEFT
QUESTION_SIZE = 10.5
QUESTION_LEADING = 13.0
QUESTION_LINES = 3
RULE_LINE = 12.0  # the rule, 8.5 pt, under the question
COLUMN_HEAD = 14.0  # the grid's column numbers
QUESTION_GAP = 10.0
GRID_KINDS = (QuestionKind.RANK, QuestionKind.POINTS)
_LABEL_KEYS = {QuestionKind.RANK: "poll_place", QuestionKind.POINTS: "poll_points"}


def poll_form_id(poll_id: int) -> int:
    """The id the sheet store keeps a poll's sheets under: minus the poll's id, apart
    from every cycle's (ids from 1 up)."""
    return -poll_id


@dataclass(frozen=True, slots=True)
class PollBox:
    box_id: int
    question_id: int
    option_id: int
    value: int  # one, up_to: 1; rank: the place (1 the best); points: the points


@dataclass(frozen=True, slots=True)
class OptionRow:
    y: float
    height: float
    question_id: int
    option: PackagedOption
    text_lines: tuple[str, ...]
    boxes: tuple[BoxRect, ...]


@dataclass(slots=True)
class PollPagePlan:
    """What paper.poll_forms draws on one page: question headings (top y, the question,
    its number, continued?, its text's lines), grid column heads (y, question) and rows."""

    headings: list[tuple[float, PackagedQuestion, int, bool, tuple[str, ...]]] = field(default_factory=list)
    column_heads: list[tuple[float, PackagedQuestion]] = field(default_factory=list)
    rows: list[OptionRow] = field(default_factory=list)


@dataclass(frozen=True)
class PollSheet:
    """A poll's sheet: the poll, its layout and what each box means."""

    poll: PackagedPoll
    layout: Layout
    boxes: dict[int, PollBox]

    @property
    def form_id(self) -> int:
        return poll_form_id(self.poll.id)

    @property
    def title(self) -> str:
        return self.poll.title

    def box_label(self, box_id: int, locale: str = "uk") -> str:
        """What a mark in the box gives, for the person who reviews: «питання 3: «А»,
        місце 1»; the id itself for a box this sheet does not have."""
        box = self.boxes.get(box_id)
        question = self.poll.question(box.question_id) if box else None
        if box is None or question is None:
            return str(box_id)
        number = 1 + [q.id for q in sorted(self.poll.questions, key=lambda q: (q.position, q.id))].index(
            question.id
        )
        option = next((o.text for o in question.options if o.id == box.option_id), str(box.option_id))
        key = {QuestionKind.RANK: "poll_place", QuestionKind.POINTS: "poll_points"}.get(
            question.kind, "poll_choice"
        )
        return ui_text(key, locale, question=number, option=option, value=box.value)

    def rule(self) -> PollRule:
        return self.poll.rule()


def columns(question: PackagedQuestion) -> list[int]:
    """The values of a question's columns: [1] for one/up_to, places 1..k for rank,
    points 0..max_points."""
    if question.kind is QuestionKind.RANK:
        return list(range(1, question.rule().most_chosen + 1))
    if question.kind is QuestionKind.POINTS:
        return list(range(0, (question.max_points or 0) + 1))
    return [1]


def column_x(question: PackagedQuestion, index: int) -> float:
    """The left edge of a question's column `index`."""
    if question.kind in GRID_KINDS:
        return GRID_LEFT + index * COLUMN_PITCH
    return CONTENT_LEFT


def _checked_poll(poll: PackagedPoll) -> list[PackagedQuestion]:
    checked_int(poll.id, "poll id", minimum=1)
    clean_text(poll.title, "poll title")
    questions = sorted(poll.questions, key=lambda q: (q.position, q.id))
    if not questions:
        raise LayoutError("poll_sheet.no_questions", f"poll {poll.id}")
    for number, q in enumerate(questions, start=1):
        checked_int(q.id, "question id", minimum=1)
        clean_text(q.text, "question text")
        if not 2 <= len(q.options) <= MAX_OPTIONS:
            raise LayoutError("forms.cycle", f"question {number} has {len(q.options)} options")
        for option in q.options:
            checked_int(option.id, "option id", minimum=1)
            clean_text(option.text, "option text")
        if q.kind is QuestionKind.RANK and q.rule().most_chosen > MAX_SHEET_PLACES:
            raise LayoutError("poll_sheet.too_many_places", f"question {number}")
        if q.kind is QuestionKind.POINTS and not 1 <= (q.max_points or 0) <= MAX_SHEET_POINTS:
            raise LayoutError("poll_sheet.too_many_points", f"question {number}")
    return questions


def plan_poll_sheet(poll: PackagedPoll) -> tuple[PollSheet, list[PollPagePlan]]:
    """The poll's sheet and, per page, what to draw where (LayoutError for a poll no
    sheet can show)."""
    register_fonts()  # text wrapping measures in the printed font
    questions = _checked_poll(poll)
    plans: list[PollPagePlan] = [PollPagePlan()]
    meaning: dict[int, PollBox] = {}
    y = BODY_TOP
    for number, question in enumerate(questions, start=1):
        grid = question.kind in GRID_KINDS
        text_lines = wrap(f"{number}. {clean_text(question.text, 'text')}", BOLD, QUESTION_SIZE,
                          CONTENT_RIGHT - CONTENT_LEFT, QUESTION_LINES) or (f"{number}.",)  # fmt: skip
        heading = QUESTION_LEADING * len(text_lines) + RULE_LINE + (COLUMN_HEAD if grid else 0.0)
        rows = []
        for option in sorted(question.options, key=lambda o: (o.position, o.id)):
            width = GRID_TEXT_WIDTH if grid else CHOICE_TEXT_WIDTH
            lines = wrap(clean_text(option.text, "text"), REGULAR, OPTION_SIZE, width, OPTION_LINES) or ("—",)
            rows.append((option, lines, max(ROW_MIN, ROW_PADDING + OPTION_LEADING * len(lines))))
        need = heading + sum(height for _o, _l, height in rows)
        gap = QUESTION_GAP if plans[-1].headings else 0.0
        if plans[-1].headings and (
            (need <= BODY_BOTTOM - BODY_TOP and y + gap + need > BODY_BOTTOM)
            or y + gap + heading + rows[0][2] > BODY_BOTTOM
        ):
            plans.append(PollPagePlan())
            y, gap = BODY_TOP, 0.0
        y += gap

        y = _start_block(plans[-1], y, question, number, False, text_lines)
        values = columns(question)
        for option, lines, height in rows:
            if y + height > BODY_BOTTOM:
                plans.append(PollPagePlan())
                y = _start_block(plans[-1], BODY_TOP, question, number, True, text_lines)
            box_y = rounded(y + min(4.0, (height - BOX_SIZE) / 2))
            boxes = []
            for index, value in enumerate(values):
                box_id = len(meaning) + 1
                meaning[box_id] = PollBox(box_id, question.id, option.id, value)
                x = rounded(column_x(question, index))
                boxes.append(
                    BoxRect(box_id, question.id, value, x, box_y, rounded(BOX_SIZE), rounded(BOX_SIZE))
                )
            plans[-1].rows.append(
                OptionRow(rounded(y), height, question.id, option, tuple(lines), tuple(boxes))
            )
            y += height
    qr = Rect(rounded(QR_RIGHT - QR_SIZE), rounded(QR_TOP), rounded(QR_SIZE), rounded(QR_SIZE))
    pages = [
        PageLayout(n, len(plans), page_marks(), qr, [box for row in plan.rows for box in row.boxes])
        for n, plan in enumerate(plans, start=1)
    ]
    printed: dict[str, Any] = {
        "title": clean_text(poll.title, "title"),
        "questions": [_printed_question(q) for q in questions],
    }
    layout = Layout(
        cycle_id=poll_form_id(poll.id),
        cycle_title=printed["title"],
        pages=pages,
        categories=[],
        min_total=0,
        max_total=None,
        printed_sha256=hashlib.sha256(canonical_json(printed)).hexdigest(),
        format=POLL_FORMAT,
    ).with_hash()
    return PollSheet(poll, layout, meaning), plans


def _start_block(
    plan: PollPagePlan,
    top: float,
    question: PackagedQuestion,
    number: int,
    continued: bool,
    lines: tuple[str, ...],
) -> float:
    """A question's heading (and a grid's column numbers) from `top`; the y below them."""
    plan.headings.append((rounded(top), question, number, continued, tuple(lines)))
    top += QUESTION_LEADING * len(lines) + RULE_LINE
    if question.kind in GRID_KINDS:
        plan.column_heads.append((rounded(top), question))
        top += COLUMN_HEAD
    return top


def _printed_question(q: PackagedQuestion) -> list[Any]:
    options = [[o.id, clean_text(o.text, "text")] for o in q.options]
    return [q.id, q.kind.value, clean_text(q.text, "text"), q.max_choices, q.max_points, options]


def poll_sheet(poll: PackagedPoll) -> PollSheet:
    """The poll's sheet (LayoutError for a poll no sheet can show)."""
    return plan_poll_sheet(poll)[0]


def poll_layout_json(sheet: PollSheet) -> str:
    """The layout as JSON for any tool that checks a reader against the printed form:
    every box's rectangle (PDF points, origin top-left) and what a mark in it gives."""
    layout = sheet.layout

    def rect(r: Rect) -> dict[str, float]:
        return {"x": r.x, "y": r.y, "w": r.w, "h": r.h}

    data = {
        "format": POLL_FORMAT,
        "poll_id": sheet.poll.id,
        "poll_title": layout.cycle_title,
        "page_size": list(PAGE_SIZE),
        "layout_hash": layout.layout_hash,
        "printed_sha256": layout.printed_sha256,
        "pages": [
            {
                "page": page.page,
                "of": page.of,
                "marks": [rect(m) for m in page.marks],
                "qr": rect(page.qr),
                "boxes": [
                    {
                        "box_id": box.project_id,
                        "question_id": sheet.boxes[box.project_id].question_id,
                        "option_id": sheet.boxes[box.project_id].option_id,
                        "value": sheet.boxes[box.project_id].value,
                        "x": box.x,
                        "y": box.y,
                        "w": box.w,
                        "h": box.h,
                    }
                    for box in page.boxes
                ],
            }
            for page in layout.pages
        ],
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
