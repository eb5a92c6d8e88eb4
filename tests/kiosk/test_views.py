"""The Flask shell, through its test client: every page answers only for the current
step, every form needs the visit's token, and malformed or hostile requests change
nothing."""

from __future__ import annotations

import re

import pytest

from kiosk.app import CSP

from .conftest import SERVICE_PIN
from .terminal_setup import logged_votes

CARD = "04A1B2C3D4E5F6"
PAGES = ["/", "/ballot", "/review", "/confirm", "/receipt", "/refused", "/staff/pin", "/staff/document"]
PAGES += ["/service/pin", "/service"]


@pytest.fixture
def kiosk(make_kiosk):
    return make_kiosk()


@pytest.fixture
def client(kiosk):
    return kiosk.app.test_client()


def post(client, kiosk, path: str, **form):
    return client.post(path, data={"token": kiosk.flow.token, **form})


def at_ballot(client, kiosk) -> None:
    kiosk.reader.insert_card(CARD)
    assert client.get("/state").json["step"] == "ballot"


@pytest.mark.parametrize("path", PAGES)
def test_a_page_for_another_step_redirects_to_the_current_one(client, path):
    response = client.get(path)
    if path == "/":
        assert response.status_code == 200
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/"


def test_every_answer_is_uncached_and_under_a_strict_csp(client, kiosk):
    at_ballot(client, kiosk)
    for path in ["/ballot", "/state", "/", "/nowhere"]:
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP


def test_no_page_has_inline_script_or_style(client, kiosk):
    pages = [client.get("/").get_data(as_text=True)]
    at_ballot(client, kiosk)
    pages.append(client.get("/ballot").get_data(as_text=True))
    post(client, kiosk, "/ballot/next")
    post(client, kiosk, "/ballot/next")
    pages.append(client.get("/review").get_data(as_text=True))
    for html in pages:
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert " style=" not in html and "<style" not in html
        assert "http://" not in html and "https://" not in html  # no CDN, no external font


def test_the_state_endpoint_tells_the_page_where_the_visit_is(client, kiosk):
    assert client.get("/state").json == {
        "step": "attract",
        "path": "/",
        "token": kiosk.flow.token,
        "idle": {"warning": False, "seconds_left": 0},
    }
    kiosk.reader.insert_card(CARD)
    state = client.get("/state").json
    assert state["path"] == "/ballot" and state["idle"]["seconds_left"] == 60


def test_a_form_without_the_visits_token_does_nothing(client, kiosk):
    at_ballot(client, kiosk)
    for token in ["", "stale-token-from-an-earlier-visit", "x" * 5000]:
        response = client.post("/ballot/toggle", data={"token": token, "project": "101"})
        assert response.status_code == 303
    assert kiosk.flow.selections == []


def test_a_form_from_the_previous_voter_cannot_act_on_the_next(client, kiosk):
    at_ballot(client, kiosk)
    old_token = kiosk.flow.token
    kiosk.reader.remove_card()
    client.get("/state")
    kiosk.reader.insert_card("04FFEEDDCCBBAA")
    client.get("/state")
    client.post("/ballot/toggle", data={"token": old_token, "project": "101"})
    assert kiosk.flow.step.value == "ballot" and kiosk.flow.selections == []


@pytest.mark.parametrize("project", ["999", "-1", "1e3", "101.0", "", "١٠١", "9" * 200, "201"])
def test_unknown_or_malformed_project_ids_change_nothing(client, kiosk, project):
    at_ballot(client, kiosk)
    response = post(client, kiosk, "/ballot/toggle", project=project)
    assert response.status_code == 303
    assert kiosk.flow.selections == []


def test_choices_over_the_limit_posted_directly_are_refused(client, kiosk):
    at_ballot(client, kiosk)
    for project in ["101", "102", "103", "104"]:
        post(client, kiosk, "/ballot/toggle", project=project)
    assert kiosk.flow.selections == [101, 102]
    page = client.get("/ballot").get_data(as_text=True)
    assert "можна обрати не більше 2" in page
    # Straight to the confirmation with nothing valid: refused at the review.
    post(client, kiosk, "/cancel")
    kiosk.reader.remove_card()  # a new tap for a fresh ballot
    client.get("/state")
    at_ballot(client, kiosk)
    post(client, kiosk, "/confirm")
    post(client, kiosk, "/review/confirm")
    assert kiosk.flow.step.value == "ballot" and logged_votes(kiosk.store) == []


def test_actions_of_another_step_are_ignored(client, kiosk):
    for path in ["/confirm", "/ballot/next", "/review/confirm", "/done", "/service/voting", "/service/exit"]:
        response = post(client, kiosk, path, open="0")
        assert response.status_code == 303 and response.headers["Location"] == "/"
    assert kiosk.flow.step.value == "attract" and logged_votes(kiosk.store) == []


def test_oversized_requests_and_fields_are_refused(client, kiosk):
    response = client.post("/staff/document", data={"token": kiosk.flow.token, "number": "1" * 100_000})
    assert response.status_code == 413
    post(client, kiosk, "/staff")
    post(client, kiosk, "/staff/pin", pin=SERVICE_PIN)
    post(client, kiosk, "/staff/document", kind="rnokpp", number="7" * 3000)
    assert kiosk.flow.notice.text == "identity.too_long"
    post(client, kiosk, "/staff/document", kind="k" * 3000, number="3012409878")
    assert kiosk.flow.notice.text == "identity.unknown_kind"
    page = client.get("/staff/document").get_data(as_text=True)
    assert "7777777777" not in page and "kkkkkkkk" not in page


def test_a_typed_document_number_is_never_rendered_back(client, kiosk):
    post(client, kiosk, "/staff")
    post(client, kiosk, "/staff/pin", pin=SERVICE_PIN)
    post(client, kiosk, "/staff/document", kind="rnokpp", number="3012409871")
    page = client.get("/staff/document").get_data(as_text=True)
    assert "контрольна цифра" in page and "3012409871" not in page
    post(client, kiosk, "/staff/document", kind="rnokpp", number="3012409878")
    for path in ["/ballot", "/state"]:
        assert "3012409878" not in client.get(path).get_data(as_text=True)


def test_the_receipt_shows_only_the_code(client, kiosk):
    at_ballot(client, kiosk)
    post(client, kiosk, "/ballot/toggle", project="101")
    post(client, kiosk, "/ballot/next")
    post(client, kiosk, "/ballot/next")
    post(client, kiosk, "/review/confirm")
    post(client, kiosk, "/confirm")
    page = client.get("/receipt").get_data(as_text=True)
    vote = logged_votes(kiosk.store)[0]
    assert kiosk.flow.receipt.code in page
    for secret in [CARD, vote["voter_key"], vote["id"], "Лавки в парку Слави"]:
        assert secret not in page


def test_a_request_for_another_host_is_refused(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "127.0.0.1:8080"}).status_code == 200


def test_the_language_switch_and_display_choices(client, kiosk):
    post(client, kiosk, "/prefs", choice="locale:en")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en"' in page and "Vote for public budget projects" in page
    post(client, kiosk, "/prefs", choice="contrast")
    post(client, kiosk, "/prefs", choice="large")
    assert 'class="contrast large"' in client.get("/").get_data(as_text=True)
    post(client, kiosk, "/prefs", choice="locale:" + "x" * 500)
    assert kiosk.flow.prefs.locale == "en"


def test_a_terminal_without_a_package_says_so_and_takes_no_card(make_kiosk):
    kiosk = make_kiosk(with_package=False)
    client = kiosk.app.test_client()
    assert "Термінал ще не отримав даних голосування." in client.get("/").get_data(as_text=True)
    kiosk.reader.insert_card(CARD)
    assert client.get("/state").json["step"] == "attract"


def test_a_cycle_not_open_yet_takes_no_votes(make_kiosk):
    kiosk = make_kiosk(package_options={"open_now": False})
    client = kiosk.app.test_client()
    assert "Зараз немає відкритого голосування." in client.get("/").get_data(as_text=True)
    kiosk.reader.insert_card(CARD)
    assert client.get("/state").json["step"] == "attract"
    assert post(client, kiosk, "/staff").headers["Location"] == "/"


def test_a_revoked_terminal_takes_no_more_votes(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    kiosk.store.mark_revoked(1_800_000_000_000)  # what a signed 403 device.revoked leaves
    page = client.get("/").get_data(as_text=True)
    assert "Цей термінал виведено з роботи." in page
    kiosk.reader.insert_card(CARD)
    assert client.get("/state").json["step"] == "attract"
    assert post(client, kiosk, "/staff").headers["Location"] == "/"
    assert kiosk.store.last_seq() == 0


def test_without_a_configured_pin_staff_screens_stay_locked(make_kiosk):
    kiosk = make_kiosk(SERVICE_PIN_HASH=None)
    client = kiosk.app.test_client()
    assert 'id="start-staff"' not in client.get("/").get_data(as_text=True)
    post(client, kiosk, "/service")
    post(client, kiosk, "/service/pin", pin=SERVICE_PIN)
    assert kiosk.flow.step.value == "service_pin"
    assert "Сервісний PIN не налаштовано" in client.get("/service/pin").get_data(as_text=True)


def test_the_maintenance_screen_reports_the_terminal(client, kiosk):
    at_ballot(client, kiosk)
    post(client, kiosk, "/ballot/toggle", project="103")
    post(client, kiosk, "/ballot/next")
    post(client, kiosk, "/ballot/next")
    post(client, kiosk, "/review/confirm")
    post(client, kiosk, "/confirm")
    post(client, kiosk, "/done")
    kiosk.store.record_sync_error("connection refused", now_ms=1_800_000_000_000)
    kiosk.printer.set_out_of_paper()
    post(client, kiosk, "/service")
    post(client, kiosk, "/service/pin", pin=SERVICE_PIN)
    page = client.get("/service").get_data(as_text=True)
    assert re.search(r'id="backlog">1<', page)
    assert "connection refused" in page and "out of paper" in page
    assert "картка на зчитувачі" in page and CARD not in page
    assert "Громадський бюджет 2027" in page
    assert re.search(r'id="voter-list">не застосовується<', page)
    kiosk.store.eligibility.apply_page(
        enabled=True, version=1, listed=["ab" * 32], unlisted=[], cursor="1:" + "ab" * 32, more=True
    )
    assert "завантажується" in client.get("/service").get_data(as_text=True)


def test_settings_come_from_spilno_kiosk_environment_variables(make_kiosk, monkeypatch):
    monkeypatch.setenv("SPILNO_KIOSK_IDLE_WARNING_AFTER_S", "20")
    monkeypatch.setenv("SPILNO_KIOSK_RECEIPT_SHOWN_S", "12.5")
    kiosk = make_kiosk(IDLE_COUNTDOWN_S=5)  # what the caller passes wins over the environment
    timing = kiosk.flow.timing
    assert (timing.idle_warning_after_s, timing.idle_countdown_s, timing.receipt_shown_s) == (20, 5, 12.5)
