"""Poll sheets on paper: printed with every kind of question (rankings and points as a
grid of boxes), read back exactly; whatever is unclear or breaks the poll's rule goes to
a person with its reason, and nothing is guessed."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest

from paper.layout import LayoutError
from paper.poll_answers import sheet_answers
from paper.poll_layout import MAX_SHEET_POINTS, poll_layout_json, poll_sheet
from paper.reader import SheetReader
from paper.serials import form_key, make_qr_text, parse_qr_text
from tests.kiosk.terminal_setup import option_id, question_id
from tests.paper.corpus import TEST_FORM_KEY, Distortion, MarkKind
from tests.paper.poll_sheets import POLL, filled, poll, rendered

EVERY_KIND = [
    (1, 2, 1),
    (2, 1, 1),
    (2, 4, 1),
    (3, 3, 1),
    (3, 1, 2),
    (3, 4, 3),
    (4, 1, 5),
    (4, 2, 0),
    (4, 3, 2),
]


def q(n: int) -> int:
    return question_id(POLL, n)


def o(question: int, option: int) -> int:
    return option_id(POLL, question, option)


EXPECTED = {
    q(1): (o(1, 2),),
    q(2): (o(2, 1), o(2, 4)),
    q(3): (o(3, 3), o(3, 1), o(3, 4)),  # best first
    q(4): ((o(4, 1), 5), (o(4, 3), 2)),  # the 0 given to option 2 is left out, as voting.polls keeps it
}


@pytest.fixture(scope="module")
def reader() -> SheetReader:
    return SheetReader([], TEST_FORM_KEY, polls=[rendered("S0001-000001")[0]])


def read(reader: SheetReader, image: np.ndarray):
    return reader.read_gray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))


def test_a_sheet_with_all_four_kinds_reads_back_exactly(reader):
    sheet, _page = rendered("S0001-000001")
    reading = read(reader, filled("S0001-000001", EVERY_KIND))
    assert (reading.outcome, reading.reasons) == ("accepted", [])
    assert reading.cycle_id == -POLL and reading.serial == "S0001-000001" and reading.page == "1/1"
    answers, reasons = sheet_answers(sheet, reading.selections)
    assert reasons == [] and answers == EXPECTED


def test_a_scanned_and_an_upside_down_sheet_read_the_same(reader):
    sheet, _page = rendered("S0001-000001")
    scan = Distortion(rotation_deg=1.5, blur_sigma=0.8, noise_sigma=4, jpeg_quality=75, lighting=0.15)
    for image in (
        filled("S0001-000001", EVERY_KIND, scan, seed=3),
        cv2.rotate(filled("S0001-000001", EVERY_KIND), cv2.ROTATE_180),
    ):
        reading = read(reader, image)
        assert reading.outcome == "accepted"
        assert sheet_answers(sheet, reading.selections) == (EXPECTED, [])


@pytest.mark.parametrize(
    ("marks", "reason"),
    [
        ([(3, 1, 1), (3, 1, 2)], "poll_sheet.rank_row_twice"),
        ([(3, 1, 1), (3, 2, 1)], "poll_sheet.rank_place_twice"),
        ([(4, 1, 0), (4, 1, 3)], "poll_sheet.points_row_twice"),
        ([(1, 1, 1), (1, 2, 1)], "poll_sheet.one_too_many"),
        ([(2, 1, 1), (2, 2, 1), (2, 3, 1)], "poll_sheet.too_many"),
        ({(1, 1, 1): MarkKind.TICK, (2, 2, 1): MarkKind.CANCELLED}, "sheet.marginal_mark"),
        ([], "poll_sheet.blank"),
    ],
    ids=[
        "two-places-in-a-row",
        "one-place-twice",
        "two-values-in-a-row",
        "one-of-two",
        "three-of-up-to-2",
        "a-cancelled-mark",
        "blank",
    ],
)
def test_unclear_or_rule_breaking_marks_go_to_a_person_with_the_reason(reader, marks, reason):
    reading = read(reader, filled("S0001-000001", marks))
    assert reading.outcome == "needs_review"
    assert reason in reading.reasons
    assert set(reading.crops) == {b.project_id for b in rendered("S0001-000001")[0].layout.pages[0].boxes}


def test_a_faint_pencil_tick_is_never_silently_an_answer_nor_silently_dropped(reader):
    reading = read(reader, filled("S0001-000001", {(1, 3, 1): MarkKind.FAINT}, seed=5))
    sheet = rendered("S0001-000001")[0]
    [box] = [b for b in reading.boxes if sheet.boxes[b.project_id].option_id == o(1, 3)]
    assert box.verdict in ("marked", "marginal")
    assert reading.outcome == ("accepted" if box.verdict == "marked" else "needs_review")


def test_a_gap_in_a_ranking_keeps_the_order_the_resident_wrote():
    sheet = rendered("S0001-000001")[0]
    ids = {(b.question_id, b.option_id, b.value): b.box_id for b in sheet.boxes.values()}
    marked = [ids[q(3), o(3, 2), 3], ids[q(3), o(3, 4), 1]]
    assert sheet_answers(sheet, marked) == ({q(3): (o(3, 4), o(3, 2))}, [])
    only_zero = [ids[q(4), o(4, 2), 0]]  # answered, with 0 for the option
    assert sheet_answers(sheet, only_zero) == ({q(4): ()}, [])


def test_a_stain_on_empty_boxes_is_never_an_answer(reader):
    image = filled("S0001-000001", [(1, 1, 1)])
    sheet, _page = rendered("S0001-000001")
    k = 150 / 72
    for box in sheet.layout.pages[0].boxes[5:12]:  # a light tea stain over a grid's boxes
        centre = (round((box.x + box.w / 2) * k), round((box.y + box.h / 2) * k))
        overlay = image.copy()
        cv2.circle(overlay, centre, round(box.w * k), (170, 190, 205), -1)
        image = cv2.addWeighted(overlay, 0.35, image, 0.65, 0)
    reading = read(reader, image)
    assert reading.outcome in ("accepted", "needs_review")
    if reading.outcome == "accepted":
        assert sheet_answers(sheet, reading.selections) == ({q(1): (o(1, 1),)}, [])


def test_hostile_files_are_refused_as_for_ballots(reader):
    noise = np.random.default_rng(1).integers(0, 255, (800, 600), dtype=np.uint8)
    assert read(reader, cv2.cvtColor(noise, cv2.COLOR_GRAY2BGR)).outcome == "rejected"
    other_key = SheetReader([], form_key(b"x" * 32), polls=[rendered("S0001-000001")[0]])
    reading = read(other_key, filled("S0001-000001", EVERY_KIND))
    assert (reading.outcome, reading.reasons, reading.selections) == ("rejected", ["sheet.qr_checksum"], [])
    no_polls = SheetReader([], TEST_FORM_KEY)
    assert read(no_polls, filled("S0001-000001", EVERY_KIND)).reasons == ["sheet.wrong_poll"]


def test_a_poll_sheets_code_is_never_a_ballots():
    text = make_qr_text(POLL, "ab" * 8, "S0001-000001", 1, 1, TEST_FORM_KEY, poll=True)
    fields = parse_qr_text(text, TEST_FORM_KEY)
    assert text.startswith("SPQ1|") and fields.kind == "poll" and fields.form_id == -POLL
    forged = "SPB1" + text[4:]  # the same fields as a ballot's: the check covers the prefix
    with pytest.raises(ValueError, match="qr_checksum"):
        parse_qr_text(forged, TEST_FORM_KEY)


def test_the_layout_json_says_what_every_box_gives():
    sheet = poll_sheet(poll())
    data = json.loads(poll_layout_json(sheet))
    assert data["format"] == "spilno-poll-layout/1" and data["poll_id"] == POLL
    boxes = data["pages"][0]["boxes"]
    assert len(boxes) == 3 + 4 + 4 * 3 + 3 * 6
    rank = [b for b in boxes if b["question_id"] == q(3) and b["option_id"] == o(3, 1)]
    assert [b["value"] for b in rank] == [1, 2, 3] and len({b["y"] for b in rank}) == 1
    assert poll_sheet(poll()).layout.layout_hash == sheet.layout.layout_hash  # from the poll alone


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"max_points": MAX_SHEET_POINTS + 1}, "poll_sheet.too_many_points"),
        (
            {"kind": "rank", "max_choices": None, "max_points": None, "options": 11},
            "poll_sheet.too_many_places",
        ),
    ],
)
def test_a_poll_no_sheet_can_show_is_refused_with_a_clear_code(change, code):
    question = poll().questions[3]
    if "options" in change:
        first = question.options[0]
        change = change | {
            "options": tuple(
                dataclasses.replace(first, id=900 + n, position=n) for n in range(change["options"])
            )
        }
        change["kind"] = type(question.kind)(change["kind"])
    bad = dataclasses.replace(
        poll(), questions=(*poll().questions[:3], dataclasses.replace(question, **change))
    )
    with pytest.raises(LayoutError) as refused:
        poll_sheet(bad)
    assert refused.value.code == code and "question 4" in refused.value.detail
