"""Sheets shown to the support point's camera: each read once, while it is held still,
with the marks the corpus knows are on it; a moving hand, an empty table, a sheet whose QR
code does not read never fill the store with junk; bad sources are clear errors.

The frames come from tests/support_point/camera_frames.py (the corpus's photographed
sheets on a 1080p camera's table), fed directly through the fake frame source or written
to a Motion-JPEG video for the command."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from hardware.sheet_camera import FakeFrameSource, Frame, describe_source
from hardware.sheet_capture import CaptureFrameSource, write_video
from paper.reader import SheetReader
from paper.sheet_plan import build_layout
from paper.sheet_store import SheetStore, sheets_path_for
from spilno.cli import main
from support_point.camera_input import (
    CameraSheetInput,
    frame_difference,
    frame_sha256,
    keep_camera_sheet,
    read_camera_sheets,
    thumbnail,
)
from tests.paper.corpus import TEST_FORM_KEY, MarkKind, packaged, sample_cycle
from tests.paper.test_sheet_store import enrolled_point
from tests.support_point import camera_frames as cam

A_MARKS = {101: MarkKind.TICK, 105: MarkKind.CROSS}
B_MARKS = {102: MarkKind.FILLED, 103: MarkKind.TICK, 106: MarkKind.TICK}


@pytest.fixture(scope="module")
def reader() -> SheetReader:
    return SheetReader([build_layout(packaged(sample_cycle()))], TEST_FORM_KEY)


def sheet_a():
    return cam.sheet(A_MARKS, "S0001-000001", seed=1)


def sheet_b():
    return cam.sheet(B_MARKS, "S0001-000002", seed=2)


def read_all(reader, frames, **options) -> tuple[list, CameraSheetInput]:
    sheets = CameraSheetInput(reader, "fake camera", **options)
    found = [s for s in map(sheets.feed, FakeFrameSource(frames).frames()) if s is not None]
    return found, sheets


def verdicts(reading) -> dict[int, str]:
    return {box.project_id: box.verdict for box in reading.boxes}


# ---- the gate: steady, once per presentation -------------------------------------------


def test_sheets_slid_in_held_still_and_taken_away_are_each_read_once_with_their_known_marks(reader):
    (a, answer_a), (b, answer_b) = sheet_a(), sheet_b()
    frames = [*cam.held(None, 6), *cam.presentation(a), *cam.presentation(b)]
    found, sheets = read_all(reader, frames)
    assert [s.reading.serial for s in found] == ["S0001-000001", "S0001-000002"]
    for sheet, answer in zip(found, (answer_a, answer_b), strict=True):
        assert sheet.reading.outcome == "accepted"
        assert answer.accepts(verdicts(sheet.reading))
        assert sorted(sheet.reading.selections) == answer.marked
    # Read from a still frame, never while sliding in (frames 7-12 and 37-42 move).
    assert 13 <= found[0].frame <= 24 and 43 <= found[1].frame <= 54
    assert found[0].reading.file == f"fake camera#frame={found[0].frame}"
    # One read per still scene: the empty table three times and the two sheets.
    assert sheets.reads == 5 and sheets.frames_seen == len(frames)


def test_a_sheet_that_never_stops_moving_is_never_read(reader):
    a, _answer = sheet_a()
    waving = [frame for _ in range(4) for frame in (*cam.slide(a, 6, into_view=True),
                                                    *cam.slide(a, 6, into_view=False))]  # fmt: skip
    found, sheets = read_all(reader, waving)
    assert found == [] and sheets.reads == 0


def test_motion_between_frames_is_told_from_sensor_noise_and_exposure():
    a, _answer = sheet_a()
    still = thumbnail(cam.frame(a, noise=1))
    assert frame_difference(still, thumbnail(cam.frame(a, noise=2))) < 0.005
    brighter = np.clip(cam.frame(a, noise=3).astype(np.int16) + 6, 0, 255).astype(np.uint8)
    assert frame_difference(still, thumbnail(brighter)) < 0.005
    assert frame_difference(still, thumbnail(cam.frame(a, 25, blur=12, noise=2))) > 0.04
    assert frame_difference(None, still) == 1.0


def test_the_same_sheet_lifted_and_laid_again_without_leaving_the_view_is_one_reading(reader):
    a, _answer = sheet_a()
    jiggle = [cam.frame(a, dx, blur=10, noise=n) for n, dx in enumerate((60, 140, 200, 120, 40))]
    frames = [*cam.slide(a, 6, into_view=True), *cam.held(a, 10), *jiggle, *cam.held(a, 10, start=20),
              *jiggle, *cam.held(a, 10, start=40)]  # fmt: skip
    found, sheets = read_all(reader, frames)
    assert [s.reading.serial for s in found] == ["S0001-000001"]
    assert sheets.reads == 3  # each still scene looked at once, the sheet reported once


def test_an_empty_table_gives_nothing_and_is_looked_at_once(reader):
    found, sheets = read_all(reader, cam.held(None, 90))
    assert found == [] and sheets.reads == 1


def test_a_sheet_of_another_cycle_is_one_rejected_outcome(reader):
    other, _answer = cam.sheet(A_MARKS, "S0001-000009", cycle_id=77, seed=3)
    frames = [*cam.presentation(other, hold=20)]
    frames[10:10] = [cam.frame(other, 90, blur=10, noise=7), cam.frame(other, 30, noise=8)]  # a nudge
    found, _sheets = read_all(reader, frames)
    assert [(s.reading.outcome, s.reading.reasons) for s in found] == [("rejected", ["sheet.wrong_cycle"])]
    assert found[0].reading.serial == "S0001-000009" and found[0].reading.selections == []


def test_a_sheet_whose_qr_code_never_reads_gives_one_outcome_after_a_few_seconds(reader):
    glared, _answer = cam.sheet(A_MARKS, glare=True)
    hints: list[str] = []
    # Held for 5 s at 30 frames/s, with a nudge after 2 s: still one outcome, at ~3 s.
    frames = [*cam.slide(glared, 6, into_view=True), *cam.held(glared, 60),
              cam.frame(glared, 50, blur=10, noise=1), *cam.held(glared, 90, start=60)]  # fmt: skip
    found, sheets = read_all(reader, frames, on_hint=hints.append)
    [unreadable] = found
    assert unreadable.reading.outcome == "rejected" and unreadable.reading.selections == []
    assert unreadable.reading.reasons == ["sheet.camera_unreadable", "sheet.no_qr"]
    assert 3.0 <= unreadable.seconds <= 4.0
    assert hints == ["camera.qr_not_read"]
    assert sheets.reads <= 12  # retried twice a second for a few seconds, not on every frame


def test_a_sheet_held_only_a_moment_with_an_unreadable_qr_code_gives_nothing(reader):
    glared, _answer = cam.sheet(A_MARKS, glare=True)
    found, _sheets = read_all(reader, cam.presentation(glared, hold=30))
    assert found == []


class ScriptedReader:
    """A reader that says what the scene is: the frame's first pixel is 0 for nothing,
    1 for a sheet whose QR code reads but whose page is not wholly in view, 2 for the
    sheet read. (The scenes differ by where a bright block is, so changing is motion.)"""

    def read_gray(self, gray: np.ndarray, *, file: str = "", page_index: int = 0, sha256: str = ""):
        from paper.reading import SheetReading

        reading = SheetReading(file, page_index, sha256, reasons=["sheet.unreadable"])
        if gray[0, 0] in (1, 2):
            reading.serial, reading.page, reading.cycle_id = "S0001-000001", "1/1", 31
        if gray[0, 0] == 2:
            reading.outcome, reading.reasons, reading.selections = "accepted", [], [101]
        return reading


def scene(code: int, n: int = 0) -> np.ndarray:
    picture = np.full((90, 160), 60, np.uint8)
    picture[20:70, 20 + 40 * code : 60 + 40 * code] = 220
    picture[0, 0] = code
    picture[80:, :] = n % 3  # a little "noise" so frames are not all the same
    return picture


def test_a_page_partly_in_view_gives_one_outcome_then_is_read_when_laid_right():
    frames = [*(scene(0, n) for n in range(30)), *(scene(1, n) for n in range(120)),
              *(scene(2, n) for n in range(30)), *(scene(0, n) for n in range(30)),
              *(scene(2, n) for n in range(30))]  # fmt: skip
    found, _sheets = read_all(ScriptedReader(), frames)
    assert [(s.reading.serial, s.reading.outcome, s.reading.reasons) for s in found] == [
        ("S0001-000001", "rejected", ["sheet.camera_unreadable", "sheet.unreadable"]),
        ("S0001-000001", "accepted", []),  # laid right: read, though its serial was just refused
        ("S0001-000001", "accepted", []),  # shown again after the empty table: a new presentation
    ]  # fmt: skip
    assert 30 + 90 <= found[0].frame <= 30 + 120 and found[0].reading.selections == []


def test_frames_are_not_kept_beyond_the_still_window(reader):
    a, _answer = sheet_a()
    alive: list[weakref.ref] = []

    def draw(number: int) -> np.ndarray | None:
        if number > 80:
            return None
        picture = cam.frame(a if 20 < number < 60 else None, noise=number)
        alive.append(weakref.ref(picture))
        return picture

    sheets = CameraSheetInput(reader, "fake camera")
    for frame in FakeFrameSource(draw).frames():
        sheets.feed(frame)
        del frame
    gc.collect()
    assert sum(ref() is not None for ref in alive) <= 5  # STEADY_FRAMES


def test_read_camera_sheets_gives_each_presentation_in_order(reader):
    (a, _), (b, _) = sheet_a(), sheet_b()
    frames = FakeFrameSource([*cam.presentation(a), *cam.presentation(b), *cam.presentation(a)]).frames()
    serials = [s.reading.serial for s in read_camera_sheets(frames, reader, "fake camera")]
    assert serials == ["S0001-000001", "S0001-000002", "S0001-000001"]


# ---- through the sheet store, like files ------------------------------------------------


@pytest.fixture
def point(tmp_path):
    from support_point.commit import cycles_of

    path, package = enrolled_point(tmp_path)
    store = SheetStore(sheets_path_for(path))
    yield store, cycles_of(package)
    store.close()


def keep_all(store, cycles, reader, frames) -> list[tuple[str, list[str]]]:
    found, _sheets = read_all(reader, frames)
    return [
        keep_camera_sheet(store, s, cycles=cycles, serial_prefix="S0001", now_ms=1_800_000_000_000)
        for s in found
    ]


def test_a_read_frame_is_kept_in_the_sheet_store_like_a_scanned_page(reader, point):
    store, cycles = point
    a, answer = sheet_a()
    found, _sheets = read_all(reader, cam.presentation(a))
    outcome = keep_camera_sheet(store, found[0], cycles=cycles, serial_prefix="S0001", now_ms=1)
    assert outcome == ("accepted", [])
    [page] = store.pages_of(31, "S0001-000001")
    assert page.image_sha256 == frame_sha256(found[0].gray) and page.file.startswith("fake camera#frame=")
    assert store.preview(page.id).startswith(b"\xff\xd8")  # the review page's JPEG
    sheet = store.sheet(31, "S0001-000001")
    assert sheet.state == "ready" and list(sheet.selections) == answer.marked


@pytest.mark.parametrize("noisy", [False, True], ids=["same-pixels", "new-pixels"])
def test_a_sheet_shown_again_after_it_left_is_a_duplicate_that_changes_nothing(reader, point, noisy):
    store, cycles = point
    a, _answer = sheet_a()
    first = keep_all(store, cycles, reader, cam.presentation(a, noisy=noisy))
    before = (store.page_count(), store.sheet(31, "S0001-000001"))
    # Without noise the frames repeat pixel for pixel (the store knows the image); with it
    # they are new pictures read the same (the camera path knows the sheet).
    again = keep_all(store, cycles, reader, cam.presentation(a, noisy=noisy, start=500))
    assert first == [("accepted", [])] and again == [("duplicate", [])]
    assert (store.page_count(), store.sheet(31, "S0001-000001")) == before


def test_the_same_serial_read_differently_goes_to_a_person_as_a_rescan_does(reader, point):
    store, cycles = point
    a, _answer = sheet_a()
    altered, _ = cam.sheet({101: MarkKind.TICK, 106: MarkKind.TICK}, "S0001-000001", seed=4)
    results = keep_all(store, cycles, reader, [*cam.presentation(a), *cam.presentation(altered)])
    assert results == [("accepted", []), ("needs_review", ["sheet.duplicate_serial"])]
    assert store.sheet(31, "S0001-000001").state == "review"


# ---- the frame source --------------------------------------------------------------------


def test_video_files_give_numbered_timed_gray_frames_and_say_how_they_ended(tmp_path):
    frames = cam.held(None, 12)
    video = write_video(tmp_path / "table.avi", frames)
    source = CaptureFrameSource(video)
    read = list(source.frames())
    assert [f.number for f in read] == list(range(1, 13)) and read[0].gray.ndim == 2
    assert read[3].seconds == pytest.approx(0.1) and read[0].gray.shape == (cam.HEIGHT, cam.WIDTH)
    assert source.status().state == "ended" and not source.status().failed

    cut = tmp_path / "cut.avi"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    truncated = CaptureFrameSource(cut)
    assert 0 < len(list(truncated.frames())) < 12
    assert truncated.status().state == "ended_early" and truncated.status().total == 12

    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"RIFF" + bytes(range(256)) * 40)
    broken = CaptureFrameSource(junk)
    assert list(broken.frames()) == [] and broken.status().state == "cannot_open"
    assert broken.status().failed


def test_a_video_claiming_frames_larger_than_any_camera_is_refused_before_decoding(tmp_path):
    """A file passed as the camera source is input like any upload: a frame over 12 000
    px a side (or 50 MP) is refused with a status, before any frame is decoded."""
    wide = np.full((16, 12_016, 3), 255, np.uint8)
    video = tmp_path / "wide.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (wide.shape[1], wide.shape[0]))
    assert writer.isOpened()
    for _ in range(3):
        writer.write(wide)
    writer.release()
    source = CaptureFrameSource(video)
    assert list(source.frames()) == []
    status = source.status()
    assert status.state == "cannot_open" and status.failed and "larger than any camera" in status.detail


def test_a_missing_camera_is_a_status_not_an_exception():
    source = CaptureFrameSource(97)
    status = source.open()
    assert status.state == "cannot_open" and "camera 97" in status.detail
    assert list(source.frames()) == []


def test_stream_passwords_are_never_shown_or_stored():
    assert describe_source("rtsp://admin:secret@10.0.0.5:554/stream1") == "rtsp://10.0.0.5:554/stream1"
    assert describe_source("0") == "camera 0" and describe_source("/tmp/a.avi") == "/tmp/a.avi"
    assert describe_source("/tmp/\u202egnp.avi\x1b[31m") == "/tmp/?gnp.avi?[31m"


def test_the_fake_source_can_fail_to_open_and_be_unplugged():
    cannot = FakeFrameSource([cam.table()])
    cannot.fail_to_open()
    assert list(cannot.frames()) == [] and cannot.status().state == "cannot_open"
    unplugged = FakeFrameSource(lambda n: cam.table())
    unplugged.lose_after(3)
    frames = list(unplugged.frames())
    assert [f.number for f in frames] == [1, 2, 3] and unplugged.status().state == "lost"
    assert isinstance(frames[0], Frame) and frames[1].seconds == pytest.approx(1 / 30)


# ---- the command -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    """A session at the camera: sheet A, sheet B, a sheet of another cycle, sheet A again."""
    (a, _), (b, _) = sheet_a(), sheet_b()
    other, _ = cam.sheet(A_MARKS, "S0001-000009", cycle_id=77, seed=3)
    frames = [*cam.held(None, 5), *cam.presentation(a), *cam.presentation(b), *cam.presentation(other),
              *cam.presentation(a)]  # fmt: skip
    return write_video(tmp_path_factory.mktemp("camera") / "session.avi", frames)


def run(*args: str):
    return CliRunner().invoke(main, ["ballots", "import", *args])


def test_the_operator_imports_a_camera_session_one_json_line_per_sheet(tmp_path, recording):
    store_path, _package = enrolled_point(tmp_path)
    result = run("--camera", str(recording), "--store", str(store_path), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["serial"], line["outcome"]) for line in lines] == [
        ("S0001-000001", "accepted"), ("S0001-000002", "accepted"), ("S0001-000009", "rejected"),
        ("S0001-000001", "duplicate"),
    ]  # fmt: skip
    assert lines[0]["marked"] == sheet_a()[1].marked and lines[1]["marked"] == sheet_b()[1].marked
    assert lines[2]["reasons"] == ["sheet.wrong_cycle"]
    assert all(line["file"].startswith(str(recording) + "#frame=") and line["frame"] > 0 for line in lines)
    assert "Покладіть аркуш під камеру" in result.stderr and "Прочитано S0001-000002" in result.stderr
    # The same recording again: every frame's pixels are known to the store.
    again = run("--camera", str(recording), "--store", str(store_path), "--json")
    assert [json.loads(line)["outcome"] for line in again.stdout.splitlines()] == ["duplicate"] * 4


def test_plain_output_and_no_store_needed_with_a_package_file(tmp_path, recording):
    from tests.kiosk.terminal_setup import PackageSigner, make_package

    signer = PackageSigner()
    envelope = tmp_path / "package.json"
    envelope.write_text(json.dumps(signer.envelope(make_package(signer.public_key, cycles=[sample_cycle()]))))
    result = run("--camera", str(recording), "--package", str(envelope), "--server-key", signer.public_key)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("прийнято / accepted") == 3  # without a store, A again is not known
    assert "Аркуш належить до іншого голосування" in result.stdout
    assert "Прийнято 3, на перевірку 0, відхилено 1" in result.stdout


@pytest.mark.parametrize("source", ["97", "missing.avi", "junk.avi"])
def test_a_camera_or_video_that_cannot_be_opened_is_a_clear_error(tmp_path, source):
    store_path, _package = enrolled_point(tmp_path)
    (tmp_path / "junk.avi").write_bytes(b"\x00garbage" * 5000)
    target = source if source.isdigit() else str(tmp_path / source)
    result = run("--camera", target, "--store", str(store_path))
    assert result.exit_code != 0
    assert "Камеру чи відео не відкрито" in result.output and "could not be opened" in result.output
    assert "Traceback" not in result.output
    assert not sheets_path_for(store_path).exists()  # refused before anything was opened


def test_a_truncated_recording_reads_what_is_there_and_then_says_it_broke_off(tmp_path, recording):
    store_path, _package = enrolled_point(tmp_path)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(recording.read_bytes()[: recording.stat().st_size * 45 // 100])
    result = run("--camera", str(cut), "--store", str(store_path), "--json")
    assert result.exit_code != 0
    serials = [json.loads(line)["serial"] for line in result.stdout.splitlines()]
    assert (
        1 <= len(serials) < 4 and serials == ["S0001-000001", "S0001-000002", "S0001-000009"][: len(serials)]
    )
    assert "Відео обірвалося" in result.stderr and "truncated or damaged" in result.stderr


def test_stop_after_ends_a_camera_session(tmp_path, recording):
    store_path, _package = enrolled_point(tmp_path)
    result = run("--camera", str(recording), "--store", str(store_path), "--stop-after", "0")
    assert result.exit_code == 0, result.output
    assert "Прийнято 0, на перевірку 0, відхилено 0" in result.stdout


def test_files_and_a_camera_together_or_neither_are_refused(tmp_path, recording):
    store_path, _package = enrolled_point(tmp_path)
    both = run(str(recording), "--camera", "0", "--store", str(store_path))
    neither = run("--store", str(store_path))
    for result in (both, neither):
        assert result.exit_code != 0 and "--camera" in result.output and "не те й інше" in result.output
    watching = run("--camera", str(recording), "--store", str(store_path), "--watch")
    assert watching.exit_code != 0 and "Стежити можна лише за папками" in watching.output
