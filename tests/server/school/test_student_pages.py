"""A student with a code card votes on their phone: by the card's QR link or by typing
the code, sees the ballot, checks the choice, confirms, and is thanked; every way it
can go wrong gets a clear message, a 4xx status, and no vote stored."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from qr_codes.codes import new_code, normalise
from server.models import Project, ProjectStatus, Vote, VotingCode
from server.school.code_votes import CodeRefused
from server.school.codes import issue_codes, replace_code, revoke_code
from server.school.keys import app_code_keys
from tests.factories import csrf

SPENT_UK = "Цим кодом уже проголосували. Кожен код дає один голос."
SPENT_EN = "This code has already been used. Each code gives one vote."


@pytest.fixture
def keys(app):
    return app_code_keys(app)


@pytest.fixture
def contest(make):
    return make.school_contest()


@pytest.fixture
def cards(session, contest, keys):
    issued = issue_codes(session, contest, "6-А", 3, keys)
    session.commit()
    return issued


def project_ids(session, contest) -> list[int]:
    return list(
        session.scalars(
            select(Project.id).where(Project.cycle_id == contest.cycle.id).order_by(Project.number)
        )
    )


def votes(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Vote))


def text(response) -> str:
    # Money and dates are written with no-break spaces (5 000 грн); compare with plain ones.
    return response.get_data(as_text=True).replace("\u00a0", " ").replace("\u202f", " ")


def unescaped(response) -> str:
    return text(response).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


def open_link(client, code: str):
    return client.get(f"/s/{code}")


def type_code(client, code: str, url: str = "/s/"):
    client.get(url)  # the form: the session gets its CSRF token
    return client.post(url, data={"code": code, "csrf_token": csrf(client)})


def choose(client, *projects: int | str):
    return client.post("/s/ballot", data={"project": [str(p) for p in projects], "csrf_token": csrf(client)})


def confirm(client):
    return client.post("/s/confirm", data={"csrf_token": csrf(client)})


def vote(client, code: str, *projects: int):
    assert open_link(client, code).status_code == 303
    assert choose(client, *projects).status_code == 303
    return confirm(client)


# --- the whole way through ----------------------------------------------------------------


def test_student_votes_by_the_cards_link_and_the_card_is_then_spent(client, session, contest, cards, keys):
    first, second, *_ = project_ids(session, contest)
    opened = open_link(client, cards[0].code)
    assert opened.status_code == 303 and opened.headers["Location"] == "/s/ballot"

    ballot = client.get("/s/ballot")
    page = text(ballot)
    assert ballot.status_code == 200
    assert '<html lang="uk">' in page
    assert contest.school.name in page and contest.programme.title in page
    assert "Оберіть від 1 до 2 проєктів" in page
    assert "Шкільний проєкт 1" in page and "5 000 грн" in page
    assert cards[0].code not in page  # the code stays on the server, off the page

    chosen = choose(client, first, second)
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/s/review"
    review = text(client.get("/s/review"))
    assert "Перевірте свій вибір" in review and "Підтвердити голос" in review and "Змінити вибір" in review
    assert "Шкільний проєкт 1" in review and "Шкільний проєкт 2" in review
    assert "Шкільний проєкт 3" not in review
    assert votes(session) == 0  # nothing is stored before the student confirms

    cast = confirm(client)
    assert cast.status_code == 303 and cast.headers["Location"] == "/s/thanks"
    thanks = text(client.get("/s/thanks"))
    assert "Дякуємо! Ваш голос зараховано." in thanks
    stored = session.scalars(select(Vote)).all()
    assert len(stored) == 1
    assert stored[0].channel == "school_code" and stored[0].status == "counted"
    assert stored[0].code_id == keys.verifier(normalise(cards[0].code))
    assert sorted(stored[0].selections) == sorted([first, second])

    again = open_link(client, cards[0].code)
    assert again.status_code == 409
    assert "Код уже використано" in text(again) and SPENT_UK in text(again)
    assert 'href="/s/"' in text(again)  # a way on: another code
    assert votes(session) == 1


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: code.replace("-", " "),
        lambda code: code.replace("-", ""),
        lambda code: "  " + code.lower().replace("-", "  ") + "\n",
        # A Ukrainian keyboard: Cyrillic letters that look like the card's Latin ones.
        lambda code: code.translate(str.maketrans("ABCEHKMPTXY", "АВСЕНКМРТХУ")),
        lambda code: f"https://vote.example.gov.ua/s/{code}",
    ],
    ids=["lowercase", "spaces", "no-dashes", "padded", "cyrillic-lookalikes", "pasted-url"],
)
def test_a_typed_code_is_accepted_however_it_is_written(client, session, contest, cards, typed):
    response = type_code(client, typed(cards[0].code))
    assert response.status_code == 303 and response.headers["Location"] == "/s/ballot"
    assert choose(client, project_ids(session, contest)[0]).status_code == 303
    assert confirm(client).status_code == 303
    assert votes(session) == 1


def test_the_typed_code_form_is_made_for_phones(client):
    page = text(client.get("/s/"))
    field = re.search(r"<input id=\"code\"[^>]*>", page, re.S).group(0)
    for attribute in (
        'autocomplete="off"',
        'autocapitalize="characters"',
        'inputmode="text"',
        'spellcheck="false"',
        'name="code"',
    ):
        assert attribute in field
    assert '<label for="code">Код з картки</label>' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "https://" not in page  # no fonts or scripts from elsewhere


def test_the_student_can_change_the_choice_before_confirming(client, session, contest, cards):
    first, second, third, _fourth = project_ids(session, contest)
    open_link(client, cards[0].code)
    choose(client, first)
    ballot = text(client.get("/s/ballot"))  # "Змінити вибір" leads back here, ticks kept
    assert re.search(rf'value="{first}" id="project-{first}"[^>]*checked', ballot, re.S)
    assert not re.search(rf'value="{second}" id="project-{second}"[^>]*checked', ballot, re.S)
    choose(client, second, third)
    confirm(client)
    session.expire_all()
    assert sorted(session.scalar(select(Vote.selections))) == sorted([second, third])


def test_every_form_carries_a_csrf_token(client, session, contest, cards):
    pages = [text(client.get("/s/")), text(client.get(f"/s/school/{contest.school.id}"))]
    open_link(client, cards[0].code)
    pages.append(text(client.get("/s/ballot")))
    choose(client, project_ids(session, contest)[0])
    pages.append(text(client.get("/s/review")))
    token = csrf(client)
    for page in pages:
        forms = re.findall(r'<form method="post".*?</form>', page, re.S)
        assert forms
        for form in forms:
            assert f'name="csrf_token" value="{token}"' in form


def test_no_page_of_the_vote_is_kept_in_a_cache(client, session, contest, cards):
    responses = [client.get("/s/"), client.post("/s/", data={"code": "x"}), open_link(client, cards[0].code)]
    responses += [client.get("/s/ballot"), choose(client, project_ids(session, contest)[0])]
    responses += [client.get("/s/review"), confirm(client), client.get("/s/thanks")]
    responses += [open_link(client, cards[0].code), client.get("/s/school/1"), client.get("/s/school/999999")]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store", response.request.path


# --- English ------------------------------------------------------------------------------


def test_a_student_can_vote_in_english(client, session, contest, cards):
    form = text(client.get("/s/?lang=en"))
    assert '<html lang="en">' in form and "Code from your card" in form
    type_code(client, cards[0].code)
    ballot = text(client.get("/s/ballot"))
    assert "Choose from 1 to 2 projects" in ballot and "UAH 5,000" in ballot
    choose(client, project_ids(session, contest)[0])
    assert "Check your choice" in text(client.get("/s/review"))
    confirm(client)
    assert "Thank you! Your vote has been counted." in text(client.get("/s/thanks"))
    again = open_link(client, cards[0].code)
    assert again.status_code == 409 and SPENT_EN in text(again)
    back = text(client.get("/s/?lang=uk"))
    assert '<html lang="uk">' in back and "Код з картки" in back


def test_the_language_switch_keeps_the_page_and_never_repeats_a_vote(client, session, contest, cards):
    open_link(client, cards[0].code)
    assert 'href="/s/ballot?lang=en"' in text(client.get("/s/ballot"))
    choose(client, project_ids(session, contest)[0])
    confirm(client)
    # The thanks page is reached by a redirect, so switching language only shows it again.
    thanks = client.get("/s/thanks?lang=en")
    assert "Thank you! Your vote has been counted." in text(thanks)
    assert votes(session) == 1


# --- refusals -----------------------------------------------------------------------------


def typo_of(code: str) -> str:
    return ("3" if code[0] != "3" else "4") + code[1:]


def expect_refusal(response, status: int, code: str, locale: str = "uk") -> None:
    assert response.status_code == status, text(response)[:2000]
    assert CodeRefused(code).message(locale) in unescaped(response)


@pytest.mark.parametrize("locale", ["uk", "en"])
def test_codes_that_cannot_vote_are_refused_with_their_reason(
    client, session, make, contest, cards, keys, locale
):
    lang = f"?lang={locale}"
    # A typo: the check symbol catches it before the database is asked.
    response = client.get(f"/s/{typo_of(cards[0].code)}{lang}")
    assert response.status_code == 400
    wrong = "У коді помилка" if locale == "uk" else "There is a mistake in the code"
    assert wrong in text(response)
    # A well-formed code nobody issued.
    expect_refusal(client.get(f"/s/{new_code()}{lang}"), 404, "code.unknown", locale)
    # A revoked card.
    row = session.get_one(VotingCode, cards[1].code_id)
    revoke_code(session, contest, row, "загубив")
    session.commit()
    expect_refusal(client.get(f"/s/{cards[1].code}{lang}"), 410, "code.revoked", locale)
    # A spent card.
    assert vote(client, cards[2].code, project_ids(session, contest)[0]).status_code == 303
    expect_refusal(client.get(f"/s/{cards[2].code}{lang}"), 409, "code.spent", locale)
    # Too early, and too late.
    early = make.school_contest(open_now=False)
    (early_card,) = issue_codes(session, early, "7-А", 1, keys)
    session.commit()
    expect_refusal(client.get(f"/s/{early_card.code}{lang}"), 403, "code.not_yet", locale)
    early.cycle.voting_starts_at = datetime.now(UTC) - timedelta(days=3)
    early.cycle.voting_ends_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    expect_refusal(client.get(f"/s/{early_card.code}{lang}"), 403, "code.closed", locale)
    assert votes(session) == 1


def test_a_refusal_by_link_offers_to_type_the_code_again(client, cards):
    page = text(client.get(f"/s/{typo_of(cards[0].code)}"))
    assert "Код не підходить" in page
    assert '<a class="button" id="again" href="/s/">Ввести код ще раз</a>' in page


def test_a_typed_code_that_cannot_vote_is_shown_back_with_the_reason(client, session, contest, cards):
    typo = typo_of(cards[0].code)
    response = type_code(client, typo)
    assert response.status_code == 400
    page = text(response)
    assert f'value="{typo}"' in page  # to correct, not to type again from the start
    assert 'aria-invalid="true"' in page and 'role="alert"' in page
    vote(client, cards[1].code, project_ids(session, contest)[0])
    expect_refusal(type_code(client, cards[1].code), 409, "code.spent")


def test_the_schools_own_page_takes_only_its_own_codes(client, session, make, contest, cards, keys):
    other = make.school_contest()
    (foreign,) = issue_codes(session, other, "8-Б", 1, keys)
    session.commit()
    url = f"/s/school/{contest.school.id}"
    page = text(client.get(url))
    assert contest.school.name in page and f'action="{url}"' in page
    expect_refusal(type_code(client, foreign.code, url), 403, "code.other_school")
    expect_refusal(
        client.post(f"{url}?lang=en", data={"code": foreign.code, "csrf_token": csrf(client)}),
        403,
        "code.other_school",
        "en",
    )
    own = type_code(client, cards[0].code, url)
    assert own.status_code == 303 and own.headers["Location"] == "/s/ballot"
    assert choose(client, project_ids(session, contest)[0]).status_code == 303
    assert confirm(client).status_code == 303
    assert votes(session) == 1
    # The card's link is not the school's page: its refusal offers the general form.
    spent = open_link(client, cards[0].code)
    assert spent.status_code == 409 and 'href="/s/"' in text(spent)
    # The general page takes every school's codes.
    assert type_code(client, foreign.code).status_code == 303


@pytest.mark.parametrize("school_id", ["999999", "99999999999999999999", "-1", "abc", "1%00"])
def test_a_school_page_that_does_not_exist_is_not_found(client, school_id):
    response = client.get(f"/s/school/{school_id}")
    assert response.status_code == 404


def test_a_student_page_not_found_says_so_in_the_students_layout(client):
    response = client.get("/s/school/999999")
    assert "Такої сторінки немає" in text(response) and "student.css" in text(response)


def test_a_choice_breaking_the_rule_is_refused_and_nothing_is_stored(client, session, contest, cards):
    first, second, third, _fourth = project_ids(session, contest)
    open_link(client, cards[0].code)
    too_many = choose(client, first, second, third)
    assert too_many.status_code == 400
    assert "Обрано забагато проєктів." in text(too_many) and "Оберіть від 1 до 2 проєктів." in text(too_many)
    none = choose(client)
    assert none.status_code == 400 and "Ви не обрали жодного проєкту." in text(none)
    assert "Обрано замало" not in text(none)
    # A confirm with nothing chosen goes back to the ballot.
    assert confirm(client).headers["Location"] == "/s/ballot"
    english = client.post("/s/ballot?lang=en", data={"project": [], "csrf_token": csrf(client)})
    assert "You have not chosen any project." in text(english)
    english = client.post(
        "/s/ballot?lang=en",
        data={"project": [str(first), str(second), str(third)], "csrf_token": csrf(client)},
    )
    assert english.status_code == 400
    assert "Too many projects are chosen." in text(english) and "Choose from 1 to 2 projects." in text(
        english
    )
    assert votes(session) == 0


def test_projects_not_on_this_ballot_are_refused(client, session, make, contest, cards):
    other = make.school_contest()
    foreign = project_ids(session, other)[0]
    rejected = session.scalars(select(Project).where(Project.cycle_id == contest.cycle.id)).first()
    rejected.status = ProjectStatus.REJECTED.value
    session.commit()
    open_link(client, cards[0].code)
    assert "Шкільний проєкт 1" not in text(client.get("/s/ballot"))
    for project in (foreign, rejected.id, 999_999_999):
        response = choose(client, project)
        assert response.status_code == 400
        assert f"Проєкту {project} немає в цьому бюлетені." in text(response)
    twice = choose(client, foreign + 1000, foreign + 1000)
    assert twice.status_code == 400
    first = project_ids(session, contest)[1]
    twice = choose(client, first, first)
    assert twice.status_code == 400 and f"Проєкт {first} обрано двічі." in text(twice)
    assert votes(session) == 0


@pytest.mark.parametrize(
    "selections",
    [["abc"], ["1.5"], ["-1"], [""], ["1e3"], ["１"], ["1\x00"], ["9" * 30], ["' OR 1=1 --"], ["1"] * 101],
    ids=["word", "fraction", "negative", "empty", "exponent", "fullwidth", "nul", "huge", "sql", "too-many"],
)
def test_a_tampered_ballot_form_is_refused(client, session, contest, cards, selections):
    open_link(client, cards[0].code)
    response = client.post("/s/ballot", data={"project": selections, "csrf_token": csrf(client)})
    assert response.status_code == 400
    assert "Форму пошкоджено" in text(response)
    assert confirm(client).headers["Location"] == "/s/ballot"
    assert votes(session) == 0


def test_a_vote_refused_at_the_last_step_tells_why_and_stores_nothing(client, session, contest, cards, keys):
    first = project_ids(session, contest)[0]
    # Voting ends while the student looks at the review page.
    open_link(client, cards[0].code)
    choose(client, first)
    contest.cycle.voting_ends_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    expect_refusal(confirm(client), 403, "code.closed")
    contest.cycle.voting_ends_at = datetime.now(UTC) + timedelta(days=5)
    session.commit()
    # The card is replaced (reported lost) while the student looks at the review page.
    open_link(client, cards[1].code)
    choose(client, first)
    replace_code(session, contest, session.get_one(VotingCode, cards[1].code_id), "загубив", keys)
    session.commit()
    expect_refusal(confirm(client), 410, "code.revoked")
    # After a refusal the session forgets the code: nothing more happens with it.
    assert client.get("/s/ballot").headers["Location"] == "/s/"
    assert votes(session) == 0


def test_pages_after_the_code_need_a_code_first(client):
    for url in ("/s/ballot", "/s/review", "/s/thanks"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/s/", url
    assert client.post("/s/confirm", data={"csrf_token": csrf(client)}).headers["Location"] == "/s/"


def test_a_form_sent_without_its_csrf_token_is_refused(client, session, contest, cards):
    response = client.post("/s/", data={"code": cards[0].code})
    assert response.status_code == 400 and "Сторінка застаріла" in text(response)
    open_link(client, cards[0].code)
    assert client.post("/s/ballot", data={"project": "1"}).status_code == 400
    choose(client, project_ids(session, contest)[0])
    refused = client.post("/s/confirm", data={"csrf_token": "x" * 43})
    assert refused.status_code == 400
    assert votes(session) == 0
    # The session still holds the code: with the right token the vote goes through.
    assert confirm(client).status_code == 303 and votes(session) == 1


HOSTILE_CODES = [
    "A" * 10_000,
    "\x00" * 20,
    "7KQM\x00" * 4,
    "'; DROP TABLE vote; --",
    "' OR '1'='1",
    "../../etc/passwd",
    "\u202e7KQM-2X9R-TB4H-ZP3W-8CX",
    "<script>alert(1)</script>",
    "%00",
    "",
    " ",
    "\ufeff" * 300,
    "7KQM-2X9R-TB4H-ZP3W-8CXN" * 9,
]


@pytest.mark.parametrize("raw", HOSTILE_CODES, ids=range(len(HOSTILE_CODES)))
def test_hostile_typed_codes_get_a_message_not_an_error(client, session, contest, cards, raw):
    response = type_code(client, raw)
    assert 400 <= response.status_code < 500
    assert 'class="error" role="alert"' in text(response)
    assert "<script>alert" not in text(response)
    assert votes(session) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/s/%00",
        "/s/%00%00%00",
        "/s/..",
        "/s/../",
        "/s/..%2F..%2Fetc%2Fpasswd",
        "/s/%E2%80%AE" + "A" * 19,
        "/s/' OR 1=1 --",
        "/s/" + "A" * 10_000,
        "/s/%FF%FE",
        "/s/7KQM-2X9R-TB4H-ZP3W-8CXN/extra",
    ],
)
def test_hostile_links_get_a_message_not_an_error(client, session, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert votes(session) == 0


def test_a_non_text_code_field_is_handled(client, cards):
    # Two values for one field: the first is read, like any form field.
    client.get("/s/")
    response = client.post("/s/", data={"code": [cards[0].code, "x"], "csrf_token": csrf(client)})
    assert response.status_code == 303
    missing = client.post("/s/", data={"csrf_token": csrf(client)})
    assert missing.status_code == 400 and "Введіть код з картки." in text(missing)


# --- two votes with one code at once --------------------------------------------------------


def race(requests: list) -> list:
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = requests[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_phones_with_one_code_at_the_same_moment_cast_one_vote(app, session, contest, cards):
    first = project_ids(session, contest)[0]
    phones = [app.test_client() for _ in range(6)]
    for phone in phones:
        open_link(phone, cards[0].code)
        assert choose(phone, first).status_code == 303
    results = race([lambda phone=phone: confirm(phone) for phone in phones])
    statuses = sorted(r.status_code for r in results)
    assert statuses == [303] + [409] * 5
    for refused in (r for r in results if r.status_code == 409):
        assert SPENT_UK in text(refused)
    assert votes(session) == 1


def test_a_double_tap_on_confirm_casts_one_vote(app, session, contest, cards):
    first = project_ids(session, contest)[0]
    phone = app.test_client()
    open_link(phone, cards[0].code)
    choose(phone, first)
    # The second tap leaves before the first answer arrives: the same cookie twice.
    twin = app.test_client()
    cookie = phone.get_cookie("spilno_session")
    twin.set_cookie(cookie.key, cookie.value)
    results = race([lambda: confirm(phone), lambda: confirm(twin)])
    assert sorted(r.status_code for r in results) == [303, 409]
    assert votes(session) == 1


def test_a_refused_code_does_not_bring_back_the_code_before_it(client, cards):
    assert open_link(client, cards[0].code).status_code == 303
    assert open_link(client, typo_of(cards[1].code)).status_code == 400
    assert client.get("/s/ballot").headers["Location"] == "/s/"


def readable_cookie(client) -> str:
    """What anyone holding the session cookie can read (it is signed, not encrypted)."""
    import base64
    import zlib

    value = client.get_cookie("spilno_session").value
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if value.startswith(".") else raw).decode()


def test_the_code_is_never_readable_in_the_cookie(client, session, contest, cards):
    code = cards[0].code
    assert open_link(client, code).status_code == 303
    cookie = readable_cookie(client)
    compact = normalise(code)
    assert compact not in cookie and code not in cookie and compact.lower() not in cookie
    row = session.scalar(
        select(VotingCode).where(VotingCode.verifier == app_code_keys(client.application).verifier(compact))
    )
    assert row.verifier not in cookie
    # The ballot still knows which code it votes with, through to the vote.
    assert choose(client, project_ids(session, contest)[0]).status_code == 303
    assert "s_code" in cookie and confirm(client).status_code == 303 and votes(session) == 1
