"""The community's list of residents who may vote: uploaded by moderators (the whole
list, additions, removals), switched on and off, and read by terminals in increments."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.eligibility_cli import eligibility_group
from server.models import AuditEvent, Community, EligibilityList, EligibleVoter, Role
from server.services import eligibility
from server.services.eligibility_file import read_list_file
from tests.factories import CSRF_TOKEN, sign_in
from voting import VoterKey, community_voter_secret
from voting.identity import rnokpp_check_digit

from .test_sync_support import enrolled_device


def rnokpp(n: int) -> str:
    first = f"{n:09d}"
    return first + str(rnokpp_check_digit(first))


def list_csv(numbers, header="document_kind,document_number") -> bytes:
    return (header + "\n" + "".join(f"rnokpp,{n}\n" for n in numbers)).encode()


@pytest.fixture
def community(make, session):
    cycle = make.ballot_cycle()
    return session.get(Community, cycle.community_id)


@pytest.fixture
def secret(app, community):
    return community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)


def key(secret, number, kind="rnokpp") -> str:
    return VoterKey.derive(secret, kind, number).hex


def apply(session, community, secret, data, mode="replace", **options):
    check, change = eligibility.apply_list_file(
        session, community, data, eligibility.ListMode(mode), voter_secret=secret, **options
    )
    if change is None:
        session.rollback()
    else:
        session.commit()
    return check, change


def listed_keys(session, community) -> set[str]:
    return set(
        session.scalars(
            select(EligibleVoter.voter_key).where(
                EligibleVoter.community_id == community.id, EligibleVoter.listed.is_(True)
            )
        )
    )


A, B, C, D = (rnokpp(n) for n in (310000001, 320000002, 330000003, 340000004))


# --- the file ------------------------------------------------------------------------


def read(data, secret=b"s" * 32, **options):
    keys: list[str] = []
    return read_list_file(data, secret, keys.extend, **options), keys


def test_each_good_row_becomes_a_key_and_numbers_go_nowhere():
    check, keys = read(
        f"\ufeffdocument_kind;document_number\r\nrnokpp;{A}\r\nunzr;20080315-01234\r\n\r\n".encode()
    )
    assert (check.rows, check.good_rows, check.bad_rows, check.problems) == (2, 2, 0, [])
    assert keys == [key(b"s" * 32, A), key(b"s" * 32, "20080315-01234", "unzr")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "list.empty_file"),
        (b"   \n", "list.empty_file"),
        (b"\x00\x01binary", "list.not_text"),
        ("document_kind,document_number\nrnokpp,\xff".encode("latin-1"), "list.not_text"),
        (b"name,number\nx,1\n", "list.bad_header"),
        (b"document_number\n1234567890\n", "list.kind_needed"),
        (b"document_kind,document_number\n", "list.no_rows"),
        (b'document_kind,document_number\nrnokpp,"123\n', "list.malformed"),
        (b"document_kind,document_number\nrnokpp," + b"1" * 140_000 + b"\n", "list.field_too_long"),
    ],
)
def test_a_bad_file_is_refused_whole(data, code):
    check, _keys = read(data)
    assert check.file_refused
    assert [p.code for p in check.problems if p.row is None] == [code]
    assert check.problems[0].message("uk") and check.problems[0].message("en")


def test_bad_rows_are_reported_with_row_and_column():
    data = (
        "document_kind,document_number\n"
        f"rnokpp,{A}\n"
        "rnokpp,1234567890\n"  # check digit wrong
        "driving_licence,123\n"
        "rnokpp\n"
        "=cmd|' /C calc'!A0,1\n"
    ).encode()
    check, keys = read(data)
    assert (check.rows, check.good_rows, check.bad_rows) == (5, 1, 4)
    assert [(p.row, p.column, p.code) for p in check.problems] == [
        (3, "document_number", "identity.rnokpp_checksum"),
        (4, "document_kind", "identity.unknown_kind"),
        (5, None, "list.wrong_cells"),
        (6, "document_kind", "identity.unknown_kind"),
    ]
    assert len(keys) == 1
    assert all("1234567890" not in p.message("uk") for p in check.problems)


def test_a_file_of_numbers_alone_takes_the_kind_from_the_form_and_voter_keys_are_accepted():
    check, keys = read(b"document_number\n04A1B2C3\n", default_kind="card")
    assert check.good_rows == 1 and keys == [key(b"s" * 32, "04A1B2C3", "card")]
    check, keys = read(("voter_key\n" + "ab" * 32 + "\nnot-a-key\n").encode())
    assert keys == ["ab" * 32] and [p.code for p in check.problems] == ["list.bad_voter_key"]


def test_an_oversized_file_is_refused_unread(monkeypatch):
    from server.services import eligibility_file

    monkeypatch.setattr(eligibility_file, "MAX_BYTES", 100)
    check, keys = read(list_csv([A] * 20))
    assert [p.code for p in check.problems] == ["list.too_large"] and keys == []


def test_too_many_rows_refuse_the_file(monkeypatch):
    from server.services import eligibility_file

    monkeypatch.setattr(eligibility_file, "MAX_ROWS", 3)
    check, _keys = read(list_csv([A, B, C, D]))
    assert check.file_refused and check.problems[-1].code == "list.too_many_rows"


# --- the list ------------------------------------------------------------------------


def test_replace_add_and_remove_change_the_list_and_count_versions(session, community, secret):
    _check, first = apply(session, community, secret, list_csv([A, B, C]))
    assert (first.added, first.removed, first.version, first.listed_count) == (3, 0, 1, 3)
    _check, again = apply(session, community, secret, list_csv([A, B, C]))
    assert (again.added, again.removed, again.version) == (0, 0, 1)  # the same file: no new version
    _check, replaced = apply(session, community, secret, list_csv([B, C, D]))
    assert (replaced.added, replaced.removed, replaced.version, replaced.listed_count) == (1, 1, 2, 3)
    _check, removed = apply(session, community, secret, list_csv([B, A]), mode="remove")
    assert (removed.added, removed.removed, removed.listed_count) == (0, 1, 2)
    _check, added = apply(session, community, secret, list_csv([A]), mode="add")
    assert (added.added, added.listed_count) == (1, 3)
    assert listed_keys(session, community) == {key(secret, n) for n in (A, C, D)}
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("eligibility.%"))).all()
    assert actions.count("eligibility.upload") == 5
    details = json.dumps([e.details for e in session.scalars(select(AuditEvent))])
    assert A not in details and B not in details  # numbers never reach the audit


def test_a_file_with_bad_rows_changes_nothing_unless_told_to_skip_them(session, community, secret):
    apply(session, community, secret, list_csv([A, B]))
    data = list_csv([C]) + b"rnokpp,1234567890\n"
    check, change = apply(session, community, secret, data)
    assert change is None and check.bad_rows == 1
    assert listed_keys(session, community) == {key(secret, A), key(secret, B)}
    check, change = apply(session, community, secret, data, skip_bad_rows=True)
    assert change is not None and listed_keys(session, community) == {key(secret, C)}


def test_lists_of_two_communities_stay_apart(session, make, community, secret):
    other = make.community()
    apply(session, community, secret, list_csv([A]))
    apply(session, other, secret, list_csv([B, C]))
    assert listed_keys(session, community) == {key(secret, A)}
    assert session.get(EligibilityList, other.id).listed_count == 2


# --- terminals read it ---------------------------------------------------------------


def read_all(terminal, cursor=""):
    """Read to the end as a device does: `held` is the list it then holds (from an empty
    one), `listed` and `unlisted` what the pages said."""
    held, listed, unlisted, pages = set(), set(), set(), 0
    while True:
        body = terminal.get(f"/api/v1/sync/eligibility?since={cursor}").get_json()
        held = (held | set(body["listed"])) - set(body["unlisted"])
        listed |= set(body["listed"])
        unlisted |= set(body["unlisted"])
        cursor, pages = body["cursor"], pages + 1
        if not body["more"]:
            return body, held, listed, unlisted, cursor, pages


def test_a_terminal_reads_the_list_in_pages_then_only_the_changes(
    client, session, make, community, secret, monkeypatch
):
    terminal = enrolled_device(client, session, make, community)
    body, held, _l, _u, cursor, _p = read_all(terminal)
    assert (body["enabled"], body["version"], held) == (False, 0, set())

    apply(session, community, secret, list_csv([A, B, C]))
    apply(session, community, secret, list_csv([A, B, C, D]))
    apply(session, community, secret, list_csv([C]), mode="remove")
    eligibility.set_enabled(session, community, True)
    session.commit()
    monkeypatch.setattr(eligibility, "PAGE", 2)
    body, held, listed, _u, _c, pages = read_all(terminal)  # from nothing
    assert held == listed - _u == {key(secret, n) for n in (A, B, D)} and pages > 1
    assert body["enabled"] is True and body["version"] == 4

    _b, held, _l, unlisted, cursor, _p = read_all(terminal, cursor)  # from before the uploads
    assert held == {key(secret, n) for n in (A, B, D)} and unlisted == {key(secret, C)}
    apply(session, community, secret, list_csv([A]), mode="remove")
    _b, _h, listed, unlisted, cursor, _p = read_all(terminal, cursor)
    assert (listed, unlisted) == (set(), {key(secret, A)})
    _b, _h, listed, unlisted, _c, _p = read_all(terminal, cursor)
    assert (listed, unlisted) == (set(), set())


@pytest.mark.parametrize("cursor", ["x", "1", "-1:", "1:ZZ", "9" * 30 + ":", "1:" + "a" * 65])
def test_a_cursor_the_server_did_not_give_is_refused(client, session, make, community, cursor):
    terminal = enrolled_device(client, session, make, community)
    answer = terminal.get(f"/api/v1/sync/eligibility?since={cursor}")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "eligibility.since"


def test_an_unsigned_request_gets_nothing(client):
    assert client.get("/api/v1/sync/eligibility").status_code == 401


# --- the console ---------------------------------------------------------------------


def upload(client, community, data: bytes, mode="replace", **form):
    return client.post(
        f"/console/communities/{community.id}/eligibility/upload",
        data={"csrf_token": CSRF_TOKEN, "mode": mode, "file": (io.BytesIO(data), "list.csv"), **form},
        content_type="multipart/form-data",
    )


def test_a_moderator_uploads_the_list_and_switches_it_on(client, session, make, community, secret):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    assert (
        client.get("/console/eligibility")
        .headers["Location"]
        .endswith(f"/console/communities/{community.id}/eligibility")
    )
    empty_switch = client.post(
        f"/console/communities/{community.id}/eligibility/switch",
        data={"csrf_token": CSRF_TOKEN, "enabled": "1", "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Список порожній" in empty_switch.get_data(as_text=True)
    answer = upload(client, community, list_csv([A, B]))
    # The list becomes a job, answered at once with its page (the tests run jobs in the
    # request; tests/server/test_jobs_worker.py runs a real worker).
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'id="added">2<' in page and A not in page and "список змінено" in page
    switched = client.post(
        f"/console/communities/{community.id}/eligibility/switch",
        data={"csrf_token": CSRF_TOKEN, "enabled": "1", "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Список увімкнено" in switched.get_data(as_text=True)
    session.expire_all()
    assert session.get(EligibilityList, community.id).enabled is True


def test_a_bad_upload_shows_its_rows_and_changes_nothing(client, session, make, community):
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    answer = upload(client, community, list_csv([A]) + b"rnokpp,1234567890\n")
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'data-state="failed"' in page and "контрольна цифра" in page and "1234567890" not in page
    assert "нічого не змінено" in page
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == 0
    assert upload(client, community, list_csv([A]), mode="everything").status_code == 422


def test_the_upload_needs_csrf_and_another_communitys_moderator_gets_404(client, make, community):
    other = make.community()
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, other))
    assert client.get(f"/console/communities/{community.id}/eligibility").status_code == 404
    assert upload(client, community, list_csv([A])).status_code == 404
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    no_csrf = client.post(
        f"/console/communities/{community.id}/eligibility/upload",
        data={"mode": "replace", "file": (io.BytesIO(list_csv([A])), "list.csv")},
        content_type="multipart/form-data",
    )
    assert no_csrf.status_code in (400, 403)
    assert client.get("/console/communities/99999999999/eligibility").status_code == 404


def test_an_oversized_upload_is_refused_before_it_is_read(client, make, community, monkeypatch):
    from server.console import eligibility as page_module

    monkeypatch.setattr(page_module, "MAX_BYTES", 1000)
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    answer = upload(client, community, list_csv([A] * 5000))  # ~90 KB: over the limit and the form's room
    assert answer.status_code == 413


# --- the command line ----------------------------------------------------------------


def test_the_command_loads_a_register_and_switches_the_list(app, session, community, secret, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(list_csv([A, B, C]))
    runner = app.test_cli_runner()
    loaded = runner.invoke(eligibility_group, ["load", str(path), "--community", community.slug, "--json"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.output)["added"] == 3
    assert runner.invoke(eligibility_group, ["switch", "on", "--community", community.slug]).exit_code == 0
    shown = json.loads(runner.invoke(eligibility_group, ["show", "--community", community.slug]).output)
    assert shown == {"community": community.slug, "enabled": True, "listed": 3, "version": 2}
    path.write_bytes(b"document_kind,document_number\nrnokpp,1234567890\n")
    refused = runner.invoke(eligibility_group, ["load", str(path), "--community", community.slug])
    assert refused.exit_code == 1 and "контрольна цифра" in refused.output
    unknown = runner.invoke(eligibility_group, ["show", "--community", "nowhere"])
    assert unknown.exit_code != 0


def test_every_eligibility_command_has_help():
    for name, command in eligibility_group.commands.items():
        assert (command.help or "").strip(), name
        assert CliRunner().invoke(eligibility_group, [name, "--help"]).exit_code == 0


def test_a_field_over_the_csv_limit_is_reported_as_too_long_not_as_unclosed_quotes():
    check, _keys = read(b'document_kind,document_number\nrnokpp,"' + b"1" * 140_000 + b'"\n')
    [problem] = check.problems
    assert problem.message("uk").startswith("Рядок 2: поле довше за 128 КБ")
    assert problem.message("en").startswith("Row 2: a field is longer than 128 KB")
    assert "лапки" not in problem.message("uk") and "quote" not in problem.message("en")
