"""Paper votes typed from a support point meet the community's rules too: the minimum age
where the document number shows the birth date, and the voter list when it is on."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from sqlalchemy import func, select

from server.models import Community, Project, Role, Vote
from server.services import eligibility
from tests.factories import CSRF_TOKEN, sign_in
from voting import VoterKey, community_voter_secret
from voting.identity import rnokpp_check_digit

from .test_paper_csv import NOW, SECRET, check, csv_bytes, ctx  # noqa: F401 (ctx is a fixture)

HEADER = "document_kind,document_number,projects"


def rnokpp_born(born: date, serial: str = "0123") -> str:
    first_nine = f"{(born - date(1899, 12, 31)).days:05d}{serial}"
    return first_nine + str(rnokpp_check_digit(first_nine))


def test_a_row_of_a_resident_too_young_on_the_day_is_refused(ctx):  # noqa: F811
    ctx = replace(ctx, min_age=16)
    sixteen_tomorrow = rnokpp_born(date(2011, 5, 11))  # NOW is 10 May 2027
    sixteen_today = rnokpp_born(date(2011, 5, 10))
    result = check(
        csv_bytes(HEADER, f"rnokpp,{sixteen_tomorrow},1", f"rnokpp,{sixteen_today},2", "passport,АВ123456,3"),
        ctx,
    )
    assert [(p.row, p.column, p.code) for p in result.problems] == [
        (2, "document_number", "eligibility.too_young")
    ]
    assert "16" in result.problems[0].message("uk")
    assert [row for row, _record in result.records] == [3, 4]  # a passport: staff saw the document


def test_an_unlisted_resident_is_refused_when_the_list_is_on(ctx):  # noqa: F811
    listed = VoterKey.derive(SECRET, "rnokpp", rnokpp_born(date(1980, 1, 1))).hex
    ctx = replace(ctx, unlisted=lambda keys: {k for k in keys if k != listed})
    data = csv_bytes(
        HEADER, f"rnokpp,{rnokpp_born(date(1980, 1, 1))},1", f"rnokpp,{rnokpp_born(date(1981, 1, 1))},1"
    )
    result = check(data, ctx)
    assert [(p.row, p.code) for p in result.problems] == [(3, "eligibility.not_listed")]
    assert [row for row, _record in result.records] == [2]


def test_the_console_import_checks_the_list_on_the_server(client, make, session, app):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    point = make.device(community, kind="support_point", code="S-0077", name="Пункт")
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    secret = community_voter_secret(app.config["VOTER_KEY_SECRET_BYTES"], community.key_id)
    on_list, off_list = rnokpp_born(date(1970, 3, 3)), rnokpp_born(date(1971, 4, 4))
    register = f"document_kind,document_number\nrnokpp,{on_list}\n".encode()
    eligibility.apply_list_file(
        session, community, register, eligibility.ListMode.REPLACE, voter_secret=secret
    )
    eligibility.set_enabled(session, community, True)
    session.commit()
    number = session.scalars(
        select(Project.number).where(Project.cycle_id == cycle.id).order_by(Project.id)
    ).first()
    data = f"{HEADER}\nrnokpp,{on_list},{number}\nrnokpp,{off_list},{number}\n".encode()
    answer = client.post(
        f"/console/cycles/{cycle.id}/paper-import",
        data={"csrf_token": CSRF_TOKEN, "device_id": str(point.id), "file": (io.BytesIO(data), "votes.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = answer.get_data(as_text=True)
    assert 'data-state="failed"' in page and "немає у списку" in page  # a job, refused
    assert session.scalar(select(func.count()).select_from(Vote)) == 0
