"""SVG charts: valid, accessible, escaped, free of inline style, and the same every time."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.results.charts import Bar, Layer, Segment, bar_chart, nice_ticks, share_bar, stacked_area_chart

SVG = "{http://www.w3.org/2000/svg}"
KYIV = ZoneInfo("Europe/Kyiv")
EVIL = "<script>alert(1)</script>"


def project_chart(bars=None) -> str:
    bars = bars or [
        Bar("№1 Сквер", 120, "120", highlighted=True),
        Bar(f"№2 {EVIL}", 80, "80", highlighted=False),
        Bar("№3 Стадіон", 0, "0", highlighted=False),
    ]
    return bar_chart(
        bars,
        chart_id="votes-7",
        title=f"Голоси: {EVIL}",
        description="Опис & деталі",
        legend=("профінансовано", "не профінансовано"),
    )


def turnout_chart(hours: int = 30, step: str = "hour") -> str:
    start = datetime(2027, 5, 1, 9, tzinfo=KYIV)
    unit = timedelta(hours=1) if step == "hour" else timedelta(days=1)
    starts = [start + i * unit for i in range(hours)]
    return stacked_area_chart(
        starts,
        [
            Layer("web", "Онлайн", [i % 7 for i in range(hours)]),
            Layer("kiosk", "Термінал", [3] * hours),
        ],
        step=step,
        chart_id="turnout",
        title="Явка",
        description="Голоси за годинами",
        y_label="Голосів за годину",
        x_label="Час (Київ)",
    )


def channel_chart() -> str:
    return share_bar(
        [
            Segment("web", "Онлайн", 60, "60 %"),
            Segment("kiosk", "Термінал", 30, "30 %"),
            Segment("paper", EVIL, 10, "10 %"),
        ],
        chart_id="channels",
        title="Канали",
        description="Частки",
    )


ALL_CHARTS = [project_chart, turnout_chart, channel_chart]


@pytest.mark.parametrize("draw", ALL_CHARTS)
def test_every_chart_is_valid_accessible_svg_without_inline_style(draw):
    svg = draw()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert not [el for el in root.iter() if "style" in el.attrib or el.tag in (f"{SVG}script", f"{SVG}style")]
    assert "style=" not in svg and "<script" not in svg


@pytest.mark.parametrize("draw", ALL_CHARTS)
def test_the_same_data_draws_the_same_bytes(draw):
    assert draw() == draw()


def test_a_project_titled_like_a_script_stays_text():
    svg = project_chart()
    texts = [el.text for el in ET.fromstring(svg).iter(f"{SVG}text")]
    assert f"№2 {EVIL}" in texts
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert ET.fromstring(channel_chart()).find(f".//{SVG}g[@class='legend']") is not None
    assert EVIL in "".join(ET.fromstring(channel_chart()).itertext())


def test_funded_bars_differ_by_fill_and_mark_and_the_legend_names_both():
    root = ET.fromstring(project_chart())
    groups = {
        g.get("class"): g
        for g in root.iter(f"{SVG}g")
        if g.get("class", "").startswith("bar ") and g.find(f"{SVG}rect") is not None
    }
    funded, not_funded = groups["bar funded"], groups["bar not-funded"]
    assert funded.find(f"{SVG}rect").get("fill").startswith("#")
    assert not_funded.find(f"{SVG}rect").get("fill") == "url(#votes-7-hatch)"
    assert funded.find(f"{SVG}text").text.startswith("✓ ")
    assert not not_funded.find(f"{SVG}text").text.startswith("✓")
    legend = "".join(root.find(f"{SVG}g[@class='legend']").itertext())
    assert "✓ профінансовано" in legend and "не профінансовано" in legend


def test_bars_are_as_long_as_their_votes():
    root = ET.fromstring(project_chart())
    widths = [
        float(g.find(f"{SVG}rect").get("width"))
        for g in root.iter(f"{SVG}g")
        if g.get("class", "").startswith("bar ") and g.find(f"{SVG}rect") is not None
    ]
    assert len(widths) == 2  # the project with no votes draws no bar
    assert widths[0] == pytest.approx(widths[1] * 120 / 80, abs=0.2)


def test_long_labels_are_shortened_in_the_chart_but_whole_in_the_tooltip():
    title = "Відновлення скверу біля школи №12 з дитячим майданчиком, лавками й освітленням"
    root = ET.fromstring(project_chart([Bar(title, 5, "5", True)]))
    bar = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "bar funded")
    assert bar.find(f"{SVG}text").text.endswith("…")
    assert title in bar.find(f"{SVG}title").text


def test_turnout_axis_is_labelled_in_the_given_kyiv_hours_with_dates_at_midnight():
    root = ET.fromstring(turnout_chart(hours=30))
    ticks = [el.text for el in root.find(f"{SVG}g[@class='x-ticks']").iter(f"{SVG}text")]
    # Thirty hours from 09:00: a tick every six hours, the date under the first and at midnight.
    assert ticks == ["12:00", "01.05", "18:00", "00:00", "02.05", "06:00", "12:00"]
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert "Час (Київ)" in texts and "Голосів за годину" in texts
    assert len(root.findall(f".//{SVG}polygon")) == 2
    legend = "".join(root.find(f"{SVG}g[@class='legend']").itertext())
    assert "Онлайн" in legend and "Термінал" in legend


def test_turnout_by_day_shows_dates_and_a_single_moment_still_draws():
    root = ET.fromstring(turnout_chart(hours=20, step="day"))
    ticks = [el.text for el in root.find(f"{SVG}g[@class='x-ticks']").iter(f"{SVG}text")]
    assert ticks[0] == "01.05" and all(len(t) == 5 and t[2] == "." for t in ticks)
    single = ET.fromstring(turnout_chart(hours=1))  # only the terminal has votes then
    [band] = single.findall(f".//{SVG}polygon")
    xs = {float(point.split(",")[0]) for point in band.get("points").split()}
    assert xs == {56, 546}  # spans the whole plot


def test_y_axis_ticks_are_round_and_cover_the_highest_point():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(60) == [0, 20, 40, 60]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]


def test_share_bar_segments_split_the_full_width_in_proportion():
    root = ET.fromstring(channel_chart())
    widths = [
        float(g.find(f"{SVG}rect").get("width"))
        for g in root.iter(f"{SVG}g")
        if g.get("class", "").startswith("segment ")
    ]
    assert widths == [240, 120, 40]  # 60 %, 30 %, 10 % of the bar's 400
    legend = "".join(root.find(f"{SVG}g[@class='legend']").itertext())
    assert "Онлайн — 60 %" in legend


def test_mismatched_data_and_unsafe_ids_are_refused():
    with pytest.raises(ValueError, match="chart_id"):
        bar_chart([], chart_id='x" onload="alert(1)', title="t", description="d", legend=("a", "b"))
    with pytest.raises(ValueError, match="values"):
        stacked_area_chart(
            [datetime(2027, 5, 1, tzinfo=KYIV)],
            [Layer("web", "Онлайн", [1, 2])],
            step="hour",
            chart_id="t",
            title="t",
            description="d",
            y_label="y",
            x_label="x",
        )
