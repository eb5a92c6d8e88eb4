"""The review page: an operator signs in with the PIN, gives their name once, decides
the unclear marks, corrects any box the reader got wrong (saying why), and records the
ready sheets as votes, all through forms with CSRF."""

from __future__ import annotations

import html
import re

import pytest

from appkit.service_pin import hash_pin
from support_point.review_app import create_review_app
from sync.device_store import DeviceStore
from tests.paper.test_review import SHADOW, keep_shadow
from tests.paper.test_sheet_store import (
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


# --- correcting any box ----------------------------------------------------------------


def box_forms(client, serial) -> dict[int, dict]:
    """Each box's form on the sheet page, by project id: its hidden fields and buttons."""
    page = client.get(f"/sheet/31/{serial}").get_data(as_text=True)
    forms = {}
    for form in re.findall(r'<form method="post" action="/sheet/31/[^/]+/box".*?</form>', page, re.S):
        fields = dict(re.findall(r'name="(csrf|page_id|project_id|seen)" value="([^"]*)"', form))
        fields["verdicts"] = re.findall(r'name="verdict" value="(\w+)"', form)
        fields["reason_required"] = bool(re.search(r'name="reason"[^>]*required', form))
        forms[int(fields["project_id"])] = fields
    return forms


def post_box(client, serial, form, verdict, reason=None):
    data = {k: form[k] for k in ("csrf", "page_id", "project_id", "seen")} | {"verdict": verdict}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"/sheet/31/{serial}/box", data=data, follow_redirects=True).get_data(as_text=True)


@pytest.fixture
def shadow_app(app):
    # Crops of every box but 106: the page must fall back for a box without one.
    keep_shadow(app.point, cropped=(101, 102, 103, 104, 105))
    return app


def test_an_operator_fixes_a_shadow_overvote_box_by_box(shadow_app):
    app, client = shadow_app, signed_in(shadow_app)
    page = client.get(f"/sheet/31/{SHADOW}").get_data(as_text=True)
    assert "Обрано більше проєктів" in page  # the reason the sheet waits
    forms = box_forms(client, SHADOW)
    assert set(forms) == {101, 102, 103, 104, 105, 106}  # every box, not only unclear ones
    # A clearly read box offers the other verdict, and the reason is required.
    assert all(f["verdicts"] == ["unmarked"] and f["reason_required"] for f in forms.values())
    for pid in (101, 103, 104, 105):
        refused = post_box(client, SHADOW, forms[pid], "unmarked")  # no reason: nothing changes
        assert "вкажіть причину" in refused
    assert app.point.sheets.decisions(31, SHADOW) == []
    for pid in (101, 103, 104, 105):
        answer = post_box(client, SHADOW, forms[pid], "unmarked", reason="тінь від телефону")
        assert "Рішення збережено" in answer
    page = html.unescape(client.get(f"/sheet/31/{SHADOW}").get_data(as_text=True))
    assert 'id="state">готовий' in page
    assert page.count("виправлено людиною") == 4
    assert (
        "Рішення: не позначено — Олена Коваль, 2027-01-15" in page and "причина: «тінь від телефону»" in page
    )
    decisions = app.point.sheets.decisions(31, SHADOW)
    assert [(d.project_id, d.operator, d.reason, d.decided_at_ms) for d in decisions] == [
        (pid, "Олена Коваль", "тінь від телефону", T0) for pid in (101, 103, 104, 105)
    ]
    answer = client.post("/commit", data={"csrf": csrf_of(client)}, follow_redirects=True)
    assert "Записано голосів:" in answer.get_data(as_text=True)
    assert app.point.sheets.sheet(31, SHADOW).state == "committed"
    device = DeviceStore(app.point.device_path)
    votes = {VoteRecord.from_canonical_body(e.payload).code_id: e for e in device.entries_from(1, 100)}
    device.close()
    assert VoteRecord.from_canonical_body(votes["sheet_" + SHADOW].payload).selections == (102, 106)


def test_every_picture_on_the_page_exists_and_a_box_without_a_crop_points_to_its_page(shadow_app):
    client = signed_in(shadow_app)
    page = client.get(f"/sheet/31/{SHADOW}").get_data(as_text=True)
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len([s for s in sources if "/crop/" in s]) == 5
    assert all(client.get(src).status_code == 200 for src in sources)
    box = re.search(r'<li class="box[^"]*" id="box-106".*?</li>', page, re.S).group(0)
    assert (
        "<img" not in box and 'href="#page-1"' in box and "Збільшеного зображення цієї клітинки немає" in box
    )


def test_unclear_boxes_come_first_and_take_either_answer(app):
    keep_shadow(app.point, marginal=(104,))
    client = signed_in(app)
    page = client.get(f"/sheet/31/{SHADOW}").get_data(as_text=True)
    order = [int(pid) for pid in re.findall(r'<li class="box[^"]*" id="box-(\d+)"', page)]
    assert order == [104, 101, 102, 103, 105, 106]
    assert 'class="box marginal" id="box-104"' in page
    forms = box_forms(client, SHADOW)
    assert forms[104]["verdicts"] == ["marked", "unmarked"] and not forms[104]["reason_required"]
    answer = post_box(client, SHADOW, forms[104], "unmarked")  # no reason needed here
    assert "Рішення збережено" in answer


def test_changing_a_decision_and_setting_a_box_back_shows_the_history(shadow_app):
    app, client = shadow_app, signed_in(shadow_app)
    post_box(client, SHADOW, box_forms(client, SHADOW)[105], "unmarked", reason="тінь")
    form = box_forms(client, SHADOW)[105]
    assert form["verdicts"] == ["marked"] and form["seen"] != "0"
    page = client.get(f"/sheet/31/{SHADOW}").get_data(as_text=True)
    assert "Повернути «позначено», як прочитала машина" in html.unescape(page)
    assert "вкажіть причину" in post_box(client, SHADOW, form, "marked")
    post_box(client, SHADOW, form, "marked", reason="таки позначка")
    page = html.unescape(client.get(f"/sheet/31/{SHADOW}").get_data(as_text=True))
    assert (
        "Попередні рішення (1)" in page and "причина: «тінь»" in page and "причина: «таки позначка»" in page
    )
    first, second = app.point.sheets.decisions(31, SHADOW)
    assert second.replaces == first.id and second.verdict == "marked"


@pytest.mark.parametrize(
    ("tamper", "shown"),
    [
        ({"reason": "тінь\u202e"}, "Вкажіть причину: до 300 знаків"),
        ({"reason": "тінь\x07"}, "Вкажіть причину: до 300 знаків"),
        ({"reason": "я" * 301}, "Вкажіть причину: до 300 знаків"),
        ({"reason": ""}, "вкажіть причину"),
        ({"project_id": "999", "reason": "тінь"}, "немає такої клітинки"),
        ({"verdict": "marginal", "reason": "тінь"}, "Форма пошкоджена"),
        ({"seen": "5", "reason": "тінь"}, "вже ухвалив(ла)"),
    ],
)
def test_a_hostile_correction_is_refused_with_a_message(shadow_app, tamper, shown):
    client = signed_in(shadow_app)
    form = box_forms(client, SHADOW)[101]
    data = {k: form[k] for k in ("csrf", "page_id", "project_id", "seen")} | {"verdict": "unmarked", **tamper}
    answer = client.post(f"/sheet/31/{SHADOW}/box", data=data, follow_redirects=True)
    assert 'role="alert"' in answer.get_data(as_text=True)
    assert shown in html.unescape(answer.get_data(as_text=True))
    assert shadow_app.point.sheets.decisions(31, SHADOW) == []


def test_a_correction_without_the_csrf_token_changes_nothing(shadow_app):
    client = signed_in(shadow_app)
    form = box_forms(client, SHADOW)[101] | {"csrf": "forged"}
    post_box(client, SHADOW, form, "unmarked", reason="тінь")
    assert shadow_app.point.sheets.decisions(31, SHADOW) == []


def test_the_corrections_read_in_english_too(shadow_app):
    client = signed_in(shadow_app)
    client.post("/locale", data={"csrf": csrf_of(client), "next": "/"})
    refused = post_box(client, SHADOW, box_forms(client, SHADOW)[101], "unmarked")
    assert "give a reason" in refused
    post_box(client, SHADOW, box_forms(client, SHADOW)[101], "unmarked", reason="shadow")
    page = html.unescape(client.get(f"/sheet/31/{SHADOW}").get_data(as_text=True))
    assert "Boxes of the sheet" in page and "corrected by a person" in page and "reason: “shadow”" in page


def test_every_review_code_and_label_has_both_languages_with_the_same_placeholders():
    from pathlib import Path

    from paper.messages import MESSAGES, UI, catalog, message, ui_text

    source = Path(__file__).resolve().parents[2] / "paper"
    codes = set(re.findall(r'ReviewError\(\s*"([a-z_]+\.[a-z_]+)"', (source / "review.py").read_text()))
    assert {"review.no_box", "review.override_reason", "review.reason"} <= codes
    for code in codes:
        for locale in ("uk", "en"):
            assert message(code, locale, who="w") != code, code
    for table in (MESSAGES, UI):
        for key, uk in table.items():
            en = catalog("en").texts.get(uk)  # None: no English written
            assert uk.strip() and en and en.strip(), key
            assert set(re.findall(r"{(\w+)}", uk)) == set(re.findall(r"{(\w+)}", en)), key
    template = (source.parent / "support_point" / "templates" / "sheet.html").read_text()
    for key in set(re.findall(r't\("([a-z_]+)"', template)) - {"state_"}:
        assert ui_text(key, "uk") and ui_text(key, "en"), key  # KeyError for a label nobody wrote
