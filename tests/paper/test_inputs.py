"""Files to pages: every file a scanner, a phone or a careless (or hostile) hand gives
gets a clear outcome, and nothing is decoded that the limits refuse."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest

from paper.forms import print_forms
from paper.inputs import Limits, pages_from_bytes, read_pages
from tests.paper.corpus import TEST_FORM_KEY, long_cycle, packaged, sample_cycle


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with one tiny data chunk: a "bomb"."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64


def outcomes(name: str, data: bytes, limits: Limits = Limits()) -> list[tuple[int, str | None]]:
    return [(p.page_index, p.problem) for p in pages_from_bytes(name, data, limits)]


def blank_page(height: int = 400, width: int = 300) -> np.ndarray:
    return np.full((height, width), 255, np.uint8)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "sheet.not_an_image"),
        (b"hello, this is a letter, not a scan", "sheet.not_an_image"),
        ("\u202etxt.exe\x00\x1b[31m".encode() * 1000, "sheet.not_an_image"),
        (b"GIF89a" + b"\x00" * 100, "sheet.not_an_image"),
        (png_header(20_000, 20_000), "sheet.too_large"),
        (png_header(1654, 2339)[:20], "sheet.unreadable"),  # cut off inside the header
        (png_header(1654, 2339), "sheet.unreadable"),  # a header and no picture
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "sheet.unreadable"),
        (b"%PDF-1.7\n this is not really a PDF", "sheet.unreadable"),
        (b"II*\x00" + struct.pack("<I", 8) + b"\x00" * 4, "sheet.unreadable"),  # a TIFF with no size
        (b"II*\x00" + struct.pack("<I", 4), "sheet.unreadable"),  # a TIFF directory pointing at itself
    ],
)
def test_a_file_that_is_not_a_readable_sheet_gets_a_clear_reason(data, problem):
    assert outcomes("upload", data) == [(0, problem)]


def test_a_jpeg_claiming_a_giant_picture_is_refused_before_decoding():
    _ok, jpeg = cv2.imencode(".jpg", blank_page())
    data = bytearray(jpeg.tobytes())
    at = data.index(b"\xff\xc0")  # the frame header: height and width follow the precision byte
    data[at + 5 : at + 9] = struct.pack(">HH", 30_000, 30_000)
    assert outcomes("photo.jpg", bytes(data)) == [(0, "sheet.too_large")]


def test_an_empty_or_missing_or_oversized_file_is_refused(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert [p.problem for p in read_pages(empty)] == ["sheet.not_an_image"]
    assert [p.problem for p in read_pages(tmp_path / "no such file.png")] == ["sheet.unreadable"]
    assert [p.problem for p in read_pages(tmp_path)] == ["sheet.unreadable"]  # a folder is not a file
    big = tmp_path / "big.png"
    big.write_bytes(cv2.imencode(".png", blank_page())[1].tobytes())
    assert [p.problem for p in read_pages(big, Limits(max_bytes=100))] == ["sheet.too_large"]


def test_png_and_jpeg_become_one_grayscale_page_with_the_files_hash(tmp_path):
    colour = np.full((300, 200, 3), (200, 120, 40), np.uint8)
    for ext in (".png", ".jpg"):
        data = cv2.imencode(ext, colour)[1].tobytes()
        [page] = pages_from_bytes("scan" + ext, data)
        assert page.problem is None and page.gray.shape == (300, 200) and page.gray.ndim == 2
        import hashlib

        assert page.image_sha256 == hashlib.sha256(data).hexdigest()


def test_a_multi_page_tiff_gives_every_page_and_refuses_too_many(tmp_path):
    path = tmp_path / "batch.tiff"
    pages = [np.full((120, 90), 255 - 40 * n, np.uint8) for n in range(3)]
    assert cv2.imwritemulti(str(path), pages)
    read = list(read_pages(path))
    assert [(p.page_index, p.problem) for p in read] == [(0, None), (1, None), (2, None)]
    assert [int(p.gray[0, 0]) for p in read] == [255, 215, 175]
    assert [(p.page_index, p.problem) for p in read_pages(path, Limits(max_pages=2))] == [
        (0, "sheet.too_large")
    ]
    assert [p.problem for p in read_pages(path, Limits(max_side_px=100))] == ["sheet.too_large"] * 3


def test_a_pdf_of_printed_sheets_is_rendered_page_by_page_at_200_dpi(tmp_path):
    out = io.BytesIO()
    print_forms(packaged(sample_cycle()), ["S0001-000001", "S0001-000002"], TEST_FORM_KEY, out)
    path = tmp_path / "batch.pdf"
    path.write_bytes(out.getvalue())
    pages = list(read_pages(path))
    assert [(p.page_index, p.problem) for p in pages] == [(0, None), (1, None)]
    assert pages[0].gray.shape == (2339, 1654)  # A4 at 200 dpi
    assert outcomes("batch.pdf", out.getvalue()) == [(0, None), (1, None)]  # from bytes: a temporary copy


def test_a_pdf_with_more_pages_than_a_batch_is_refused_whole(tmp_path):
    out = io.BytesIO()
    print_forms(packaged(long_cycle(60)), ["S0001-000001", "S0001-000002"], TEST_FORM_KEY, out)
    path = tmp_path / "long.pdf"
    path.write_bytes(out.getvalue())
    assert [(p.page_index, p.problem) for p in read_pages(path, Limits(max_pages=3))] == [
        (0, "sheet.too_large")
    ]


def test_a_pdf_page_too_big_to_render_is_refused_and_the_rest_read(tmp_path):
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(595, 842))
    canvas.showPage()
    canvas.setPageSize((595 * 100, 842))  # 8 m wide: 165 000 px at 200 dpi
    canvas.showPage()
    canvas.save()
    assert outcomes("odd.pdf", out.getvalue()) == [(0, None), (1, "sheet.too_large")]


def test_a_pdf_that_does_not_render_in_time_is_unreadable(tmp_path):
    out = io.BytesIO()
    print_forms(packaged(sample_cycle()), ["S0001-000001"], TEST_FORM_KEY, out)
    assert outcomes("slow.pdf", out.getvalue(), Limits(pdf_page_timeout_s=0.001)) == [(0, "sheet.unreadable")]
