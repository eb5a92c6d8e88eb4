"""`spilno kiosk ...` at the terminal: loading a package from a USB stick, serving the
UI on the loopback interface only, and making the service PIN setting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from appkit.service_pin import pin_matches
from spilno.cli import main
from sync.device_store import DeviceStore

from .conftest import _free_port
from .terminal_setup import OTHER_COMMUNITY, PackageSigner, enrolled_store, make_package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def signer() -> PackageSigner:
    return PackageSigner()


@pytest.fixture
def store_path(tmp_path, signer) -> Path:
    path = tmp_path / "terminal.db"
    enrolled_store(path, signer, with_package=False).close()
    return path


def load(store_path: Path, envelope: dict, tmp_path: Path, *extra: str):
    package_file = tmp_path / "package.json"
    package_file.write_text(json.dumps(envelope))
    return CliRunner().invoke(
        main, ["kiosk", "load-package", "--store", str(store_path), str(package_file), *extra]
    )


def stored_version(store_path: Path) -> int:
    store = DeviceStore(store_path)
    try:
        return store.package_version()
    finally:
        store.close()


def test_a_signed_package_from_a_file_is_loaded(store_path, signer, tmp_path):
    result = load(store_path, signer.envelope(), tmp_path)
    assert result.exit_code == 0, result.output
    assert "Пакет версії 1 збережено" in result.output and "Громадський бюджет 2027" in result.output
    assert stored_version(store_path) == 1
    again = load(store_path, signer.envelope(version=2), tmp_path, "--json")
    assert json.loads(again.output) == {"package_version": 2, "open_cycles": ["Громадський бюджет 2027"]}


def test_a_package_signed_by_another_key_is_refused(store_path, signer, tmp_path):
    impostor = PackageSigner()
    forged = impostor.envelope(make_package(signer.public_key))
    result = load(store_path, forged, tmp_path)
    assert result.exit_code == 1
    assert "Пакет не прийнято" in result.output and "bad signature" in result.output
    assert stored_version(store_path) == 0


def test_an_altered_package_is_refused(store_path, signer, tmp_path):
    envelope = signer.envelope()
    assert '"max_total":3' in envelope["package"]
    envelope["package"] = envelope["package"].replace('"max_total":3', '"max_total":9')
    result = load(store_path, envelope, tmp_path)
    assert result.exit_code == 1 and "bad signature" in result.output


def test_another_communitys_package_is_refused(store_path, signer, tmp_path):
    result = load(store_path, signer.envelope(community=OTHER_COMMUNITY), tmp_path)
    assert result.exit_code == 1 and "пакет для іншої громади" in result.output
    assert stored_version(store_path) == 0


def test_an_older_package_does_not_replace_a_newer_one(store_path, signer, tmp_path):
    assert load(store_path, signer.envelope(version=3), tmp_path).exit_code == 0
    result = load(store_path, signer.envelope(version=2), tmp_path)
    assert result.exit_code == 1 and "newer package" in result.output
    assert stored_version(store_path) == 3


def test_the_server_key_given_by_staff_must_sign_it_and_be_the_enrolled_one(store_path, signer, tmp_path):
    good = signer.envelope()
    assert load(store_path, good, tmp_path, "--server-key", signer.public_key).exit_code == 0
    other = PackageSigner()
    result = load(store_path, signer.envelope(version=2), tmp_path, "--server-key", other.public_key)
    assert result.exit_code == 1 and "bad signature" in result.output
    result = load(
        store_path,
        other.envelope(make_package(signer.public_key, 2)),
        tmp_path,
        "--server-key",
        other.public_key,
    )
    assert result.exit_code == 1 and "not the one this terminal was enrolled with" in result.output
    assert stored_version(store_path) == 1


def test_a_file_that_is_not_a_package_is_refused(store_path, tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\xff\xfe not json")
    result = CliRunner().invoke(main, ["kiosk", "load-package", "--store", str(store_path), str(junk)])
    assert result.exit_code == 1 and "Файл пакета не прочитано" in result.output
    result = load(store_path, {"package": "{}", "signature": "AA==", "key": "x"}, tmp_path)
    assert result.exit_code == 1 and "bad signature" in result.output


def test_run_serves_only_the_loopback_interface(store_path):
    result = CliRunner().invoke(main, ["kiosk", "run", "--store", str(store_path), "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "not a loopback address" in result.output


def test_run_explains_a_missing_store_or_an_unknown_device(tmp_path, store_path):
    result = CliRunner().invoke(main, ["kiosk", "run", "--store", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "enrol the terminal first" in result.output
    result = CliRunner().invoke(main, ["kiosk", "run", "--store", str(store_path), "--printer", "laser"])
    assert result.exit_code == 1 and "PRINTER='laser'" in result.output


def test_run_serves_the_terminal_and_stops_on_sigterm(store_path, signer, tmp_path):
    assert load(store_path, signer.envelope(), tmp_path).exit_code == 0
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "spilno",
        "kiosk",
        "run",
        "--store",
        str(store_path),
        "--port",
        str(port),
    ]
    command += ["--reader", "fake", "--camera", "none", "--printer", "none"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ
    )
    try:
        state = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/state", timeout=1) as answer:
                    state = json.load(answer)
                break
            except OSError:
                time.sleep(0.1)
        assert state is not None and state["step"] == "attract"
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=10)[0].decode()
    assert process.returncode == 0, output


def test_hash_pin_prints_a_hash_of_the_pin_and_never_the_pin():
    result = CliRunner().invoke(main, ["kiosk", "hash-pin"], input="482916\n482916\n")
    assert result.exit_code == 0
    stored = result.output.strip().splitlines()[-1]
    assert pin_matches("482916", stored) and "482916" not in stored
    result = CliRunner().invoke(main, ["kiosk", "hash-pin", "--pin", "12"])
    assert result.exit_code == 1


def test_the_kiosk_group_keeps_export_bundle_and_lists_every_command():
    output = CliRunner().invoke(main, ["kiosk", "--help"]).output
    for name in ("run", "load-package", "hash-pin", "export-bundle"):
        assert name in output


def test_the_deploy_files_run_the_kiosk_sync_and_chromium_in_kiosk_mode():
    deploy = ROOT / "kiosk" / "deploy"
    kiosk_unit = (deploy / "spilno-kiosk.service").read_text()
    assert "spilno kiosk run --store /var/lib/spilno/terminal.db --host 127.0.0.1 --port 8080" in kiosk_unit
    assert (
        "spilno device sync --store /var/lib/spilno/terminal.db"
        in (deploy / "spilno-sync.service").read_text()
    )
    screen = (deploy / "chromium-kiosk.sh").read_text()
    for flag in ("--kiosk", "--incognito", "--noerrdialogs", "--disable-translate", "--no-first-run"):
        assert flag in screen
    assert '--app="$URL"' in screen and "http://127.0.0.1:8080" in screen
    assert os.access(deploy / "chromium-kiosk.sh", os.X_OK)
    readme = (deploy / "README.md").read_text()
    for name in ("spilno-kiosk.service", "spilno-sync.service", "chromium-kiosk.sh"):
        assert name in readme


def test_a_terminal_not_enrolled_yet_cannot_take_a_package(tmp_path, signer):
    bare = tmp_path / "bare.db"
    DeviceStore(bare).close()
    result = load(bare, signer.envelope(), tmp_path)
    assert result.exit_code == 1 and "device.not_enrolled" in result.output
