"""`spilno hardware check`: staff at a terminal see what is connected and whether it
works; scripts read one JSON object per line and the exit code."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hardware.cli import hardware_group
from tests.hardware.conftest import wait_for
from tests.hardware.videos import frame_with, write_video


def check(*args: str):
    return CliRunner().invoke(hardware_group, ["check", *args])


def json_lines(output: str) -> dict[str, dict]:
    return {line["device"]: line for line in map(json.loads, output.splitlines())}


def test_every_hardware_command_has_help():
    for name, command in hardware_group.commands.items():
        assert (command.help or "").strip(), name
        result = CliRunner().invoke(hardware_group, [name, "--help"])
        assert result.exit_code == 0 and "--json" in result.output
    assert hardware_group.help


def test_all_fakes_work_and_exit_zero():
    result = check("--reader", "fake", "--camera", "fake", "--printer", "none", "--json")
    assert result.exit_code == 0, result.output
    lines = json_lines(result.output)
    assert lines["reader"] == {"device": "reader", "configured": "fake", "ok": True, "state": "no_card",
                               "reader": "Fake Reader 00 00"}  # fmt: skip
    assert lines["camera"]["ok"] and lines["printer"]["ok"]


def test_a_video_as_camera_and_a_folder_printer_are_measured_and_test_printed(tmp_path):
    video = write_video(tmp_path / "cam.avi", [frame_with("X")] * 60, fps=30)
    result = check(
        "--reader", "fake", "--camera", str(video), "--printer", f"file:{tmp_path / 'out'}",
        "--seconds", "0.3", "--print-test", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = json_lines(result.output)
    camera = lines["camera"]
    assert (camera["ok"], camera["width"], camera["height"], camera["declared_fps"]) == (True, 640, 480, 30.0)
    assert camera["measured_fps"] > 0 and camera["decoder"] == "zxing-cpp"
    # every frame was decoded: the card held up during the check is counted, never shown
    assert (camera["codes_read"], camera["decode_ms"] > 0) == (1, True)
    assert "X" not in {value for value in camera.values() if isinstance(value, str)}
    assert lines["printer"]["test_print"] is True
    assert (tmp_path / "out" / "receipt-TEST-0000.pdf").read_bytes().startswith(b"%PDF-")


def test_a_missing_camera_and_a_missing_printer_queue_exit_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp, no lpstat
    result = check("--reader", "fake", "--camera", str(tmp_path / "gone.avi"), "--printer", "lp:receipts")
    assert result.exit_code == 1
    assert "Камера / camera" in result.output and "НЕ ПРАЦЮЄ / NOT WORKING" in result.output
    assert "cannot open" in result.output and "cups-client" in result.output


def test_a_wrong_setting_is_a_usage_error_naming_it():
    result = check("--reader", "fake", "--camera", "fake", "--printer", "cups")
    assert result.exit_code == 2
    assert "printer = 'cups'" in result.output


@pytest.mark.parametrize("queue", ["receipts;reboot", "-o", "two words", "q" * 10_000])
def test_a_hostile_cups_queue_name_is_a_usage_error_and_never_reaches_lp(queue, tmp_path, monkeypatch):
    for command in ("lp", "lpstat"):  # CUPS clients that leave a mark when run
        (tmp_path / command).write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/ran\n')
        (tmp_path / command).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    result = check("--reader", "fake", "--camera", "fake", "--printer", f"lp:{queue}", "--print-test")
    assert result.exit_code == 2
    assert "a queue name is 1-127 bytes" in result.output and len(result.output) < 2000
    assert not (tmp_path / "ran").exists()


def test_the_real_reader_shows_the_card_and_hides_most_of_its_id(make_card):
    from hardware import CardPresent
    from hardware.pcsc_reader import PcscCardReader

    make_card(uid="04A1B2C3D4E5F6").insert()
    waiting = PcscCardReader()
    wait_for(waiting.state, CardPresent)
    waiting.close()
    result = check("--reader", "pcsc", "--camera", "fake", "--json")
    assert result.exit_code == 0, result.output
    reader = json_lines(result.output)["reader"]
    assert reader["state"] == "card_present" and reader["reader"] == "Virtual PCD 00 00"
    assert reader["card_id_tail"] == "E5F6" and "04A1B2C3D4E5F6" not in result.output


def test_pcscd_down_is_no_reader_and_exit_one(pcscd):
    pcscd.stop()
    result = check("--reader", "pcsc", "--camera", "fake", "--json")
    assert result.exit_code == 1
    reader = json_lines(result.output)["reader"]
    assert (reader["ok"], reader["state"]) == (False, "no_reader")
    assert "pcscd" in reader["detail"]
