"""QR codes in a camera frame, read with zxing-cpp: what the kiosk's camera, `spilno
hardware check` and anything else that has an image (a sheet scan) use.

    read_qr_codes(image) -> list[str]          the texts, in the order found
    read_qr_symbols(image) -> list[QrSymbol]   with raw bytes, corners and the pass

`image` is a numpy uint8 array: grayscale (H×W), BGR (H×W×3, as OpenCV gives) or BGRA.

Why zxing-cpp and these passes (figures from `python -m bench camera`, one core, 1280x720):
zxing-cpp reads a whole 720p frame in well under a millisecond when there is nothing on
it, and it resolves modules of 2 px that zbar and OpenCV lose, so frames are not shrunk
first. What it misses is mostly a card out of focus (held too close to a fixed-focus
camera) or one so small its modules are ~1.5 px. So, per frame:

1. the frame as it is, at its own size; if that saw no symbol at all, the frame halved
   (mean of 4 pixels), where a big noisy close-up reads better;
2. if still no symbol at all: the halved frame sharpened (an unsharp mask undoes part
   of a defocus blur) through zxing's global-histogram binarizer, the cheap one; it
   reads some blurred codes and, more often, finds them without reading them;
3. if a symbol was found but not decoded (zxing's finder saw it, error correction gave
   up), in any pass: the whole frame sharpened at its own size, with the local
   binarizer, the thorough one (~2 ms);
4. around each symbol still not decoded: that patch enlarged 2x, so tiny modules get
   enough pixels, and if that fails too, enlarged and sharpened, for blurred ones
   (at most MAX_CLOSE_UPS patches; sharpening alone spoils small sharp codes);
5. if nothing was read and the frame's detail says it is blurred all over
   (`blur_suspected`, ~0.3 ms): the patch around the first symbol seen, or if none was
   seen, the area with the densest fine detail, deblurred (hardware/qr_deblur.py: a
   Wiener filter undoing a defocus, or a motion along the direction its gradients
   avoid) and enlarged 2x. This reads cards zxing's finder cannot even see: defocused
   (sigma 2 px) 300-400 px wide, and motion-blurred ones. At most MAX_DEBLURRED
   pictures a frame, ~1.3 ms each.

An empty frame costs the grey conversion, passes 1 and 2 and the blur check; a few in
100 (stripes beside a big edge, that look like a motion-blurred card) are deblurred in
vain, ~7 ms. Paired on the benchmark's frames (seeds 10 000 and 20 000), one core of a
shared machine: 1 334 and 1 290 frames/s without the deblurring, 771 and 730 with it
(the target is 300). Step 2 on the full-size frame
reads a few more small or blurred cards (over 3 × 50 frames each: 200 px cards 137
against 128, 250 px 149 against 147, defocused 400-700 px 140 against 139) but costs
~1 ms more on every frame, a third of the time a 300 frames/s budget allows. A card
blurred so much that no pass finds a trace of it is not read; the next frame usually
is. A deblurred picture goes through the same decoder and its checks (format
information, Reed-Solomon at level H): over ~2 500 blurred frames measured, no text
came back that was not on the card.
zbar is not used: over 520 of the benchmark's frames (13 conditions), zbar at full and
half size read a code these passes missed in 1 frame, at 20-30 ms a frame, which is
all of a 30 frames/s camera's time.

A decoder that raises (native code, odd input) must not take the frame's other codes
with it: each pass is guarded on its own, the failure is logged and counted in
`QrReader.counts.decoder_errors`, and the other passes still run.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

from hardware.qr_deblur import blur_suspected, busiest_box, deblurred

log = logging.getLogger(__name__)

__all__ = [
    "MAX_CLOSE_UPS",
    "MAX_DEBLURRED",
    "QrReader",
    "QrSymbol",
    "ReadingCounts",
    "read_qr_codes",
    "read_qr_symbols",
]

# A 250 px card's modules are ~1.9 px; doubling gives the sampling grid room to land
# inside each module.
CLOSE_UP_SCALE = 2
# A frame with a dozen half-found symbols (a poster of codes) must not cost 12 patches.
MAX_CLOSE_UPS = 4
# Patches wider than this hold big modules, which the whole-frame passes saw as they are;
# enlarging them would cost 4x the pixels for nothing.
MAX_CLOSE_UP_SIDE = 480
# Deblurred pictures tried in a frame at most (~1.3-2 ms each: Wiener filter, enlarging,
# zxing), so that a frame with a card stays under ~12 ms on one core. Over 480 blurred
# frames, 6 read no more than 5, 4 one fewer.
MAX_DEBLURRED = 5
MIN_CLOSE_UP_MARGIN = 96  # px: the QR code of a 250 px wide card is 94 px
# Unsharp mask: the difference from a 7 px box blur, added back 3x. Chosen on defocused
# 400 px cards (sigma 2 px): unsharpened, zxing read 0/30; with this, 26/30; in the
# whole reader, 24/40 against 20-21/40 with a 5 px box, two 5 px boxes or a Laplacian
# pyramid level, which cost 0.15-0.3 ms against its 0.6 ms.
SHARPEN_BOX = 7
SHARPEN_BOX_HALF = 5  # the same blur's width on a halved frame, rounded to what OpenCV does fast
SHARPEN_AMOUNT = 3.0

_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_GLOBAL = zxingcpp.Binarizer.GlobalHistogram


@dataclass(frozen=True, slots=True)
class QrSymbol:
    text: str  # the content as text (UTF-8 or as its ECI says)
    data: bytes  # the content's raw bytes
    corners: tuple[tuple[int, int], ...]  # top-left, top-right, bottom-right, bottom-left, frame pixels
    found_by: str  # which pass read it: "frame" (1), "sharpened" (2-3), "close_up" (4), "deblurred" (5)


@dataclass
class ReadingCounts:
    """What a reader has done since it was made: for logs, checks and benchmarks."""

    frames: int = 0
    symbols: int = 0
    by_pass: dict[str, int] = field(
        default_factory=lambda: {"frame": 0, "sharpened": 0, "close_up": 0, "deblurred": 0}
    )
    decoder_errors: int = 0
    passes: int = 0  # decoder runs: 3 for a sharp frame with nothing in it (whole, halved, sharpened)


class QrReader:
    """Reads QR codes from frames (see the module's text); keeps counts. Thread-safe."""

    def __init__(self, *, sharpen: bool = True, close_ups: bool = True, deblur: bool = True) -> None:
        self.sharpen = sharpen
        self.close_ups = close_ups
        self.deblur = deblur
        self.counts = ReadingCounts()
        self._lock = threading.Lock()

    def read(self, image: np.ndarray) -> list[QrSymbol]:
        gray = to_gray(image)
        found: dict[bytes, QrSymbol] = {}
        unread: list[tuple[zxingcpp.Barcode, float]] = []  # with the scale of the picture it was seen in
        errors = 0
        passes = 0

        def run(
            name: str, picture: np.ndarray, offset=(0, 0), scale: float = 1.0, *, keep_unread=True, **options
        ) -> None:
            nonlocal errors, passes
            passes += 1
            try:
                results = zxingcpp.read_barcodes(
                    picture,
                    formats=_QR,
                    try_rotate=False,
                    try_invert=False,
                    try_downscale=False,
                    return_errors=True,
                    **options,
                )
            except Exception as exc:  # native decoder: any failure is this pass's, not the frame's
                errors += 1
                log.warning("QR pass %r failed on a %s frame: %s", name, picture.shape, exc)
                return
            for result in results:
                if not result.valid:
                    if keep_unread:
                        unread.append((result, scale))
                    continue
                data = bytes(result.bytes)
                if data not in found:
                    found[data] = QrSymbol(result.text, data, _corners(result, offset, scale), name)

        run("frame", gray)
        half = None
        if not found and not unread:
            half = halved(gray)
            run("frame", half, scale=0.5)
        if self.sharpen and not found and not unread:
            assert half is not None  # halved above: the frame gave nothing
            run("sharpened", sharpened(half, SHARPEN_BOX_HALF), scale=0.5, binarizer=_GLOBAL)
        if self.sharpen and unread:
            run("sharpened", sharpened(gray), keep_unread=False)
        if self.close_ups and unread:
            for x0, y0, x1, y1 in _patch_boxes(gray, unread):
                before = len(found)
                patch = _enlarged(gray[y0:y1, x0:x1])
                run("close_up", patch, (x0, y0), CLOSE_UP_SCALE, keep_unread=False)
                if len(found) == before:
                    run("close_up", sharpened(patch), (x0, y0), CLOSE_UP_SCALE, keep_unread=False)
        if self.deblur and not found:
            # Nothing read, and the frame's detail says it is blurred all over (an empty
            # sharp frame stops at this check): undo the blur around the symbol seen
            # first, or, when none was, where the detail is densest: a card blurred past
            # what zxing's finder sees.
            half = halved(gray) if half is None else half
            try:
                self._deblur(run, gray, half, unread, found)
            except Exception as exc:  # image arithmetic on odd input: this pass's loss, not the frame's
                errors += 1
                log.warning("QR deblurring failed on a %s frame: %s", gray.shape, exc)

        symbols = list(found.values())
        with self._lock:
            self.counts.frames += 1
            self.counts.symbols += len(symbols)
            self.counts.decoder_errors += errors
            self.counts.passes += passes
            for symbol in symbols:
                self.counts.by_pass[symbol.found_by] += 1
        return symbols

    def read_texts(self, image: np.ndarray) -> list[str]:
        return [symbol.text for symbol in self.read(image)]

    @staticmethod
    def _deblur(run, gray: np.ndarray, half: np.ndarray, unread: list, found: dict) -> None:
        """Pass 5 (see the module's text): nothing read yet; if the frame looks blurred,
        undo the blur around the first symbol seen, or where the detail is densest."""
        suspected = blur_suspected(half)
        if not suspected:
            return
        boxes = _patch_boxes(gray, unread)[:1] if unread else [busiest_box(half, gray.shape)]
        for x0, y0, x1, y1 in boxes:
            pictures = deblurred(gray[y0:y1, x0:x1], None if unread else suspected)
            for picture in itertools.islice(pictures, MAX_DEBLURRED):
                run("deblurred", picture, (x0, y0), 2.0, keep_unread=False)
                if found:
                    return


def to_gray(image: np.ndarray) -> np.ndarray:
    """A contiguous uint8 grayscale view of a grayscale, BGR or BGRA image, or ValueError
    naming what is wrong with it."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"an image is a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"an image must be uint8 (0-255), got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] in (3, 4):
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        image = cv2.cvtColor(image, code)
    elif image.ndim != 2:
        raise ValueError(f"an image is H×W grey or H×W×3 BGR (or ×4 BGRA), got shape {image.shape}")
    if image.shape[0] < 21 or image.shape[1] < 21:  # the smallest QR code is 21 modules
        raise ValueError(f"an image of {image.shape[1]}×{image.shape[0]} px is too small to hold a QR code")
    return np.ascontiguousarray(image)


def halved(gray: np.ndarray) -> np.ndarray:
    """Half the size, each pixel the mean of four: averaging halves the sensor noise of
    a big close-up, whose modules stay several pixels wide."""
    return cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)


def sharpened(gray: np.ndarray, box: int = SHARPEN_BOX) -> np.ndarray:
    """Unsharp mask: the image plus SHARPEN_AMOUNT times its difference from a box blur."""
    blurred = cv2.blur(gray, (box, box))
    return cv2.addWeighted(gray, 1 + SHARPEN_AMOUNT, blurred, -SHARPEN_AMOUNT, 0)


def _patch_boxes(gray: np.ndarray, unread: list[tuple[zxingcpp.Barcode, float]]):
    """Boxes (x0, y0, x1, y1) around symbols found but not decoded; overlapping ones only
    once, at most MAX_CLOSE_UPS."""
    candidates = []
    height, width = gray.shape
    for result, scale in unread:
        xs = [round(point.x / scale) for point in _points(result)]
        ys = [round(point.y / scale) for point in _points(result)]
        # a whole symbol of margin: a symbol that failed to decode may have been located
        # wrongly too, or only a part of it (measured: half a symbol read 1 in 5 fewer
        # small cards); at least the code of the smallest card we read
        margin = max(max(xs) - min(xs), max(ys) - min(ys), MIN_CLOSE_UP_MARGIN) + 8
        box = (
            max(0, min(xs) - margin),
            max(0, min(ys) - margin),
            min(width, max(xs) + margin),
            min(height, max(ys) + margin),
        )
        if (
            min(box[2] - box[0], box[3] - box[1]) < 21
            or max(box[2] - box[0], box[3] - box[1]) > MAX_CLOSE_UP_SIDE
        ):
            continue
        candidates.append(box)
    # Smallest first: a symbol located wrongly is mostly a big box spanning the real one
    # and more (a finder pattern paired with a stray one); the real one is tight.
    candidates.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    boxes: list[tuple[int, int, int, int]] = []
    for box in candidates:
        if not any(_inside(box, seen) or _inside(seen, box) for seen in boxes):
            boxes.append(box)
    return boxes[:MAX_CLOSE_UPS]


def _enlarged(patch: np.ndarray) -> np.ndarray:
    return cv2.resize(patch, None, fx=CLOSE_UP_SCALE, fy=CLOSE_UP_SCALE, interpolation=cv2.INTER_CUBIC)


def _inside(box: tuple[int, int, int, int], other: tuple[int, int, int, int]) -> bool:
    """Whether `box`'s centre lies in `other`: the same symbol found by two passes."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return other[0] <= cx <= other[2] and other[1] <= cy <= other[3]


def _points(result: zxingcpp.Barcode):
    position = result.position
    return position.top_left, position.top_right, position.bottom_right, position.bottom_left


def _corners(result: zxingcpp.Barcode, offset: tuple[int, int], scale: float) -> tuple[tuple[int, int], ...]:
    x0, y0 = offset
    return tuple((round(x0 + p.x / scale), round(y0 + p.y / scale)) for p in _points(result))


_DEFAULT_READER = QrReader()


def read_qr_symbols(image: np.ndarray) -> list[QrSymbol]:
    """Every QR code on `image` (grey, BGR or BGRA uint8), each once: text, bytes, corners."""
    return _DEFAULT_READER.read(image)


def read_qr_codes(image: np.ndarray) -> list[str]:
    """The texts of every QR code on `image` (grey, BGR or BGRA uint8), each once."""
    return _DEFAULT_READER.read_texts(image)
