"""Reading filled-in sheets: every box is read right or sent to a person, never guessed.

The sheets come from tests/paper/corpus.py: our own forms, filled in and
distorted like scans and phone photos, each with its known answer."""

from __future__ import annotations

import random
from dataclasses import replace

import cv2
import numpy as np
import pytest

from paper.inputs import pages_from_bytes
from paper.reader import SheetReader, reader_for_package
from paper.reading import ACCEPTED, MARGINAL, NEEDS_REVIEW, REJECTED
from paper.serials import form_key
from paper.sheet_plan import build_layout
from sync.package_parser import parse_package
from tests.kiosk.terminal_setup import make_package
from tests.paper.corpus import (
    TEST_FORM_KEY,
    Distortion,
    MarkKind,
    encode,
    long_cycle,
    make_sheet,
    packaged,
    random_distortion,
    sample_cycle,
)

MARKS = [MarkKind.NONE] * 13 + [MarkKind.TICK] * 3 + [MarkKind.CROSS] * 2 + [MarkKind.FILLED, MarkKind.FAINT]


def gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


@pytest.fixture(scope="module")
def reader() -> SheetReader:
    return SheetReader([build_layout(packaged(sample_cycle()))], TEST_FORM_KEY)


def corpus(kind: str, count: int, seed: int):
    """Sheets with random marks (no cancelled boxes: those must go to a person) and
    random distortions; four serials, so the printed pages are rendered only once."""
    rng = random.Random(seed)
    cycle = sample_cycle()
    for number in range(count):
        marks = {p["id"]: rng.choice(MARKS) for p in cycle["projects"]}
        dpi = rng.choice((150, 200, 300) if kind == "scan" else (150, 200))
        yield make_sheet(
            cycle,
            marks,
            random_distortion(rng, kind),
            dpi,
            rng.randrange(2**31),
            serial=f"S0001-{number % 4 + 1:06d}",
            stray_marks=rng.choice((0, 1, 2)),
        )


@pytest.mark.parametrize(("kind", "count", "most_unsure"), [("scan", 20, 1), ("photo", 12, 2)])
def test_no_box_is_silently_misread_and_few_sheets_need_a_person(reader, kind, count, most_unsure):
    unsure = 0
    for image, answer in corpus(kind, count, seed=7):
        page = next(pages_from_bytes("sheet", encode(image, answer)))
        reading = reader.read(page)
        assert reading.outcome != REJECTED, (reading.reasons, answer.distortion)
        assert reading.serial == answer.serial and reading.page == "1/1" and reading.cycle_id == 31
        verdicts = {box.project_id: box.verdict for box in reading.boxes}
        if reading.outcome == ACCEPTED:
            assert answer.accepts(verdicts), (verdicts, answer.boxes)
            assert sorted(reading.selections) == sorted(p for p, v in verdicts.items() if v == "marked")
        for project_id, verdict in verdicts.items():  # wrong only ever as "marginal"
            assert verdict in answer.boxes[project_id].acceptable or verdict == MARGINAL
        # A faint pencil line is evidence, not proof (an eraser leaves the same): it goes
        # to a person, so only sheets of clear marks count against the reader.
        ordinary = all(a.kind != MarkKind.FAINT for a in answer.boxes.values())
        unsure += ordinary and MARGINAL in verdicts.values()
    assert unsure <= most_unsure


def test_an_upside_down_scan_reads_the_same_as_an_upright_one(reader):
    marks = {101: MarkKind.TICK, 105: MarkKind.CROSS}
    image, _answer = make_sheet(sample_cycle(), marks, Distortion(rotation_deg=1.0), 200)
    upright = reader.read_gray(gray(image))
    turned = reader.read_gray(cv2.rotate(gray(image), cv2.ROTATE_180))
    sideways = reader.read_gray(cv2.rotate(gray(image), cv2.ROTATE_90_CLOCKWISE))
    for reading in (upright, turned, sideways):
        assert reading.outcome == ACCEPTED, reading.reasons
        assert sorted(reading.selections) == [101, 105]


def test_a_scribbled_out_box_goes_to_a_person_with_a_zoomed_crop(reader):
    image, _answer = make_sheet(sample_cycle(), {101: MarkKind.CANCELLED, 105: MarkKind.TICK}, dpi=200)
    reading = reader.read_gray(gray(image))
    assert reading.outcome == NEEDS_REVIEW and "sheet.marginal_mark" in reading.reasons
    assert {b.project_id: b.verdict for b in reading.boxes}[101] == MARGINAL
    crop = reading.crops[101]
    assert crop.startswith(b"\x89PNG") and cv2.imdecode(np.frombuffer(crop, np.uint8), 0).shape[0] > 50
    assert "crops" not in reading.to_json() and "101" in reading.to_json(with_crops=True)["crops"]


def test_an_accepted_page_carries_no_crops_and_a_page_in_review_one_of_every_box(reader):
    clear, _ = make_sheet(sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.CROSS}, dpi=200)
    accepted = reader.read_gray(gray(clear))
    assert accepted.outcome == ACCEPTED and accepted.crops == {}
    unclear, _ = make_sheet(sample_cycle(), {101: MarkKind.CANCELLED, 105: MarkKind.TICK}, dpi=200)
    review = reader.read_gray(gray(unclear))
    assert review.outcome == NEEDS_REVIEW
    assert set(review.crops) == {box.project_id for box in review.boxes}


def _box_pixels(answer, project_id: int) -> tuple[int, int, int]:
    """The box's top-left corner and side in the undistorted picture's pixels."""
    box = next(b for b in build_layout(packaged(sample_cycle())).pages[0].boxes if b.project_id == project_id)
    k = answer.dpi / 72
    return round(box.x * k), round(box.y * k), round(box.w * k)


@pytest.mark.parametrize("darkness", [0.05, 0.15, 0.3, 0.38])
def test_a_stain_on_an_empty_box_is_never_a_vote(reader, darkness):
    """A uniform tint inside the box's border (tea, a damp thumb): no strokes, so never
    marked, however dark within the stated range; at most a person looks."""
    image, answer = make_sheet(sample_cycle(), {105: MarkKind.TICK}, dpi=200)
    x, y, side = _box_pixels(answer, 101)
    inner = image[y + 3 : y + side - 3, x + 3 : x + side - 3]
    inner[:] = (inner.astype(np.float32) * (1 - darkness)).astype(np.uint8)
    reading = reader.read_gray(gray(image))
    assert {b.project_id: b.verdict for b in reading.boxes}[101] != "marked"
    assert 101 not in reading.selections


@pytest.mark.parametrize("diameter_mm", [0.3, 0.5, 0.8])
def test_a_speck_of_dust_in_an_empty_box_is_not_a_vote(reader, diameter_mm):
    image, answer = make_sheet(sample_cycle(), {105: MarkKind.TICK}, dpi=200)
    x, y, side = _box_pixels(answer, 102)
    radius = max(1, round(diameter_mm / 25.4 * answer.dpi / 2))
    cv2.circle(image, (x + side // 2, y + side // 2), radius, (20, 20, 20), -1, cv2.LINE_AA)
    reading = reader.read_gray(gray(image))
    assert {b.project_id: b.verdict for b in reading.boxes}[102] != "marked"


@pytest.mark.parametrize("left", [0.06, 0.25])
def test_an_erased_cross_goes_to_a_person_or_reads_empty_never_marked(reader, left):
    """What an eraser leaves of a pen cross looks like a faint cross: not a vote."""
    base, _ = make_sheet(sample_cycle(), {105: MarkKind.TICK}, dpi=200, seed=3)
    crossed, _ = make_sheet(sample_cycle(), {105: MarkKind.TICK, 103: MarkKind.CROSS}, dpi=200, seed=3)
    erased = (base.astype(np.float32) * (1 - left) + crossed.astype(np.float32) * left).astype(np.uint8)
    reading = reader.read_gray(gray(erased))
    verdict = {b.project_id: b.verdict for b in reading.boxes}[103]
    assert verdict != "marked" and 103 not in reading.selections
    if left >= 0.25:
        assert verdict == MARGINAL and reading.outcome == NEEDS_REVIEW


def test_a_shadow_across_the_box_column_marks_nothing(reader):
    """A phone's shadow over the left 70 % of every box, 20 % darker: no box is marked
    by it (the outside check found all 18 marked)."""
    image, answer = make_sheet(sample_cycle(), {105: MarkKind.TICK}, dpi=200)
    x, _y, side = _box_pixels(answer, 101)
    edge = x + round(0.7 * side)
    image[:, :edge] = (image[:, :edge].astype(np.float32) * 0.8).astype(np.uint8)
    reading = reader.read_gray(gray(image))
    verdicts = {b.project_id: b.verdict for b in reading.boxes}
    assert [p for p, v in verdicts.items() if v == "marked"] in ([105], []), verdicts
    assert reading.outcome != ACCEPTED or reading.selections == [105]


@pytest.mark.parametrize(
    ("edge", "angle"),
    # Turned the other way, the top edge would cut the top-right mark and the QR code
    # beside it: not a readable page.
    [("top", 3.0), ("top", 5.0), ("bottom", -5.0), ("bottom", -3.0), ("bottom", 3.0), ("bottom", 5.0)],
)
def test_a_scan_with_one_corner_mark_cut_off_is_read(reader, edge, angle):
    """Rotated on the glass so that one corner mark falls outside the picture (the
    scanner's edge cuts through the page's corner); the QR code and every box are still
    in it: the page is read from the other three marks."""
    image, answer = make_sheet(
        sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.CROSS}, Distortion(angle), 200
    )
    page = build_layout(packaged(sample_cycle())).pages[0]
    to_image = np.array(answer.page_to_image)

    def centre(rect):
        x, y, w = to_image @ np.array([rect.x + rect.w / 2, rect.y + rect.h / 2, 1.0])
        return x / w, y / w

    ys = sorted(centre(mark)[1] for mark in page.marks)
    if edge == "top":  # cut just below the higher top mark's centre
        cropped = image[round(ys[0] + 3) :]
        assert ys[1] - ys[0] > 40, "the other top mark stays whole in the picture"
    else:  # cut just above the lower bottom mark's centre
        cropped = image[: round(ys[3] - 3)]
        assert ys[3] - ys[2] > 40
    reading = reader.read_gray(gray(cropped))
    assert reading.outcome == ACCEPTED, reading.reasons
    assert sorted(reading.selections) == [101, 105]


def test_a_corner_mark_hidden_inside_the_picture_is_not_guessed(reader):
    """Three marks and a fourth that should be in the picture but is not: no guess."""
    image, answer = make_sheet(sample_cycle(), {101: MarkKind.TICK}, dpi=200)
    mark = build_layout(packaged(sample_cycle())).pages[0].marks[3]
    k = answer.dpi / 72
    x0, y0 = round(mark.x * k) - 3, round(mark.y * k) - 3
    image[y0 : y0 + round(mark.h * k) + 6, x0 : x0 + round(mark.w * k) + 6] = 255
    reading = reader.read_gray(gray(image))
    assert reading.outcome == REJECTED and reading.selections == []


@pytest.mark.parametrize(
    ("marks", "reason"),
    [
        ({101: MarkKind.TICK, 102: MarkKind.TICK, 103: MarkKind.CROSS, 105: MarkKind.TICK}, "sheet.overvote"),
        ({105: MarkKind.TICK, 106: MarkKind.TICK}, "sheet.overvote"),  # "Великі": at most 1
        ({101: MarkKind.TICK}, "sheet.undervote"),  # "Великі" needs 1
        ({}, "sheet.blank"),
    ],
)
def test_marks_that_break_the_rules_go_to_a_person(reader, marks, reason):
    image, _answer = make_sheet(sample_cycle(), marks, dpi=200)
    reading = reader.read_gray(gray(image))
    assert reading.outcome == NEEDS_REVIEW
    assert reason in reading.reasons


def test_a_sheet_signed_with_another_communitys_key_is_rejected():
    image, _answer = make_sheet(sample_cycle(), {105: MarkKind.TICK}, dpi=200)
    stranger = SheetReader([build_layout(packaged(sample_cycle()))], form_key(b"another community!" * 2))
    reading = stranger.read_gray(gray(image))
    assert reading.outcome == REJECTED and reading.reasons == ["sheet.qr_checksum"]
    assert reading.selections == []


def test_a_sheet_of_another_cycle_or_another_list_of_projects_is_rejected():
    image, _answer = make_sheet(sample_cycle(), {105: MarkKind.TICK}, dpi=200)
    other_cycle = SheetReader([build_layout(packaged(sample_cycle(cycle_id=99)))], TEST_FORM_KEY)
    assert other_cycle.read_gray(gray(image)).reasons == ["sheet.wrong_cycle"]
    changed = sample_cycle()
    changed["projects"][0]["title"] = "Лавки в парку Слави і фонтан"
    other_layout = SheetReader([build_layout(packaged(changed))], TEST_FORM_KEY)
    assert other_layout.read_gray(gray(image)).reasons == ["sheet.unknown_layout"]


def test_a_page_without_a_code_or_without_marks_is_rejected_not_guessed(reader):
    image, _answer = make_sheet(sample_cycle(), {105: MarkKind.TICK}, dpi=200)
    page = gray(image).copy()
    layout = build_layout(packaged(sample_cycle()))
    k = 200 / 72
    qr = layout.pages[0].qr
    page[int(qr.y * k) : int((qr.y + qr.h) * k), int(qr.x * k) : int((qr.x + qr.w) * k)] = 255
    assert reader.read_gray(page).reasons == ["sheet.no_qr"]
    white = np.full((2339, 1654), 255, np.uint8)
    assert reader.read_gray(white).reasons == ["sheet.unreadable"]
    noise = np.random.default_rng(1).integers(0, 256, (800, 600), dtype=np.uint8)
    assert reader.read_gray(noise).outcome == REJECTED


def test_the_second_page_of_a_long_ballot_is_read_by_its_own_layout():
    cycle = long_cycle(60)
    layout = build_layout(packaged(cycle))
    assert len(layout.pages) >= 2
    second = layout.pages[1].boxes
    marks = {second[0].project_id: MarkKind.TICK, second[-1].project_id: MarkKind.FILLED}
    image, _answer = make_sheet(cycle, marks, Distortion(rotation_deg=-1.5, blur_sigma=0.8), 200, page=2)
    reading = SheetReader([layout], TEST_FORM_KEY).read_gray(gray(image))
    assert reading.page == f"2/{len(layout.pages)}" and reading.outcome == ACCEPTED, reading.reasons
    assert sorted(reading.selections) == sorted(marks)


def test_a_photo_of_a_screen_is_never_read_wrong(reader):
    """Low contrast, moiré stripes and glare: read right, sent to a person, or refused."""
    image, _answer = make_sheet(sample_cycle(), {102: MarkKind.TICK, 105: MarkKind.CROSS}, dpi=150)
    page = gray(image).astype(np.float32)
    h, w = page.shape
    yy, xx = np.mgrid[0:h, 0:w]
    moire = 18 * np.sin(xx * 0.9 + yy * 0.15)  # the screen's pixel grid beating with the camera's
    glare = 60 * np.exp(-(((xx - w * 0.7) / (w * 0.3)) ** 2 + ((yy - h * 0.3) / (h * 0.3)) ** 2))
    screen = np.clip(70 + page * 0.55 + moire + glare, 0, 255).astype(np.uint8)
    _ok, jpeg = cv2.imencode(".jpg", screen, [cv2.IMWRITE_JPEG_QUALITY, 60])
    reading = reader.read(next(pages_from_bytes("screen.jpg", jpeg.tobytes())))
    if reading.outcome == ACCEPTED:
        assert sorted(reading.selections) == [102, 105]
    else:
        assert reading.reasons


def test_a_reader_is_made_from_a_support_points_package():
    school = {**sample_cycle(cycle_id=5), "kind": "school"}  # voted with codes: no sheets
    raw = make_package("server-key", cycles=[sample_cycle(), school])
    assert raw["voter_key_secret"] == "6b" * 32  # the corpus's form key
    package = parse_package(raw)
    image, _answer = make_sheet(sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.TICK}, dpi=200)
    reader = reader_for_package(package)
    assert reader.cycle_ids == {31}
    reading = reader.read_gray(gray(image))
    assert reading.outcome == ACCEPTED and sorted(reading.selections) == [101, 105]
    with pytest.raises(ValueError):
        reader_for_package(replace(package, voter_key_secret=b"short"))  # too short to key forms
