"""Frames and videos made by the tests: QR codes from the `qrcode` package placed on a
background with numpy, spoilt on purpose (blur, noise), written with OpenCV as Motion-JPEG
in .avi, a codec every headless OpenCV build can both write and read."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import qrcode

WIDTH, HEIGHT = 640, 480


def qr_image(text: str, box_size: int = 6) -> np.ndarray:
    """The code as a grayscale array: black modules on white, with the quiet zone."""
    image = qrcode.make(text, box_size=box_size, border=4)
    return np.array(image.convert("L"), dtype=np.uint8)


def blank_frame(width: int = WIDTH, height: int = HEIGHT, seed: int = 0) -> np.ndarray:
    """A grey, slightly uneven background, like a wall behind the voter."""
    rng = np.random.default_rng(seed)
    frame = np.full((height, width, 3), 150, np.uint8)
    return cv2.add(frame, rng.integers(0, 12, frame.shape, dtype=np.uint8))


def frame_with(
    text: str, width: int = WIDTH, height: int = HEIGHT, at: tuple[int, int] = (60, 40)
) -> np.ndarray:
    """A frame with the code's image pasted at (x, y)."""
    frame = blank_frame(width, height)
    code = cv2.cvtColor(qr_image(text), cv2.COLOR_GRAY2BGR)
    x, y = at
    frame[y : y + code.shape[0], x : x + code.shape[1]] = code
    return frame


def blurred(frame: np.ndarray, kernel: int = 31) -> np.ndarray:
    """Motion blur of a moving hand: no decoder can read through a kernel this wide."""
    return cv2.blur(frame, (kernel, 1))


def noisy(frame: np.ndarray, sigma: float = 20.0, seed: int = 1) -> np.ndarray:
    """Sensor noise of a dim room: a readable code stays readable."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, sigma, frame.shape)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def not_a_qr_code(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Stripes, boxes and words: what a camera sees when someone shows a bus ticket."""
    frame = blank_frame(width, height, seed=3)
    for n in range(0, 240, 8):  # a barcode-like row of bars
        cv2.rectangle(frame, (60 + n, 60), (60 + n + (n % 5) + 2, 200), (0, 0, 0), -1)
    cv2.rectangle(frame, (360, 80), (560, 280), (20, 20, 20), 6)
    cv2.putText(frame, "KVYTOK 12 UAH", (60, 380), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    return frame


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float = 30.0) -> Path:
    frames = list(frames)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG .avi here"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
