"""A support point given a package that is signed but does not follow the package
contract refuses it with the parser's own words (the field at fault, both languages,
sync.package_parser) and does nothing else: no PDF, no serial handed out, no sheet
store made, no vote logged, no page served. The same for a package already in the
device file that this release cannot read (stored by an older one)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from appkit.service_pin import hash_pin
from paper.sheet_store import sheets_path_for
from spilno.cli import main
from support_point.issue import DocumentIdentity, IssueDesk, IssueRefused
from support_point.review_app import create_review_app
from sync import signing
from sync.device_store import DeviceStore
from tests.kiosk.terminal_setup import COMMUNITY, PackageSigner, make_package
from tests.paper.corpus import sample_cycle

CYCLE = "31"
WHERE = "cycles[0].categories[0].budget"
# sync.package_parser's message for a budget that is not a number, both languages.
PARSER_SAYS = (
    f"пакет пошкоджено: {WHERE} має бути цілим числом",
    f"malformed package: {WHERE} must be a whole number",
)


def malformed_package(signer: PackageSigner) -> dict:
    """A package the server's key signed, with one field of the wrong type."""
    package = make_package(signer.public_key, cycles=[sample_cycle()])
    package["cycles"][0]["categories"][0]["budget"] = "lots"
    return package


def enrolled(path: Path, signer: PackageSigner) -> Path:
    store = DeviceStore(path)
    store.save_enrolment(
        device="S-0001",
        kind="support_point",
        community=COMMUNITY,
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=signer.public_key,
    )
    store.close()
    return path


def holding_an_unreadable_package(path: Path, signer: PackageSigner) -> Path:
    """A device file whose package was stored by a release that did not read it as this
    one does: put in as it would have been, past today's parser."""
    enrolled(path, signer)
    envelope = signer.envelope(malformed_package(signer))
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO package VALUES (?, ?, ?, ?)", (1, json.dumps(envelope), envelope["package"], 0)
        )
    db.close()
    return path


@pytest.fixture
def signer() -> PackageSigner:
    return PackageSigner()


@pytest.fixture
def package_file(tmp_path, signer) -> Path:
    path = tmp_path / "package.json"
    path.write_text(json.dumps(signer.envelope(malformed_package(signer))))
    return path


def ballots(*args: str):
    return CliRunner().invoke(main, ["ballots", *args])


def refused_with_the_parsers_words(result) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "Пакет не прийнято / package refused:" in result.output
    for words in PARSER_SAYS:
        assert words in result.output


def test_printing_from_a_malformed_package_file_prints_nothing(signer, package_file, tmp_path):
    out, layout = tmp_path / "forms.pdf", tmp_path / "layout.json"
    result = ballots(
        "print", "--package", str(package_file), "--server-key", signer.public_key, "--device", "S-0001",
        "--cycle", CYCLE, "--count", "2", "--out", str(out), "--layout-json", str(layout),
    )  # fmt: skip
    refused_with_the_parsers_words(result)
    assert not out.exists() and not layout.exists()


def test_printing_with_the_store_and_a_malformed_file_hands_out_no_serial(signer, package_file, tmp_path):
    store_path = enrolled(tmp_path / "point.db", signer)
    out = tmp_path / "forms.pdf"
    result = ballots(
        "print", "--store", str(store_path), "--package", str(package_file), "--cycle", CYCLE,
        "--count", "2", "--out", str(out),
    )  # fmt: skip
    refused_with_the_parsers_words(result)
    assert not out.exists()
    assert not sheets_path_for(store_path).exists()  # the serial book was not even opened


def test_printing_from_a_store_holding_an_unreadable_package_prints_nothing(signer, tmp_path):
    store_path = holding_an_unreadable_package(tmp_path / "point.db", signer)
    out = tmp_path / "forms.pdf"
    result = ballots("print", "--store", str(store_path), "--cycle", CYCLE, "--count", "1", "--out", str(out))
    refused_with_the_parsers_words(result)
    assert not out.exists() and not sheets_path_for(store_path).exists()


def test_importing_with_a_malformed_package_file_reads_nothing(signer, package_file, tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "page.png").write_bytes(b"\x89PNG not read anyway")
    result = ballots(
        "import", str(scans), "--package", str(package_file), "--server-key", signer.public_key, "--json"
    )
    refused_with_the_parsers_words(result)
    assert '"outcome"' not in result.output  # no page was read
    store_path = enrolled(tmp_path / "point.db", signer)
    with_store = ballots("import", str(scans), "--store", str(store_path), "--package", str(package_file))
    refused_with_the_parsers_words(with_store)
    assert not sheets_path_for(store_path).exists()


def test_committing_with_an_unreadable_package_logs_nothing(signer, tmp_path):
    store_path = holding_an_unreadable_package(tmp_path / "point.db", signer)
    result = ballots("commit", "--store", str(store_path))
    refused_with_the_parsers_words(result)
    assert not sheets_path_for(store_path).exists()
    store = DeviceStore(store_path)
    assert list(store.entries_from(1, 10)) == []
    store.close()


def test_the_review_page_does_not_start_with_an_unreadable_package(signer, tmp_path, monkeypatch):
    store_path = holding_an_unreadable_package(tmp_path / "point.db", signer)
    pin_hash = hash_pin("482913")

    def serve(*_args, **_kwargs):
        raise AssertionError("the review page was served")

    monkeypatch.setattr("werkzeug.serving.run_simple", serve)
    result = ballots("review", "--store", str(store_path), "--pin-hash", pin_hash)
    refused_with_the_parsers_words(result)
    assert not sheets_path_for(store_path).exists()
    with pytest.raises(RuntimeError) as refused:
        create_review_app({"STORE_PATH": str(store_path), "PIN_HASH": pin_hash})
    assert all(words in str(refused.value) for words in PARSER_SAYS)


def test_the_issue_desk_issues_nothing_from_an_unreadable_package(signer, tmp_path):
    from paper.sheet_store import SheetStore

    store_path = holding_an_unreadable_package(tmp_path / "point.db", signer)
    device, sheets = DeviceStore(store_path), SheetStore(tmp_path / "sheets.db")
    desk = IssueDesk(device, sheets)
    try:
        assert desk.open_cycles() == [] and desk.issued_today() == []
        with pytest.raises(IssueRefused) as refused:
            desk.issue_sheet(31, DocumentIdentity("passport", "АВ123456", True), operator="Олена")
        assert refused.value.code == "forms.cycle"
        assert sheets.query("SELECT COUNT(*) FROM issued_sheets") == [(0,)]
    finally:
        sheets.close()
        device.close()
