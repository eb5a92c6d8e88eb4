"""A community moderator enters a support point's tally sheet on a cycle's page: as a CSV
file or typed into a form. Good sheets count, bad ones store nothing and say why, a
second sheet replaces the first only when confirmed, and everything is audited."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Community, CycleKind, PaperTally, PaperTallyLine, Project, Role
from server.services.tally import published_tally
from tests.factories import CSRF_TOKEN, sign_in


@pytest.fixture
def setup(client, make, session):
    """A public-budget cycle open now (small projects: choose up to 2; large: 1), two
    support points, and the community's moderator, signed in."""
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    point = make.device(community, kind="support_point", code="S-0042", name="Пункт у бібліотеці")
    other_point = make.device(community, kind="support_point", code="S-0043", name="Пункт у ЦНАП")
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)
    projects = session.scalars(select(Project).where(Project.cycle_id == cycle.id).order_by(Project.id)).all()
    return {
        "cycle": cycle,
        "community": community,
        "point": point,
        "other_point": other_point,
        "moderator": moderator,
        "small": [p for p in projects if p.title.startswith("Сквер")],
        "large": [p for p in projects if p.title.startswith("Стадіон")],
    }


def page(setup) -> str:
    return f"/console/cycles/{setup['cycle'].id}/paper-tally"


def csv_bytes(*lines: str, header: str = "project_id,votes") -> bytes:
    return ("\r\n".join((header, *lines)) + "\r\n").encode()


def good_file(setup, first_votes: int = 40) -> bytes:
    s1, s2 = setup["small"][:2]
    [l1] = setup["large"][:1]
    return csv_bytes(
        f"{s1.number},{first_votes}",
        f"{s2.number},35",
        f"{l1.number},50",
        "ballots_issued,100",
        "ballots_cast,90",
        "ballots_spoiled,5",
    )


def upload(client, setup, data: bytes, *, device=None, replace=False, lang=None, **fields):
    form = {
        "csrf_token": CSRF_TOKEN,
        "mode": "csv",
        "device_id": str((device or setup["point"]).id),
        "file": (io.BytesIO(data), "tally.csv"),
        **fields,
    }
    if replace:
        form["replace"] = "1"
    url = page(setup) + (f"?lang={lang}" if lang else "")
    response = client.post(url, data=form, content_type="multipart/form-data")
    if response.status_code != 303:
        return response  # refused before a job was started (no file, no support point)
    # A file is a job (run at once here): its page shows the outcome. Read as the page
    # answered before files were jobs: 200 stored or unchanged, 409 awaiting the
    # moderator's confirmation, 422 refused.
    job_page = client.get(response.headers["Location"] + (f"?lang={lang}" if lang else ""))
    assert job_page.status_code == 200
    body = job_page.get_data(as_text=True)
    if 'data-state="done"' in body:
        job_page.status_code = 200
    else:
        job_page.status_code = 409 if "потрібне підтвердження" in body else 422
    return job_page


def type_in(client, setup, numbers: dict[str, str], *, device=None, replace=False, lang=None):
    form = {
        "csrf_token": CSRF_TOKEN,
        "mode": "form",
        "device_id": str((device or setup["point"]).id),
        **numbers,
    }
    if replace:
        form["replace"] = "1"
    return client.post(page(setup) + (f"?lang={lang}" if lang else ""), data=form)


def words(response) -> str:
    """The page's text as a person reads it: tags gone, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def stored(session) -> tuple[list[tuple], list[tuple], int]:
    """(sheets, lines, audit entries) now in the database."""
    session.expire_all()
    sheets = session.execute(
        select(PaperTally.id, PaperTally.device_id, PaperTally.ballots_cast, PaperTally.replaced_at).order_by(
            PaperTally.id
        )
    ).all()
    lines = session.execute(
        select(PaperTallyLine.tally_id, PaperTallyLine.project_id, PaperTallyLine.votes).order_by(
            PaperTallyLine.tally_id, PaperTallyLine.project_id
        )
    ).all()
    # The tally's own records (a job's end has its own, job.*, whatever the outcome).
    tally_audit = select(func.count()).select_from(AuditEvent).where(AuditEvent.action.not_like("job.%"))
    return sheets, lines, session.scalar(tally_audit)


def audit_events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


# --- the happy paths --------------------------------------------------------------------------


def test_a_tally_file_is_stored_counted_and_audited(client, session, setup):
    s1, s2 = setup["small"][:2]
    [l1] = setup["large"][:1]
    response = upload(client, setup, good_file(setup))
    assert response.status_code == 200, words(response)
    text = words(response)
    assert "протокол внесено" in text
    assert "Протокол пункту внесено: 90 бюлетенів у скриньці, 125 голосів за проєкти." in text
    assert "Пункт у бібліотеці (S-0042)" in words(client.get(page(setup)))  # the list of sheets entered

    [sheet] = session.scalars(select(PaperTally)).all()
    assert (sheet.ballots_issued, sheet.ballots_cast, sheet.ballots_spoiled) == (100, 90, 5)
    assert (sheet.source, sheet.device_id, sheet.entered_by) == (
        "csv",
        setup["point"].id,
        setup["moderator"].id,
    )
    assert len(sheet.file_sha256) == 64 and sheet.replaced_at is None
    # Every admitted project has a line, 0 for the ones the sheet did not list.
    lines = dict(session.execute(select(PaperTallyLine.project_id, PaperTallyLine.votes)).all())
    assert len(lines) == 8 and sum(lines.values()) == 125
    assert published_tally(session, setup["cycle"].id) == {s1.id: 40, s2.id: 35, l1.id: 50}

    [event] = audit_events(session, "paper_tally.import")
    assert event.community_id == setup["community"].id and event.target_id == str(setup["cycle"].id)
    assert event.user_id == setup["moderator"].id
    assert event.details["device"] == "S-0042" and event.details["file_sha256"] == sheet.file_sha256
    assert (event.details["ballots_cast"], event.details["votes"], event.details["source"]) == (
        90,
        125,
        "csv",
    )


def test_a_moderator_with_the_paper_in_hand_types_the_numbers_in(client, session, setup):
    s1 = setup["small"][0]
    form_page = client.get(page(setup))
    assert form_page.status_code == 200
    # One field per admitted project, labelled as on the ballot.
    for project in setup["small"] + setup["large"]:
        assert f'name="votes_{project.number}"' in form_page.get_data(as_text=True)
        assert f"№{project.number} {project.title}" in words(form_page)
    response = type_in(client, setup, {"ballots_cast": "12", f"votes_{s1.number}": "7"})
    assert response.status_code == 200, words(response)
    [sheet] = session.scalars(select(PaperTally)).all()
    assert (sheet.source, sheet.file_sha256, sheet.ballots_cast, sheet.ballots_issued) == (
        "form",
        None,
        12,
        None,
    )
    assert published_tally(session, setup["cycle"].id) == {s1.id: 7}
    assert audit_events(session, "paper_tally.import")[0].details["source"] == "form"


def test_the_cycle_page_links_to_the_tally_import_which_documents_the_format(client, session, setup):
    detail = client.get(f"/console/cycles/{setup['cycle'].id}").get_data(as_text=True)
    assert f'href="{page(setup)}"' in detail and "Імпорт протоколу підрахунку" in detail
    text = words(client.get(page(setup)))
    assert "project_id,votes" in text and "ballots_cast" in text
    english = words(client.get(page(setup) + "?lang=en"))
    assert "Import a tally sheet" in english and "Type in the numbers from the sheet" in english
    assert "counted twice" in english


def test_the_example_file_downloads_and_imports_as_it_is(client, session, setup):
    response = client.get(page(setup) + "/example.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    example = response.get_data()
    assert example.startswith("\ufeff".encode()) and b"project_id,votes,title" in example
    imported = upload(client, setup, example)
    assert imported.status_code == 200, words(imported)
    assert session.scalar(select(PaperTally.ballots_cast)) == 10


# --- the same, another, a replacement ----------------------------------------------------------


def test_the_same_file_twice_changes_nothing(client, session, setup):
    assert upload(client, setup, good_file(setup)).status_code == 200
    before = stored(session)
    again = upload(client, setup, good_file(setup))
    assert again.status_code == 200
    assert "Цей протокол уже внесено з тими самими числами. Нічого не змінено." in words(again)
    assert stored(session) == before
    # The same numbers typed in are the same sheet too.
    s1, s2 = setup["small"][:2]
    [l1] = setup["large"][:1]
    numbers = {"ballots_issued": "100", "ballots_cast": "90", "ballots_spoiled": "5"}
    numbers |= {f"votes_{s1.number}": "40", f"votes_{s2.number}": "35", f"votes_{l1.number}": "50"}
    assert type_in(client, setup, numbers).status_code == 200
    assert stored(session) == before


def test_another_sheet_for_the_same_point_needs_confirmation_then_replaces_the_first(client, session, setup):
    s1 = setup["small"][0]
    assert upload(client, setup, good_file(setup, first_votes=40)).status_code == 200
    before = stored(session)
    first_id = before[0][0][0]

    unconfirmed = upload(client, setup, good_file(setup, first_votes=45))
    assert unconfirmed.status_code == 409
    text = words(unconfirmed)
    assert "потрібне підтвердження" in text and "Замінити попередній протокол" in text
    assert f"№{s1.number} {s1.title} 40 45" in text  # what would change
    assert stored(session) == before

    replaced = upload(client, setup, good_file(setup, first_votes=45), replace=True)
    assert replaced.status_code == 200, words(replaced)
    assert "протокол замінено" in words(replaced)
    sheets, _lines, _audit = stored(session)
    assert [(sid, replaced_at is not None) for sid, _d, _c, replaced_at in sheets] == [
        (first_id, True),
        (first_id + 1, False),
    ]
    assert published_tally(session, setup["cycle"].id)[s1.id] == 45  # only the current sheet counts

    [event] = audit_events(session, "paper_tally.replace")
    assert event.details["replaced_tally_id"] == first_id and event.details["tally_id"] == first_id + 1
    assert event.details["previous"]["votes"] == 125 and event.details["votes"] == 130
    assert len(audit_events(session, "paper_tally.import")) == 1


def test_a_typed_sheet_is_kept_in_the_form_while_confirmation_is_asked(client, session, setup):
    s1 = setup["small"][0]
    assert type_in(client, setup, {"ballots_cast": "12", f"votes_{s1.number}": "7"}).status_code == 200
    response = type_in(client, setup, {"ballots_cast": "12", f"votes_{s1.number}": "8"})
    assert response.status_code == 409
    assert f'name="votes_{s1.number}" type="text"' in response.get_data(as_text=True)
    assert re.search(rf'name="votes_{s1.number}"[^>]*value="8"', response.get_data(as_text=True))
    assert (
        type_in(client, setup, {"ballots_cast": "12", f"votes_{s1.number}": "8"}, replace=True).status_code
        == 200
    )
    assert published_tally(session, setup["cycle"].id) == {s1.id: 8}


def test_each_support_point_has_its_own_sheet_and_both_count(client, session, setup):
    s1 = setup["small"][0]
    assert type_in(client, setup, {"ballots_cast": "12", f"votes_{s1.number}": "7"}).status_code == 200
    second = type_in(
        client, setup, {"ballots_cast": "3", f"votes_{s1.number}": "2"}, device=setup["other_point"]
    )
    assert second.status_code == 200
    assert published_tally(session, setup["cycle"].id) == {s1.id: 9}


def test_the_same_file_for_another_support_point_is_refused(client, session, setup):
    assert upload(client, setup, good_file(setup)).status_code == 200
    before = stored(session)
    response = upload(client, setup, good_file(setup), device=setup["other_point"])
    assert response.status_code == 422
    assert "Цей самий файл уже внесено як протокол пункту S-0042." in words(response)
    assert stored(session) == before


# --- bad input --------------------------------------------------------------------------------


def test_a_file_with_bad_rows_stores_nothing_and_reports_every_row_in_ukrainian_and_english(
    client, session, setup
):
    s1, s2 = setup["small"][:2]
    data = csv_bytes(
        f"{s1.number},-3",
        f"{s2.number},12.5",
        "99999,1",
        f"{s1.number},4",
        "=SUM(B2:B5),1",
        "ballots_cast,90",
    )
    response = upload(client, setup, data)
    assert response.status_code == 422
    text = words(response)
    assert "нічого не збережено" in text
    for expected in (
        "2 votes Кількість не може бути від'ємною.",
        "3 votes Вкажіть ціле число цифрами",
        "4 project_id Проєкту №99999 немає в бюлетені цього циклу.",
        f"5 project_id Проєкт №{s1.number} уже є в рядку 2.",
        "6 project_id Значення схоже на формулу електронної таблиці",
    ):
        assert expected in text
    assert "SUM(" not in response.get_data(as_text=True)  # a cell is never echoed back
    english = words(upload(client, setup, data, lang="en"))
    assert (
        "nothing stored" in english
        and "4 project_id Project No. 99999 is not on this cycle's ballot." in english
    )
    assert stored(session) == ([], [], 0)


def test_a_sheet_with_impossible_totals_is_refused(client, session, setup):
    [l1, l2] = setup["large"][:2]
    data = csv_bytes(f"{l1.number},50", f"{l2.number},41", "ballots_cast,90")
    response = upload(client, setup, data)
    assert response.status_code == 422
    assert "Категорія «Великі проєкти»: разом 91 голос," in words(response)
    over = type_in(client, setup, {"ballots_cast": "10", "ballots_spoiled": "2", f"votes_{l1.number}": "9"})
    assert over.status_code == 422
    assert "9 голосів — більше, ніж дійсних бюлетенів (8)" in words(over)
    # The field at fault is marked for screen readers too, and what was typed is kept.
    assert re.search(
        rf'name="votes_{l1.number}"[^>]*value="9"[^>]*aria-invalid="true"', over.get_data(as_text=True)
    )
    assert stored(session) == ([], [], 0)


HOSTILE = {
    "empty": (b"", "Файл порожній."),
    "binary": (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, "Це не текстовий файл CSV"),
    "windows_1251": ("project_id,votes\r\n3,40\r\n# Сквер".encode("cp1251"), "Це не текстовий файл CSV"),
    "header_only": (b"project_id,votes\r\n", "У файлі немає жодного рядка з проєктом."),
    "formula_header": (b"=cmd|' /C calc'!A0,votes\r\n1,1\r\n", "Невідомий стовпець у першому рядку."),
    "over_256_kb": (csv_bytes(*["1,1"] * 60_000), "Файл завеликий: не більше 256 КБ."),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_with_a_clear_message_and_stores_nothing(client, session, setup, name):
    data, message = HOSTILE[name]
    response = upload(client, setup, data, ballots_cast="90")
    assert response.status_code == 422
    assert message in words(response)
    assert "calc" not in response.get_data(as_text=True)
    assert stored(session) == ([], [], 0)


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(client, session, setup):
    response = upload(client, setup, b"project_id,votes\r\n" + b"1" * (1024 * 1024))
    assert response.status_code == 413
    assert "Файл завеликий: не більше 256 КБ." in words(response) and "Нічого не збережено." in words(
        response
    )
    assert stored(session) == ([], [], 0)


def test_no_file_no_support_point_or_no_ballots_cast_is_asked_for_again(client, session, setup):
    form = {"csrf_token": CSRF_TOKEN, "mode": "csv", "device_id": "x"}
    response = client.post(page(setup), data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Оберіть пункт супроводу." in words(response) and "Оберіть файл CSV." in words(response)
    missing = type_in(client, setup, {"ballots_cast": " "})
    assert missing.status_code == 422
    assert "Не вказано, скільки бюлетенів вийнято зі скриньки (ballots_cast)." in words(missing)
    assert client.post(page(setup), data={"csrf_token": CSRF_TOKEN, "mode": "other"}).status_code == 400
    assert stored(session) == ([], [], 0)


def test_a_terminal_is_not_a_support_point(client, make, session, setup):
    terminal = make.device(setup["community"], kind="terminal")
    response = type_in(client, setup, {"ballots_cast": "1"}, device=terminal)
    assert response.status_code == 422
    assert "Оберіть діючий пункт супроводу цієї громади." in words(response)
    assert stored(session) == ([], [], 0)


# --- when ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends", "accepted", "message"),
    [
        (timedelta(days=-1), timedelta(days=20), True, None),
        (timedelta(days=-10), timedelta(days=-2), True, None),  # closed, within the paper grace
        (timedelta(days=2), timedelta(days=20), False, "Голосування ще не почалося"),
        (timedelta(days=-10), timedelta(days=-3, minutes=-1), False, "Протоколи підрахунку приймали до"),
    ],
)
def test_sheets_are_taken_from_the_opening_until_the_paper_grace_after_the_close(
    client, session, setup, starts, ends, accepted, message
):
    now = datetime.now(UTC)
    cycle = setup["cycle"]
    cycle.voting_starts_at, cycle.voting_ends_at = now + starts, now + ends
    session.commit()
    response = type_in(client, setup, {"ballots_cast": "1"})
    assert response.status_code == (200 if accepted else 422), words(response)
    if not accepted:
        assert message in words(response)
        assert message in words(client.get(page(setup)))  # said before anyone tries
        assert 'name="mode"' not in client.get(page(setup)).get_data(as_text=True)
        assert stored(session) == ([], [], 0)


def test_no_sheet_while_the_results_are_published(client, session, setup):
    setup["cycle"].results_published_at = datetime.now(UTC)
    session.commit()
    response = type_in(client, setup, {"ballots_cast": "1"})
    assert response.status_code == 422
    assert "Результати циклу вже опубліковано." in words(response)
    assert stored(session) == ([], [], 0)


# --- who may ----------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused(client, session, setup):
    form = {"mode": "form", "device_id": str(setup["point"].id), "ballots_cast": "1"}
    assert client.post(page(setup), data=form).status_code == 400
    data = {
        "mode": "csv",
        "device_id": str(setup["point"].id),
        "file": (io.BytesIO(good_file(setup)), "t.csv"),
    }
    assert client.post(page(setup), data=data, content_type="multipart/form-data").status_code == 400
    assert stored(session) == ([], [], 0)


def test_another_communitys_cycle_and_support_point_are_not_found(client, make, session, setup):
    foreign = make.ballot_cycle()
    foreign_point = make.device(session.get(Community, foreign.community_id), kind="support_point")
    url = f"/console/cycles/{foreign.id}/paper-tally"
    assert client.get(url).status_code == 404
    assert client.get(url + "/example.csv").status_code == 404
    form = {
        "csrf_token": CSRF_TOKEN,
        "mode": "form",
        "device_id": str(setup["point"].id),
        "ballots_cast": "1",
    }
    assert client.post(url, data=form).status_code == 404
    assert type_in(client, setup, {"ballots_cast": "1"}, device=foreign_point).status_code == 404
    assert stored(session) == ([], [], 0)


def test_another_communitys_moderator_gets_not_found_for_this_cycle(client, make, session, setup):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, make.community()))
    assert client.get(page(setup)).status_code == 404
    assert type_in(client, setup, {"ballots_cast": "1"}).status_code == 404
    assert upload(client, setup, good_file(setup)).status_code == 404
    assert stored(session) == ([], [], 0)


def test_an_administrator_may_enter_a_sheet_but_not_with_another_communitys_point(
    client, make, session, setup
):
    sign_in(client, make.user(Role.ADMINISTRATOR))
    foreign_point = make.device(make.community(), kind="support_point")
    assert type_in(client, setup, {"ballots_cast": "1"}, device=foreign_point).status_code == 404
    assert type_in(client, setup, {"ballots_cast": "1"}).status_code == 200


def test_a_school_moderator_may_not_enter_sheets(client, make, session, setup):
    sign_in(client, make.user(Role.SCHOOL_MODERATOR, setup["community"]))
    assert client.get(page(setup)).status_code == 403
    assert type_in(client, setup, {"ballots_cast": "1"}).status_code == 403
    assert stored(session) == ([], [], 0)


def test_the_communitys_operator_types_and_uploads_their_points_sheets(client, make, session, setup):
    """The sheet is the support point's paper work: its operator enters it; another
    community's operator finds neither the cycle nor its point."""
    operator = make.user(Role.SUPPORT_OPERATOR, setup["community"])
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, make.community()))
    assert client.get(page(setup)).status_code == 404
    assert upload(client, setup, good_file(setup)).status_code == 404
    assert stored(session) == ([], [], 0)

    sign_in(client, operator)
    assert client.get(page(setup)).status_code == 200
    assert client.get(page(setup) + "/example.csv").status_code == 200
    assert upload(client, setup, good_file(setup)).status_code == 200
    typed = {"ballots_cast": "12", f"votes_{setup['small'][0].number}": "7"}
    assert type_in(client, setup, typed, device=setup["other_point"]).status_code == 200
    sheets, _lines, _audit = stored(session)
    assert sorted(device for _id, device, _cast, _replaced in sheets) == sorted(
        [setup["point"].id, setup["other_point"].id]
    )
    entered_by = {e.user_id for e in audit_events(session, "paper_tally.import")}
    assert entered_by == {operator.id}


def test_a_visitor_is_sent_to_sign_in(app, setup):
    anonymous = app.test_client()
    response = anonymous.get(page(setup))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_school_budget_cycle_has_no_tally_import(client, make, session, setup):
    school = make.cycle(setup["community"], kind=CycleKind.SCHOOL.value)
    assert client.get(f"/console/cycles/{school.id}/paper-tally").status_code == 404
    assert "paper-tally" not in client.get(f"/console/cycles/{school.id}").get_data(as_text=True)


# --- two moderators at once --------------------------------------------------------------------


def test_the_database_keeps_one_current_sheet_per_point_when_two_arrive_at_once(
    client, session, setup, monkeypatch
):
    import server.paper.tally as service

    s1 = setup["small"][0]
    assert type_in(client, setup, {"ballots_cast": "12", f"votes_{s1.number}": "7"}).status_code == 200
    before = stored(session)
    # The second request read "no sheet yet" just before the first one committed.
    monkeypatch.setattr(service, "current_tally", lambda *_args: None)
    response = type_in(client, setup, {"ballots_cast": "12", f"votes_{s1.number}": "8"})
    assert response.status_code == 422
    assert "Щойно для цього пункту внесено інший протокол." in words(response)
    assert stored(session) == before
