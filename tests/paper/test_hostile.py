"""Damaged and unusual sheets (tests/paper/hostile.py) are read right or sent to
a person: no vote nobody made is counted, no vote is lost in silence, and a scan with a
corner mark cut off but its QR code and boxes in the picture is read, not rejected.

A few sheets per kind, to stay quick; `python -m bench ballots hostile` reads 40 of each."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from paper.inputs import pages_from_bytes
from paper.layout import MM
from paper.reader import SheetReader
from paper.reading import BoxReading, SheetReading
from paper.sheet_plan import build_layout

from .corpus import TEST_FORM_KEY, KnownAnswer, encode, packaged
from .hostile import (
    CAPTURES,
    EMPTY_UNDER_DAMAGE,
    HOSTILE_KINDS,
    MAX_DARKNESS,
    RANGES,
    hostile_cycle,
    make_hostile,
    score_sheet,
)

SHEETS_PER_KIND = 4
DPI = 150  # one dpi, seeds 0-3: four printed pages rendered for the whole file; 150 dpi is the hardest


@pytest.fixture(scope="module")
def read_sheets():
    """Reads a kind's sheets once for every test of this module that asks."""
    reader = SheetReader([build_layout(packaged(hostile_cycle()))], TEST_FORM_KEY)
    read: dict[str, list[tuple[KnownAnswer, SheetReading]]] = {}

    def sheets_of(kind: str) -> list[tuple[KnownAnswer, SheetReading]]:
        if kind not in read:
            captures = CAPTURES.get(kind, ("scan", "photo"))
            read[kind] = []
            for seed in range(SHEETS_PER_KIND):
                image, answer = make_hostile(kind, seed, DPI, captures[seed % len(captures)])
                (page,) = pages_from_bytes(f"{kind}-{seed}", encode(image, answer))
                read[kind].append((answer, reader.read(page)))
        return read[kind]

    return sheets_of


_FLAT: dict[tuple[str, int, bool], tuple[np.ndarray, KnownAnswer]] = {}


def flat(kind: str, seed: int, undamaged: bool = False) -> tuple[np.ndarray, KnownAnswer]:
    """The printed page itself, damaged (or not), no capture: what the damage drew."""
    if (kind, seed, undamaged) not in _FLAT:
        _FLAT[(kind, seed, undamaged)] = make_hostile(kind, seed, DPI, "flat", undamaged=undamaged)
    return _FLAT[(kind, seed, undamaged)]


def silent_errors(sheets: list[tuple[KnownAnswer, SheetReading]]) -> list[str]:
    """Each box read outside its acceptable verdicts on a sheet the reader accepted."""
    found = []
    for answer, reading in sheets:
        verdicts = {box.project_id: box.verdict for box in reading.boxes}
        if score_sheet(answer, reading.outcome, verdicts).silent_errors:
            found += [
                f"{answer.serial} ({answer.damage['capture']}): box {p} is {a.kind} under "
                f"{a.damage or 'nothing'}, read {verdicts[p]}"
                for p, a in answer.boxes.items()
                if verdicts.get(p, a.expected) not in a.acceptable
            ]
    return found


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_damaged_sheets_are_read_right_or_sent_to_a_person(read_sheets, kind):
    assert silent_errors(read_sheets(kind)) == []


def test_a_scan_with_one_corner_mark_cut_off_is_read_not_rejected(read_sheets):
    for answer, reading in read_sheets("clipped_corner"):
        assert answer.damage["readable"]
        assert reading.outcome != "rejected", (answer.damage, reading.reasons)


def test_the_clipped_scan_has_exactly_one_corner_mark_off_the_picture():
    page = build_layout(packaged(hostile_cycle())).pages[0]
    for seed in range(SHEETS_PER_KIND):
        image, answer = make_hostile("clipped_corner", seed, DPI, "scan")
        h, w = image.shape[:2]
        outside = []
        for mark in page.marks:
            grid = np.array(
                [[[mark.x + mark.w * i / 8, mark.y + mark.h * j / 8] for i in range(9) for j in range(9)]]
            )
            points = cv2.perspectiveTransform(grid, np.array(answer.page_to_image))[0]
            outside.append(float(((points < 0) | (points >= [w, h])).any(axis=1).mean()))
        assert sorted(outside)[:3] == [0.0, 0.0, 0.0] and max(outside) >= 0.25, outside
        assert 3 <= abs(answer.damage["rotation_deg"]) <= 5 and answer.damage["readable"]


def _within(kind: str, drawn: dict) -> list[str]:
    wrong = []
    for name, (low, high) in RANGES[kind].items():
        value = drawn.get(name)
        if value is not None and not low - 1e-3 <= abs(value) <= high + 1e-3:
            wrong.append(f"{name}={value} outside {low}..{high}")
    return wrong


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_the_damage_drawn_stays_within_its_stated_ranges(kind):
    for seed in range(2):
        _image, answer = flat(kind, seed)
        drawn = [answer.damage, *answer.damage.get("drawn", [])]
        assert [problem for item in drawn for problem in _within(kind, item)] == []
        assert len(drawn) > 1 or kind == "clipped_corner"


def _paper_ratio(kind: str, seed: int) -> tuple[np.ndarray, list[tuple[slice, slice, int]]]:
    """Damaged over clean grey per pixel (1: untouched), and each empty damaged box's
    inside (the printed border left out: its black says nothing of darkness)."""
    damaged, answer = flat(kind, seed)
    clean, _ = flat(kind, seed, undamaged=True)
    grey, before = (cv2.cvtColor(i, cv2.COLOR_BGR2GRAY).astype(np.float32) for i in (damaged, clean))
    ratio = np.where(before >= 200, grey / np.maximum(before, 1), 1.0)
    k = DPI / 72
    boxes = []
    for box in build_layout(packaged(hostile_cycle())).pages[0].boxes:
        if answer.boxes[box.project_id].acceptable == EMPTY_UNDER_DAMAGE:
            inset = 0.12 * box.w
            ys = slice(round((box.y + inset) * k), round((box.y + box.h - inset) * k))
            xs = slice(round((box.x + inset) * k), round((box.x + box.w - inset) * k))
            boxes.append((ys, xs, box.project_id))
    return ratio, boxes


@pytest.mark.parametrize("kind", sorted(MAX_DARKNESS))
def test_an_empty_damaged_box_is_no_darker_than_stated(kind):
    for seed in range(2):
        ratio, boxes = _paper_ratio(kind, seed)
        assert boxes, "the damage hit no empty box"
        # 2 grey levels of rounding, and anti-aliased edges that straddle paper and ink
        darkest = {p: 1 - float(np.percentile(ratio[ys, xs], 0.5)) for ys, xs, p in boxes}
        assert max(darkest.values()) <= MAX_DARKNESS[kind] + 0.02, darkest


def test_specks_in_empty_boxes_are_as_few_and_small_as_stated():
    for seed in range(2):
        ratio, boxes = _paper_ratio("speck", seed)
        for ys, xs, _p in boxes:
            dark = (ratio[ys, xs] < 0.75).astype(np.uint8)
            count, _labels, stats, _c = cv2.connectedComponentsWithStats(dark)
            assert 1 <= count - 1 <= 3
            assert stats[1:, 2:4].max() <= 1.0 * MM * DPI / 72 + 3  # 1 mm, and its edge pixels either side


@pytest.mark.parametrize("kind", ["stain", "speck", "erasure", "smudge", "highlighter"])
def test_most_empty_boxes_of_a_box_damage_sheet_are_damaged(kind):
    answers = [flat(kind, seed)[1] for seed in range(2)]
    empty = [a for answer in answers for a in answer.boxes.values() if a.expected == "unmarked"]
    assert sum(bool(a.damage) for a in empty) >= 0.5 * len(empty)


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_the_voters_own_marks_break_no_category_rule(kind):
    layout = build_layout(packaged(hostile_cycle()))
    for seed in range(2):
        answer = flat(kind, seed)[1]
        votes = [b for b in layout.pages[0].boxes if answer.boxes[b.project_id].expected != "unmarked"]
        assert votes, "a sheet without a vote is blank: the reader would be right to refuse it"
        for rules in layout.categories:
            assert sum(b.category_id == rules.category_id for b in votes) <= rules.max_choices


def test_the_same_kind_and_seed_give_the_same_sheet():
    for kind in ("stain", "crumpled"):
        first, again = make_hostile(kind, 5, 150, "photo"), make_hostile(kind, 5, 150, "photo")
        assert np.array_equal(first[0], again[0]) and first[1].to_dict() == again[1].to_dict()
    with pytest.raises(ValueError):
        make_hostile("lightning", 0)


def _reading(outcome: str, verdicts: dict[int, str]) -> SheetReading:
    """What a reader that gives these verdicts would return."""
    boxes = [BoxReading(p, 0, 0.0, verdict) for p, verdict in verdicts.items()]
    return SheetReading("fake", 0, "", outcome=outcome, boxes=boxes)


def test_the_check_fails_a_reader_that_calls_damage_a_mark():
    answer = flat("stain", 0)[1]
    truth = {p: "marked" if a.expected == "marked" else "unmarked" for p, a in answer.boxes.items()}
    fooled = {p: "marked" if a.damage else truth[p] for p, a in answer.boxes.items()}
    damaged_empty = sum(a.damage != "" and a.expected == "unmarked" for a in answer.boxes.values())
    assert damaged_empty > 0
    assert silent_errors([(answer, _reading("accepted", truth))]) == []
    assert len(silent_errors([(answer, _reading("accepted", fooled))])) == damaged_empty
    score = score_sheet(answer, "accepted", fooled)
    assert score.silent_errors == score.silent_false_marks == damaged_empty
    # the same reading sent to a person: no silent error, every wrong box caught
    assert silent_errors([(answer, _reading("needs_review", fooled))]) == []
    assert score_sheet(answer, "needs_review", fooled).caught_by_review == damaged_empty
    unsure = {
        p: "marginal" if a.acceptable == EMPTY_UNDER_DAMAGE else truth[p] for p, a in answer.boxes.items()
    }
    assert score_sheet(answer, "needs_review", unsure).caught_by_review == 0


def test_the_check_fails_a_reader_that_loses_pencil_marks_or_refuses_a_readable_sheet():
    answer = flat("pencil", 0)[1]
    lost = dict.fromkeys(answer.boxes, "unmarked")
    assert silent_errors([(answer, _reading("accepted", lost))])
    assert score_sheet(answer, "rejected", {}).rejected_readable
