"""The real QR scanner: frames from OpenCV (a camera, a video file or a stream), QR codes
read with zxing-cpp through `hardware.qr_reading` (see there for the passes and why).

A background thread reads frames and decodes them; the kiosk polls `take_code()`. A
code held in front of the camera is on many consecutive frames (30 a second), and the
voter must not vote twice because of that: a code is reported once, and again only
after it has left the view (see `CodeDebouncer`).
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from .qr_reading import QrReader
from .qr_scanner import ScannerStatus

log = logging.getLogger(__name__)

QrDecoder = Callable[[np.ndarray], list[str]]  # a grayscale frame -> the texts of its QR codes

# zxing-cpp reads a 1280x720 frame in ~1 ms and resolves 2 px modules, so frames up to
# full HD are decoded at their own size: shrinking a 720p frame to 960 px (what zbar
# needed to keep up) lost every card under ~300 px wide. Only bigger frames (4K
# cameras) are shrunk, to keep a frame under ~5 ms.
DEFAULT_MAX_WIDTH = 1920
# A held code drops out of single frames (motion blur, glare); ~0.25 s at 30 frames/s
# without it means it really left the view.
DEFAULT_FORGET_AFTER_FRAMES = 8
# Opening or reading a network stream must not hang the kiosk (FFmpeg waits 30 s).
STREAM_TIMEOUT_MS = 5000
DECODER_NAME = "zxing-cpp"

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # no warnings per failed open


def default_decoder() -> tuple[str, QrDecoder]:
    """zxing-cpp through a fresh QrReader (its counts are this decoder's); with the name,
    for status and checks."""
    return DECODER_NAME, QrReader().read_texts


class CodeDebouncer:
    """Turns "codes seen on each frame" into "codes that just appeared".

    A code is new when it was not on any of the last `forget_after_frames` frames.
    """

    def __init__(self, forget_after_frames: int = DEFAULT_FORGET_AFTER_FRAMES) -> None:
        self.forget_after_frames = forget_after_frames
        self._frames_since_seen: dict[str, int] = {}

    def see(self, texts: Iterable[str]) -> list[str]:
        on_frame = list(dict.fromkeys(texts))  # unique, in the decoder's order
        new = [text for text in on_frame if text not in self._frames_since_seen]
        for text in list(self._frames_since_seen):
            self._frames_since_seen[text] += 1
            if self._frames_since_seen[text] >= self.forget_after_frames:
                del self._frames_since_seen[text]
        for text in on_frame:
            self._frames_since_seen[text] = 0
        return new


def prepare_frame(frame: np.ndarray, max_width: int = DEFAULT_MAX_WIDTH) -> np.ndarray:
    """Grayscale, and no wider than max_width: all a QR decoder needs, at a fraction of the cost."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    height, width = gray.shape[:2]
    if width > max_width:
        scaled_height = round(height * max_width / width)
        gray = cv2.resize(gray, (max_width, scaled_height), interpolation=cv2.INTER_AREA)
    return gray


def parse_source(source: int | str | os.PathLike[str]) -> int | str:
    """A camera index stays an int ("0" from a config file becomes 0); files and URLs stay text."""
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    if isinstance(source, str) and source.strip().isdigit():
        return int(source)
    return source


def is_live(source: int | str) -> bool:
    """A device or a stream gives frames at its own pace and may come back after a failure;
    a file is read once."""
    return isinstance(source, int) or "://" in source


def open_capture(source: int | str) -> cv2.VideoCapture:
    if isinstance(source, str) and "://" in source:
        return cv2.VideoCapture(
            source,
            cv2.CAP_ANY,
            [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
            ],
        )
    return cv2.VideoCapture(source)


class CameraQrScanner:
    """QrScanner over an OpenCV capture.

    source: a camera index (0), a video or image file, or a stream URL (rtsp://, http://).
    pace: deliver a file's frames at its recorded rate, as a camera would (default for
    files); tests and benchmarks turn it off to read as fast as decoding allows.
    on_code: called from the scanner's thread with each newly seen code.
    """

    def __init__(
        self,
        source: int | str | os.PathLike[str],
        *,
        decoder: QrDecoder | None = None,
        max_width: int = DEFAULT_MAX_WIDTH,
        forget_after_frames: int = DEFAULT_FORGET_AFTER_FRAMES,
        pace: bool | None = None,
        on_code: Callable[[str], None] | None = None,
        reopen_after_s: float = 2.0,
    ) -> None:
        self.source = parse_source(source)
        self.decoder_name, self._decoder = ("custom", decoder) if decoder else default_decoder()
        self.max_width = max_width
        self.forget_after_frames = forget_after_frames
        self.pace = (not is_live(self.source)) if pace is None else pace
        self.on_code = on_code
        self.reopen_after_s = reopen_after_s
        self.frames_read = 0
        self.codes_seen = 0
        self.frames_not_decoded = 0  # the decoder raised on them (logged); the scanner went on
        self._pending: str | None = None
        self._status = ScannerStatus(False, str(self.source), "not started")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the QrScanner protocol ------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._set_status(False, "opening")
        self._thread = threading.Thread(target=self._run, name=f"qr-scanner-{self.source}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            # A read blocks at most one frame interval, or STREAM_TIMEOUT_MS on a stream.
            self._thread.join(STREAM_TIMEOUT_MS / 1000 + 1)
            self._thread = None

    def take_code(self) -> str | None:
        with self._lock:
            code, self._pending = self._pending, None
            return code

    def status(self) -> ScannerStatus:
        with self._lock:
            return self._status

    # ---- for tests, demos and checks -------------------------------------------------
    def wait_finished(self, timeout_s: float) -> bool:
        """Wait for a video file to be read to its end; True if it was."""
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True

    # ---- the scanner's thread --------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                capture = open_capture(self.source)
                try:
                    if capture.isOpened():
                        self._read_frames(capture)
                    else:
                        self._set_status(False, self._cannot_open())
                finally:
                    capture.release()
                if not is_live(self.source):
                    return
                # A camera unplugged, a stream dropped: try again, it often comes back.
                self._stopping.wait(self.reopen_after_s)
        except Exception as exc:  # a bug or a broken driver must not die silently
            log.exception("QR scanner on %s failed", self.source)
            self._set_status(False, f"scanner failed: {exc}")
        finally:
            if self._stopping.is_set():
                self._set_status(False, f"stopped after {self.frames_read} frames")

    def _read_frames(self, capture: cv2.VideoCapture) -> None:
        debouncer = CodeDebouncer(self.forget_after_frames)
        frame_interval_s = 1.0 / (capture.get(cv2.CAP_PROP_FPS) or 30.0)
        started = time.monotonic()
        frames_here = 0
        self._set_status(True, f"decoding with {self.decoder_name}")
        while not self._stopping.is_set():
            ok, frame = capture.read()
            if not ok or frame is None:
                self._set_status(False, self._ended(frames_here))
                return
            frames_here += 1
            self.frames_read += 1
            self._report(debouncer.see(self._decode(frame)))
            if self.pace:
                delay = started + frames_here * frame_interval_s - time.monotonic()
                if delay > 0:
                    self._stopping.wait(delay)

    def _decode(self, frame: np.ndarray) -> list[str]:
        try:
            return self._decoder(prepare_frame(frame, self.max_width))
        except Exception as exc:  # one odd frame, or a decoder's bug, is not worth stopping for
            self.frames_not_decoded += 1
            log.warning("frame %d of %s not decoded: %s", self.frames_read, self.source, exc)
            return []

    def _report(self, new_codes: list[str]) -> None:
        for text in new_codes:
            with self._lock:
                self._pending = text
                self.codes_seen += 1
            if self.on_code is not None:
                self.on_code(text)

    def _cannot_open(self) -> str:
        if isinstance(self.source, int):
            return f"cannot open camera {self.source} (not connected, or in use by another program)"
        if is_live(self.source):
            return f"cannot open stream {self.source}"
        return f"cannot open {self.source}: missing, or not a video or image OpenCV can read"

    def _ended(self, frames_here: int) -> str:
        if is_live(self.source):
            return f"camera {self.source} stopped giving frames; reopening"
        if frames_here == 0:
            return f"no frame could be read from {self.source} (corrupt or empty video)"
        return f"end of video after {frames_here} frames"

    def _set_status(self, running: bool, detail: str) -> None:
        with self._lock:
            self._status = ScannerStatus(running, str(self.source), detail)


@dataclass(frozen=True, slots=True)
class CameraProbe:
    """What `spilno hardware check` says about a camera."""

    opened: bool
    width: int = 0
    height: int = 0
    measured_fps: float = 0.0  # frames read (and decoded, with a decoder) per second, as the kiosk would
    declared_fps: float = 0.0  # what the device or file claims
    frames: int = 0
    detail: str = ""
    codes_read: int = 0  # different QR codes read on the probe's frames
    decode_ms: float = 0.0  # median time to decode one frame, milliseconds


def probe_camera(
    source: int | str | os.PathLike[str], seconds: float = 1.0, *, decoder: QrDecoder | None = None
) -> CameraProbe:
    """Open the camera, read frames for `seconds`, report size and rate; with `decoder`,
    also decode every frame (as the kiosk would) and count the codes. Never raises."""
    source = parse_source(source)
    capture = open_capture(source)
    try:
        if not capture.isOpened():
            return CameraProbe(False, detail=f"cannot open {source}")
        declared = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        frames, width, height = 0, 0, 0
        codes: set[str] = set()
        decode_s: list[float] = []
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            frames += 1
            height, width = frame.shape[:2]
            if decoder is not None:
                decoding = time.perf_counter()
                codes.update(decoder(prepare_frame(frame)))
                decode_s.append(time.perf_counter() - decoding)
        elapsed = time.monotonic() - started
        if frames == 0:
            return CameraProbe(True, declared_fps=declared, detail="opened, but gave no frame")
        decode_ms = round(statistics.median(decode_s) * 1000, 2) if decode_s else 0.0
        return CameraProbe(
            True, width, height, round(frames / elapsed, 1), declared, frames, "", len(codes), decode_ms
        )
    except cv2.error as exc:
        return CameraProbe(False, detail=f"OpenCV error: {exc}")
    except Exception as exc:  # a decoder's failure is a finding of the check, not a crash
        return CameraProbe(True, detail=f"QR decoder failed: {exc}")
    finally:
        capture.release()
