"""Frames from the support point's camera, for reading ballot sheets held or laid under it.

A frame source gives grayscale frames, each with its number and time, from an OpenCV
capture: a camera index (a USB document camera or webcam), a video file, or a stream URL.
What goes wrong is a status, never an exception trace: a camera that cannot be opened, a
video with no readable frame, a file that ends before its header says (truncated), a
live camera that stops giving frames (unplugged: it is reopened until it comes back).

`FrameSource` is the Protocol; `CaptureFrameSource` (hardware.sheet_capture) the real
one; `FakeFrameSource` gives a list of images or what a callable draws, with control
methods, so the sheet logic (support_point.camera_input) is tested without a device.

Time: a file's frames carry the video's own timestamps and are read as fast as they
decode (no pacing), so "held for three seconds" means three seconds of the recording
whatever the machine's speed; a live source's frames carry the clock.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from .camera_scanner import parse_source

__all__ = [
    "CAMERA_STATES",
    "CameraStatus",
    "FakeFrameSource",
    "Frame",
    "FrameSource",
    "describe_source",
    "gray8",
]

# What a status can say. Failures: cannot_open, no_frames, ended_early, lost.
CAMERA_STATES = ("not_started", "reading", "cannot_open", "no_frames", "lost", "ended", "ended_early",
                 "stopped")  # fmt: skip
FAILED_STATES = frozenset({"cannot_open", "no_frames", "ended_early", "lost"})


@dataclass(frozen=True, slots=True)
class Frame:
    number: int  # 1-based, counted over the whole run (reopening does not restart it)
    seconds: float  # the video's timestamp, or seconds since a live source's first frame
    gray: np.ndarray  # 8-bit, one channel


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """A tagged state (CAMERA_STATES) with what a person needs to hear about it."""

    state: str
    source: str  # as describe_source() shows it: no password of a stream URL
    frames: int = 0  # frames read so far
    total: int = 0  # a file's frame count from its header, 0 when unknown or live
    width: int = 0
    height: int = 0
    detail: str = ""  # for developers and logs, English

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES


class FrameSource(Protocol):
    def open(self) -> CameraStatus:
        """Open the source now (reading starts without it too); the status says how it went."""
        ...

    def frames(self, stop: Callable[[], bool] = lambda: False) -> Iterator[Frame]:
        """Frames until the end of a file, a failure that does not mend, or `stop()`."""
        ...

    def status(self) -> CameraStatus: ...

    def close(self) -> None: ...


_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@")


def describe_source(source: int | str | os.PathLike[str]) -> str:
    """How a source is named to people and in stored readings: "camera 0", a path, or a
    URL without its user name and password (an RTSP camera's URL often carries them)."""
    parsed = parse_source(source)
    if isinstance(parsed, int):
        return f"camera {parsed}"
    # Control and direction characters would reorder or recolour the operator's terminal.
    shown = "".join("?" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in parsed)
    return _USERINFO.sub(r"\1", shown)[:300]


class FakeFrameSource:
    """FrameSource from images in memory (BGR or gray), or from `draw(number)` giving an
    image or None (the end). Control methods: `fail_to_open()`, `lose_after(n)`."""

    def __init__(
        self,
        images: Iterable[np.ndarray] | Callable[[int], np.ndarray | None],
        *,
        fps: float = 30.0,
        name: str = "fake camera",
        live: bool = False,
    ) -> None:
        self._draw = images if callable(images) else _drawer(images)
        self.fps = fps
        self.name = name
        self.live = live
        self._openable = True
        self._detail = ""
        self._lose_after: int | None = None
        self._frames = 0
        self._status = CameraStatus("not_started", name)
        self.closed = False

    # control methods
    def fail_to_open(self, detail: str = "no such camera") -> None:
        self._openable = False
        self._detail = detail

    def lose_after(self, frames: int) -> None:
        """Stop giving frames after `frames` (a camera unplugged mid-run)."""
        self._lose_after = frames

    # the FrameSource protocol
    def open(self) -> CameraStatus:
        if not self._openable:
            self._status = CameraStatus("cannot_open", self.name, detail=self._detail)
        elif self._status.state == "not_started":
            self._status = CameraStatus("reading", self.name)
        return self._status

    def frames(self, stop: Callable[[], bool] = lambda: False) -> Iterator[Frame]:
        if self.open().state != "reading":
            return
        while not stop():
            if self._lose_after is not None and self._frames >= self._lose_after:
                self._status = CameraStatus("lost", self.name, self._frames, detail="unplugged")
                return
            image = self._draw(self._frames + 1)
            if image is None:
                state = "ended" if self._frames else "no_frames"
                self._status = CameraStatus(state, self.name, self._frames)
                return
            self._frames += 1
            gray = gray8(image)
            if gray is None:
                raise ValueError(f"frame {self._frames}: shape {image.shape} is no picture")
            self._status = CameraStatus("reading", self.name, self._frames, width=gray.shape[1],
                                        height=gray.shape[0])  # fmt: skip
            yield Frame(self._frames, (self._frames - 1) / self.fps, gray)
        self._status = CameraStatus("stopped", self.name, self._frames)

    def status(self) -> CameraStatus:
        return self._status

    def close(self) -> None:
        self.closed = True


def gray8(image: np.ndarray) -> np.ndarray | None:
    """A frame as 8-bit grayscale, whatever the camera gave (BGR, BGRA, one channel);
    None for what is no picture."""
    if image.ndim == 3:
        channels = image.shape[2]
        if channels == 1:
            image = image[:, :, 0]
        elif channels in (3, 4):
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if channels == 4 else cv2.COLOR_BGR2GRAY)
        else:
            return None
    if image.ndim != 2 or image.size == 0:
        return None
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return image


def _drawer(images: Iterable[np.ndarray]) -> Callable[[int], np.ndarray | None]:
    iterator = iter(images)
    return lambda _number: next(iterator, None)
