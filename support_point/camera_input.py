"""Ballot sheets from a camera: a stream of frames becomes the sheets to read, each once.

At a support point the operator lays or holds each filled sheet under the camera. Most
frames show a hand moving, a sheet sliding in, an empty table; reading each would cost
15-130 ms a frame (an empty 1080p frame is searched whole for a QR code) and fill the
store with junk. So a frame goes through a cheap gate first:

1. Steady: each frame is shrunk to a ~160 px wide thumbnail (a mean over blocks of a
   subsampled picture: ~1 ms for 1080p) and compared with the previous one: the share of
   its pixels that changed by more than CHANGE_LEVEL grey levels, beside the median
   change (a camera's auto-exposure brightens the whole picture at once; that is not
   motion). When STEADY_FRAMES frames in a row change less than STEADY_SHARE, the scene
   is still: no moving hand, no motion blur.
2. A still scene is read once (until it moves again, or drifts away from the scene last
   read): the sharpest frame of the still run (gradient energy, a focusing camera's
   frames differ) goes to the existing reader (paper.reader), whose first step
   is the QR code; the photo path undoes the page's perspective.
3. What the reader says decides what is in view:
   - a valid QR code (serial, page): that sheet. It is reported once, and not again while
     it stays in view, however often it is moved or lifted (like the kiosk scanner's
     CodeDebouncer); after a still scene without a sheet it has left, and shown again it
     is a new presentation, which the sheet store answers (keep_camera_sheet: read the
     same as before, a duplicate that changes nothing);
   - a QR code that is not a ballot of ours (another community's, a forged one): reported
     once, the same way;
   - the corner marks of a sheet but no readable QR code, or a QR code with the page not
     wholly in view: the sheet is there but not readable yet; the still scene is read
     again every RETRY_S, and when this goes on for UNREADABLE_AFTER_S of the recording,
     one rejected outcome says so (sheet.camera_unreadable);
   - nothing of a sheet: the view is empty; the last sheet has left.

Memory stays bounded: the previous thumbnail, the thumbnail of the scene last read and
the frames of the current still run (at most STEADY_FRAMES). Nothing else of the stream
is kept.

The image hash kept with a reading (the sheet store's image_sha256) is SHA-256 of the
frame's grayscale pixels, with its size in front: a frame has no file bytes "as
received", the pixels are exactly what the reader read, and hashing them costs ~1 ms for
1080p where encoding a PNG to hash it costs ~20 ms and changes with the encoder's version.
The same recording read twice gives the same hashes, so a re-run changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from paper.reader import SheetReader
from paper.reading import REJECTED, SheetReading
from paper.review import keep_reading
from paper.scan_files import preview_jpeg
from paper.sheet_state import SheetRules
from paper.sheet_store import SheetStore

__all__ = [
    "CameraSettings",
    "CameraSheet",
    "CameraSheetInput",
    "frame_difference",
    "frame_sha256",
    "keep_camera_sheet",
    "read_camera_sheets",
    "sharpness",
    "thumbnail",
]

THUMBNAIL_WIDTH = 160  # an A4 page filling a 1080p frame's height is ~60 px wide here
STEADY_FRAMES = 5  # ~0.17 s at 30 frames/s: a hand at rest, the camera's exposure settled
# A thumbnail pixel averages 16 camera pixels, so sensor noise (σ 8 in a dim room) moves
# it by ~2 grey levels and almost never by CHANGE_LEVEL; a sheet's edges, print and marks
# moving by a pixel or two do. Measured on a 1080p frame of a sheet: noise σ 4-12 changes
# 0-0.01 % of the pixels, a 1 px shift 1.8 %, 4 px 2.3 %, 8 px 3 %, 20 px with motion blur 5 %.
CHANGE_LEVEL = 12.0
STEADY_SHARE = 0.02  # below this share of changed pixels a frame is still (a ~3 px/frame drift at most)
RESCAN_SHARE = 0.04  # a still scene this far from the one last read is another scene (a slow slide)
RETRY_S = 0.5
UNREADABLE_AFTER_S = 3.0
RETRY_FOR_S = UNREADABLE_AFTER_S + 1.0  # retry a still unreadable scene this long, then only when it moves

SHEET, UNCLEAR, NOTHING = "sheet", "unclear", "nothing"
_QR_REFUSALS = frozenset({"sheet.qr_format", "sheet.qr_checksum"})
_UNREADABLE_REPORTED = ("unreadable",)


class CameraFrame(Protocol):
    """What the gate needs of a frame (hardware.sheet_camera.Frame)."""

    @property
    def number(self) -> int: ...
    @property
    def seconds(self) -> float: ...
    @property
    def gray(self) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class CameraSettings:
    steady_frames: int = STEADY_FRAMES
    steady_share: float = STEADY_SHARE
    rescan_share: float = RESCAN_SHARE
    retry_s: float = RETRY_S
    unreadable_after_s: float = UNREADABLE_AFTER_S
    retry_for_s: float = RETRY_FOR_S
    thumbnail_width: int = THUMBNAIL_WIDTH


@dataclass(slots=True)
class CameraSheet:
    """One sheet presented to the camera, read from one frame."""

    reading: SheetReading
    gray: np.ndarray  # the frame that was read: the store's preview is made from it
    frame: int
    seconds: float


def thumbnail(gray: np.ndarray, width: int = THUMBNAIL_WIDTH) -> np.ndarray:
    """The frame about `width` px wide, float32 grey levels: every `step`-th pixel, then
    the mean of k x k of those (16 samples for 1080p: noise averages, ~1 ms)."""
    full_width = gray.shape[1]
    step = max(1, full_width // (4 * width))
    sampled = gray[::step, ::step]
    k = max(1, sampled.shape[1] // width)
    rows, cols = sampled.shape[0] // k * k, sampled.shape[1] // k * k
    if rows == 0 or cols == 0:
        return sampled.astype(np.float32)
    blocks = sampled[:rows, :cols].reshape(rows, cols // k, k).sum(axis=2, dtype=np.uint32)
    return blocks.reshape(rows // k, k, cols // k).sum(axis=1, dtype=np.uint32).astype(np.float32) / (k * k)


def frame_difference(a: np.ndarray | None, b: np.ndarray, level: float = CHANGE_LEVEL) -> float:
    """The share (0..1) of thumbnail pixels that changed by more than `level` grey levels
    from `a` to `b`, beside the median change (a camera's exposure moving every pixel at
    once is not motion); 1.0 when the two cannot be compared (the first frame, a new size)."""
    if a is None or a.shape != b.shape or a.size == 0:
        return 1.0
    change = b - a
    change -= np.median(change)
    return float(np.count_nonzero(np.abs(change) > level)) / change.size


def sharpness(gray: np.ndarray) -> float:
    """Gradient energy of every second pixel: a blurred frame has softer edges, lower."""
    half = gray[::2, ::2].astype(np.int16)
    dx = np.diff(half, axis=1).astype(np.int32)
    dy = np.diff(half, axis=0).astype(np.int32)
    return float((dx * dx).mean() + (dy * dy).mean()) if dx.size and dy.size else 0.0


def frame_sha256(gray: np.ndarray) -> str:
    """SHA-256 of the frame's size and grayscale pixels (see the module's notes)."""
    pixels = np.ascontiguousarray(gray, dtype=np.uint8)
    digest = hashlib.sha256(f"gray8 {pixels.shape[1]}x{pixels.shape[0]}\n".encode())
    digest.update(pixels.data)
    return digest.hexdigest()


def _what_is_in_view(reading: SheetReading) -> str:
    if reading.serial is not None:
        # The QR code read, but the page is not wholly in view or not clear: not yet.
        return UNCLEAR if "sheet.unreadable" in reading.reasons else SHEET
    if _QR_REFUSALS & set(reading.reasons):
        return SHEET  # a QR code read, not ours: its refusal is the answer
    return UNCLEAR if "sheet.no_qr" in reading.reasons else NOTHING


class CameraSheetInput:
    """Frames in (`feed`, one at a time), sheets to keep out: at most one per frame.

    source_name names the camera in each reading's `file` ("camera 0#frame=812").
    on_hint(code) hears message codes for the operator while waiting: camera.qr_not_read
    when a sheet is seen whose QR code does not read yet.
    """

    def __init__(
        self,
        reader: SheetReader,
        source_name: str,
        settings: CameraSettings = CameraSettings(),
        on_hint: Callable[[str], None] | None = None,
    ) -> None:
        self.reader = reader
        self.source_name = source_name
        self.settings = settings
        self.on_hint = on_hint
        self.frames_seen = 0
        self.reads = 0  # frames given to the reader
        self._previous: np.ndarray | None = None
        self._steady_frames = max(1, settings.steady_frames)
        self._still: deque[CameraFrame] = deque(maxlen=self._steady_frames)
        self._moved = True  # the scene changed since it was last read
        self._scene: np.ndarray | None = None  # the thumbnail of the scene last read
        self._still_since = 0.0
        self._last_read_s = 0.0
        self._in_view: tuple | None = None  # what was reported and has not left yet
        self._unclear_since: float | None = None
        self._unclear = False  # the scene last read showed a sheet that does not read (yet)
        # Retry long enough for the unreadable outcome to be reached on a perfectly still sheet.
        self._retry_for_s = max(settings.retry_for_s, settings.unreadable_after_s + settings.retry_s)

    def feed(self, frame: CameraFrame) -> CameraSheet | None:
        gray = frame.gray
        if gray.ndim != 2 or gray.dtype != np.uint8 or gray.size == 0:
            return None  # a source gives gray frames; anything else is no picture of a sheet
        self.frames_seen += 1
        small = thumbnail(gray, self.settings.thumbnail_width)
        moving = frame_difference(self._previous, small) > self.settings.steady_share
        self._previous = small
        if moving:
            self._still.clear()
            self._moved = True
        self._still.append(frame)
        if len(self._still) < self._steady_frames:
            return None
        if not self._moved and frame_difference(self._scene, small) > self.settings.rescan_share:
            self._moved = True  # slid slowly, never "moving", yet it is another scene now
        if self._moved:
            self._still_since = frame.seconds
        elif not self._retry_due(frame.seconds):
            return None
        self._moved, self._scene, self._last_read_s = False, small, frame.seconds
        sharpest = max(self._still, key=lambda f: sharpness(f.gray))
        return self._judge(sharpest)

    def _retry_due(self, now: float) -> bool:
        s = self.settings
        return (
            self._unclear
            and now - self._last_read_s >= s.retry_s
            and now - self._still_since <= self._retry_for_s
        )

    def _judge(self, frame: CameraFrame) -> CameraSheet | None:
        self.reads += 1
        reading = self.reader.read_gray(frame.gray, file=f"{self.source_name}#frame={frame.number}")
        seen = _what_is_in_view(reading)
        if seen == NOTHING:
            self._in_view, self._unclear_since, self._unclear = None, None, False
            return None
        if seen == SHEET:
            self._unclear_since, self._unclear = None, False
            key = (
                reading.cycle_id,
                reading.serial,
                reading.page,
                tuple(reading.reasons) if reading.serial is None else (),
            )
            if key == self._in_view:
                return None  # the same sheet, still in view: read once
            self._in_view = key
            return self._sheet(reading, frame)
        # A sheet is there but does not read (yet).
        if not self._unclear and self._in_view != _UNREADABLE_REPORTED and self.on_hint is not None:
            self.on_hint("camera.qr_not_read")
        self._unclear = True
        if self._unclear_since is None:
            self._unclear_since = frame.seconds
        if self._in_view == _UNREADABLE_REPORTED:
            return None
        if frame.seconds - self._unclear_since < self.settings.unreadable_after_s:
            return None
        self._in_view = _UNREADABLE_REPORTED
        reading.outcome = REJECTED
        reading.reasons = list(dict.fromkeys(["sheet.camera_unreadable", *reading.reasons]))
        reading.selections = []
        return self._sheet(reading, frame)

    def _sheet(self, reading: SheetReading, frame: CameraFrame) -> CameraSheet:
        reading.image_sha256 = frame_sha256(frame.gray)
        return CameraSheet(reading, frame.gray, frame.number, frame.seconds)


def read_camera_sheets(
    frames: Iterable[CameraFrame],
    reader: SheetReader,
    source_name: str,
    settings: CameraSettings = CameraSettings(),
) -> Iterator[CameraSheet]:
    """Every sheet presented in `frames`, once per presentation, in order."""
    sheets = CameraSheetInput(reader, source_name, settings)
    for frame in frames:
        sheet = sheets.feed(frame)
        if sheet is not None:
            yield sheet


def keep_camera_sheet(
    store: SheetStore,
    sheet: CameraSheet,
    *,
    cycles: Mapping[int, SheetRules],
    serial_prefix: str,
    now_ms: int,
) -> tuple[str, list[str]]:
    """Keep a camera reading in the sheet store as a file's page is kept (review.keep_reading):
    (outcome, reasons). One rule more: a sheet page already kept and read the same (every
    box's verdict) is a "duplicate" and nothing is stored. A sheet shown to the camera again
    is a new frame with new pixels, which for a file would be "another scan of the same
    serial" for a person to choose between; read the same, there is nothing to choose.
    Read differently, it is kept and goes to that person, exactly as a rescan does."""
    if _read_the_same_before(store, sheet.reading):
        return "duplicate", []
    return keep_reading(
        store,
        sheet.reading,
        preview_jpeg(sheet.gray),
        cycles=cycles,
        serial_prefix=serial_prefix,
        now_ms=now_ms,
    )


def _read_the_same_before(store: SheetStore, reading: SheetReading) -> bool:
    if reading.outcome == REJECTED or reading.serial is None or reading.cycle_id is None or not reading.page:
        return False
    page_no = int(reading.page.partition("/")[0])
    verdicts = {box.project_id: box.verdict for box in reading.boxes}
    return any(
        kept.page_no == page_no and {box.project_id: box.verdict for box in kept.boxes} == verdicts
        for kept in store.pages_of(reading.cycle_id, reading.serial)
    )
