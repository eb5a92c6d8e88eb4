"""«Видати бюлетень» on the review page: behind the operator's PIN, the operator reads a
resident's card or types their document, sees the refusal or gets the sheet's PDF, and
cancels and reissues a spoiled sheet from today's list. Every form carries CSRF; a
typed number is never sent back."""

from __future__ import annotations

import re

import pytest

from appkit.service_pin import hash_pin
from hardware.fakes import FakeCardReader
from paper.issue_store import issued_sheet
from support_point.review_app import create_review_app
from tests.support_point.test_issue import (
    ADULT,
    CARD,
    CHILD,
    PASSPORT,
    T_CLOSED,
    cycle_with,
    key_of,
    open_point,
)

PIN = "482913"
PIN_HASH = hash_pin(PIN)


def make_app(point, **config):
    return create_review_app(
        {
            "STORE_PATH": str(point.device_path),
            "PIN_HASH": PIN_HASH,
            "CLOCK": point.clock,
            "MONOTONIC": lambda: 1000.0,
            **config,
        }
    )


@pytest.fixture
def point(tmp_path):
    point = open_point(tmp_path, [cycle_with(min_age=16)])
    yield point
    point.close()


@pytest.fixture
def reader():
    return FakeCardReader()


@pytest.fixture
def app(point, reader):
    return make_app(point, CARD_READER=reader)


def csrf_of(client, path="/") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def signed_in(app, name="Олена Коваль"):
    client = app.test_client()
    client.post("/pin", data={"pin": PIN, "csrf": csrf_of(client)})
    client.post("/operator", data={"operator": name, "csrf": csrf_of(client)})
    return client


def post(client, path, **form):
    return client.post(path, data={"csrf": csrf_of(client), **form}, follow_redirects=True)


def document(client, number=ADULT, kind="rnokpp", cycle_id="31", **extra):
    return post(client, "/issue/document", kind=kind, number=number, cycle_id=cycle_id, **extra)


def issued_count(point) -> int:
    return point.sheets.query("SELECT count(*) FROM issued_sheets")[0][0]


def test_nothing_is_issued_or_shown_before_the_pin(app, point):
    client = app.test_client()
    assert client.get("/issue").status_code == 303
    assert client.get("/issue/S0001-000001.pdf").status_code == 303
    answer = client.post("/issue/document", data={"csrf": csrf_of(client), "kind": "rnokpp", "number": ADULT,
                                                  "cycle_id": "31"})  # fmt: skip
    assert answer.status_code == 303 and issued_count(point) == 0


def test_the_operator_types_a_document_and_gets_the_sheets_pdf(app, point):
    client = signed_in(app)
    assert 'id="issue-link"' in client.get("/").get_data(as_text=True)
    page = client.get("/issue").get_data(as_text=True)
    assert "Громадський бюджет 2027 (голосувати можна з 16 років)" in page
    assert 'id="document-form"' in page and 'name="age_confirmed"' in page and "Сьогодні ще нічого" in page
    answer = document(client)
    page = answer.get_data(as_text=True)
    assert "Видано аркуш S0001-000001" in page and 'id="download"' in page
    assert ADULT not in page and ADULT[:9] not in page  # never echoed
    pdf = client.get("/issue/S0001-000001.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert 'filename="ballot-S0001-000001.pdf"' in pdf.headers["Content-Disposition"]
    assert pdf.headers["Cache-Control"] == "no-store"
    sheet = issued_sheet(point.sheets, "S0001-000001")
    assert (sheet.voter_key, sheet.issued_by) == (key_of("rnokpp", ADULT), "Олена Коваль")
    # Nor is it kept in the session the browser holds.
    cookie = client.get_cookie("session").value
    session = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert ADULT not in str(session) and ADULT not in cookie


def test_a_refusal_is_shown_and_nothing_is_issued(app, point):
    client = signed_in(app)
    page = document(client, CHILD).get_data(as_text=True)
    assert 'role="alert"' in page and "Мешканцеві ще немає 16 років" in page and CHILD not in page
    page = document(client, PASSPORT, "passport").get_data(as_text=True)
    assert "поставте позначку «Вік перевірено»" in page
    assert issued_count(point) == 0
    page = document(client, PASSPORT, "passport", age_confirmed="yes").get_data(as_text=True)
    assert "Видано аркуш S0001-000001" in page
    page = document(client, "ab123456", "passport", age_confirmed="yes").get_data(as_text=True)
    assert "уже має бюлетень S0001-000001" in page and issued_count(point) == 1


@pytest.mark.parametrize(
    "form",
    [
        {"kind": "card", "number": CARD},
        {"kind": "<b>rnokpp</b>", "number": ADULT},
        {"kind": "rnokpp", "number": "1" * 10_000},
        {"kind": "rnokpp", "number": "12345\x0067890"},
        {"kind": "rnokpp", "number": ADULT, "cycle_id": "abc"},
        {"kind": "rnokpp", "number": ADULT, "cycle_id": "99"},
        {"kind": "rnokpp", "number": ADULT, "cycle_id": "9" * 40},
        {"number": ADULT},
    ],
)
def test_a_malformed_or_hostile_form_is_refused_and_changes_nothing(app, point, form):
    client = signed_in(app)
    answer = post(client, "/issue/document", **{"cycle_id": "31", **form})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'role="alert"' in page and "<b>rnokpp</b>" not in page
    assert issued_count(point) == 0


def test_a_form_without_the_csrf_token_issues_nothing(app, point):
    client = signed_in(app)
    client.post(
        "/issue/document", data={"kind": "rnokpp", "number": ADULT, "cycle_id": "31", "csrf": "forged"}
    )
    client.post("/issue/card", data={"cycle_id": "31"})
    assert issued_count(point) == 0


def test_an_oversized_form_is_refused(app, point):
    client = signed_in(app)
    answer = client.post("/issue/document", data={"csrf": csrf_of(client), "kind": "rnokpp",
                                                  "number": "1" * 100_000, "cycle_id": "31"})  # fmt: skip
    assert answer.status_code == 413 and issued_count(point) == 0


def test_the_card_on_the_reader_identifies_the_resident(app, point, reader):
    point.device.eligibility.apply_page(enabled=True, version=1, listed=[key_of("card", CARD)], unlisted=[],
                                        cursor="1:", more=False)  # fmt: skip
    client = signed_in(app)
    assert 'id="card-form"' in client.get("/issue").get_data(as_text=True)
    assert "немає картки" in post(client, "/issue/card", cycle_id="31").get_data(as_text=True)
    reader.unplug()
    assert "не під&#39;єднано" in post(client, "/issue/card", cycle_id="31").get_data(as_text=True)
    reader.plug_in()
    reader.fail_card()
    assert "не вдалося прочитати" in post(client, "/issue/card", cycle_id="31").get_data(as_text=True)
    reader.insert_card(CARD)
    page = post(client, "/issue/card", cycle_id="31").get_data(as_text=True)
    assert "Видано аркуш S0001-000001" in page and CARD not in page
    assert issued_sheet(point.sheets, "S0001-000001").voter_key == key_of("card", CARD)


def test_without_a_reader_the_page_says_to_type_the_document(point):
    client = signed_in(make_app(point))
    page = client.get("/issue").get_data(as_text=True)
    assert 'id="no-reader"' in page and 'id="card-form"' not in page
    assert "не налаштовано" in post(client, "/issue/card", cycle_id="31").get_data(as_text=True)


def test_a_spoiled_sheet_is_cancelled_and_reissued_from_todays_list(app, point):
    client = signed_in(app)
    document(client)
    page = client.get("/issue").get_data(as_text=True)
    assert 'id="row-S0001-000001"' in page and "Зіпсований: скасувати й видати новий" in page
    page = post(client, "/issue/S0001-000001/cancel", reason="", then="reissue").get_data(as_text=True)
    assert "Вкажіть причину" in page and issued_sheet(point.sheets, "S0001-000001").live
    page = post(client, "/issue/S0001-000001/cancel", reason="порвав", then="reissue").get_data(as_text=True)
    assert "Аркуш S0001-000001 скасовано; замість нього видано S0001-000002" in page
    assert "скасовано: порвав — Олена Коваль; замінено на S0001-000002" in page
    assert 'href="/issue/S0001-000002.pdf"' in page
    assert (
        client.get("/issue/S0001-000001.pdf").status_code == 404
    )  # a cancelled sheet is never printed again
    page = post(client, "/issue/S0001-000002/cancel", reason="пішов", then="cancel").get_data(as_text=True)
    assert "Аркуш S0001-000002 скасовано" in page and not issued_sheet(point.sheets, "S0001-000002").live
    page = post(client, "/issue/S0001-000002/cancel", reason="x", then="delete").get_data(as_text=True)
    assert "Форма пошкоджена" in page


@pytest.mark.parametrize("serial", ["S0001-999999", "..%2Fetc", "S0001-000001x"])
def test_an_unknown_serial_has_no_pdf_and_cannot_be_cancelled(app, point, serial):
    client = signed_in(app)
    document(client)
    assert client.get(f"/issue/{serial}.pdf").status_code == 404
    post(client, f"/issue/{serial}/cancel", reason="x", then="cancel")
    assert issued_sheet(point.sheets, "S0001-000001").live


def test_when_no_cycle_is_open_there_is_nothing_to_issue(app, point):
    point.clock.now_ms = T_CLOSED
    client = signed_in(app)
    page = client.get("/issue").get_data(as_text=True)
    assert 'id="no-open-cycle"' in page and 'id="document-form"' not in page
    assert "не відкрите" in document(client).get_data(as_text=True) and issued_count(point) == 0


def test_with_several_cycles_open_the_operator_chooses_one(tmp_path):
    point = open_point(tmp_path, [cycle_with(), cycle_with(id=32, title="Бюджет молоді")])
    try:
        client = signed_in(make_app(point))
        page = client.get("/issue").get_data(as_text=True)
        assert '<select id="document-cycle" name="cycle_id"' in page and "Бюджет молоді" in page
        document(client, cycle_id="32")
        assert issued_sheet(point.sheets, "S0001-000001").cycle_id == 32
    finally:
        point.close()


def test_the_page_is_in_english_on_request(app):
    client = signed_in(app)
    post(client, "/locale", next="/issue")
    page = client.get("/issue").get_data(as_text=True)
    assert "Issue a ballot" in page and "By document" in page and '<html lang="en">' in page
    page = document(client, CHILD).get_data(as_text=True)
    assert "The resident is not yet 16" in page


def test_a_reader_setting_that_names_no_reader_stops_the_start(point):
    with pytest.raises(RuntimeError, match="reader"):
        make_app(point, READER="bluetooth")
    assert make_app(point, READER="fake").extensions["spilno.review"].card_reader is not None
