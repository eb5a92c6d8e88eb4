"""PNG scans in every form a scanner or an image editor writes them: colour with each
channel's own noise, 16 bits a sample, a palette, an alpha channel, grey with alpha,
transparency by tRNS. Each is read to the same verdicts as the sheet it shows; a
transparent page is laid on white paper, not on the black its hidden pixels hold."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from paper import image_codec
from paper.inputs import Limits, _png_may_be_transparent, pages_from_bytes, read_pages
from paper.reader import SheetReader
from paper.reading import REJECTED
from paper.sheet_plan import build_layout
from tests.paper.corpus import TEST_FORM_KEY, Distortion, MarkKind, make_sheet, packaged, sample_cycle


@pytest.fixture(scope="module")
def sheet():
    """A filled 200 dpi sheet as scanned (slightly turned, noisy): BGR pixels and its answer."""
    cycle = sample_cycle()
    ids = [p["id"] for p in cycle["projects"]]
    marks = {ids[0]: MarkKind.TICK, ids[1]: MarkKind.CROSS, ids[2]: MarkKind.FILLED}
    return make_sheet(cycle, marks, Distortion(rotation_deg=0.8, noise_sigma=3.0, blur_sigma=0.6), 200, 11)


@pytest.fixture(scope="module")
def reader() -> SheetReader:
    return SheetReader([build_layout(packaged(sample_cycle()))], TEST_FORM_KEY)


def pil_png(image: Image.Image, **options) -> bytes:
    """As libpng's defaults write it (Pillow: zlib level 6, a filter chosen per row)."""
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def colour_noise(bgr: np.ndarray, sigma: float = 3.0) -> np.ndarray:
    """RGB with each channel's own sensor noise, as a colour scanner gives it."""
    noise = np.random.default_rng(5).normal(0.0, sigma, bgr.shape).round()
    return np.clip(bgr[..., ::-1] + noise, 0, 255).astype(np.uint8)


def transparent_paper(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The page with its paper cut out: transparent pixels that hold black, as an image
    editor's "remove background" leaves them. (RGB, alpha)."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    paper = gray > 200
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    rgb[paper] = 0
    alpha = np.where(paper, 0, 255).astype(np.uint8)
    return rgb, alpha


def variants(bgr: np.ndarray) -> dict[str, bytes]:
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    cut_rgb, cut_alpha = transparent_paper(bgr)
    cut_gray = np.where(cut_alpha == 0, 0, gray).astype(np.uint8)
    palette = Image.fromarray(rgb).quantize(64)
    # The palette's entry for the paper made fully transparent by tRNS, its colour black.
    index = np.asarray(palette)
    paper_index = int(np.bincount(index.ravel()).argmax())
    colours = palette.getpalette()
    colours[paper_index * 3 : paper_index * 3 + 3] = [0, 0, 0]
    keyed = palette.copy()
    keyed.putpalette(colours)
    return {
        # zlib's fastest level: a noisy page takes seconds at the default one
        "colour, noise per channel": pil_png(Image.fromarray(colour_noise(bgr)), compress_level=1),
        "colour as OpenCV writes it": cv2.imencode(".png", bgr)[1].tobytes(),
        "colour 16 bits": cv2.imencode(".png", bgr.astype(np.uint16) * 257)[1].tobytes(),
        "grey 16 bits": cv2.imencode(".png", gray.astype(np.uint16) * 257)[1].tobytes(),
        "palette": pil_png(palette),
        "colour with an opaque alpha": pil_png(Image.fromarray(np.dstack([rgb, np.full_like(gray, 255)]))),
        "colour with transparent paper": pil_png(Image.fromarray(np.dstack([cut_rgb, cut_alpha]))),
        "colour 16 bits with transparent paper": cv2.imencode(
            ".png", np.dstack([cut_rgb[..., ::-1], cut_alpha]).astype(np.uint16) * 257
        )[1].tobytes(),
        "grey with transparent paper": pil_png(Image.fromarray(np.dstack([cut_gray, cut_alpha]), "LA")),
        "palette with a transparent paper entry": pil_png(keyed, transparency=paper_index),
    }


@pytest.fixture(scope="module")
def pngs(sheet) -> dict[str, bytes]:
    return variants(sheet[0])


def test_every_kind_of_png_reads_as_the_sheet_it_shows(sheet, pngs, reader):
    bgr, answer = sheet
    for name, data in pngs.items():
        [page] = pages_from_bytes(name, data)
        assert page.problem is None, name
        assert page.gray.dtype == np.uint8 and page.gray.shape == bgr.shape[:2], name
        assert page.image_sha256 == hashlib.sha256(data).hexdigest()
        reading = reader.read(page)
        assert reading.outcome != REJECTED, (name, reading.reasons)
        assert reading.serial == answer.serial, name
        verdicts = {box.project_id: box.verdict for box in reading.boxes}
        assert answer.accepts(verdicts), (name, verdicts)


def test_a_colour_png_becomes_the_grey_a_grey_scan_of_it_would_be(sheet):
    bgr = np.ascontiguousarray(colour_noise(sheet[0])[..., ::-1])  # channels that differ
    [page] = pages_from_bytes("colour.png", cv2.imencode(".png", bgr)[1].tobytes())
    expected = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(int)
    # libpng's own weights for red, green and blue round a little otherwise than OpenCV's
    assert np.abs(page.gray.astype(int) - expected).max() <= 1


def test_transparent_pixels_are_white_paper_and_half_transparent_ones_are_blended():
    gray = np.tile(np.array([0, 100, 200], np.uint8), (4, 1))
    alpha = np.tile(np.array([0, 128, 255], np.uint8), (4, 1))
    rgba = np.dstack([gray, gray, gray, alpha])
    for data in (
        pil_png(Image.fromarray(rgba, "RGBA")),
        pil_png(Image.fromarray(np.dstack([gray, alpha]), "LA")),
        cv2.imencode(".png", rgba.astype(np.uint16) * 257)[1].tobytes(),
    ):
        [page] = pages_from_bytes("alpha.png", data)
        # none -> paper 255; half of 100 on white -> ~178; opaque 200 stays 200
        assert page.gray[0].tolist() == [255, round((100 * 128 + 255 * 127) / 255), 200]


def test_an_opaque_png_is_decoded_straight_to_grey_and_a_transparent_one_is_not(monkeypatch, pngs):
    seen = []
    decode = image_codec.decode_image

    def spy(data, **options):
        seen.append(options.get("transparent", False))
        return decode(data, **options)

    monkeypatch.setattr(image_codec, "decode_image", spy)
    for data in pngs.values():
        list(pages_from_bytes("scan.png", data))
    assert seen == [False] * 5 + [True] * 5


def chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def png_of(colour_type: int, *chunks: bytes) -> bytes:
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, colour_type, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(chunks)


@pytest.mark.parametrize(
    ("data", "transparent"),
    [
        (png_of(6), True),  # RGBA
        (png_of(4), True),  # grey + alpha
        (png_of(2, chunk(b"IDAT", b"x")), False),
        (png_of(2, chunk(b"tRNS", b"\x00" * 6), chunk(b"IDAT", b"x")), True),
        (png_of(3, chunk(b"PLTE", b"\x00" * 6), chunk(b"tRNS", b"\x00"), chunk(b"IDAT", b"x")), True),
        (png_of(2, chunk(b"IDAT", b"x"), chunk(b"tRNS", b"\x00" * 6)), False),  # too late to count
        (png_of(2), False),  # no chunk after the header
        (png_of(2)[:20], False),  # cut inside the header
        (png_of(2, struct.pack(">I", 0xFFFFFFF0) + b"tEXt"), False),  # a chunk longer than the file
        (png_of(2, struct.pack(">I", 3) + b"tR"), False),  # a chunk header cut short
    ],
)
def test_transparency_is_told_from_the_header_and_chunks_before_the_pixels(data, transparent):
    assert _png_may_be_transparent(data) is transparent


@pytest.mark.parametrize(
    "data",
    [
        png_of(6, chunk(b"IDAT", zlib.compress(b"\x00" * 3))),  # RGBA, too few pixels
        png_of(6, chunk(b"IDAT", b"not zlib at all")),
        png_of(2, chunk(b"tRNS", b"\x00" * 6), chunk(b"IDAT", zlib.compress(b"\x00" * 40)[:-6])),
        png_of(4, chunk(b"IEND", b"")),  # grey + alpha with no pixels at all
    ],
)
def test_a_broken_transparent_png_is_unreadable_not_an_error(data):
    assert [(p.gray, p.problem) for p in pages_from_bytes("broken.png", data)] == [(None, "sheet.unreadable")]


def test_a_file_is_read_whole_even_if_it_grew_and_refused_once_it_grew_past_the_limit(
    tmp_path, monkeypatch, sheet
):
    bgr, _answer = sheet
    data = cv2.imencode(".png", bgr)[1].tobytes()
    path = tmp_path / "scan.png"
    path.write_bytes(data)
    [page] = read_pages(path)
    assert page.problem is None and page.image_sha256 == hashlib.sha256(data).hexdigest()

    # The scanner was still writing when the size was taken: 1 000 bytes were there then.
    real_stat = os.stat

    def stat_while_written(name, *args, **kwargs):
        found = real_stat(name, *args, **kwargs)
        return os.stat_result((*found[:6], 1000, *found[7:]))

    monkeypatch.setattr(os, "stat", stat_while_written)
    [page] = read_pages(path)
    assert page.problem is None and page.image_sha256 == hashlib.sha256(data).hexdigest()
    [page] = read_pages(path, Limits(max_bytes=len(data) - 1))
    assert page.problem == "sheet.too_large"
