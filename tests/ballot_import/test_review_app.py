"""The review page: an operator signs in with the PIN, gives their name once, decides
the unclear marks and records the ready sheets as votes, all through forms with CSRF."""

from __future__ import annotations

import re

import pytest

from ballot_import.review_app import create_review_app
from kiosk.service_pin import hash_pin
from sync.device_store import DeviceStore
from tests.ballot_import.test_sheet_store import (
    ACCEPTED_A,
    T0,
    UNCLEAR_B,
    enrolled_point,
    point,  # noqa: F401  (the fixture)
)
from voting import VoteRecord

PIN = "482913"
PIN_HASH = hash_pin(PIN)
B = UNCLEAR_B[0]


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def monotonic() -> Clock:
    return Clock()


@pytest.fixture
def app(point, monotonic):  # noqa: F811
    point.keep(point.write("a.png", ACCEPTED_A), point.write("b.jpg", UNCLEAR_B, jpeg=80))
    point.sheets.close()
    point.device.close()
    app = create_review_app(
        {
            "STORE_PATH": str(point.device_path),
            "PIN_HASH": PIN_HASH,
            "CLOCK": lambda: T0,
            "MONOTONIC": monotonic,
        }
    )
    app.point = point
    return app


def csrf_of(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def signed_in(app, name="Олена Коваль"):
    client = app.test_client()
    client.post("/pin", data={"pin": PIN, "csrf": csrf_of(client)})
    client.post("/operator", data={"operator": name, "csrf": csrf_of(client)})
    return client


def sheet_form(client, serial=B) -> dict:
    page = client.get(f"/sheet/31/{serial}").get_data(as_text=True)
    form = re.search(r'action="/sheet/31/[^/]+/box".*?</form>', page, re.S).group(0)
    return dict(re.findall(r'name="(csrf|page_id|project_id|seen)" value="([^"]*)"', form))


def test_the_page_refuses_to_start_without_a_pin_hash(point):  # noqa: F811
    with pytest.raises(RuntimeError, match="PIN"):
        create_review_app({"STORE_PATH": str(point.device_path), "PIN_HASH": None})
    with pytest.raises(RuntimeError, match="PIN"):
        create_review_app({"STORE_PATH": str(point.device_path), "PIN_HASH": "1234"})


def test_the_page_refuses_a_device_that_is_not_a_support_point(tmp_path):
    path, _package = enrolled_point(tmp_path, kind="terminal")
    with pytest.raises(RuntimeError, match="support point"):
        create_review_app({"STORE_PATH": str(path), "PIN_HASH": PIN_HASH})


def test_nothing_is_shown_before_the_pin_and_every_answer_is_no_store(app):
    client = app.test_client()
    home = client.get("/")
    assert "PIN оператора" in home.get_data(as_text=True) and home.headers["Cache-Control"] == "no-store"
    for path in (f"/sheet/31/{B}", "/image/1", "/crop/2/102"):
        assert client.get(path).status_code == 303
    assert "default-src 'none'" in home.headers["Content-Security-Policy"]


def test_wrong_pins_are_refused_then_locked_out(app, monotonic):
    client = app.test_client()
    for _ in range(2):
        answer = client.post("/pin", data={"pin": "000000", "csrf": csrf_of(client)}, follow_redirects=True)
        assert "Неправильний PIN" in answer.get_data(as_text=True)
    answer = client.post("/pin", data={"pin": "000000", "csrf": csrf_of(client)}, follow_redirects=True)
    assert "Забагато спроб" in answer.get_data(as_text=True)
    # Even the right PIN is not checked while locked.
    answer = client.post("/pin", data={"pin": PIN, "csrf": csrf_of(client)}, follow_redirects=True)
    assert "Забагато спроб" in answer.get_data(as_text=True)
    monotonic.seconds += 31
    answer = client.post("/pin", data={"pin": PIN, "csrf": csrf_of(client)}, follow_redirects=True)
    assert "Хто перевіряє?" in answer.get_data(as_text=True)


def test_a_post_without_the_csrf_token_changes_nothing(app):
    client = app.test_client()
    answer = client.post("/pin", data={"pin": PIN}, follow_redirects=True)
    assert "форму підроблено" in answer.get_data(as_text=True) and "PIN оператора" in answer.get_data(
        as_text=True
    )
    client = signed_in(app)
    form = sheet_form(client)
    form["csrf"] = "forged"
    client.post(f"/sheet/31/{B}/box", data={**form, "verdict": "marked"})
    assert app.point.sheets.decisions(31, B) == []


@pytest.mark.parametrize("name", ["", "Олена\u202e", "x" * 81, "a\x00b"])
def test_the_operator_must_give_a_clean_name(app, name):
    client = app.test_client()
    client.post("/pin", data={"pin": PIN, "csrf": csrf_of(client)})
    answer = client.post("/operator", data={"operator": name, "csrf": csrf_of(client)}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "Вкажіть ім&#39;я оператора" in page and "Хто перевіряє?" in page


def test_an_operator_decides_an_unclear_mark_and_records_the_votes(app):
    client = signed_in(app)
    queue = client.get("/").get_data(as_text=True)
    assert B in queue and ACCEPTED_A[0] not in queue  # the accepted sheet needs nobody
    assert "Нечітка позначка" in queue and "Готові до запису: 1" in queue
    page = client.get(f"/sheet/31/{B}").get_data(as_text=True)
    assert "позначено" in page and "не позначено" in page and "Велостоянки біля шкіл" in page
    form = sheet_form(client)
    assert client.get(f"/crop/{form['page_id']}/102").mimetype == "image/png"
    assert client.get(f"/image/{form['page_id']}").mimetype == "image/jpeg"
    answer = client.post(f"/sheet/31/{B}/box", data={**form, "verdict": "marked"}, follow_redirects=True)
    assert "Рішення збережено" in answer.get_data(as_text=True)
    [decision] = app.point.sheets.decisions(31, B)
    assert decision.operator == "Олена Коваль" and decision.verdict == "marked"
    answer = client.post("/commit", data={"csrf": csrf_of(client)}, follow_redirects=True)
    assert "Записано голосів: 2" in answer.get_data(as_text=True)
    device = DeviceStore(app.point.device_path)
    votes = {VoteRecord.from_canonical_body(e.payload).code_id: e for e in device.entries_from(1, 100)}
    device.close()
    assert set(votes) == {"sheet_S0001-000001", "sheet_S0001-000002"}
    assert VoteRecord.from_canonical_body(votes["sheet_S0001-000002"].payload).selections == (102, 106)


@pytest.mark.parametrize(
    "tamper",
    [
        {"page_id": "abc"},
        {"project_id": "101"},  # a clearly read box
        {"project_id": "-1"},
        {"seen": "9" * 40},
        {"verdict": "both"},
        {"page_id": "١"},  # an Arabic-Indic digit: isdigit() but not ours
    ],
)
def test_a_tampered_form_field_changes_nothing(app, tamper):
    client = signed_in(app)
    form = {**sheet_form(client), "verdict": "marked", **tamper}
    answer = client.post(f"/sheet/31/{B}/box", data=form, follow_redirects=True)
    assert answer.status_code == 200 and 'role="alert"' in answer.get_data(as_text=True)
    assert app.point.sheets.decisions(31, B) == []


def test_a_second_operator_with_a_stale_page_is_told_who_decided(app):
    first, second = signed_in(app, "Олена"), signed_in(app, "Петро")
    stale = sheet_form(second)
    first.post(f"/sheet/31/{B}/box", data={**sheet_form(first), "verdict": "marked"})
    answer = second.post(f"/sheet/31/{B}/box", data={**stale, "verdict": "unmarked"}, follow_redirects=True)
    assert "вже ухвалив(ла) Олена" in answer.get_data(as_text=True)
    assert [d.operator for d in app.point.sheets.decisions(31, B)] == ["Олена"]


def test_spoiling_a_sheet_needs_a_reason_and_records_who(app):
    client = signed_in(app)
    client.post(f"/sheet/31/{B}/spoil", data={"reason": "", "seen": "0", "csrf": csrf_of(client)})
    assert app.point.sheets.sheet(31, B).state == "review"
    client.post(f"/sheet/31/{B}/spoil", data={"reason": "порваний", "seen": "0", "csrf": csrf_of(client)})
    assert app.point.sheets.sheet(31, B).state == "spoiled"
    page = client.get(f"/sheet/31/{B}").get_data(as_text=True)
    assert "порваний — Олена Коваль" in page


def test_an_unknown_or_malformed_serial_is_not_found(app):
    client = signed_in(app)
    assert client.get("/sheet/31/S0001-999999").status_code == 404
    assert client.get("/sheet/31/..%2Fetc").status_code == 404
    assert client.get("/sheet/99/" + B).status_code == 404


def test_the_page_switches_to_english_and_back(app):
    client = signed_in(app)
    answer = client.post(
        "/locale", data={"csrf": csrf_of(client), "next": "https://evil.example/"}, follow_redirects=True
    )
    page = answer.get_data(as_text=True)
    assert "Sheets to review" in page and '<html lang="en">' in page
    client.post("/locale", data={"csrf": csrf_of(client), "next": "/"})
    assert "Аркуші на перевірку" in client.get("/").get_data(as_text=True)


def test_an_oversized_form_is_refused(app):
    client = signed_in(app)
    answer = client.post(
        f"/sheet/31/{B}/spoil", data={"reason": "x" * 100_000, "csrf": csrf_of(client), "seen": "0"}
    )
    assert answer.status_code == 413
    assert app.point.sheets.sheet(31, B).state == "review"
