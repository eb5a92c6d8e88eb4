"""Polls travel to terminals and support points in the signed package: the community's
published polls whose window has not ended (those not yet open too), never a draft, an
ended poll or another community's; read by the device into the very rule the server
judges answers by; a poll published or ending makes a new package version."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.models import PollOption, SyncPackage
from server.polls.store import create_poll, poll_rule, publish_poll, questions_of
from server.sync.keys import signing_key
from server.sync.packages import body_hash, current_package, package_body
from sync import package_envelope
from sync.package_parser import parse_package
from tests.conftest import both_databases
from voting.poll_who import WhoMayAnswer
from voting.polls import QuestionKind, check_answers
from voting.record import canonical_json

from .test_polls import SPEC
from .test_sync_packages import pull
from .test_sync_support import enrolled_device

NOW = datetime.now(UTC).replace(microsecond=0)  # times travel to the millisecond


def spec(title: str, opens: datetime, closes: datetime, who: dict | None = None) -> dict:
    made = copy.deepcopy(SPEC)
    made.update(title=title, opens_at=opens.isoformat(), closes_at=closes.isoformat())
    if who is not None:
        made["who"] = who
    return made


def poll(session, community, title: str, opens: datetime, closes: datetime, *, publish=True, who=None):
    made = create_poll(session, community.id, spec(title, opens, closes, who))
    if publish:
        publish_poll(session, made)
    session.commit()
    return made


def opened(device, answer: dict) -> dict:
    return package_envelope.open_package(answer["envelope"], device.server_key)


def test_the_open_and_coming_polls_travel_and_read_into_the_servers_own_rule(client, make, session):
    community, other = make.community(), make.community()
    who = {"min_age": 16, "voter_list": True, "district": "Центр"}
    open_now = poll(session, community, "Парк", NOW - timedelta(days=1), NOW + timedelta(days=9), who=who)
    coming = poll(session, community, "Сквер", NOW + timedelta(days=1), NOW + timedelta(days=5))
    poll(session, community, "Чернетка", NOW - timedelta(days=1), NOW + timedelta(days=9), publish=False)
    poll(session, community, "Минуле", NOW - timedelta(days=30), NOW - timedelta(days=1))
    theirs = poll(session, other, "Чуже", NOW - timedelta(days=1), NOW + timedelta(days=9))
    terminal = enrolled_device(client, session, make, community)

    package = opened(terminal, pull(terminal))
    assert [p["id"] for p in package["polls"]] == [open_now.id, coming.id]
    first = package["polls"][0]
    assert set(first) == {"id", "title", "description", "opens_at", "closes_at", "who", "questions"}
    assert first["who"] == who and first["opens_at"].endswith("Z")
    assert package["polls"][1]["who"] == {"min_age": None, "voter_list": False, "district": None}
    assert [q["kind"] for q in first["questions"]] == ["one", "up_to", "rank", "points"]
    assert set(first["questions"][0]) == {
        "id", "position", "text", "kind", "max_choices", "max_points", "options"
    }  # fmt: skip
    assert "Чуже" not in str(package) and theirs.id not in {p["id"] for p in package["polls"]}

    read = parse_package(package)
    for made in (open_now, coming):
        typed = read.poll(made.id)
        assert typed is not None and typed.rule() == poll_rule(session, made)
        views = questions_of(session, made)
        assert [(q.id, q.text, q.kind) for q in typed.questions] == [(v.id, v.text, v.kind) for v in views]
        assert [[(o.id, o.text) for o in q.options] for q in typed.questions] == [v.options for v in views]
    typed = read.poll(open_now.id)
    assert typed is not None and typed.who == WhoMayAnswer(16, True, "Центр")
    assert (typed.title, typed.description) == ("Парк", SPEC["description"])
    assert typed.opens_at == open_now.opens_at and typed.closes_at == open_now.closes_at
    assert [p.id for p in read.open_polls(NOW)] == [open_now.id]
    assert [p.id for p in read.open_polls(NOW + timedelta(days=2))] == [open_now.id, coming.id]
    assert read.open_polls(NOW + timedelta(days=10)) == []

    # An answer is judged offline exactly as the server would judge it.
    one, up_to, rank, points = typed.questions
    assert [q.kind for q in typed.questions] == list(QuestionKind)
    good = {
        one.id: (one.options[0].id,),
        up_to.id: tuple(sorted(o.id for o in up_to.options[:2])),
        rank.id: (rank.options[2].id, rank.options[0].id),
        points.id: ((points.options[1].id, 5),),
    }
    bad = {up_to.id: tuple(sorted(o.id for o in up_to.options[:3])), points.id: ((points.options[0].id, 6),)}
    server_rule = poll_rule(session, open_now)
    assert check_answers(typed.rule(), good) == check_answers(server_rule, good) == []
    assert check_answers(typed.rule(), bad) == check_answers(server_rule, bad) != []


def test_a_community_without_polls_gets_the_package_as_before(client, make, session):
    community = make.community()
    make.ballot_cycle(community)
    poll(session, community, "Чернетка", NOW, NOW + timedelta(days=9), publish=False)
    terminal = enrolled_device(client, session, make, community)
    package = opened(terminal, pull(terminal))
    assert "polls" not in package and parse_package(package).polls == ()


def test_the_polls_order_and_bytes_do_not_depend_on_the_rows_order(app, make, session):
    community = make.community()
    later = poll(session, community, "Пізніше", NOW + timedelta(days=2), NOW + timedelta(days=9))
    sooner = poll(session, community, "Раніше", NOW + timedelta(days=1), NOW + timedelta(days=9))
    options = {"server_key": "k", "master_secret": app.config["VOTER_KEY_SECRET_BYTES"], "now": NOW}
    body = package_body(session, community, **options)
    assert [p["id"] for p in body["polls"]] == [sooner.id, later.id]
    # Options in their position, whatever their ids: reverse one question's positions.
    question = questions_of(session, later)[0]
    rows = session.scalars(select(PollOption).where(PollOption.question_id == question.id)).all()
    for row in rows:
        row.position = len(rows) - 1 - row.position
    session.commit()
    again = package_body(session, community, **options)
    first_question = again["polls"][1]["questions"][0]
    assert [o["id"] for o in first_question["options"]] == [o for o, _ in reversed(question.options)]
    assert [o["position"] for o in first_question["options"]] == list(range(len(rows)))
    assert canonical_json(again) == canonical_json(package_body(session, community, **options))


@both_databases
def test_a_poll_published_or_ending_makes_a_new_version_and_a_draft_does_not(app, client, make, session):
    community = make.community()
    terminal = enrolled_device(client, session, make, community)
    assert pull(terminal)["version"] == 1

    draft = poll(session, community, "Парк", NOW - timedelta(hours=1), NOW + timedelta(days=3), publish=False)
    assert pull(terminal, have=1)["envelope"] is None  # a draft changes nothing
    publish_poll(session, draft)
    session.commit()
    published = pull(terminal, have=1)
    assert published["version"] == 2
    assert [p["id"] for p in opened(terminal, published)["polls"]] == [draft.id]
    assert pull(terminal, have=2)["envelope"] is None  # asking again changes nothing

    # The poll's window ends: the next package leaves it out, under a new version.
    with app.app_context():
        options = {"signing_key": signing_key(), "master_secret": app.config["VOTER_KEY_SECRET_BYTES"]}
        before = current_package(session, community, now=NOW, **options)
        after = current_package(session, community, now=NOW + timedelta(days=4), **options)
    session.commit()
    assert (before.version, after.version) == (2, 3) and "polls" not in after.body
    assert body_hash(before.body) != body_hash(after.body)
    assert session.scalars(select(SyncPackage.version).order_by(SyncPackage.version)).all() == [1, 2, 3]
