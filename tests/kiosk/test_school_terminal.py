"""A school's terminal as the kiosk app runs it: what the attract and refusal screens
say, the school it is set up for (SCHOOL_ID, `spilno kiosk run --school`), and the
maintenance screen."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hardware import NoCard
from kiosk.maintenance import maintenance_report
from qr_codes.codes import CodeError, new_code
from spilno.cli import main

from .terminal_setup import OTHER_SCHOOL, SCHOOL, card_url, make_package, school_contest_cycle

CODE, OTHER_SCHOOLS_CODE = new_code(), new_code()
SCHOOL_ONLY = {
    "cycles": [
        school_contest_cycle(61, [CODE]),
        school_contest_cycle(62, [OTHER_SCHOOLS_CODE], school=OTHER_SCHOOL),
    ]
}
CARD_INVITE = "Прикладіть картку до зчитувача"
CODE_INVITE = "Покажіть картку з кодом камері"


def page(kiosk, path: str = "/") -> str:
    return kiosk.app.test_client().get(path).get_data(as_text=True)


def test_a_terminal_with_only_school_contests_open_invites_code_cards(make_kiosk):
    kiosk = make_kiosk(package_options=SCHOOL_ONLY)
    html = page(kiosk)
    assert f"<h1>{CODE_INVITE}</h1>" in html
    assert "Шкільний бюджет 2027 — Ліцей № 3" in html and "Шкільний бюджет 2027 — Гімназія № 1" in html
    assert CARD_INVITE not in html and 'id="start-staff"' not in html
    assert "Камеру не налаштовано" not in html


def test_a_schools_own_terminal_names_only_its_school(make_kiosk):
    html = page(make_kiosk(package_options=SCHOOL_ONLY, SCHOOL_ID=SCHOOL["id"]))
    assert "Ліцей № 3" in html and "Гімназія № 1" not in html


def test_a_school_terminal_without_a_camera_says_so(make_kiosk):
    html = page(make_kiosk(package_options=SCHOOL_ONLY, CAMERA="none"))
    assert CODE_INVITE in html and "Камеру не налаштовано. Зверніться до працівника." in html


def test_a_terminal_with_residents_and_a_contest_open_invites_both(make_kiosk, package_signer):
    cycles = make_package(package_signer.public_key)["cycles"] + SCHOOL_ONLY["cycles"]
    html = page(make_kiosk(package_options={"cycles": cycles}))
    assert CARD_INVITE in html and "Учні: покажіть камері картку з кодом." in html


def test_a_residents_terminal_does_not_mention_codes(make_kiosk):
    html = page(make_kiosk())
    assert CARD_INVITE in html
    assert "картку з кодом" not in html and "QR-код запрошення" not in html


def test_the_app_takes_code_cards_by_default_and_refuses_in_the_voters_language(make_kiosk):
    kiosk = make_kiosk(package_options=SCHOOL_ONLY)
    client = kiosk.app.test_client()
    client.post("/prefs", data={"token": kiosk.flow.token, "choice": "locale:en"})
    typo = CODE[:-1] + ("2" if CODE[-1] != "2" else "3")
    kiosk.scanner.show_code(card_url(typo))
    assert client.get("/state").json["step"] == "refused"
    html = page(kiosk, "/refused")
    assert CodeError("code.check_failed").message("en") in html
    assert typo not in html and CODE not in html

    client.post("/done", data={"token": kiosk.flow.token})
    kiosk.scanner.show_code(card_url(CODE))
    assert client.get("/state").json["step"] == "ballot"
    assert kiosk.flow.voting.cycle_id == 61


@pytest.mark.parametrize("configured", [SCHOOL["id"], str(SCHOOL["id"])])
def test_a_terminal_set_up_for_one_school_refuses_another_schools_codes(make_kiosk, configured):
    kiosk = make_kiosk(package_options=SCHOOL_ONLY, SCHOOL_ID=configured)
    kiosk.scanner.show_code(card_url(OTHER_SCHOOLS_CODE))
    client = kiosk.app.test_client()
    assert client.get("/state").json["step"] == "refused"
    assert "Цей код іншої школи" in page(kiosk, "/refused")


def test_the_school_comes_from_the_environment_too(make_kiosk, monkeypatch):
    monkeypatch.setenv("SPILNO_KIOSK_SCHOOL_ID", str(OTHER_SCHOOL["id"]))
    kiosk = make_kiosk(package_options=SCHOOL_ONLY)
    assert kiosk.flow.terminal.school_id == OTHER_SCHOOL["id"]


@pytest.mark.parametrize("value", ["abc", 0, -3, True, 1.5, "7; DROP TABLE", "٣", "9" * 40, [7]])
def test_a_school_id_that_is_not_a_number_stops_the_kiosk_with_a_clear_error(make_kiosk, value):
    with pytest.raises(RuntimeError, match="SCHOOL_ID must be a school's number"):
        make_kiosk(package_options=SCHOOL_ONLY, SCHOOL_ID=value)


@pytest.mark.parametrize("value", ["0", "abc", "-1"])
def test_run_refuses_a_school_that_is_not_a_positive_number(tmp_path, value):
    result = CliRunner().invoke(main, ["kiosk", "run", "--store", str(tmp_path / "t.db"), "--school", value])
    assert result.exit_code == 2 and "--school" in result.output


def test_run_documents_the_school_option():
    output = CliRunner().invoke(main, ["kiosk", "run", "--help"]).output
    assert "--school" in output and "school's id" in output


def test_the_maintenance_screen_counts_an_open_contest_as_open_voting(make_kiosk):
    kiosk = make_kiosk(package_options=SCHOOL_ONLY, SCHOOL_ID=SCHOOL["id"])
    parts = kiosk.app.extensions["spilno.kiosk"]
    report = maintenance_report(parts.terminal, parts.devices, NoCard("Fake Reader 00 00"))
    assert report.voting_state == "Голосування відкрите"
    assert report.cycle_title == "Шкільний бюджет 2027 — Ліцей № 3"
