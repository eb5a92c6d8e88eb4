"""The real sheet camera: `CaptureFrameSource`, the FrameSource (hardware.sheet_camera)
over cv2.VideoCapture, and `write_video`, which makes the recordings it reads for tests,
benchmarks and demos.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from .camera_scanner import STREAM_TIMEOUT_MS, is_live, open_capture, parse_source
from .sheet_camera import CameraStatus, Frame, describe_source, gray8

__all__ = ["CaptureFrameSource", "write_video"]

# USB cameras open at 640x480 unless asked: far too coarse for an A4 page (its QR code's
# modules would be ~1 px). 1920x1080 gives ~3.6 px per mm on a page filling the height.
DEFAULT_FRAME_SIZE = (1920, 1080)
# The largest frame taken from a camera, a stream or a file: an 8K camera gives 33 MP.
# A file or stream claiming more is refused before a frame is decoded (a decoded frame
# is 3 bytes a pixel, then turned grey: 50 MP is ~200 MB at its peak).
MAX_FRAME_PIXELS = 50_000_000
MAX_FRAME_SIDE = 12_000
REOPEN_AFTER_S = 2.0  # an unplugged camera, a dropped stream: look again this often


def _too_large(width: int, height: int) -> bool:
    return max(width, height) > MAX_FRAME_SIDE or width * height > MAX_FRAME_PIXELS


def _too_large_detail(width: int, height: int) -> str:
    return (
        f"frames of {width}x{height} are larger than any camera's "
        f"(at most {MAX_FRAME_SIDE} px a side and {MAX_FRAME_PIXELS // 1_000_000} megapixels)"
    )


class CaptureFrameSource:
    """FrameSource over cv2.VideoCapture.

    frame_size: asked of a camera device (it picks the nearest it has); files and
    streams come as they are. on_status: called with every new status (lost, back...),
    from the reading loop, so a command can tell the operator at once.
    """

    def __init__(
        self,
        source: int | str | os.PathLike[str],
        *,
        frame_size: tuple[int, int] | None = DEFAULT_FRAME_SIZE,
        reopen_after_s: float = REOPEN_AFTER_S,
        on_status: Callable[[CameraStatus], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = parse_source(source)
        self.name = describe_source(self.source)
        self.live = is_live(self.source)
        self.frame_size = frame_size
        self.reopen_after_s = reopen_after_s
        self.on_status = on_status
        self._sleep = sleep
        self._capture: cv2.VideoCapture | None = None
        self._frames = 0
        self._total = 0
        self._size = (0, 0)
        self._started: float | None = None
        self._last_s = 0.0
        self._fps = 30.0
        self._status = CameraStatus("not_started", self.name)

    def status(self) -> CameraStatus:
        return self._status

    def open(self) -> CameraStatus:
        if self._capture is None:
            problem = self._try_open()
            if problem is not None:
                return self._set("cannot_open", problem)
            self._set("reading", f"opened {self._size[0]}x{self._size[1]}")
        return self._status

    def _try_open(self) -> str | None:
        """Open the capture; None when it worked, else why not."""
        try:
            capture = open_capture(self.source)
            if not capture.isOpened():
                capture.release()
                return self._cannot_open_detail()
            if isinstance(self.source, int):
                self._ask_for_size(capture)
            self._total = 0 if self.live else max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
            declared = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            self._fps = declared if 1 <= declared <= 240 else 30.0
            self._size = (
                int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            )
            if _too_large(*self._size):
                capture.release()
                return _too_large_detail(*self._size)
        except cv2.error as exc:  # a broken driver or backend: a status, not a trace
            return f"OpenCV error: {exc!s:.200}"
        self._capture = capture
        return None

    def _ask_for_size(self, capture: cv2.VideoCapture) -> None:
        # Motion-JPEG first: most USB cameras give 1080p at 30 frames/s only that way
        # (raw YUYV at 1080p is ~5 frames/s over USB 2). One frame buffered, so a slow
        # reader sees the newest frame, not one from a second ago.
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        if self.frame_size is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.frame_size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.frame_size[1])
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def frames(self, stop: Callable[[], bool] = lambda: False) -> Iterator[Frame]:
        while not stop():
            if self._capture is None:
                if self._frames == 0:
                    if self.open().state == "cannot_open":
                        return  # a wrong index, a missing file: say so now, do not wait
                else:  # a live source lost: it often comes back (replugged, the network back)
                    problem = self._try_open()
                    if problem is not None:
                        self._set("lost", f"{problem}; trying again in {self.reopen_after_s:g} s")
                        self._sleep(self.reopen_after_s)
                        continue
            frame = self._read_one()
            if frame is not None:
                yield frame
                continue
            self._release()
            if self._status.state == "cannot_open":  # a frame too large: nothing more from it
                return
            if not self.live:
                self._finish_file()
                return
            self._set("lost", f"{self.name} stopped giving frames after {self._frames}; reopening")
            self._sleep(self.reopen_after_s)
        if self._status.state in ("reading", "lost"):
            self._set("stopped", f"stopped after {self._frames} frames")

    def _read_one(self) -> Frame | None:
        assert self._capture is not None
        try:
            ok, image = self._capture.read()
        except cv2.error:
            return None
        if not ok or image is None or image.size == 0:
            return None
        if _too_large(image.shape[1], image.shape[0]):  # larger than it said when opened
            self._set("cannot_open", _too_large_detail(image.shape[1], image.shape[0]))
            return None
        gray = gray8(image)
        if gray is None:
            return None
        self._frames += 1
        if self.live:
            now = time.monotonic()
            self._started = now if self._started is None else self._started
            seconds = now - self._started
        else:
            # The recording's own clock; a container without timestamps (all 0) gets the
            # declared rate's instead, so "held for 3 s" still means something.
            stamp = float(self._capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0) / 1000
            seconds = stamp if self._frames == 1 or stamp > self._last_s else self._last_s + 1 / self._fps
        self._last_s = seconds
        self._size = (gray.shape[1], gray.shape[0])
        if self._status.state != "reading":  # back after a loss
            self._set("reading", f"reading again after {self._frames - 1} frames")
        return Frame(self._frames, seconds, gray)

    def _finish_file(self) -> None:
        if self._frames == 0:
            self._set("no_frames", f"no frame could be read from {self.name} (corrupt or empty video)")
        elif self._total and self._frames < self._total:
            self._set("ended_early", f"{self.name} ended after {self._frames} of {self._total} frames")
        else:
            self._set("ended", f"end of video after {self._frames} frames")

    def _cannot_open_detail(self) -> str:
        if isinstance(self.source, int):
            return f"cannot open camera {self.source} (not connected, or in use by another program)"
        if self.live:
            return f"cannot open stream {self.name} (within {STREAM_TIMEOUT_MS} ms)"
        return f"cannot open {self.name}: missing, or not a video OpenCV can read"

    def _set(self, state: str, detail: str) -> CameraStatus:
        width, height = self._size
        changed = state != self._status.state
        self._status = CameraStatus(state, self.name, self._frames, self._total, width, height, detail)
        if changed and self.on_status is not None:  # once per change: a lost camera retries quietly
            self.on_status(self._status)
        return self._status

    def _release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def close(self) -> None:
        self._release()


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float = 30.0) -> Path:
    """Frames (BGR or gray, all one size) to a Motion-JPEG .avi, the codec every headless
    OpenCV build both writes and reads: recordings for tests, benchmarks and demos."""
    writer: cv2.VideoWriter | None = None
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(
                    os.fspath(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height)
                )
                if not writer.isOpened():
                    raise OSError(f"OpenCV cannot write a Motion-JPEG video at {os.fspath(path)!r}")
            writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame)
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise ValueError("a video needs at least one frame")
    return Path(path)
