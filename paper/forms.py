"""Printable paper ballot sheets: a PDF with one sheet (all its pages) per serial.

What is drawn comes from the sheet's plan (paper.sheet_plan, paper.layout), so the
rectangles in the layout JSON are exactly the ones on paper: the checkboxes (5 mm, a
0.8 pt border drawn inside the rectangle), the four alignment marks and the QR code
with its quiet zone. Everything on
a page except its QR code and footer is the same on every sheet, so each page's static
part is turned into PDF operators once and repeated: 500 one-page sheets take well under
a second (measured in tests/paper/test_forms.py).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from paper import layout as L
from paper.messages import catalog
from paper.serials import SerialError, is_serial, make_qr_text
from paper.sheet_plan import PagePlan, plan_sheet
from qr_codes.drawing import draw_qr
from qr_codes.fonts import BOLD, REGULAR, printable, register_fonts, wrap
from qr_codes.matrix import qr_matrix
from sync.cycle_package import PackagedCycle
from voting.plurals import plural_index

__all__ = ["TEXTS", "format_hryvnias", "print_forms", "rule_text"]

# The printed sheet's words, in Ukrainian; the English is in paper/translations/en/paper.po.
_UKRAINIAN: dict[str, str] = {
    "ballot": "Бюлетень для голосування",
    "instruction": (
        "Поставте позначку ✓ або ✗ у квадраті біля проєкту, який підтримуєте. Не пишіть поза квадратами; "
        "зіпсований бюлетень обміняйте в оператора."
    ),
    "at_most": "оберіть не більше {most}",
    "range": "оберіть від {least} до {most}",
    "exactly": "оберіть {most}",
    "budget": "; разом на суму не більше {budget}",
    "continued": " (продовження)",
    "district": " — лише для мешканців району «{district}»",
    "footer": "аркуш {serial} · сторінка {page} з {pages}",
    "currency": "грн",
    "document": "Бюлетені",
}

# The lines with a count, by their Ukrainian "one" and "many" forms (gettext's msgid and
# msgid_plural); the catalog holds every form of each language («до 21 проєкту»,
# «2 проєкти», «5 проєктів»; 1 project, 2 projects).
_COUNTED: dict[str, tuple[str, str]] = {
    "total_most": (
        "Усього можна обрати не більше {n} проєкту.",
        "Усього можна обрати не більше {n} проєктів.",
    ),
    "total_range": (
        "Усього оберіть від {least} до {most} проєкту.",
        "Усього оберіть від {least} до {most} проєктів.",
    ),
    "total_least": ("Усього оберіть щонайменше {n} проєкт.", "Усього оберіть щонайменше {n} проєктів."),
}

TEXTS: dict[str, dict[str, str]] = {
    language: {"language": language}
    | {key: catalog(language).texts.get(text, text) for key, text in _UKRAINIAN.items()}
    for language in ("uk", "en")
}
COUNTED_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    language: {key: catalog(language).counted.get(one, (one, many)) for key, (one, many) in _COUNTED.items()}
    for language in ("uk", "en")
}


def counted_text(texts: dict[str, str], key: str, count: int, **params: object) -> str:
    """A line of COUNTED_TEXTS in the language of `texts`, in the form for `count`."""
    language = texts["language"]
    return COUNTED_TEXTS[language][key][plural_index(language, count)].format(**params)


def format_hryvnias(kopiykas: int, currency: str = "грн") -> str:
    """12_345_050 -> "123 450,50 грн" (no-break spaces: a cost never breaks across lines)."""
    hryvnias, rest = divmod(kopiykas, 100)
    whole = f"{hryvnias:,}".replace(",", "\u00a0")
    return f"{whole},{rest:02d}\u00a0{currency}" if rest else f"{whole}\u00a0{currency}"


def rule_text(rules: L.CategoryRules, texts: dict[str, str]) -> str:
    """A category's rule as printed under its name: "оберіть не більше 2", "від 1 до 2"…"""
    if rules.min_choices == 0:
        text = texts["at_most"].format(most=rules.max_choices)
    elif rules.min_choices == rules.max_choices:
        text = texts["exactly"].format(most=rules.max_choices)
    else:
        text = texts["range"].format(least=rules.min_choices, most=rules.max_choices)
    if rules.budget_limited:
        text += texts["budget"].format(budget=format_hryvnias(rules.budget, texts["currency"]))
    return text


def _total_text(layout: L.Layout, texts: dict[str, str]) -> str:
    least, most = layout.min_total, layout.max_total
    if most is not None and least > 1:
        return counted_text(texts, "total_range", most, least=least, most=most)
    if most is not None:
        return counted_text(texts, "total_most", most, n=most)
    return counted_text(texts, "total_least", least, n=least) if least > 1 else ""


class _Page:
    """PDF operators for one page, in top-left layout coordinates."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.parts: list[str] = []

    def text(
        self, x: float, baseline: float, text: str, font: str, size: float, *, right: bool = False
    ) -> None:
        if right:
            x -= pdfmetrics.stringWidth(text, font, size)
        code = self.canvas.beginText(0, 0)
        code.setFont(font, size)
        code.textOut(text)
        self.parts.append(f"q 1 0 0 1 {x:.2f} {L.PAGE_SIZE[1] - baseline:.2f} cm {code.getCode()} Q")

    def fill(self, r: L.Rect) -> None:
        self.parts.append(f"q 0 g {r.x:.2f} {L.PAGE_SIZE[1] - r.y - r.h:.2f} {r.w:.2f} {r.h:.2f} re f Q")

    def box(self, r: L.BoxRect) -> None:
        # stroked half a line inside the rectangle, so all its ink lies within it
        inset = L.BOX_BORDER / 2
        bottom = L.PAGE_SIZE[1] - r.y - r.h + inset
        w, h = r.w - L.BOX_BORDER, r.h - L.BOX_BORDER
        self.parts.append(f"q 0 G {L.BOX_BORDER} w {r.x + inset:.2f} {bottom:.2f} {w:.2f} {h:.2f} re S Q")

    def code(self) -> str:
        return "\n".join(self.parts)


def _static_page(
    canvas: Canvas,
    layout: L.Layout,
    page: L.PageLayout,
    plan: PagePlan,
    texts: dict[str, Any],
    districts: dict[int, str] | None = None,
) -> str:
    """Everything on a page that is the same on every sheet. `districts`: category id ->
    the district whose residents alone vote in it (voting.district), said in its heading."""
    out = _Page(canvas)
    for mark in page.marks:
        out.fill(mark)
    width = L.HEADER_RIGHT - L.HEADER_LEFT
    top = L.MARK_INSET
    for n, line in enumerate(wrap(layout.cycle_title, BOLD, 13, width, 2)):
        out.text(L.HEADER_LEFT, top + 12 + 15 * n, line, BOLD, 13)
    out.text(L.HEADER_LEFT, top + 44, texts["ballot"], BOLD, 11)
    lines = [*wrap(texts["instruction"], REGULAR, 8.5, width, 3), _total_text(layout, texts)]
    for n, line in enumerate(lines):
        out.text(L.HEADER_LEFT, top + 57 + 10.5 * n, line, REGULAR, 8.5)
    rules = {c.category_id: c for c in layout.categories}
    content_width = L.CONTENT_RIGHT - L.CONTENT_LEFT
    for y, category_id, continued in plan.headings:
        category = rules[category_id]
        name = category.name + (texts["continued"] if continued else "")
        if (districts or {}).get(category_id):
            name += texts["district"].format(district=printable((districts or {})[category_id]))
        out.text(L.CONTENT_LEFT, y + 13, wrap(name, BOLD, 11, content_width, 1)[0], BOLD, 11)
        out.text(L.CONTENT_LEFT, y + 25, rule_text(category, texts), REGULAR, 8.5)
    for row in plan.rows:
        out.box(row.box)
        baseline = row.box.y + row.box.h / 2 + 3.4
        out.text(
            L.CONTENT_LEFT + L.BOX_SIZE + 6, baseline, f"№\u00a0{row.project.number}", BOLD, L.TITLE_SIZE
        )
        for n, line in enumerate(row.title_lines):
            out.text(L.TITLE_LEFT, baseline + L.TITLE_LEADING * n, line, REGULAR, L.TITLE_SIZE)
        cost = format_hryvnias(row.project.cost, texts["currency"])
        out.text(L.CONTENT_RIGHT, baseline, cost, REGULAR, L.TITLE_SIZE, right=True)
    return out.code()


def print_forms(
    cycle: PackagedCycle, serials: list[str], form_key: bytes, out: BinaryIO, *, locale: str = "uk"
) -> L.Layout:
    """Write a PDF to `out`: for each serial, one ballot sheet of `cycle` (all its pages),
    each page with its QR code. Returns the layout (its JSON belongs next to the PDF).
    LayoutError for a malformed cycle, SerialError for a malformed serial: nothing is
    written then."""
    check_serials(serials)
    texts = TEXTS["en" if locale == "en" else "uk"]
    layout, plans = plan_sheet(cycle)
    canvas = open_canvas(out, f"{texts['document']}: {printable(layout.cycle_title)[:200]}")
    # A district category says so in its heading: a sheet's choices there count only for
    # the district's residents (docs/district-categories.md).
    districts = {c.id: c.district for c in cycle.categories if c.district and c.district.strip()}
    statics = [
        _static_page(canvas, layout, page, plan, texts, districts)
        for page, plan in zip(layout.pages, plans, strict=True)
    ]
    write_sheets(canvas, layout, statics, serials, texts["footer"], layout.cycle_id, form_key)
    return layout


def check_serials(serials: list[str]) -> None:
    """SerialError unless there are serials, each well formed, none twice."""
    if not serials:
        raise SerialError("forms.no_serials")
    for serial in serials:
        if not is_serial(serial):
            raise SerialError("forms.serial", f"{serial!r:.40}")
    if len(set(serials)) != len(serials):
        raise SerialError("forms.serial", "a serial is repeated")


def open_canvas(out: BinaryIO, title: str) -> Canvas:
    """The PDF's canvas, its fonts registered."""
    register_fonts()
    # initialFontName: otherwise every page sets Helvetica, a font that is not embedded
    # types-reportlab takes initialFontName for a number; reportlab wants the font's name.
    canvas = Canvas(out, pagesize=L.PAGE_SIZE, pageCompression=1, invariant=1, initialFontName=REGULAR)  # type: ignore[arg-type]
    canvas.setTitle(title)
    canvas.setCreator("spilno paper")
    return canvas


def write_sheets(
    canvas: Canvas,
    layout: L.Layout,
    statics: list[str],
    serials: list[str],
    footer_text: str,
    form_id: int,
    form_key: bytes,
    *,
    poll: bool = False,
) -> None:
    """For each serial, every page of the sheet: its drawing made once (`statics`), its
    own QR code (the form `form_id`, a ballot's cycle or, with `poll`, a poll) and footer;
    then the file is finished."""
    pages = len(layout.pages)
    for serial in serials:
        for page, static in zip(layout.pages, statics, strict=True):
            canvas.addLiteral(static)
            text = make_qr_text(form_id, layout.layout_hash, serial, page.page, pages, form_key, poll=poll)
            qr = page.qr
            draw_qr(canvas, qr_matrix(text, "M"), qr.x, L.PAGE_SIZE[1] - qr.y - qr.h, qr.w)
            footer = _Page(canvas)
            label = footer_text.format(serial=serial, page=page.page, pages=pages)
            width = pdfmetrics.stringWidth(label, REGULAR, 8)
            footer.text((L.PAGE_SIZE[0] - width) / 2, L.FOOTER_BASELINE, label, REGULAR, 8)
            canvas.addLiteral(footer.code())
            canvas.showPage()
    _save(canvas)


def _save(canvas: Canvas) -> None:
    # As qr_codes.cards does: no ASCII85 around compressed pages (25 % smaller, faster).
    # The switch is process-wide but read only while saving.
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = previous
