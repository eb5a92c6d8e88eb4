"""No file that a form or a command accepts takes more than 512 MB of memory or 30 s of
CPU to read: each hostile file (tiny on disk, huge when decoded) is read in a child
interpreter, as a worker or the command line would read it, and the child's peak
resident memory (its own VmHWM and its poppler children's ru_maxrss) and CPU time are
measured."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from paper.forms import print_forms
from paper.inputs import Limits, pages_from_bytes
from tests.paper import bombs
from tests.paper.corpus import TEST_FORM_KEY, packaged, sample_cycle

BUDGET_MB = 512
BUDGET_CPU_S = 30.0
ROOT = Path(__file__).resolve().parents[2]

# Reads every page as the support point and the server do (read_files: decode, then
# the sheet reader on each page), and reports the outcomes and what it cost.
_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from paper.sheet_plan import build_layout
    from paper.reader import SheetReader
    from paper.scan_files import read_files
    from tests.paper.corpus import TEST_FORM_KEY, packaged, sample_cycle

    reader = SheetReader([build_layout(packaged(sample_cycle()))], TEST_FORM_KEY)
    outcomes = [(r.outcome, r.reasons[:1]) for r in read_files([sys.argv[1]], reader)]
    me, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    # Its own peak from VmHWM: ru_maxrss would carry the parent's (pytest's) across exec.
    # Its poppler children's from ru_maxrss, at most this process's at their fork.
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({
        "outcomes": outcomes,
        "rss_mb": max(peak_kb, kids.ru_maxrss) / 1024,
        "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
    }))
    """
)


def read_in_a_child(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _tiff_doubled(first: int, last: int) -> bytes:
    """A grey TIFF whose directory gives its width and height twice: `first`, then
    `last` pixels. Its one strip holds a real `first`-sized picture when first is the
    larger, so a decoder that believes `first` truly decodes it."""
    big = max(first, last)
    strip = bombs.deflated_zeros(big * big) if first == big else bombs.deflated_zeros(last * last)
    entries = [
        (256, 4, first),
        (256, 4, last),
        (257, 4, first),
        (257, 4, last),
        (258, 3, 8),
        (259, 3, 8),
        (262, 3, 1),
        (273, 4, 0),
        (277, 3, 1),
        (278, 4, big),
        (279, 4, len(strip)),
    ]
    return bombs.tiff([entries], strip=strip)


def _pdf_bytes(count: int = 1) -> bytes:
    out = io.BytesIO()
    print_forms(packaged(sample_cycle()), [f"S0001-{n:06d}" for n in range(1, count + 1)], TEST_FORM_KEY, out)
    return out.getvalue()


HOSTILE = {
    # name: (how to make it, the outcome of every page)
    "tiff-doubled-size-large-first.tif": (lambda: _tiff_doubled(20_000, 100), "sheet.unreadable"),
    "tiff-doubled-size-small-first.tif": (lambda: _tiff_doubled(100, 20_000), "sheet.unreadable"),
    "tiff-600-pages.tif": (
        lambda: bombs.tiff(width=100, height=100, strip=bombs.deflated_zeros(100 * 100), page_count=600),
        "sheet.too_large",
    ),
    "tiff-400-pages-of-144-megapixels.tif": (
        lambda: bombs.tiff(
            width=12_000, height=12_000, strip=bombs.deflated_zeros(12_000 * 12_000), page_count=400
        ),
        "sheet.too_large",
    ),
    "tiff-one-huge-strip.tif": (
        # 20 MP is within the pixel limit; as one strip of 16-bit RGBA (160 MB) it is not
        lambda: bombs.tiff(width=4_500, height=4_500, bits=16, samples=4, strip=bombs.deflated_zeros(10**6)),
        "sheet.too_large",
    ),
    "png-16-bit-rgba-at-the-side-limit.png": (lambda: bombs.png_bomb(12_000, 12_000), "sheet.too_large"),
    "png-16-bit-rgba-within-pixels.png": (lambda: bombs.png_bomb(7_000, 7_000), "sheet.too_large"),
    "png-huge-header-tiny-data.png": (
        lambda: bombs.png_claiming(12_000, 12_000, data=bombs.deflated_zeros(1000)),
        "sheet.too_large",
    ),
    "png-large-header-tiny-data.png": (
        lambda: bombs.png_claiming(5_000, 5_000, data=bombs.deflated_zeros(1000)),
        "sheet.unreadable",
    ),
    "png-animated.png": (
        lambda: bombs.png_claiming(100, 100)[:33] + b"\x00\x00\x00\x08acTL" + b"\x00" * 12,
        "sheet.unreadable",
    ),
    "jpeg-claiming-65535-px.jpg": (lambda: bombs.jpeg_claiming(65_535, 65_535), "sheet.too_large"),
    "jpeg-progressive-claiming-8000-px.jpg": (
        lambda: bombs.jpeg_claiming(8_000, 8_000, progressive=True),
        "sheet.too_large",
    ),
    "pdf-page-14400-pt.pdf": (lambda: bombs.pdf_with_pages(1, 14_400, 14_400), "sheet.too_large"),
    "pdf-page-4320-pt.pdf": (lambda: bombs.pdf_with_pages(1, 4_320, 4_320), "sheet.too_large"),
    "pdf-3000-pages.pdf": (lambda: bombs.pdf_with_pages(3_000), "sheet.too_large"),
    "pdf-truncated.pdf": (lambda: _pdf_bytes()[:2000], "sheet.unreadable"),
    "zero-bytes.png": (lambda: b"", "sheet.not_an_image"),
    "truncated.png": (
        lambda: cv2.imencode(".png", np.zeros((500, 400), np.uint8))[1].tobytes()[:300],
        "sheet.unreadable",
    ),
    "truncated.jpg": (
        lambda: cv2.imencode(".jpg", np.zeros((500, 400), np.uint8))[1].tobytes()[:200],
        "sheet.unreadable",
    ),
    "truncated.tif": (lambda: bombs.tiff(width=3000, height=3000, strip=b"")[:40], "sheet.unreadable"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_refused_with_a_reason_within_the_memory_and_cpu_budget(tmp_path, name):
    make, problem = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(make())
    assert path.stat().st_size < 2 * 1024 * 1024  # tiny on disk
    measured = read_in_a_child(path)
    assert measured["outcomes"] and {tuple(o[1]) for o in measured["outcomes"]} == {(problem,)}, measured
    assert {o[0] for o in measured["outcomes"]} == {"rejected"}
    assert measured["rss_mb"] < BUDGET_MB, measured
    assert measured["cpu_s"] < BUDGET_CPU_S, measured


ACCEPTED = {
    # the largest pictures the limits let through, each decoded and read in full
    "png-16-bit-rgba-largest-accepted.png": lambda: bombs.png_bomb(4_400, 4_400),
    "png-grey-32-megapixels.png": lambda: bombs.png_bomb(5_600, 5_600, depth=8, colour=0),
    "tiff-grey-18-megapixels-one-strip.tif": lambda: bombs.tiff(
        width=4_200, height=4_200, strip=bombs.deflated_zeros(4_200 * 4_200)
    ),
    "jpeg-progressive-photo-8000x6000.jpg": lambda: bombs.jpeg_claiming(
        8_000, 6_000, progressive=True, colour=False
    ),
    "pdf-a3-page.pdf": lambda: bombs.pdf_with_pages(2, 842, 1191),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_largest_files_the_limits_let_through_are_read_within_the_budget(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(ACCEPTED[name]())
    measured = read_in_a_child(path)
    # decoded (a blank page has no QR code: the reader says so), not refused unread
    assert measured["outcomes"] and all(o[1] != ["sheet.too_large"] for o in measured["outcomes"]), measured
    assert measured["rss_mb"] < BUDGET_MB, measured
    assert measured["cpu_s"] < BUDGET_CPU_S, measured


def test_a_file_that_takes_too_long_has_the_pages_left_refused_not_read():
    data = bombs.tiff(width=2_000, height=2_000, strip=bombs.deflated_zeros(4_000_000), page_count=50)
    pages = list(pages_from_bytes("slow.tif", data, Limits(file_cpu_s=0.05)))
    assert len(pages) == 50
    assert pages[0].problem is None
    assert {p.problem for p in pages[-10:]} == {"sheet.too_slow"}


def test_a_pdf_whose_rendering_runs_out_of_cpu_is_refused():
    pages = list(pages_from_bytes("slow.pdf", _pdf_bytes(3), Limits(file_cpu_s=0.0001)))
    assert [p.problem for p in pages] == ["sheet.too_slow"] * 3
