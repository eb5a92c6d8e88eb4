"""The sheet store keeps every page reading: the same image twice changes nothing, the
same serial from another image goes to a person, rejected pages are kept for the record.

The helpers here (a support point with its package, cached corpus sheets) are shared by
test_review.py, test_commit.py and test_review_app.py."""

from __future__ import annotations

import functools
import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from paper.reader import SheetReader, reader_for_package
from paper.review import keep_reading
from paper.scan_files import read_with_previews
from paper.sheet_store import SheetStore, sheets_path_for
from support_point.commit import cycles_of
from sync import signing
from sync.cycle_package import CyclePackage, PackagedCycle
from sync.device_store import DeviceStore
from sync.package_parser import parse_package
from tests.kiosk.terminal_setup import COMMUNITY, PackageSigner, make_package
from tests.paper.corpus import Distortion, MarkKind, encode, make_sheet, sample_cycle

T0 = 1_800_000_000_000  # a fixed server-corrected moment (ms), 2027-01-15


@functools.cache
def sheet_file(serial: str, marks: tuple[tuple[int, str], ...], jpeg: int | None = None) -> bytes:
    """A filled sheet's file bytes, made once per test run (rendering costs ~0.3 s)."""
    image, answer = make_sheet(
        sample_cycle(), {pid: MarkKind(kind) for pid, kind in marks}, Distortion(jpeg_quality=jpeg), 200,
        serial=serial,
    )  # fmt: skip
    return encode(image, answer)


ACCEPTED_A = ("S0001-000001", ((101, "tick"), (105, "cross")))
UNCLEAR_B = ("S0001-000002", ((102, "cancelled"), (106, "tick")))
BLANK_C = ("S0001-000003", ())
OVERVOTE_D = ("S0001-000004", ((101, "tick"), (102, "tick"), (103, "tick"), (105, "tick")))
OTHER_POINT = ("S0002-000001", ((101, "tick"), (105, "tick")))


@dataclass
class Point:
    """A support point: its device store, its sheet store, and a reader for its package."""

    device_path: Path
    device: DeviceStore
    sheets: SheetStore
    package: CyclePackage
    reader: SheetReader
    folder: Path

    @property
    def cycles(self) -> dict[int, PackagedCycle]:
        return cycles_of(self.package)

    def write(self, name: str, spec: tuple, jpeg: int | None = None) -> Path:
        path = self.folder / name
        path.write_bytes(sheet_file(spec[0], spec[1], jpeg))
        return path

    def keep(self, *paths: Path, now_ms: int = T0) -> list[tuple[str, list[str]]]:
        return [
            keep_reading(
                self.sheets, reading, preview, cycles=self.cycles, serial_prefix="S0001", now_ms=now_ms
            )
            for reading, preview in read_with_previews(paths, self.reader)
        ]


def enrolled_point(tmp_path: Path, kind: str = "support_point") -> tuple[Path, CyclePackage]:
    """An enrolled device file holding a package of the sample cycle, and that package
    as the device reads it."""
    signer = PackageSigner()
    path = tmp_path / "point.db"
    store = DeviceStore(path)
    store.save_enrolment(
        device="S-0001",
        kind=kind,
        community=COMMUNITY,
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=signer.public_key,
    )
    package = make_package(signer.public_key, cycles=[sample_cycle()])
    store.store_package(signer.envelope(package))
    store.close()
    return path, parse_package(package)


@pytest.fixture
def point(tmp_path) -> Point:
    path, package = enrolled_point(tmp_path)
    folder = tmp_path / "scans"
    folder.mkdir()
    device = DeviceStore(path)
    sheets = SheetStore(sheets_path_for(path))
    yield Point(path, device, sheets, package, reader_for_package(package), folder)
    sheets.close()
    device.close()


def test_an_accepted_sheet_is_kept_with_its_boxes_preview_and_becomes_ready(point):
    [(outcome, reasons)] = point.keep(point.write("a.png", ACCEPTED_A))
    assert (outcome, reasons) == ("accepted", [])
    sheet = point.sheets.sheet(31, "S0001-000001")
    assert sheet.state == "ready" and sheet.selections == (101, 105) and sheet.ready_at_ms == T0
    [page] = point.sheets.pages_of(31, "S0001-000001")
    assert page.file.endswith("a.png") and len(page.image_sha256) == 64 and page.read_at_ms == T0
    assert {b.project_id: b.verdict for b in page.boxes}[101] == "marked" and page.box(101).score > 0.1
    preview = Image.open(io.BytesIO(point.sheets.preview(page.id)))
    assert preview.format == "JPEG" and preview.height == 1000


def test_the_same_image_again_is_a_duplicate_and_changes_nothing(point):
    path = point.write("a.png", ACCEPTED_A)
    point.keep(path)
    before = (point.sheets.page_count(), point.sheets.sheet(31, "S0001-000001"))
    [(outcome, reasons)] = point.keep(path, now_ms=T0 + 60_000)
    assert (outcome, reasons) == ("duplicate", [])
    assert (point.sheets.page_count(), point.sheets.sheet(31, "S0001-000001")) == before


def test_the_same_serial_from_another_image_goes_to_review(point):
    point.keep(point.write("a.png", ACCEPTED_A))
    [(outcome, reasons)] = point.keep(point.write("a-again.jpg", ACCEPTED_A, jpeg=85))
    assert outcome == "needs_review" and reasons == ["sheet.duplicate_serial"]
    sheet = point.sheets.sheet(31, "S0001-000001")
    assert sheet.state == "review" and sheet.reasons == ("sheet.duplicate_serial",)
    assert sheet.ready_at_ms is None  # no longer ready: it gets a new moment when it is again
    assert len(point.sheets.pages_of(31, "S0001-000001")) == 2


def test_a_page_in_review_keeps_a_zoomed_crop_of_every_box(point):
    """Review may correct any box, not only the unclear one, so each has its picture."""
    [(outcome, reasons)] = point.keep(point.write("b.jpg", UNCLEAR_B, jpeg=80))
    assert outcome == "needs_review" and "sheet.marginal_mark" in reasons
    [page] = point.sheets.pages_of(31, "S0001-000002")
    for box in page.boxes:
        assert point.sheets.crop(page.id, box.project_id).startswith(b"\x89PNG"), box
    assert point.sheets.sheet(31, "S0001-000002").state == "review"


def test_rejected_pages_are_kept_for_the_record_without_a_sheet(point, tmp_path):
    notes = point.folder / "notes.txt"
    notes.write_text("not a scan")
    huge = point.folder / "\u202ehuge.png"
    # A well-formed header (8-bit grey) that claims 99 999 x 99 999 pixels, and no data.
    huge.write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        + (99_999).to_bytes(4, "big") * 2
        + bytes([8, 0, 0, 0, 0])
        + b"\x00" * 15
    )
    results = point.keep(notes, huge)
    assert results == [("rejected", ["sheet.not_an_image"]), ("rejected", ["sheet.too_large"])]
    assert point.sheets.page_count() == 2 and point.sheets.sheets() == []


def test_a_sheet_printed_by_another_support_point_is_refused(point):
    [(outcome, reasons)] = point.keep(point.write("other.png", OTHER_POINT))
    assert (outcome, reasons) == ("rejected", ["sheet.other_point"])
    assert point.sheets.sheets() == []


def test_decisions_cannot_be_rewritten_or_deleted(point):
    point.keep(point.write("b.jpg", UNCLEAR_B, jpeg=80))
    point.sheets.add_decision(31, "S0001-000002", "spoil", operator="Оля", now_ms=T0, reason="порваний")
    db = sqlite3.connect(point.sheets.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE decisions SET operator = 'X'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM decisions")
    db.close()


def test_a_file_that_is_not_a_sheet_store_is_refused(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        SheetStore(bogus)
