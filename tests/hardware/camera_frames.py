"""Camera frames the way a terminal's camera sees voting-code cards: a generated corpus
for the QR-reading tests and `python -m bench camera`.

A frame is 1280x720 BGR, like the terminals' cameras. On it: a background (a wall, a
shop floor, a jacket: gradients, shapes, stripes and words), and for most conditions one
printed code card held at some angle, in the light of the place, spoilt the way a real
camera spoils it (noise, Motion-JPEG compression), plus the condition itself:

    clean      a card held still, in focus
    defocus    the card nearer or farther than the focus: Gaussian blur, sigma in pixels
    motion     the hand moving: a straight blur kernel at any angle, length in pixels
    glare      a ceiling lamp's reflection on the card, partly saturated
    tilt       the card turned away from the camera by up to 50 degrees
    low_light  a dim corner: a quarter of the light, more sensor noise
    phone      the code shown on a phone's screen (no card), lit from inside, moiré
    two_codes  two cards in the view at once; both must be read
    empty      nothing but the background (speed, and no code where there is none)

The size of a card is its width in the frame in pixels: the whole 92 mm card of the
10-a-sheet layout, whose QR code (quiet zone included) is 34.7 mm of it; so a 250 px
card has a QR code of 94 px, about 1.9 px per module. The code is drawn by our own
encoder at level H, carrying card URLs of various lengths. A card or phone that, turned,
would not fit in the frame is shrunk until it does (people show the whole code).

Everything comes from `random.Random(seed)` / `numpy.random.default_rng(seed)`: the
same seed gives the same frame, different seeds different cards, backgrounds, angles.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

from qr_codes.codes import ALPHABET, format_code
from qr_codes.layouts import LAYOUTS, MM
from qr_codes.matrix import qr_matrix

WIDTH, HEIGHT = 1280, 720
CONDITIONS = ("clean", "defocus", "motion", "glare", "tilt", "low_light", "phone", "two_codes", "empty")
HOSTS = (
    "https://vote.example.gov.ua",
    "https://bud.kyivcity.gov.ua",
    "https://spilno.lviv.ua",
    "http://10.0.0.5:8080",
    "https://gromada.example.org/shkola",
)
_CARD = LAYOUTS["10"]
_QR_SHARE = _CARD.qr_size / _CARD.card_width  # the QR image's part of the card's width
_SUPERSAMPLE = 4  # cards are drawn 4x larger than they appear, then shrunk: no aliasing


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # 1280x720 BGR
    texts: tuple[str, ...]  # what the codes in it carry, empty for none
    condition: str
    card_px: int  # the card's width in pixels (0 for no card)
    seed: int


def card_url(rng: random.Random) -> str:
    """A code card's URL; the code is well-formed in shape (the decoder never checks it)."""
    body = "".join(rng.choice(ALPHABET) for _ in range(20))
    return f"{rng.choice(HOSTS)}/s/{format_code(body)}"


# ---- the scene -------------------------------------------------------------------------
def background(rng: np.random.Generator, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A place behind the voter: a lit gradient, a few shapes, stripes and words, noise."""
    base = rng.uniform(40, 200, 3)
    tilt = rng.uniform(-60, 60, 3)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    # Every row of the gradient is the same: one row is worked out and repeated (the
    # same bytes as working out all 720, in a sixteenth of the time).
    row = np.clip(base + tilt * ramp, 0, 255).astype(np.uint8)
    frame = np.repeat(row, height, axis=0)
    for _ in range(int(rng.integers(3, 12))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        kind = int(rng.integers(0, 4))
        if kind == 0:
            cv2.rectangle(
                frame, (x, y), (x + int(rng.integers(20, 400)), y + int(rng.integers(20, 300))), colour, -1
            )
        elif kind == 1:
            cv2.circle(frame, (x, y), int(rng.integers(10, 150)), colour, -1)
        elif kind == 2:  # stripes: a shelf, blinds, a striped jumper
            step = int(rng.integers(4, 20))
            for n in range(0, int(rng.integers(60, 400)), step):
                cv2.line(frame, (x + n, y), (x + n, y + 200), colour, max(1, step // 3))
        else:
            words = rng.choice(["ЦНАП", "Вихід / Exit", "КАСА 3", "Бібліотека", "12:45", "АКЦІЯ -30%"])
            cv2.putText(frame, str(words), (x, y), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.6, 2.5), colour, 2)
    return frame


def card_image(url: str, card_px: int, rng: np.random.Generator) -> np.ndarray:
    """A printed 10-a-sheet card, `card_px` wide, grey levels of real paper and toner."""
    height_px = round(card_px * _CARD.card_height / _CARD.card_width)
    scale = _SUPERSAMPLE * card_px / _CARD.card_width  # pixels per point, supersampled
    paper = float(rng.uniform(195, 250))
    ink = float(rng.uniform(15, 70))
    big = np.full((height_px * _SUPERSAMPLE, card_px * _SUPERSAMPLE), paper, np.float32)
    qr_px = _CARD.qr_size * scale
    left = _CARD.padding * scale
    top = (big.shape[0] - qr_px) / 2
    code = np.where(np.pad(qr_matrix(url, "H"), 4), ink, paper).astype(np.float32)
    side = round(qr_px)
    x0, y0 = round(left), round(top)
    big[y0 : y0 + side, x0 : x0 + side] = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
    # the text beside the code: lines of dark marks where the school, class and code are
    text_left = int(left + qr_px + 1 * MM * scale)
    for n, (size, length) in enumerate(((0.6, 0.9), (0.5, 0.8), (1.2, 0.3), (1.1, 0.95), (1.1, 0.6))):
        y = int((0.15 + 0.16 * n) * big.shape[0])
        x1 = int(text_left + length * (big.shape[1] - text_left - left))
        thickness = max(1, int(size * scale * 2))
        cv2.line(big, (text_left, y), (x1, y), ink, thickness)
    return cv2.resize(big, (card_px, height_px), interpolation=cv2.INTER_AREA).astype(np.uint8)


def phone_image(url: str, code_px: int, rng: np.random.Generator) -> np.ndarray:
    """A phone showing the code: black body, a bright screen with the code on it; the
    screen's pixel grid shows as faint lines, and a little of the room reflects in it."""
    matrix = qr_matrix(url, "H")
    screen_w = int(code_px * rng.uniform(1.15, 1.4))
    screen_h = int(screen_w * rng.uniform(1.8, 2.1))
    white = float(rng.uniform(200, 255))
    black = float(rng.uniform(10, 50))
    screen = np.full((screen_h, screen_w), white, np.float32)
    code = np.where(np.pad(matrix, 4), black, white).astype(np.float32)
    code = cv2.resize(code, (code_px, code_px), interpolation=cv2.INTER_AREA)
    top, left = int(screen_h * rng.uniform(0.25, 0.4)), (screen_w - code_px) // 2
    screen[top : top + code_px, left : left + code_px] = code
    period = int(rng.integers(3, 7))  # moiré of the sub-pixels against the sensor
    screen[::period, :] *= rng.uniform(0.85, 0.97)
    reflection = cv2.GaussianBlur(
        rng.uniform(0, 40, (screen_h // 8 + 1, screen_w // 8 + 1)).astype(np.float32), (0, 0), 2
    )
    screen += cv2.resize(reflection, (screen_w, screen_h))
    bezel = max(4, screen_w // 18)
    phone = np.full((screen_h + 4 * bezel, screen_w + 2 * bezel), float(rng.uniform(5, 30)), np.float32)
    phone[2 * bezel : 2 * bezel + screen_h, bezel : bezel + screen_w] = screen
    return np.clip(phone, 0, 255).astype(np.uint8)


def place(
    frame: np.ndarray, item: np.ndarray, rng: np.random.Generator, *, tilt_deg: float, centre=None
) -> tuple[int, int, int, int]:
    """Paste a grey `item` onto `frame`, turned by any angle in the plane and tilted away
    by up to `tilt_deg`, lit like the frame; return its bounding box (x0, y0, x1, y1)."""
    h, w = item.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]) - [w / 2, h / 2]
    # tilt: one side of the item farther away, so it looks narrower (a perspective squeeze)
    squeeze = math.cos(math.radians(rng.uniform(0, tilt_deg)))
    axis = rng.integers(0, 2)
    far_side = 1 - 0.5 * (1 - squeeze)  # the far edge shrinks
    tilted = corners.copy()
    if axis == 0:
        tilted[:, 0] *= squeeze
        tilted[[0, 3] if rng.random() < 0.5 else [1, 2], 1] *= far_side
    else:
        tilted[:, 1] *= squeeze
        tilted[[0, 1] if rng.random() < 0.5 else [2, 3], 0] *= far_side
    angle = rng.uniform(0, 2 * math.pi)
    rotation = np.float32([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    turned = tilted @ rotation.T
    span = turned.max(axis=0) - turned.min(axis=0)
    # Whoever shows a code shows all of it: an item turned too big for the frame (a
    # phone held close) is made smaller until it fits, rather than cut off.
    fit = min(1.0, *((np.array([frame.shape[1], frame.shape[0]]) - 10) / span))
    turned, span = turned * fit, span * fit
    if centre is None:
        low = span / 2 + 5
        high = np.array([frame.shape[1], frame.shape[0]]) - span / 2 - 5
        centre = rng.uniform(low, np.maximum(high, low + 1))
    target = (turned + np.float32(centre)).astype(np.float32)
    source = (corners + np.float32([w / 2, h / 2])).astype(np.float32)
    transform = cv2.getPerspectiveTransform(source, target)
    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpPerspective(item, transform, size, flags=cv2.INTER_LINEAR, borderValue=0)
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), transform, size, flags=cv2.INTER_LINEAR)
    # Blended only where the item landed: elsewhere alpha is 0 and the frame (whole grey
    # levels, as make_frame's always are) stays exactly as it was, so the frame is the
    # same as blending all of it, at a fraction of the cost.
    bx, by, bw, bh = cv2.boundingRect(inside)
    region = (slice(by, by + bh), slice(bx, bx + bw))
    alpha = (inside[region].astype(np.float32) / 255)[..., None]
    tint = rng.uniform(0.85, 1.0, 3).astype(np.float32)  # the light's colour
    frame[region] = (frame[region] * (1 - alpha) + warped[region][..., None] * tint * alpha).astype(np.uint8)
    x0, y0 = target.min(axis=0)
    x1, y1 = target.max(axis=0)
    return int(x0), int(y0), int(x1), int(y1)


# ---- what the camera does --------------------------------------------------------------
def motion_blur(frame: np.ndarray, length: int, angle_deg: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1
    rotate = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle_deg, 1)
    kernel = cv2.warpAffine(kernel, rotate, (length, length))
    return cv2.filter2D(frame, -1, kernel / kernel.sum())


def glare(frame: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator) -> np.ndarray:
    """A bright blurred ellipse over part of the card, saturating in its middle."""
    x0, y0, x1, y1 = box
    spot = np.zeros(frame.shape[:2], np.float32)
    centre = (int(rng.uniform(x0, x1)), int(rng.uniform(y0, y1)))
    axes = (max(4, int((x1 - x0) * rng.uniform(0.08, 0.25))), max(4, int((y1 - y0) * rng.uniform(0.05, 0.2))))
    cv2.ellipse(spot, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
    spot = cv2.GaussianBlur(spot, (0, 0), max(axes) / 2)
    strength = rng.uniform(150, 260)
    return np.clip(frame + (strength * spot)[..., None], 0, 255).astype(np.uint8)


def camera(frame: np.ndarray, rng: np.random.Generator, *, noise: float, gain: float = 1.0) -> np.ndarray:
    """Exposure, sensor noise and Motion-JPEG compression, as the frame arrives."""
    out = frame.astype(np.float32) * gain + noise * rng.standard_normal(frame.shape, dtype=np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    quality = int(rng.integers(60, 92))
    ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


# ---- the corpus ------------------------------------------------------------------------
def make_frame(
    condition: str,
    seed: int,
    *,
    card_px: int | None = None,
    blur: float | None = None,
    motion_deg: float | None = None,
) -> Frame:
    """One frame of `condition` (see CONDITIONS). `card_px` fixes the card's width, else
    it is drawn for the condition; `blur` is defocus sigma or motion length in pixels;
    `motion_deg` fixes the direction of a motion (degrees, counter-clockwise from x as
    seen on screen), else it is drawn. Fixing one changes nothing else in the frame."""
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {', '.join(CONDITIONS)}, got {condition!r}")
    py = random.Random(f"{condition}-{seed}")
    rng = np.random.default_rng(py.getrandbits(64))
    frame = background(rng).astype(np.float32)
    texts: list[str] = []
    size = card_px or int(rng.uniform(250, 600))
    box = (0, 0, 0, 0)
    noise = float(rng.uniform(2, 6))
    gain = 1.0
    if condition == "phone":
        texts.append(card_url(py))
        phone = phone_image(texts[0], int(size * _QR_SHARE * rng.uniform(1.0, 1.6)), rng)
        box = place(frame, phone, rng, tilt_deg=30)
    elif condition == "two_codes":
        texts += [card_url(py), card_url(py)]
        halves = ((WIDTH * 0.27, HEIGHT * 0.5), (WIDTH * 0.73, HEIGHT * 0.5))
        size = card_px or int(rng.uniform(250, 480))
        for text, (cx, cy) in zip(texts, halves, strict=True):
            jitter = rng.uniform(-40, 40, 2)
            place(frame, card_image(text, size, rng), rng, tilt_deg=20, centre=np.array([cx, cy]) + jitter)
    elif condition != "empty":
        texts.append(card_url(py))
        tilt = 50 if condition == "tilt" else 15
        box = place(frame, card_image(texts[0], size, rng), rng, tilt_deg=tilt)
    image = frame.astype(np.uint8)
    if condition == "defocus":
        image = cv2.GaussianBlur(image, (0, 0), blur or 2.0)
    elif condition == "motion":
        drawn = rng.uniform(0, 180)  # drawn even when fixed: the rest of the frame stays the same
        image = motion_blur(image, int(blur or 9), drawn if motion_deg is None else motion_deg)
    elif condition == "glare":
        image = glare(image, box, rng)
    elif condition == "low_light":
        gain, noise = float(rng.uniform(0.2, 0.35)), float(rng.uniform(4, 9))
    image = camera(image, rng, noise=noise, gain=gain)
    return Frame(image, tuple(texts), condition, 0 if condition == "empty" else size, seed)
