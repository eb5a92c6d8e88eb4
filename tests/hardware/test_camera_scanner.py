"""The camera QR scanner, fed recorded videos and images the tests make (videos.py):
each code a voter holds up is reported once, spoilt frames and bad files never crash it."""

from __future__ import annotations

import time

import pytest

from hardware.camera_scanner import (
    CameraQrScanner,
    CodeDebouncer,
    prepare_frame,
    probe_camera,
)
from hardware.qr_reading import read_qr_codes
from tests.hardware.camera_frames import make_frame
from tests.hardware.videos import blank_frame, blurred, frame_with, noisy, not_a_qr_code, write_video

A = "https://spilno.example.ua/s/7KQM-2XPD"
B = "SCHOOL-5B-0042-QWERTY"


def scan(source, **options) -> tuple[CameraQrScanner, list[str]]:
    """Read a whole file as fast as decoding allows; every code reported, in order."""
    reported: list[str] = []
    scanner = CameraQrScanner(source, pace=False, on_code=reported.append, **options)
    scanner.start()
    assert scanner.wait_finished(20), "the scanner did not finish the file"
    return scanner, reported


def test_a_code_held_up_is_reported_once_though_a_few_frames_blur(tmp_path):
    frames = [blank_frame()] * 5 + [frame_with(A)] * 12 + [blurred(frame_with(A))] * 3 + [frame_with(A)] * 12
    scanner, reported = scan(write_video(tmp_path / "hold.avi", frames + [blank_frame()] * 5))
    assert reported == [A]
    assert scanner.take_code() == A
    assert scanner.take_code() is None
    assert scanner.status().detail == "end of video after 37 frames"


def test_a_code_shown_again_after_it_left_the_view_is_reported_again(tmp_path):
    frames = [frame_with(A)] * 8 + [blank_frame()] * 12 + [frame_with(A)] * 8
    _scanner, reported = scan(write_video(tmp_path / "twice.avi", frames))
    assert reported == [A, A]


def test_take_code_gives_the_newest_code_not_yet_taken(tmp_path):
    frames = [frame_with(A)] * 6 + [blank_frame()] * 10 + [frame_with(B, at=(300, 120))] * 6
    scanner, reported = scan(write_video(tmp_path / "two.avi", frames))
    assert reported == [A, B]
    assert scanner.take_code() == B
    assert scanner.take_code() is None


def test_noise_does_not_hide_a_code_and_heavy_blur_shows_nothing(tmp_path):
    _scanner, reported = scan(write_video(tmp_path / "noisy.avi", [noisy(frame_with(B))] * 5))
    assert reported == [B]
    _scanner, reported = scan(write_video(tmp_path / "blur.avi", [blurred(frame_with(B))] * 5))
    assert reported == []


def test_frames_without_a_code_or_with_other_pictures_report_nothing(tmp_path):
    frames = [blank_frame()] * 5 + [not_a_qr_code()] * 5
    scanner, reported = scan(write_video(tmp_path / "nothing.avi", frames))
    assert reported == []
    assert scanner.take_code() is None
    assert scanner.status().running is False


def test_a_still_image_with_a_code_is_read_and_one_without_is_not(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "code.png"), frame_with(A))
    cv2.imwrite(str(tmp_path / "ticket.png"), not_a_qr_code())
    assert scan(tmp_path / "code.png")[1] == [A]
    scanner, reported = scan(str(tmp_path / "ticket.png"))
    assert reported == []
    assert scanner.status().detail == "end of video after 1 frames"


def test_a_truncated_video_gives_the_frames_before_the_cut_and_a_clear_status(tmp_path):
    path = write_video(tmp_path / "cut.avi", [frame_with(A)] * 20 + [frame_with(B)] * 20)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 4 // 10])  # the copy from the USB stick stopped at 40 %
    scanner, reported = scan(path)
    assert reported == [A]
    status = scanner.status()
    assert status.running is False
    assert status.detail.startswith("end of video after ")


@pytest.mark.parametrize(
    ("name", "content"),
    [("garbage.avi", b"\x00not a video\xff" * 200), ("empty.mp4", b""), ("notes.txt", "Привіт".encode())],
)
def test_a_file_that_is_not_a_video_is_reported_not_raised(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    scanner, reported = scan(tmp_path / name)
    assert reported == []
    status = scanner.status()
    assert status.running is False
    assert "cannot open" in status.detail or "no frame could be read" in status.detail


def until(probe, ready, timeout_s: float = 10.0):
    """`probe()` again and again until `ready(value)`: the value (waits for a readiness
    signal, not a fixed time, so a loaded machine is only slower, never wrong)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if ready(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_a_missing_camera_is_a_status_and_stop_returns_promptly():
    scanner = CameraQrScanner(57, reopen_after_s=0.2)
    scanner.start()
    status = until(scanner.status, lambda s: "cannot open" in s.detail)
    assert status == status.__class__(False, "57", status.detail)
    assert "cannot open camera 57" in status.detail
    started = time.monotonic()
    scanner.stop()
    assert time.monotonic() - started < 2
    assert scanner.status().running is False


def test_a_file_plays_at_its_recorded_pace_like_a_camera_and_stop_ends_it(tmp_path):
    path = write_video(tmp_path / "slow.avi", [frame_with(A)] * 90, fps=30)  # 3 seconds
    scanner = CameraQrScanner(path)
    started = time.monotonic()
    scanner.start()
    assert until(scanner.take_code, lambda code: code is not None) == A
    assert scanner.status().running is True
    # At the file's 30 frames a second, not the whole file at once (90 frames): however
    # long a loaded machine took to get here, no more than that pace and a little.
    assert scanner.frames_read <= 30 * (time.monotonic() - started) + 10
    scanner.stop()
    assert scanner.status().running is False
    assert scanner.status().detail.startswith("stopped after")


def test_the_scanner_reads_with_zxing_cpp(tmp_path):
    scanner, reported = scan(write_video(tmp_path / "one.avi", [frame_with(A)] * 3))
    assert (scanner.decoder_name, reported) == ("zxing-cpp", [A])


def test_a_decoder_that_raises_on_a_frame_loses_that_frame_only_and_is_counted(tmp_path):
    calls = []

    def flaky(gray):
        calls.append(gray.shape)
        if len(calls) == 3:  # the third frame: a decoder's bug, an odd frame
            raise RuntimeError("decoder fell over")
        return read_qr_codes(gray)

    frames = [frame_with(A)] * 2 + [frame_with(B, at=(300, 120))] * 4
    scanner, reported = scan(write_video(tmp_path / "flaky.avi", frames), decoder=flaky)
    assert reported == [A, B]
    assert (scanner.frames_read, scanner.frames_not_decoded) == (6, 1)
    assert scanner.status().detail == "end of video after 6 frames"


def test_a_small_card_at_720p_is_decoded_at_full_size_and_read(tmp_path):
    frame = make_frame("clean", 7, card_px=300)
    assert prepare_frame(frame.image).shape == (720, 1280)  # not shrunk: its modules are ~2 px
    _scanner, reported = scan(write_video(tmp_path / "small.avi", [frame.image] * 3))
    assert reported == list(frame.texts)


def test_frames_wider_than_full_hd_are_scaled_down_before_decoding_and_still_read(tmp_path):
    frame = frame_with(A, width=2560, height=1440, at=(900, 500))
    assert prepare_frame(frame).shape == (1080, 1920)
    assert prepare_frame(frame_with(A, width=1920, height=1080)).shape == (1080, 1920)  # full HD as it is
    assert prepare_frame(frame_with(A)).shape == (480, 640)
    _scanner, reported = scan(write_video(tmp_path / "qhd.avi", [frame] * 3))
    assert reported == [A]


@pytest.mark.parametrize(
    ("frames", "reported"),
    [
        ([["A"], ["A"], ["A"]], ["A"]),
        ([["A"], [], [], ["A"]], ["A"]),  # two lost frames: still the same showing
        ([["A"]] + [[]] * 3 + [["A"]], ["A", "A"]),  # gone for 3 frames: shown again
        ([["A", "B"], ["B", "A"], ["B"]], ["A", "B"]),
        ([["A", "A"]], ["A"]),
        ([[], [], []], []),
    ],
)
def test_debouncer_reports_a_code_when_it_appears(frames, reported):
    debouncer = CodeDebouncer(forget_after_frames=3)
    assert [text for texts in frames for text in debouncer.see(texts)] == reported


def test_probe_reads_size_and_frame_rate_of_a_video(tmp_path):
    path = write_video(tmp_path / "probe.avi", [frame_with(A)] * 30, fps=25)
    probe = probe_camera(str(path), seconds=0.3)
    assert (probe.opened, probe.width, probe.height, probe.declared_fps) == (True, 640, 480, 25.0)
    assert probe.frames > 0 and probe.measured_fps > 0
    assert probe_camera(str(tmp_path / "none.avi")).opened is False


def test_probe_decodes_every_frame_and_counts_codes_without_showing_them(tmp_path):
    path = write_video(tmp_path / "probe.avi", [frame_with(A)] * 5 + [frame_with(B, at=(300, 120))] * 5)
    probe = probe_camera(str(path), seconds=5, decoder=read_qr_codes)
    assert (probe.frames, probe.codes_read) == (10, 2) and probe.decode_ms > 0
    assert A not in repr(probe) and B not in repr(probe)


def test_probe_with_a_decoder_that_fails_reports_it_and_does_not_raise(tmp_path):
    def broken(gray):
        raise RuntimeError("decoder library missing a symbol")

    probe = probe_camera(str(write_video(tmp_path / "p.avi", [frame_with(A)] * 3)), seconds=1, decoder=broken)
    assert (probe.opened, probe.frames) == (True, 0)
    assert probe.detail == "QR decoder failed: decoder library missing a symbol"
