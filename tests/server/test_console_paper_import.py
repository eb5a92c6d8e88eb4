"""A community moderator imports the spreadsheet of paper votes a support point's staff
typed: good files are stored and counted once, bad rows are reported, and the
residents' document numbers are kept nowhere."""

from __future__ import annotations

import html
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from server.models import AuditEvent, Community, CycleKind, Project, Role, Vote
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.tally import recount_from_records, running_tally
from tests.factories import CSRF_TOKEN, sign_in
from voting import Channel, VoteRecord, VoterKey, community_voter_secret
from voting.identity import rnokpp_check_digit

HEADER = "document_kind,document_number,projects"


def rnokpp(n: int) -> str:
    first = f"{n:09d}"
    return first + str(rnokpp_check_digit(first))


DOC_A, DOC_B, DOC_C = rnokpp(310000001), rnokpp(320000002), rnokpp(330000003)


@pytest.fixture
def setup(client, make, session):
    """A public-budget cycle open now (small projects: choose up to 2; large: 1), a
    support point, and its community's moderator, signed in."""
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    point = make.device(community, kind="support_point", code="S-0042", name="Пункт у бібліотеці")
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    sign_in(client, moderator)
    projects = session.scalars(select(Project).where(Project.cycle_id == cycle.id).order_by(Project.id)).all()
    small = [p for p in projects if p.title.startswith("Сквер")]
    large = [p for p in projects if p.title.startswith("Стадіон")]
    return {"cycle": cycle, "community": community, "point": point, "small": small, "large": large}


def page(setup) -> str:
    return f"/console/cycles/{setup['cycle'].id}/paper-import"


def upload(client, setup, data: bytes, *, only_good: bool = False, device_id=None, lang: str | None = None):
    form = {
        "csrf_token": CSRF_TOKEN,
        "device_id": str(device_id if device_id is not None else setup["point"].id),
        "file": (io.BytesIO(data), "votes.csv"),
    }
    if only_good:
        form["only_good_rows"] = "1"
    url = page(setup) + (f"?lang={lang}" if lang else "")
    response = client.post(url, data=form, content_type="multipart/form-data")
    if response.status_code != 303:
        return response  # refused before a job was started (no file, no support point)
    # The upload is a job (run at once here): its page shows the outcome. Read as the
    # page answered before imports were jobs: 200 when stored, 422 when refused.
    job_page = client.get(response.headers["Location"] + (f"?lang={lang}" if lang else ""))
    assert job_page.status_code == 200
    job_page.status_code = 200 if 'data-state="done"' in job_page.get_data(as_text=True) else 422
    return job_page


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def words(response) -> str:
    """The page's text as a person reads it: tags gone, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def votes(session) -> list[Vote]:
    session.expire_all()
    return session.scalars(select(Vote).order_by(Vote.cast_at, Vote.id)).all()


def key_of(app, setup, document: str) -> str:
    secret = community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], setup["community"].key_id)
    return VoterKey.derive(secret, "rnokpp", document).hex


def state(session, cycle_id):
    session.expire_all()
    rows = session.execute(select(Vote.id, Vote.status, Vote.content_hash).order_by(Vote.id)).all()
    return rows, running_tally(session, cycle_id)


# --- a good file --------------------------------------------------------------------------------


def test_a_good_file_is_stored_as_paper_votes_and_counted(app, client, session, setup):
    s1, s2 = setup["small"][:2]
    [l1] = setup["large"][:1]
    data = csv_bytes(
        HEADER + ",voted_at",
        f"rnokpp,{DOC_A},{s1.number} {l1.number},",
        f"rnokpp,{DOC_B},{s1.number}|{s2.number},",
    )
    response = upload(client, setup, data)
    assert response.status_code == 200, words(response)
    page_text = words(response)
    assert "імпортовано" in page_text and "Нових голосів збережено 2" in page_text
    assert "Зараховано 2" in page_text

    stored = votes(session)
    assert [(v.channel, v.device_id, v.source, v.status) for v in stored] == [
        ("paper", "S-0042", "paper-csv", "counted")
    ] * 2
    assert {v.voter_key for v in stored} == {key_of(app, setup, DOC_A), key_of(app, setup, DOC_B)}
    cycle_id = setup["cycle"].id
    assert running_tally(session, cycle_id) == {s1.id: 2, s2.id: 1, l1.id: 1}
    assert recount_from_records(session, cycle_id) == running_tally(session, cycle_id)

    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "votes.paper_import"))
    assert event.community_id == setup["community"].id and event.target_id == str(cycle_id)
    assert event.details["device"] == "S-0042" and len(event.details["file_sha256"]) == 64
    assert (event.details["rows"], event.details["stored"], event.details["counted"]) == (2, 2, 2)


def test_the_same_file_imported_twice_changes_nothing(client, session, setup):
    s1 = setup["small"][0]
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{s1.number}", f"rnokpp,{DOC_B},{s1.number}")
    assert upload(client, setup, data).status_code == 200
    before = state(session, setup["cycle"].id)
    again = upload(client, setup, data)
    assert again.status_code == 200
    assert "Нових голосів збережено 0" in words(again)
    assert "Уже збережено раніше (цей самий файл) 2" in words(again)
    assert state(session, setup["cycle"].id) == before


def test_the_same_file_for_another_support_point_is_refused(client, make, session, setup):
    other = make.device(setup["community"], kind="support_point", code="S-0043")
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{setup['small'][0].number}")
    assert upload(client, setup, data).status_code == 200
    before = state(session, setup["cycle"].id)
    response = upload(client, setup, data, device_id=other.id)
    assert response.status_code == 422
    assert "уже імпортовано з іншим пунктом супроводу" in words(response)
    assert state(session, setup["cycle"].id) == before


# --- bad rows ---------------------------------------------------------------------------------


def bad_file(setup) -> bytes:
    s1, s2, s3 = setup["small"][:3]
    return csv_bytes(
        HEADER,
        f"rnokpp,{DOC_A},{s1.number}",
        f"rnokpp,{DOC_B[:9]}{(int(DOC_B[9]) + 1) % 10},{s1.number}",
        f"rnokpp,{DOC_C},{s1.number} {s2.number} {s3.number}",
        "passport,АВ123456,99999",
        f"rnokpp,{DOC_A},{s2.number}",
    )


def test_a_file_with_bad_rows_stores_nothing_and_reports_every_row(client, session, setup):
    response = upload(client, setup, bad_file(setup))
    assert response.status_code == 422
    page_text = words(response)
    assert "нічого не збережено" in page_text
    assert "3 rnokpp" not in page_text  # document numbers are not echoed
    for expected in (
        "3 document_number У РНОКПП помилка: контрольна цифра не збігається.",
        "4 projects У категорії «Малі проєкти» можна обрати не більше 2.",
        "5 projects Проєкту 99999 немає в цьому бюлетені.",
        "6 — Цей виборець уже є в рядку 2.",
    ):
        assert expected in page_text
    assert votes(session) == []
    # The job's end is in the audit log (every end is); no import is.
    assert session.scalars(select(AuditEvent.action)).all() == ["job.failed"]


def test_the_report_is_in_english_for_an_english_speaking_moderator(client, session, setup):
    response = upload(client, setup, bad_file(setup), lang="en")
    assert response.status_code == 422
    page_text = words(response)
    assert "nothing stored" in page_text
    assert "3 document_number The taxpayer number (RNOKPP) has a typo" in page_text
    assert "4 projects In “Малі проєкти” you may choose at most 2." in page_text
    assert "6 — This voter is already in row 2." in page_text
    assert votes(session) == []


def test_only_the_good_rows_are_stored_when_the_moderator_asks(app, client, session, setup):
    response = upload(client, setup, bad_file(setup), only_good=True)
    assert response.status_code == 200
    page_text = words(response)
    assert "Рядків з помилками 4" in page_text and "Нових голосів збережено 1" in page_text
    [vote] = votes(session)
    assert vote.voter_key == key_of(app, setup, DOC_A) and vote.selections == [setup["small"][0].id]


def test_a_file_with_no_good_rows_stores_nothing_even_when_only_good_rows_are_asked(client, session, setup):
    data = csv_bytes(HEADER, "rnokpp,12,1")
    response = upload(client, setup, data, only_good=True)
    assert response.status_code == 422
    assert votes(session) == []


# --- one resident across channels ----------------------------------------------------------------


def test_a_resident_who_also_voted_online_is_counted_once_by_the_earliest_vote(app, client, session, setup):
    cycle, [s1, s2, *_] = setup["cycle"], setup["small"]
    now = datetime.now(UTC)
    rules = {cycle.id: load_cycle_rules(session, cycle)}

    def online(document: str, when: datetime, project: Project, channel=Channel.WEB, device=None):
        return VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=cycle.id,
            selections=[project.id],
            channel=channel,
            cast_at=when,
            voter_key=key_of(app, setup, document),
            device_id=device,
        )

    # A voted online an hour ago; B voted at a terminal an hour ago.
    earlier_online = online(DOC_A, now - timedelta(hours=1), s2)
    later_kiosk = online(DOC_B, now - timedelta(hours=1), s2, Channel.KIOSK, "T-0001")
    store_votes(session, rules, [earlier_online, later_kiosk], "test")
    session.commit()

    two_hours_ago = (now - timedelta(hours=2)).isoformat()
    data = csv_bytes(
        HEADER + ",voted_at",
        f"rnokpp,{DOC_A},{s1.number},",  # typed now: after the online vote
        f"rnokpp,{DOC_B},{s1.number},{two_hours_ago}",  # on paper before the terminal
    )
    response = upload(client, setup, data)
    assert response.status_code == 200
    assert "Зараховано 1" in words(response) and "Повторні (зараховано інший голос цього виборця) 1" in words(
        response
    )
    by_channel = {(v.voter_key, v.channel): v for v in votes(session)}
    key_a, key_b = key_of(app, setup, DOC_A), key_of(app, setup, DOC_B)
    assert by_channel[(key_a, "web")].status == "counted"
    assert by_channel[(key_a, "paper")].status == "duplicate"
    assert by_channel[(key_a, "paper")].counted_vote_id == earlier_online.vote_id
    assert by_channel[(key_b, "paper")].status == "counted"
    assert by_channel[(key_b, "kiosk")].status == "duplicate"
    # A's online vote for s2 and B's paper vote for s1 count; nothing else.
    assert running_tally(session, cycle.id) == {s1.id: 1, s2.id: 1}
    assert recount_from_records(session, cycle.id) == running_tally(session, cycle.id)


# --- hostile files -------------------------------------------------------------------------------

HOSTILE = {
    "binary": (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, "Це не текстовий файл CSV"),
    "empty": (b"", "Файл порожній."),
    "nul_bytes": (f"{HEADER}\r\nrnokpp,{DOC_A}\x00,1\r\n".encode(), "Це не текстовий файл CSV"),
    "sixty_thousand_rows": (
        csv_bytes("voter_key,projects", *(["ab" * 32 + ",1"] * 60_000)),
        "Забагато рядків: не більше 50000",
    ),
    "ten_thousand_columns": (csv_bytes(HEADER, "," * 9_999 + "1"), "Забагато стовпців: 10000"),
    "rtl_override": (csv_bytes(HEADER, f"rnokpp,\u202e{DOC_A},1"), "РНОКПП має складатися з 10 цифр."),
    "formula": (csv_bytes(HEADER, "rnokpp,=cmd|' /C calc'!A0,1"), "РНОКПП має складатися з 10 цифр."),
    "formula_header": (b"=cmd|' /C calc'!A0,projects\r\n", "Невідомий стовпець"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_with_a_clear_message_and_stores_nothing(client, session, setup, name):
    data, message = HOSTILE[name]
    response = upload(client, setup, data, only_good=True)
    assert response.status_code == 422
    assert message in words(response)
    if name == "formula":
        assert "calc" not in response.get_data(as_text=True)  # a cell is never echoed back
    assert votes(session) == []


def test_a_file_over_five_megabytes_is_refused_before_it_is_read(client, session, setup):
    data = csv_bytes("voter_key,projects") + b"x" * (6 * 1024 * 1024)
    response = upload(client, setup, data)
    assert response.status_code == 413
    assert "Файл завеликий: не більше 5 МБ. Нічого не збережено." in words(response)
    assert votes(session) == []


def test_a_file_just_over_five_megabytes_is_refused_by_the_check_itself(client, session, setup):
    data = csv_bytes("voter_key,projects") + b"x" * (5 * 1024 * 1024)
    response = upload(client, setup, data)
    assert response.status_code == 422
    assert "Файл завеликий: не більше 5 МБ." in words(response)
    assert votes(session) == []


def test_no_file_or_no_support_point_is_asked_for_again(client, session, setup):
    form = {"csrf_token": CSRF_TOKEN, "device_id": "x"}
    response = client.post(page(setup), data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Оберіть пункт супроводу." in words(response) and "Оберіть файл CSV." in words(response)


def test_a_form_without_its_csrf_token_is_refused(client, session, setup):
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{setup['small'][0].number}")
    form = {"device_id": str(setup["point"].id), "file": (io.BytesIO(data), "votes.csv")}
    response = client.post(page(setup), data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    assert votes(session) == []


# --- who may import what ------------------------------------------------------------------------


def test_another_communitys_cycle_is_not_found(client, make, session, setup):
    foreign = make.ballot_cycle()
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},1")
    response = client.post(
        f"/console/cycles/{foreign.id}/paper-import",
        data={
            "csrf_token": CSRF_TOKEN,
            "device_id": str(setup["point"].id),
            "file": (io.BytesIO(data), "v.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert client.get(f"/console/cycles/{foreign.id}/paper-import").status_code == 404
    assert client.get(f"/console/cycles/{foreign.id}/paper-import/example.csv").status_code == 404
    assert votes(session) == []


def test_another_communitys_support_point_is_not_found(client, make, session, setup):
    foreign = make.device(make.community(), kind="support_point")
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{setup['small'][0].number}")
    assert upload(client, setup, data, device_id=foreign.id).status_code == 404
    assert upload(client, setup, data, device_id=2**40).status_code == 422  # no such id at all
    assert votes(session) == []


def test_an_administrator_cannot_join_one_communitys_device_to_anothers_cycle(client, make, session, setup):
    sign_in(client, make.user(Role.ADMINISTRATOR))
    foreign = make.device(make.community(), kind="support_point")
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{setup['small'][0].number}")
    assert upload(client, setup, data, device_id=foreign.id).status_code == 404
    assert upload(client, setup, data).status_code == 200


def test_a_terminal_is_not_a_support_point(client, make, session, setup):
    terminal = make.device(setup["community"], kind="terminal")
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{setup['small'][0].number}")
    response = upload(client, setup, data, device_id=terminal.id)
    assert response.status_code == 422
    assert "Оберіть діючий пункт супроводу цієї громади." in words(response)
    assert votes(session) == []


def test_a_school_moderator_may_not_import(client, make, session, setup):
    sign_in(client, make.user(Role.SCHOOL_MODERATOR, setup["community"]))
    assert client.get(page(setup)).status_code == 403
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{setup['small'][0].number}")
    assert upload(client, setup, data).status_code == 403
    assert votes(session) == []


def test_the_communitys_operator_imports_their_points_typed_votes(client, make, session, setup):
    """Typing the point's ballots into a spreadsheet is the point's paper work: its
    operator imports it; another community's operator finds nothing."""
    data = csv_bytes(HEADER, f"rnokpp,{DOC_A},{setup['small'][0].number}")
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, make.community()))
    assert client.get(page(setup)).status_code == 404
    assert upload(client, setup, data).status_code == 404
    assert votes(session) == []
    sign_in(client, make.user(Role.SUPPORT_OPERATOR, setup["community"]))
    assert client.get(page(setup) + "/example.csv").status_code == 200
    assert upload(client, setup, data).status_code == 200
    assert [(v.channel, v.device_id) for v in votes(session)] == [("paper", "S-0042")]


def test_a_school_budget_cycle_has_no_paper_import(client, make, session, setup):
    school = make.cycle(setup["community"], kind=CycleKind.SCHOOL.value)
    assert client.get(f"/console/cycles/{school.id}/paper-import").status_code == 404
    assert "paper-import" not in client.get(f"/console/cycles/{school.id}").get_data(as_text=True)


# --- the page --------------------------------------------------------------------------------


def test_the_cycle_page_links_to_the_import_which_documents_the_format(client, session, setup):
    detail = client.get(f"/console/cycles/{setup['cycle'].id}").get_data(as_text=True)
    assert f'href="{page(setup)}"' in detail
    response = client.get(page(setup))
    assert response.status_code == 200
    text_ = words(response)
    assert "document_kind,document_number,projects" in text_ and "voter_key,projects" in text_
    assert "Пункт у бібліотеці (S-0042)" in text_
    assert "завантажте файл ще раз" in text_
    english = words(client.get(page(setup) + "?lang=en"))
    assert "Import only the correct rows" in english and "File format" in english


def test_the_example_file_can_be_downloaded_and_imported_as_it_is(client, session, setup):
    response = client.get(page(setup) + "/example.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    example = response.get_data()
    assert example.startswith("\ufeff".encode()) and b"document_kind,document_number,projects" in example
    imported = upload(client, setup, example)
    assert imported.status_code == 200, words(imported)
    assert len(votes(session)) == 3


# --- no document number kept anywhere ------------------------------------------------------------


def test_document_numbers_are_kept_nowhere_in_the_database(client, engine, session, setup):
    s1 = setup["small"][0]
    data = csv_bytes(
        HEADER,
        f"rnokpp,{DOC_A},{s1.number}",
        f"rnokpp,{DOC_B},{s1.number}",
        f"rnokpp,{DOC_C},99999",
        "passport,КМ654321,1",
    )
    assert upload(client, setup, data).status_code == 422
    assert upload(client, setup, data, only_good=True).status_code == 200
    assert len(votes(session)) == 2
    with engine.connect() as conn:
        tables = (
            conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        )
        dump = "\n".join(
            str(row) for table in tables for row in conn.execute(text(f'SELECT t::text FROM "{table}" t'))
        )
    assert "votes.paper_import" in dump  # the dump does hold the import's traces
    for raw in (DOC_A, DOC_B, DOC_C, "654321", "КМ654321"):
        assert raw not in dump


# --- the paper channel's window ----------------------------------------------------------


def test_typed_paper_votes_wait_like_every_paper_vote_for_the_window_and_unpublished_results(
    client, session, setup
):
    """Scanned sheets and tally sheets stop once results are published or the three
    days after the close have passed; votes typed into a CSV stop with them, whatever
    voting time the file gives."""

    from server.results.publishing import publish_results

    cycle = setup["cycle"]
    s1 = setup["small"][0]
    inside = (cycle.voting_starts_at + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    data = csv_bytes(HEADER + ",voted_at", f"rnokpp,{DOC_A},{s1.number},{inside}")
    publish_results(session, cycle, user=None)
    session.commit()
    published = upload(client, setup, data)
    assert published.status_code == 422 and "вже опубліковано" in words(published)
    assert votes(session) == []

    cycle.results_published_at = None
    cycle.voting_ends_at = datetime.now(UTC) - timedelta(days=4)  # the paper days are over
    cycle.voting_starts_at = cycle.voting_ends_at - timedelta(days=10)
    session.commit()
    late = upload(client, setup, data, lang="en")
    assert late.status_code == 422 and "Paper votes were accepted until" in words(late)
    assert votes(session) == []
