"""`spilno ballots print` at a support point: the cycle comes only from a package the
server signed; a bad count, device or file is refused with a clear message and leaves
no PDF behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paper.layout_json import layout_from_json
from spilno.cli import main
from sync import signing
from sync.device_store import DeviceStore
from tests.kiosk.terminal_setup import COMMUNITY, PackageSigner, make_package, school_contest_cycle

CYCLE = "31"  # the open cycle of tests/kiosk/terminal_setup.py's package


@pytest.fixture
def signer() -> PackageSigner:
    return PackageSigner()


def enrol(path: Path, signer: PackageSigner, *, kind: str = "support_point", device: str = "S-0001") -> Path:
    store = DeviceStore(path)
    store.save_enrolment(
        device=device,
        kind=kind,
        community=COMMUNITY,
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url="http://127.0.0.1:9",
        server_key=signer.public_key,
    )
    return path


@pytest.fixture
def store_path(tmp_path, signer) -> Path:
    path = enrol(tmp_path / "point.db", signer)
    store = DeviceStore(path)
    store.store_package(signer.envelope())
    store.close()
    return path


def run(*args: str):
    return CliRunner().invoke(main, ["ballots", "print", *args])


def test_an_operator_prints_numbered_sheets_from_the_support_points_package(store_path, tmp_path):
    out, layout_file = tmp_path / "forms.pdf", tmp_path / "layout.json"
    result = run(
        "--store",
        str(store_path),
        "--cycle",
        CYCLE,
        "--first",
        "41",
        "--count",
        "3",
        "--out",
        str(out),
        "--layout-json",
        str(layout_file),
        "--json",
    )
    assert result.exit_code == 0, result.output
    line = json.loads(result.output)
    assert line["first_serial"] == "S0001-000041" and line["last_serial"] == "S0001-000043"
    assert line["sheets"] == 3 and line["pages"] == 3
    assert out.read_bytes().startswith(b"%PDF")
    layout = layout_from_json(layout_file.read_text())
    assert layout.layout_hash == line["layout_hash"] and layout.cycle_id == 31
    plain = run("--store", str(store_path), "--cycle", CYCLE, "--count", "1", "--out", str(out))
    assert "Надруковано 1 арк." in plain.output and "printed 1 sheets" in plain.output


def test_a_package_file_is_checked_with_the_servers_key(signer, tmp_path):
    package = tmp_path / "package.json"
    package.write_text(json.dumps(signer.envelope()))
    out = tmp_path / "forms.pdf"
    args = [
        "--package",
        str(package),
        "--device",
        "S-0002",
        "--cycle",
        CYCLE,
        "--count",
        "2",
        "--out",
        str(out),
    ]
    result = run(*args, "--server-key", signer.public_key, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["first_serial"] == "S0002-000001"
    out.unlink()
    impostor = PackageSigner()
    refused = run(*args, "--server-key", impostor.public_key)
    assert refused.exit_code == 1 and "bad signature" in refused.output and not out.exists()
    forged = impostor.envelope(make_package(signer.public_key))
    package.write_text(json.dumps(forged))
    refused = run(*args, "--server-key", signer.public_key)
    assert refused.exit_code == 1 and "Пакет не прийнято" in refused.output and not out.exists()
    no_key = run(*args)
    assert no_key.exit_code == 1 and "--server-key" in no_key.output


def test_an_altered_package_file_is_refused_even_with_the_store(store_path, signer, tmp_path):
    envelope = signer.envelope()
    envelope["package"] = envelope["package"].replace('"max_total":3', '"max_total":9')
    package = tmp_path / "package.json"
    package.write_text(json.dumps(envelope))
    out = tmp_path / "forms.pdf"
    result = run(
        "--store",
        str(store_path),
        "--package",
        str(package),
        "--cycle",
        CYCLE,
        "--count",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 1 and "bad signature" in result.output and not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--count", "0"], "від 1 до 5000"),
        (["--count", "5001"], "1 to 5000"),
        (["--count", "-3"], "від 1 до 5000"),
        (["--first", "999999", "--count", "2"], "999999"),
        (["--first", "0", "--count", "2"], "999999"),
        (["--count", "1", "--device", "S-0002"], "enrolled with"),
        (["--count", "1", "--cycle", "999"], "no such cycle"),
        (["--count", "abc"], "not a valid integer"),
    ],
)
def test_bad_numbers_and_names_are_refused_with_a_clear_message(store_path, tmp_path, args, expected):
    out = tmp_path / "forms.pdf"
    defaults = ["--cycle", CYCLE] if "--cycle" not in args else []
    result = run("--store", str(store_path), *defaults, *args, "--out", str(out))
    assert result.exit_code != 0
    assert expected in result.output
    assert not out.exists()


@pytest.mark.parametrize("device", ["S0001", "s-0001", "S-0001\u202e", "S-" + "0" * 5000, "С-0001"])
def test_a_malformed_device_code_is_refused(signer, tmp_path, device):
    package = tmp_path / "package.json"
    package.write_text(json.dumps(signer.envelope()))
    out = tmp_path / "forms.pdf"
    result = run(
        "--package",
        str(package),
        "--server-key",
        signer.public_key,
        "--device",
        device,
        "--cycle",
        CYCLE,
        "--count",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 1 and "S-0001" in result.output and not out.exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"\xff\xfe\x00", b"[]", b'{"package": 1, "signature": 2, "key": 3}', b"[" * 100_000],
)
def test_a_malformed_package_file_is_refused(signer, tmp_path, content):
    package = tmp_path / "package.json"
    package.write_bytes(content)
    out = tmp_path / "forms.pdf"
    result = run(
        "--package",
        str(package),
        "--server-key",
        signer.public_key,
        "--device",
        "S-0001",
        "--cycle",
        CYCLE,
        "--count",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 1
    assert "Пакет не прийнято" in result.output or "cannot read the package" in result.output
    assert not out.exists()


def test_a_terminal_does_not_print_ballots(signer, tmp_path):
    path = enrol(tmp_path / "terminal.db", signer, kind="terminal", device="T-0001")
    result = run("--store", str(path), "--cycle", CYCLE, "--count", "1", "--out", str(tmp_path / "f.pdf"))
    assert result.exit_code == 1 and "not one" in result.output


def test_a_store_without_a_package_or_without_a_file_is_refused(signer, tmp_path):
    path = enrol(tmp_path / "point.db", signer)
    out = tmp_path / "f.pdf"
    result = run("--store", str(path), "--cycle", CYCLE, "--count", "1", "--out", str(out))
    assert result.exit_code == 1 and "no cycle package" in result.output
    missing = run("--store", str(tmp_path / "nope.db"), "--cycle", CYCLE, "--count", "1", "--out", str(out))
    assert (
        missing.exit_code == 1 and "no device file" in missing.output and not (tmp_path / "nope.db").exists()
    )
    neither = run("--cycle", CYCLE, "--count", "1", "--out", str(out))
    assert neither.exit_code == 1 and "exactly one source" in neither.output


def test_school_contests_are_not_printed_on_paper(signer, tmp_path):
    package = make_package(signer.public_key, cycles=[school_contest_cycle(60, [])])
    path = tmp_path / "package.json"
    path.write_text(json.dumps(signer.envelope(package)))
    result = run(
        "--package",
        str(path),
        "--server-key",
        signer.public_key,
        "--device",
        "S-0001",
        "--cycle",
        "60",
        "--count",
        "1",
        "--out",
        str(tmp_path / "f.pdf"),
    )
    assert result.exit_code == 1 and "no such cycle" in result.output


def test_a_cycle_whose_voting_ended_is_not_printed(signer, tmp_path):
    package = make_package(signer.public_key)
    package["cycles"][0]["voting_ends_at"] = "2020-01-01T00:00:00Z"
    path = tmp_path / "package.json"
    path.write_text(json.dumps(signer.envelope(package)))
    result = run(
        "--package",
        str(path),
        "--server-key",
        signer.public_key,
        "--device",
        "S-0001",
        "--cycle",
        CYCLE,
        "--count",
        "1",
        "--out",
        str(tmp_path / "f.pdf"),
    )
    assert result.exit_code == 1 and "has ended" in result.output
