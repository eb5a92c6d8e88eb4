"""`spilno ballots import` at a support point: scanned sheets in, one JSON line per page
out, with the cycles and the community key of the package the server signed."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from spilno.cli import main
from sync import signing
from sync.device_store import DeviceStore
from tests.kiosk.terminal_setup import COMMUNITY, PackageSigner, make_package
from tests.paper.corpus import Distortion, MarkKind, encode, make_sheet, sample_cycle


@pytest.fixture
def signer() -> PackageSigner:
    return PackageSigner()


@pytest.fixture
def store_path(tmp_path, signer) -> Path:
    path = tmp_path / "point.db"
    store = DeviceStore(path)
    store.save_enrolment(
        device="S-0001",
        kind="support_point",
        community=COMMUNITY,
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=signer.public_key,
    )
    store.store_package(signer.envelope(make_package(signer.public_key, cycles=[sample_cycle()])))
    store.close()
    return path


@pytest.fixture
def scans(tmp_path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    image, answer = make_sheet(sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.CROSS}, dpi=200)
    (folder / "a-accepted.png").write_bytes(encode(image, answer))
    image, answer = make_sheet(
        sample_cycle(), {102: MarkKind.CANCELLED, 106: MarkKind.TICK}, Distortion(jpeg_quality=80), 200
    )
    (folder / "b-review.jpg").write_bytes(encode(image, answer))
    (folder / "c-notes.txt").write_text("not a scan")
    return folder


def run(*args: str):
    return CliRunner().invoke(main, ["ballots", "import", *args])


def test_an_operator_reads_a_folder_of_scans_into_one_json_line_per_page(store_path, scans):
    result = run(str(scans), "--store", str(store_path), "--json")
    assert result.exit_code == 1, result.output  # the notes were not read
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["a-accepted.png", "b-review.jpg", "c-notes.txt"]
    accepted, review, refused = lines
    assert accepted["outcome"] == "accepted" and accepted["serial"] == "S0001-000001"
    assert accepted["marked"] == [101, 105] and accepted["marginal"] == [] and accepted["page"] == 1
    assert accepted["sheet_page"] == "1/1" and accepted["scores"]["101"] > 0.1 and accepted["reasons"] == []
    assert review["outcome"] == "needs_review" and review["marginal"] == [102]
    assert "sheet.marginal_mark" in review["reasons"]
    assert refused["outcome"] == "rejected" and refused["reasons"] == ["sheet.not_an_image"]


def test_plain_output_is_ukrainian_first_with_english_and_a_total(store_path, scans):
    result = run(str(scans / "a-accepted.png"), str(scans / "c-notes.txt"), "--store", str(store_path))
    assert result.exit_code == 1, result.output
    assert "прийнято / accepted" in result.output
    assert "Файл не є зображенням чи PDF / The file is not an image or a PDF" in result.output
    assert "Прийнято 1, на перевірку 0, відхилено 1" in result.output


def test_a_signed_package_file_works_without_a_store(signer, scans, tmp_path):
    envelope = tmp_path / "package.json"
    envelope.write_text(json.dumps(signer.envelope(make_package(signer.public_key, cycles=[sample_cycle()]))))
    result = run(
        str(scans / "a-accepted.png"), "--package", str(envelope), "--server-key", signer.public_key, "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["marked"] == [101, 105]
    forged = run(
        str(scans / "a-accepted.png"), "--package", str(envelope), "--server-key", PackageSigner().public_key
    )
    assert forged.exit_code != 0 and "Пакет не прийнято" in forged.output


def test_sheets_need_a_package_and_bad_paths_are_reported_not_crashed_on(store_path, scans, tmp_path):
    no_source = run(str(scans))
    assert no_source.exit_code != 0 and "--store або --package" in no_source.output
    hostile = tmp_path / "\u202egnp.exe\x1b[31m.png"
    hostile.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    result = run(str(hostile), str(tmp_path / "missing.png"), "--store", str(store_path))
    assert result.exit_code == 1, result.output
    assert "\u202e" not in result.output and "\x1b" not in result.output
    assert result.output.count("відхилено / rejected") == 2


def test_a_photo_with_the_page_upside_down_is_read(store_path, tmp_path):
    image, _answer = make_sheet(sample_cycle(), {103: MarkKind.FILLED, 106: MarkKind.TICK}, dpi=200)
    path = tmp_path / "turned.jpg"
    path.write_bytes(cv2.imencode(".jpg", cv2.rotate(image, cv2.ROTATE_180))[1].tobytes())
    result = run(str(path), "--store", str(store_path), "--json")
    line = json.loads(result.output)
    assert line["outcome"] == "accepted" and line["marked"] == [103, 106]


def test_with_a_store_every_page_is_kept_and_a_second_import_is_a_duplicate(store_path, scans):
    from paper.sheet_store import SheetStore, sheets_path_for

    first = run(str(scans), "--store", str(store_path), "--json")
    assert first.exit_code == 1, first.output
    assert [json.loads(line)["outcome"] for line in first.output.splitlines()] == [
        "accepted", "needs_review", "rejected",
    ]  # fmt: skip
    again = run(str(scans), "--store", str(store_path), "--json")
    assert [json.loads(line)["outcome"] for line in again.output.splitlines()] == [
        "duplicate", "duplicate", "rejected",
    ]  # fmt: skip
    plain = run(str(scans / "a-accepted.png"), "--store", str(store_path))
    assert plain.exit_code == 0, plain.output
    assert "уже є / duplicate" in plain.output and "уже були 1" in plain.output
    sheets = SheetStore(sheets_path_for(store_path))
    # The fixture's two scans carry the same serial: the second is a duplicate serial.
    [sheet] = sheets.sheets()
    assert sheets.page_count() == 3 and sheet.state == "review"
    assert set(sheet.reasons) == {"sheet.duplicate_serial"}
    sheets.close()


def test_the_same_serial_from_another_image_is_reported_for_review(store_path, scans, tmp_path):
    image, answer = make_sheet(
        sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.CROSS}, Distortion(jpeg_quality=90)
    )
    other = tmp_path / "a-rescan.jpg"
    other.write_bytes(encode(image, answer))
    run(str(scans / "a-accepted.png"), "--store", str(store_path))
    line = json.loads(run(str(other), "--store", str(store_path), "--json").output)
    assert line["outcome"] == "needs_review" and line["reasons"] == ["sheet.duplicate_serial"]


def test_a_custom_sheet_store_path_and_bad_ones(store_path, scans, tmp_path):
    custom = tmp_path / "elsewhere.db"
    result = run(str(scans / "a-accepted.png"), "--store", str(store_path), "--sheets", str(custom))
    assert result.exit_code == 0 and custom.is_file()
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not sqlite at all" * 200)
    refused = run(str(scans / "a-accepted.png"), "--store", str(store_path), "--sheets", str(bogus))
    assert refused.exit_code != 0 and "Файл аркушів не відкрито" in refused.output
    alone = run(str(scans / "a-accepted.png"), "--package", str(custom), "--sheets", str(custom))
    assert alone.exit_code != 0


def test_the_review_command_refuses_to_start_without_a_pin_hash(store_path, monkeypatch):
    monkeypatch.delenv("SPILNO_SUPPORT_PIN_HASH", raising=False)
    result = CliRunner().invoke(main, ["ballots", "review", "--store", str(store_path)])
    assert (
        result.exit_code != 0
        and "Немає PIN оператора" in result.output
        and "No operator PIN" in result.output
    )


def test_a_watched_scanner_folder_is_read_as_files_arrive_each_once_complete(store_path, tmp_path):
    import threading

    folder = tmp_path / "scanner"
    folder.mkdir()
    image, answer = make_sheet(sample_cycle(), {101: MarkKind.TICK, 105: MarkKind.CROSS}, dpi=200)
    data = encode(image, answer)

    def scanner_writes() -> None:
        # The scanner writes under a temporary name, slowly, then renames: nothing may be
        # read before the file is whole.
        part = folder / "scan-0001.png.part"
        part.write_bytes(data[: len(data) // 2])
        threading.Event().wait(0.5)
        with open(part, "ab") as f:
            f.write(data[len(data) // 2 :])
        part.rename(folder / "scan-0001.png")

    writer = threading.Timer(0.3, scanner_writes)
    writer.start()
    result = run(str(folder), "--store", str(store_path), "--json", "--watch", "--interval", "0.3",
                 "--stop-after", "3")  # fmt: skip
    writer.join()
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(line["file"].rsplit("/", 1)[-1], line["outcome"]) for line in lines] == [
        ("scan-0001.png", "accepted")
    ]
    assert lines[0]["marked"] == [101, 105]


def test_watching_needs_folders_and_a_store(store_path, scans):
    file_given = run(
        str(scans / "a-accepted.png"), "--store", str(store_path), "--watch", "--stop-after", "1"
    )
    assert file_given.exit_code != 0 and "Стежити можна лише за папками" in file_given.output
    signer = PackageSigner()
    no_store = run(str(scans), "--package", str(scans / "c-notes.txt"), "--server-key", signer.public_key,
                   "--watch", "--stop-after", "1")  # fmt: skip
    assert no_store.exit_code != 0 and "Only folders can be watched" in no_store.output


def test_a_file_rejected_before_is_rejected_again_with_its_reason_and_a_failing_status(store_path, tmp_path):
    from tests.paper.bombs import png_claiming

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(12_000, 12_000))
    for _attempt in range(2):
        result = run(str(bomb), "--store", str(store_path), "--json")
        assert result.exit_code == 1, result.output
        [line] = [json.loads(text) for text in result.output.splitlines()]
        assert (line["outcome"], line["reasons"]) == ("rejected", ["sheet.too_large"])
    plain = run(str(bomb), "--store", str(store_path))
    assert plain.exit_code == 1
    assert "відхилено / rejected — Файл завеликий для скану аркуша" in plain.output
    assert "duplicate" not in plain.output
