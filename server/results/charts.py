"""Server-rendered SVG charts: pure functions from data to an SVG string.

The pages' Content-Security-Policy forbids inline script and style, so charts carry
their colours as SVG presentation attributes (fill=, stroke=) and CSS classes for
results.css to adjust; no style="" anywhere. Every text is escaped. The same data
always gives the same bytes, so a chart can be tested by comparing output.

Every chart is `<svg role="img">` with a `<title>` and `<desc>`; the page puts the same
numbers in a table next to it, for screen readers and for people who prefer numbers.
Texts arrive already translated and formatted: charts know nothing of languages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

__all__ = ["Bar", "Layer", "Segment", "bar_chart", "share_bar", "stacked_area_chart"]

# Narrow enough that a phone shrinks a chart by little more than a third.
WIDTH = 560
# Bars and shares read as text more than as a picture: drawn narrower, their 14 px text
# is still about 12 px on a 360 px phone, where the page shrinks them to fit (no chart
# scrolls sideways, results.css).
NARROW_WIDTH = 400
FONT = 'font-family="DejaVu Sans, Noto Sans, sans-serif" font-size="14"'
INK = "#1b1f24"
MUTED = "#57606a"
GRID = "#d0d7de"
FUNDED_FILL = "#1a7f37"
UNFUNDED_FILL = "#eaeef2"
UNFUNDED_LINE = "#6e7781"
CHANNEL_COLOURS = {
    "web": "#0057b7",
    "kiosk": "#d99a00",
    "paper": "#6e40c9",
    "school_code": "#1a7f37",
    "staff_assisted": "#b42318",
    "paper_tally": "#8a4600",  # support points' tally sheets (server.services.results)
}
FALLBACK_COLOURS = ("#57606a", "#0a7ea4", "#8a4600")
# Light fills need dark text inside them to stay readable.
DARK_TEXT_ON = {"kiosk"}
# Each layer's top edge gets its own dash pattern, so layers differ by more than colour.
DASHES = ("", "7 3", "2 3", "9 3 2 3", "1 3")
# About how wide one character of 14 px DejaVu Sans is, to fit labels without measuring.
CHAR_WIDTH = 8.2
_CHART_ID = re.compile(r"[a-z][a-z0-9-]{0,63}")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    value_text: str  # shown at the end of the bar, already formatted
    highlighted: bool = False  # e.g. funded: a solid bar and a ✓ before the label


@dataclass(frozen=True, slots=True)
class Layer:
    key: str  # picks the colour, e.g. a channel
    label: str
    values: Sequence[int]


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    label: str
    value: int
    value_text: str  # e.g. "45,3 % (1 234)"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(x: float) -> str:
    """A coordinate with at most one decimal, written the same way on every run."""
    text = f"{x:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"


def colour(key: str, index: int = 0) -> str:
    return CHANNEL_COLOURS.get(key, FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)])


def _open(
    chart_id: str, css_class: str, height: int, title: str, description: str, width: int = WIDTH
) -> list[str]:
    if not _CHART_ID.fullmatch(chart_id):
        raise ValueError(f"chart_id {chart_id!r} must be lowercase letters, digits and '-'")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" {FONT} fill="{INK}">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(description)}</desc>',
    ]


# --- votes per project --------------------------------------------------------------------


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    legend: tuple[str, str],
    mark: str = "✓",
) -> str:
    """Horizontal bars, largest scale first as given; highlighted bars are solid and
    marked, the others hatched, and a legend names both (not colour alone)."""
    # The label sits above its bar, so long project titles get the full width and the
    # chart stays readable when a phone shrinks it.
    value_width, legend_height, row, bar_height = 80, 36, 46, 18
    bar_room = NARROW_WIDTH - value_width
    height = legend_height + row * max(len(bars), 1)
    top = max((b.value for b in bars), default=0)
    hatch = f"{chart_id}-hatch"
    parts = _open(chart_id, "bar-chart", height, title, description, NARROW_WIDTH)
    parts.append(
        f'<defs><pattern id="{hatch}" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{UNFUNDED_FILL}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{UNFUNDED_LINE}" stroke-width="2"/></pattern></defs>'
    )
    highlighted_text = f"{mark} {legend[0]}"
    second_x = 24 + len(highlighted_text) * CHAR_WIDTH + 24
    parts.append(
        f'<g class="legend"><rect x="0" y="6" width="18" height="18" fill="{FUNDED_FILL}"/>'
        f'<text x="24" y="20">{_e(highlighted_text)}</text>'
        f'<rect x="{_n(second_x)}" y="6" width="18" height="18" fill="url(#{hatch})" '
        f'stroke="{UNFUNDED_LINE}"/><text x="{_n(second_x + 24)}" y="20">{_e(legend[1])}</text></g>'
    )
    label_chars = int(NARROW_WIDTH / CHAR_WIDTH) - 1
    for i, bar in enumerate(bars):
        y = legend_height + i * row
        width = bar_room * bar.value / top if top else 0
        label = f"{mark} {bar.label}" if bar.highlighted else bar.label
        kind = "funded" if bar.highlighted else "not-funded"
        fill = FUNDED_FILL if bar.highlighted else f"url(#{hatch})"
        parts.append(f'<g class="bar {kind}"><title>{_e(label)}: {_e(bar.value_text)}</title>')
        parts.append(f'<text x="0" y="{y + 13}">{_e(_shorten(label, label_chars))}</text>')
        if width > 0:
            parts.append(
                f'<rect x="0" y="{y + 19}" width="{_n(max(width, 1))}" height="{bar_height}" '
                f'fill="{fill}" stroke="{FUNDED_FILL if bar.highlighted else UNFUNDED_LINE}"/>'
            )
        parts.append(f'<text x="{_n(width + 6)}" y="{y + 33}">{_e(bar.value_text)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


# --- turnout over time --------------------------------------------------------------------


def nice_ticks(top: int, count: int = 5) -> list[int]:
    """Round axis values from 0 to at least `top`: steps of 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return [0, 1]
    raw = top / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _time_ticks(starts: Sequence[datetime], step: str) -> list[tuple[int, str, str]]:
    """(index, first line, second line) for the x axis, at most about eight."""
    n = len(starts)
    ticks: list[tuple[int, str, str]] = []
    if step == "day":
        every = next((d for d in (1, 2, 7, 14, 28) if n / d <= 8), math.ceil(n / 8))
        for i, start in enumerate(starts):
            if i % every == 0:
                ticks.append((i, start.strftime("%d.%m"), ""))
        return ticks
    every = next((h for h in (1, 2, 3, 6, 12, 24) if n / h <= 8), 24)
    days_every = max(1, math.ceil(n / 24 / 8)) if every == 24 else 1
    midnight = 0
    for i, start in enumerate(starts):
        if start.hour % every:
            continue
        if every == 24:
            midnight += 1
            if (midnight - 1) % days_every:
                continue
        second = start.strftime("%d.%m") if start.hour == 0 or not ticks else ""
        ticks.append((i, start.strftime("%H:00"), second))
    return ticks


def _legend_row(items: Sequence[tuple[str, str, int]], y: int) -> tuple[list[str], int]:
    """Swatches with labels, wrapping onto new lines; returns the parts and the height."""
    parts: list[str] = ['<g class="legend">']
    x, line = 0.0, 0
    for key, label, index in items:
        width = 24 + len(label) * CHAR_WIDTH + 20
        if x and x + width > WIDTH:
            x, line = 0.0, line + 1
        top = y + line * 22
        dash = DASHES[index % len(DASHES)]
        parts.append(
            f'<rect x="{_n(x)}" y="{top}" width="18" height="14" fill="{colour(key, index)}" '
            f'fill-opacity="0.6"/><line x1="{_n(x)}" y1="{top + 1}" x2="{_n(x + 18)}" y2="{top + 1}" '
            f'stroke="{colour(key, index)}" stroke-width="2"{_dash(dash)}/>'
            f'<text x="{_n(x + 24)}" y="{top + 12}">{_e(label)}</text>'
        )
        x += width
    parts.append("</g>")
    return parts, (line + 1) * 22


def _dash(pattern: str) -> str:
    return f' stroke-dasharray="{pattern}"' if pattern else ""


def stacked_area_chart(
    starts: Sequence[datetime],
    layers: Sequence[Layer],
    *,
    step: str,
    chart_id: str,
    title: str,
    description: str,
    y_label: str,
    x_label: str,
    format_number: Callable[[int], str] = str,
    empty_text: str = "",
) -> str:
    """Layers stacked over time, first layer at the bottom. `starts` are the points'
    moments in the time zone the axis should show (Kyiv); `step` is "hour" or "day"."""
    if step not in ("hour", "day"):
        raise ValueError(f"step must be 'hour' or 'day', not {step!r}")
    for layer in layers:
        if len(layer.values) != len(starts):
            raise ValueError(f"layer {layer.key!r} has {len(layer.values)} values for {len(starts)} moments")
    legend, legend_height = _legend_row([(la.key, la.label, i) for i, la in enumerate(layers)], 6)
    left, right, top, bottom = 56, WIDTH - 14, 16 + legend_height, 16 + legend_height + 220
    height = bottom + 62
    parts = _open(chart_id, "area-chart", height, title, description)
    parts.extend(legend)

    n = len(starts)
    totals = [sum(layer.values[i] for layer in layers) for i in range(n)]
    ticks = nice_ticks(max(totals, default=0))
    y_top = ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / y_top

    # With one moment, its band spans the whole width rather than a zero-width sliver.
    xs = [left + (right - left) * i / (n - 1) for i in range(n)] if n > 1 else [left, right]

    def widen(values: Sequence[int]) -> list[int]:
        return list(values) if n > 1 else list(values) * 2

    parts.append('<g class="grid">')
    for tick in ticks:
        y = _n(y_of(tick))
        parts.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{_n(y_of(tick) + 4)}" text-anchor="end">'
            f"{_e(format_number(tick))}</text>"
        )
    parts.append("</g>")

    if n:
        lower = [0] * len(xs)
        for index, layer in enumerate(layers):
            values = widen(layer.values)
            upper = [lo + v for lo, v in zip(lower, values, strict=True)]
            if any(values):
                outline = [f"{_n(x)},{_n(y_of(v))}" for x, v in zip(xs, upper, strict=True)]
                base = [f"{_n(x)},{_n(y_of(v))}" for x, v in reversed(list(zip(xs, lower, strict=True)))]
                hue = colour(layer.key, index)
                parts.append(
                    f'<g class="layer layer-{_e(layer.key)}"><title>{_e(layer.label)}</title>'
                    f'<polygon points="{" ".join(outline + base)}" fill="{hue}" fill-opacity="0.6"/>'
                    f'<polyline points="{" ".join(outline)}" fill="none" stroke="{hue}" '
                    f'stroke-width="2"{_dash(DASHES[index % len(DASHES)])}/></g>'
                )
            lower = upper
    elif empty_text:
        parts.append(
            f'<text x="{(left + right) // 2}" y="{(top + bottom) // 2}" text-anchor="middle" '
            f'fill="{MUTED}">{_e(empty_text)}</text>'
        )

    parts.append(
        f'<g class="axes" stroke="{INK}"><line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/></g>'
    )
    parts.append('<g class="x-ticks">')
    for i, first, second in _time_ticks(starts, step):
        x = _n(xs[i])
        parts.append(f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 5}" stroke="{INK}"/>')
        parts.append(f'<text x="{x}" y="{bottom + 18}" text-anchor="middle">{_e(first)}</text>')
        if second:
            parts.append(
                f'<text x="{x}" y="{bottom + 33}" text-anchor="middle" fill="{MUTED}">{_e(second)}</text>'
            )
    parts.append("</g>")
    parts.append(
        f'<text x="{(left + right) // 2}" y="{height - 6}" text-anchor="middle" fill="{MUTED}">'
        f"{_e(x_label)}</text>"
        f'<text transform="translate(14 {(top + bottom) // 2}) rotate(-90)" text-anchor="middle" '
        f'fill="{MUTED}">{_e(y_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- shares of one whole ------------------------------------------------------------------


def share_bar(
    segments: Sequence[Segment], *, chart_id: str, title: str, description: str, empty_text: str = ""
) -> str:
    """One bar split into the segments' shares, each named inside when it fits, and a
    legend below naming every segment with its figure."""
    bar_top, bar_height, row = 6, 40, 22
    legend_top = bar_top + bar_height + 14
    height = legend_top + row * max(len(segments), 1) + 4
    total = sum(s.value for s in segments)
    parts = _open(chart_id, "share-bar", height, title, description, NARROW_WIDTH)
    if not total:
        parts.append(
            f'<rect x="0" y="{bar_top}" width="{NARROW_WIDTH}" height="{bar_height}" fill="{UNFUNDED_FILL}"/>'
            f'<text x="{NARROW_WIDTH // 2}" y="{bar_top + 25}" text-anchor="middle" fill="{MUTED}">'
            f"{_e(empty_text)}</text>"
        )
    x = 0.0
    for index, segment in enumerate(segments):
        if not total or not segment.value:
            continue
        width = NARROW_WIDTH * segment.value / total
        hue = colour(segment.key, index)
        ink = INK if segment.key in DARK_TEXT_ON else "#ffffff"
        parts.append(
            f'<g class="segment segment-{_e(segment.key)}"><title>{_e(segment.label)}: '
            f"{_e(segment.value_text)}</title>"
            f'<rect x="{_n(x)}" y="{bar_top}" width="{_n(width)}" height="{bar_height}" fill="{hue}" '
            f'stroke="#ffffff"/>'
        )
        fits = int((width - 8) / CHAR_WIDTH)
        if fits >= 3:
            parts.append(
                f'<text x="{_n(x + 5)}" y="{bar_top + 25}" fill="{ink}">'
                f"{_e(_shorten(segment.label, fits))}</text>"
            )
        parts.append("</g>")
        x += width
    parts.append('<g class="legend">')
    for index, segment in enumerate(segments):
        y = legend_top + index * row
        parts.append(
            f'<rect x="0" y="{y}" width="18" height="14" fill="{colour(segment.key, index)}"/>'
            f'<text x="24" y="{y + 12}">{_e(segment.label)} — {_e(segment.value_text)}</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
