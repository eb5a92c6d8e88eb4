"""A corpus of filled-in ballot sheets with known answers, made from our own forms.

`make_sheet` prints a sheet with paper.forms, rasterises it with pdftoppm (as a
scanner would see the paper), draws the voter's marks in chosen boxes, adds stray marks
away from the boxes, then distorts the page the way a scanner or a phone does. Every
sheet comes with its KnownAnswer: per box the kind of mark and the verdicts a correct
reader may give.

Marks (drawn in pixels; the pen is ~0.5 mm of dark blue ink, the pencil ~0.15 mm grey):
    tick, cross, filled        -> "marked"   (acceptable: marked)
    none                       -> "unmarked" (acceptable: unmarked)
    faint  (thin light pencil) -> "either"   (acceptable: marked or marginal; never a silent "unmarked")
    cancelled (box scribbled out, the scribble spilling past its border: the voter's
               cancelled mark)  -> "either"   (acceptable: marginal only: a person decides)
Stray marks (lines, a scribble, a signature) lie at least 4 mm from every box and
change no answer.

Two optional hooks let other generators (tests/paper/hostile.py) spoil the
paper: `damage` draws on the flat page after the marks and stray marks, before the
scanner or the phone sees it, and says which boxes' answers it changed; `after_warp`
gets the picture just after the camera's geometry, before its light, blur, noise and
JPEG (a page pushed partly off the scanner glass).

Distortion ranges (SCAN and PHOTO below; make_corpus draws uniformly within them):
    rotation ±5° (scan ±2°), horizontal skew (shear) ±0.02, scale 97–103 %, Gaussian
    blur σ 0–1.2 px (photo 0.5–1.8), noise σ 0–8 grey levels (photo 3–12), JPEG quality
    40–95 (or lossless PNG for a third of scans), uneven lighting: a darkening gradient
    of up to 25 % (photo 10–45 %), perspective (photo only): each corner moved up to
    4 % of the page size, the page on a grey table 6 % wider on each side.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np

from paper.forms import print_forms
from paper.layout import MM, Layout
from paper.serials import form_key, make_qr_text
from sync.cycle_package import PackagedCycle
from sync.package_parser import parse_cycle

__all__ = [
    "PHOTO",
    "SCAN",
    "TEST_FORM_KEY",
    "TEST_VOTER_KEY_SECRET",
    "BoxAnswer",
    "DamageHook",
    "Distortion",
    "KnownAnswer",
    "MarkKind",
    "WarpHook",
    "encode",
    "long_cycle",
    "make_corpus",
    "make_sheet",
    "packaged",
    "random_distortion",
    "render_pdf",
    "sample_cycle",
]

TEST_VOTER_KEY_SECRET = bytes.fromhex("6b" * 32)  # as tests/kiosk/terminal_setup.py's package
TEST_FORM_KEY = form_key(TEST_VOTER_KEY_SECRET)


def packaged(cycle: dict) -> PackagedCycle:
    """A raw cycle as the fixtures here make it (as a package carries it), read as a
    device reads it (sync.package_parser): what the paper library takes."""
    return parse_cycle(cycle)


class MarkKind(StrEnum):
    NONE = "none"
    TICK = "tick"
    CROSS = "cross"
    FILLED = "filled"
    FAINT = "faint"
    CANCELLED = "cancelled"


# what a box with each kind of mark is (expected) and which reader verdicts are right
EXPECTED = {
    MarkKind.NONE: ("unmarked", frozenset({"unmarked"})),
    MarkKind.TICK: ("marked", frozenset({"marked"})),
    MarkKind.CROSS: ("marked", frozenset({"marked"})),
    MarkKind.FILLED: ("marked", frozenset({"marked"})),
    MarkKind.FAINT: ("either", frozenset({"marked", "marginal"})),
    MarkKind.CANCELLED: ("either", frozenset({"marginal"})),
}


def _cycle(cycle_id: int, categories: list[dict], projects: list[dict], max_total: int | None) -> dict:
    return {
        "id": cycle_id,
        "title": "Громадський бюджет 2027",
        "slug": "gb-2027",
        "kind": "public",
        "voting_starts_at": "2027-05-01T06:00:00Z",
        "voting_ends_at": "2099-05-31T21:00:00Z",
        "timezone": "Europe/Kyiv",
        "min_total": 1,
        "max_total": max_total,
        "categories": categories,
        "projects": projects,
    }


def _category(category_id: int, name: str, position: int, **rule) -> dict:
    return {
        "id": category_id,
        "name": name,
        "budget": rule.get("budget", 1_000_000_00),
        "position": position,
        "min_choices": rule.get("min_choices", 0),
        "max_choices": rule.get("max_choices", 2),
        "budget_limited": rule.get("budget_limited", False),
        "max_project_cost": None,
        "min_votes_to_fund": 1,
    }


def _project(project_id: int, number: int, title: str, cost_uah: int, category_id: int) -> dict:
    return {
        "id": project_id,
        "number": number,
        "title": title,
        "description": "",
        "cost": cost_uah * 100,
        "district": None,
        "category_id": category_id,
    }


def sample_cycle(cycle_id: int = 31) -> dict:
    """Six projects in two categories (the kiosk tests' cycle, as a package carries it)."""
    categories = [
        _category(21, "Малі проєкти", 1, budget=500_000_00, max_choices=2, budget_limited=True),
        _category(22, "Великі проєкти", 2, budget=3_000_000_00, min_choices=1, max_choices=1),
    ]
    titles = [
        "Лавки в парку Слави",
        "Велостоянки біля шкіл",
        "Книжкова шафа в бібліотеці",
        "Освітлення стадіону",
        "Сквер на Заріччі",
        "Спортивний майданчик",
    ]
    projects = [
        _project(100 + n, n, title, 100_000 * n, 21 if n <= 4 else 22) for n, title in enumerate(titles, 1)
    ]
    return _cycle(cycle_id, categories, projects, 3)


def long_cycle(projects: int = 60, cycle_id: int = 32) -> dict:
    """`projects` projects in four categories, some titles long enough to wrap (and be cut)."""
    categories = [_category(30 + k, f"Категорія {k + 1}: проєкти району", k, max_choices=3) for k in range(4)]
    long_title = "Капітальний ремонт спортивного майданчика з новим покриттям, освітленням і лавками"
    rows = [
        _project(
            500 + n,
            n,
            " ".join([long_title] * (1 + n % 3)) if n % 4 == 0 else f"Проєкт номер {n}",
            50_000 + n,
            30 + n % 4,
        )
        for n in range(1, projects + 1)
    ]
    return _cycle(cycle_id, categories, rows, None)


def render_pdf(pdf: bytes, dpi: int) -> list[np.ndarray]:
    """Every page of `pdf` as a BGR image at `dpi` (pdftoppm, from poppler-utils). Grey
    PGM: the form is black on white, and PNG compression would double the time."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", str(source), str(Path(directory) / "p")],
            check=True,
            capture_output=True,
        )
        pages = sorted(Path(directory).glob("p-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        return [
            cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR) for path in pages
        ]


_RENDERS: dict[tuple[str, str, int], tuple[Layout, tuple[np.ndarray, ...]]] = {}


def _render_sheets(cycle: dict, serials: list[str], dpi: int) -> None:
    """Print and rasterise the sheets of `serials` in one go, kept for make_sheet (one
    pdftoppm run for many pages saves its start-up per page)."""
    key = json.dumps(cycle, sort_keys=True)
    wanted = [s for s in serials if (key, s, dpi) not in _RENDERS]
    if not wanted:
        return
    if len(_RENDERS) > 400:  # ~8 MB a page at 200 dpi: keep the cache bounded
        _RENDERS.clear()
    out = io.BytesIO()
    layout = print_forms(packaged(cycle), wanted, TEST_FORM_KEY, out)
    images = render_pdf(out.getvalue(), dpi)
    per_sheet = len(layout.pages)
    for n, serial in enumerate(wanted):
        pages = tuple(images[n * per_sheet : (n + 1) * per_sheet])
        for page in pages:
            page.setflags(write=False)
        _RENDERS[(key, serial, dpi)] = (layout, pages)


def _rendered(cycle: dict, serial: str, dpi: int) -> tuple[Layout, tuple[np.ndarray, ...]]:
    _render_sheets(cycle, [serial], dpi)
    return _RENDERS[(json.dumps(cycle, sort_keys=True), serial, dpi)]


@dataclass(frozen=True)
class Distortion:
    rotation_deg: float = 0.0
    skew: float = 0.0  # horizontal shear: x += skew * y
    scale: float = 1.0
    blur_sigma: float = 0.0  # px
    noise_sigma: float = 0.0  # grey levels
    jpeg_quality: int | None = None  # None: lossless
    lighting: float = 0.0  # darkest corner is (1 - lighting) as bright
    perspective: float = 0.0  # corner displacement, fraction of the page size
    table_margin: float = 0.0  # photo: grey table around the page, fraction of its size


SCAN = {
    "rotation_deg": (-2.0, 2.0),
    "skew": (-0.01, 0.01),
    "scale": (0.97, 1.03),
    "blur_sigma": (0.0, 1.2),
    "noise_sigma": (0.0, 8.0),
    "jpeg_quality": (40, 95),
    "lighting": (0.0, 0.25),
    "perspective": (0.0, 0.0),
}
PHOTO = {
    "rotation_deg": (-5.0, 5.0),
    "skew": (-0.02, 0.02),
    "scale": (0.97, 1.03),
    "blur_sigma": (0.5, 1.8),
    "noise_sigma": (3.0, 12.0),
    "jpeg_quality": (40, 95),
    "lighting": (0.1, 0.45),
    "perspective": (0.0, 0.04),
}


def random_distortion(rng: random.Random, kind: str = "scan") -> Distortion:
    ranges = PHOTO if kind == "photo" else SCAN
    values = {name: rng.uniform(*span) for name, span in ranges.items() if name != "jpeg_quality"}
    lossless = kind == "scan" and rng.random() < 1 / 3
    quality = None if lossless else rng.randint(*ranges["jpeg_quality"])
    return Distortion(**values, jpeg_quality=quality, table_margin=0.06 if kind == "photo" else 0.0)


@dataclass(frozen=True)
class BoxAnswer:
    kind: str  # a MarkKind value
    expected: str  # "marked" | "unmarked" | "either"
    acceptable: frozenset[str]  # reader verdicts that are right
    damage: str = ""  # what spoilt the paper over this box (hostile.py), "" when nothing


@dataclass
class KnownAnswer:
    serial: str
    qr_text: str
    cycle_id: int
    page: int
    pages: int
    layout_hash: str
    dpi: int
    distortion: Distortion
    boxes: dict[int, BoxAnswer]  # project id -> answer, for this page's boxes
    stray_marks: int
    # 3×3 homography from layout points (origin top-left) to image pixels
    page_to_image: list[list[float]] = field(default_factory=list)
    # the damage drawn (hostile.py): its kind and the values drawn for it
    damage: dict = field(default_factory=dict)

    @property
    def marked(self) -> list[int]:
        return sorted(p for p, a in self.boxes.items() if a.expected == "marked")

    @property
    def needs_review(self) -> bool:
        return any(a.acceptable == frozenset({"marginal"}) for a in self.boxes.values())

    def accepts(self, verdicts: dict[int, str]) -> bool:
        """Whether a reader's verdict per project id is right for every box."""
        return set(verdicts) == set(self.boxes) and all(
            v in self.boxes[p].acceptable for p, v in verdicts.items()
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["boxes"] = {
            str(p): {**asdict(a), "acceptable": sorted(a.acceptable)} for p, a in self.boxes.items()
        }
        return data


_PEN = (110, 40, 25)  # BGR: dark blue ballpoint


def _stroke(image: np.ndarray, points: list[tuple[float, float]], colour, thickness: int) -> None:
    pts = np.array([[round(x * 16), round(y * 16)] for x, y in points], dtype=np.int32)
    cv2.polylines(image, [pts], False, colour, thickness, cv2.LINE_AA, shift=4)


def _draw_mark(
    image: np.ndarray, kind: MarkKind, box: tuple[float, float, float], dpi: int, rng: random.Random
) -> None:
    x, y, s = box  # pixels: top-left and side

    def j(v: float) -> float:
        return v + rng.uniform(-0.06, 0.06) * s

    pen = max(2, round(0.5 * MM * dpi / 72))
    if kind is MarkKind.TICK:
        _stroke(
            image,
            [
                (x + j(0.15 * s), y + j(0.5 * s)),
                (x + j(0.42 * s), y + j(0.85 * s)),
                (x + j(0.95 * s), y + j(0.05 * s)),
            ],
            _PEN,
            pen,
        )
    elif kind is MarkKind.CROSS:
        _stroke(image, [(x + j(0.1 * s), y + j(0.1 * s)), (x + j(0.9 * s), y + j(0.9 * s))], _PEN, pen)
        _stroke(image, [(x + j(0.9 * s), y + j(0.1 * s)), (x + j(0.1 * s), y + j(0.9 * s))], _PEN, pen)
    elif kind is MarkKind.FAINT:
        grey = rng.randint(165, 195)
        thin = max(1, round(0.15 * MM * dpi / 72))
        _stroke(
            image,
            [
                (x + j(0.2 * s), y + j(0.5 * s)),
                (x + j(0.45 * s), y + j(0.8 * s)),
                (x + j(0.85 * s), y + j(0.15 * s)),
            ],
            (grey,) * 3,
            thin,
        )
    elif kind in (MarkKind.FILLED, MarkKind.CANCELLED):
        # zigzag scribble: within the box for a filled box, far past its border when cancelled
        spill = 0.45 if kind is MarkKind.CANCELLED else -0.12
        lo, hi = -spill * s, (1 + spill) * s
        points = []
        for k in range(14 if kind is MarkKind.CANCELLED else 9):
            t = lo + (hi - lo) * k / (13 if kind is MarkKind.CANCELLED else 8)
            points.append((x + j(lo if k % 2 else hi), y + t))
        _stroke(image, points, _PEN, pen + 1)
        if kind is MarkKind.CANCELLED:  # and the "cancel" X over it
            _stroke(image, [(x + lo, y + lo), (x + hi, y + hi)], _PEN, pen)
            _stroke(image, [(x + hi, y + lo), (x + lo, y + hi)], _PEN, pen)


def _stray_marks(
    image: np.ndarray, layout: Layout, page: int, count: int, dpi: int, rng: random.Random
) -> None:
    """Lines and scribbles at least 4 mm from every box, off the QR code and the marks."""
    k = dpi / 72
    keep_out = [
        (b.x - 4 * MM, b.y - 4 * MM, b.w + 8 * MM, b.h + 8 * MM) for b in layout.pages[page - 1].boxes
    ]
    qr, marks = layout.pages[page - 1].qr, layout.pages[page - 1].marks
    keep_out += [(r.x - 3 * MM, r.y - 3 * MM, r.w + 6 * MM, r.h + 6 * MM) for r in (qr, *marks)]
    drawn = 0
    for _attempt in range(200):
        if drawn >= count:
            break
        w, h = rng.uniform(10, 40) * MM / 2.5, rng.uniform(2, 10) * MM / 2.5
        x, y = (
            rng.uniform(15 * MM, layout.page_size[0] - 15 * MM - w),
            rng.uniform(15 * MM, layout.page_size[1] - 20 * MM - h),
        )
        if any(x < kx + kw and kx < x + w and y < ky + kh and ky < y + h for kx, ky, kw, kh in keep_out):
            continue
        points = [(k * (x + w * t / 6), k * (y + h * rng.random())) for t in range(7)]
        _stroke(image, points, _PEN, max(2, round(0.4 * MM * k)))
        drawn += 1


# (flat page BGR, layout, page number, pixels per point, rng) -> changed answers by project
# id; draws on the page in place.
DamageHook = Callable[[np.ndarray, Layout, int, float, random.Random], dict[int, BoxAnswer]]
# (warped picture, 3×3 map from the flat page's pixels to it, rng) -> both, changed
WarpHook = Callable[[np.ndarray, np.ndarray, random.Random], tuple[np.ndarray, np.ndarray]]


def _distort(
    image: np.ndarray, d: Distortion, rng: random.Random, after_warp: WarpHook | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The distorted image and the 3×3 map from the undistorted image's pixels to it."""
    h, w = image.shape[:2]
    margin = round(d.table_margin * max(w, h))
    out_w, out_h = w + 2 * margin, h + 2 * margin
    centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]], dtype=float)
    angle = np.radians(d.rotation_deg)
    rotate = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    shear = np.array([[1, d.skew, 0], [0, 1, 0], [0, 0, 1]])
    scale = np.diag([d.scale, d.scale, 1.0])
    back = np.array([[1, 0, out_w / 2], [0, 1, out_h / 2], [0, 0, 1]], dtype=float)
    matrix = back @ rotate @ shear @ scale @ centre
    if d.perspective:
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        moved = cv2.perspectiveTransform(corners[None], matrix)[0]
        jitter = np.array(
            [
                [rng.uniform(-1, 1) * d.perspective * w, rng.uniform(-1, 1) * d.perspective * h]
                for _ in range(4)
            ]
        )
        matrix = cv2.getPerspectiveTransform(corners, (moved + jitter).astype(np.float32)).astype(float)
    table = (95, 105, 110) if margin else (255, 255, 255)
    result = cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=table)
    if after_warp is not None:
        result, matrix = after_warp(result, matrix, rng)
        out_h, out_w = result.shape[:2]
    if d.lighting or d.noise_sigma > 0:
        # float32 throughout: a 300 dpi page is 26 M samples
        values = result.astype(np.float32)
        if d.lighting:
            gx, gy = np.meshgrid(
                np.linspace(0, 1, out_w, dtype=np.float32), np.linspace(0, 1, out_h, dtype=np.float32)
            )
            tilt = rng.uniform(0, np.pi / 2)
            weight = np.float32(d.lighting / (np.cos(tilt) + np.sin(tilt)))
            values *= (1 - weight * (np.float32(np.cos(tilt)) * gx + np.float32(np.sin(tilt)) * gy))[
                ..., None
            ]
        if d.blur_sigma > 0.05:
            values = cv2.GaussianBlur(values, (0, 0), d.blur_sigma)
        if d.noise_sigma > 0:
            noise = np.random.default_rng(rng.randrange(2**32)).standard_normal(
                (out_h, out_w), dtype=np.float32
            )
            values += (noise * np.float32(d.noise_sigma))[..., None]
        result = np.clip(values, 0, 255, out=values).astype(np.uint8)
    elif d.blur_sigma > 0.05:
        result = cv2.GaussianBlur(result, (0, 0), d.blur_sigma)
    if d.jpeg_quality is not None:
        _ok, data = cv2.imencode(".jpg", result, [cv2.IMWRITE_JPEG_QUALITY, d.jpeg_quality])
        result = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return result, matrix


def make_sheet(
    cycle: dict,
    marks: dict[int, MarkKind],
    distortion: Distortion = Distortion(),
    dpi: int = 200,
    seed: int = 0,
    *,
    serial: str = "S0001-000001",
    page: int = 1,
    stray_marks: int = 0,
    damage: DamageHook | None = None,
    after_warp: WarpHook | None = None,
) -> tuple[np.ndarray, KnownAnswer]:
    """Page `page` of sheet `serial` of `cycle`, filled in with `marks` (project id ->
    kind; boxes not named are left empty; boxes on other pages are ignored), with
    `stray_marks` stray marks, spoilt by `damage`, then distorted (`after_warp` between
    the geometry and the rest). A BGR uint8 image and its known answer."""
    rng = random.Random(seed)
    layout, pages = _rendered(cycle, serial, dpi)
    image = pages[page - 1].copy()
    k = dpi / 72
    answers = {}
    for box in layout.pages[page - 1].boxes:
        kind = MarkKind(marks.get(box.project_id, MarkKind.NONE))
        if kind is not MarkKind.NONE:
            _draw_mark(image, kind, (box.x * k, box.y * k, box.w * k), dpi, rng)
        expected, acceptable = EXPECTED[kind]
        answers[box.project_id] = BoxAnswer(kind.value, expected, acceptable)
    _stray_marks(image, layout, page, stray_marks, dpi, rng)
    if damage is not None:
        answers.update(damage(image, layout, page, k, rng))
    distorted, matrix = _distort(image, distortion, rng, after_warp)
    qr_text = make_qr_text(
        layout.cycle_id, layout.layout_hash, serial, page, len(layout.pages), TEST_FORM_KEY
    )
    to_image = matrix @ np.diag([k, k, 1.0])
    answer = KnownAnswer(
        serial,
        qr_text,
        layout.cycle_id,
        page,
        len(layout.pages),
        layout.layout_hash,
        dpi,
        distortion,
        answers,
        stray_marks,
        to_image.tolist(),
    )
    return distorted, answer


def encode(image: np.ndarray, answer: KnownAnswer) -> bytes:
    """The sheet as a file would hold it: JPEG at the distortion's quality, else PNG."""
    quality = answer.distortion.jpeg_quality
    ext, params = (".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality]) if quality else (".png", [])
    _ok, data = cv2.imencode(ext, image, params)
    return data.tobytes()


_KINDS = (
    [MarkKind.NONE] * 13
    + [MarkKind.TICK] * 3
    + [MarkKind.CROSS] * 2
    + [MarkKind.FILLED, MarkKind.FAINT, MarkKind.CANCELLED]
)


def make_corpus(
    n: int, seed: int, kind: str = "scan", cycle: dict | None = None
) -> Iterator[tuple[np.ndarray, KnownAnswer]]:
    """`n` filled sheets (page 1 of each), lazily, with random marks, stray marks and
    distortions within SCAN or PHOTO; about one in ten is blank. Scans at 150, 200 or
    300 dpi, photos at 150 or 200. The same arguments give the same sheets."""
    if kind not in ("scan", "photo"):
        raise ValueError(f"kind is 'scan' or 'photo', not {kind!r}")
    rng = random.Random(seed)
    cycle = cycle or sample_cycle()
    plans = []
    for number in range(1, n + 1):
        blank = rng.random() < 0.1
        marks = {p["id"]: (MarkKind.NONE if blank else rng.choice(_KINDS)) for p in cycle["projects"]}
        dpi = rng.choice((150, 200, 300) if kind == "scan" else (150, 200))
        options = {"serial": f"S0001-{number:06d}", "stray_marks": rng.choice((0, 0, 1, 2, 3))}
        plans.append((marks, random_distortion(rng, kind), dpi, rng.randrange(2**31), options))
    for start in range(0, n, 20):  # rasterise 20 sheets per pdftoppm run, keep few in memory
        batch = plans[start : start + 20]
        for dpi in {plan[2] for plan in batch}:
            _render_sheets(cycle, [plan[4]["serial"] for plan in batch if plan[2] == dpi], dpi)
        for marks, distortion, dpi, sheet_seed, options in batch:
            yield make_sheet(cycle, marks, distortion, dpi, sheet_seed, **options)
        _RENDERS.clear()
