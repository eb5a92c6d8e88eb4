"""«Перевірити свій голос»: a resident types the receipt code and learns the vote's fate,
never its content; bad input and floods change nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from qr_codes.receipt_codes import legacy_receipt_code, receipt_code
from server.models import HeldVote, Project, ThrottleBucket, utcnow
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from tests.conftest import both_databases
from tests.factories import CSRF_TOKEN
from voting import VoteRecord
from voting.polls import PollAnswerRecord


def check(client, code: str, lang: str = ""):
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF_TOKEN
    return client.post(f"/check{lang}", data={"code": code, "csrf_token": CSRF_TOKEN})


def vote_id_whose_code_has(symbols: str) -> str:
    """A vote id whose receipt code holds one of `symbols` (to try their look-alikes)."""
    while True:
        vote_id = str(uuid.uuid4())
        if any(s in receipt_code(vote_id) for s in symbols):
            return vote_id


@pytest.fixture
def ballot(make, session):
    cycle = make.ballot_cycle()
    projects = session.scalars(select(Project).where(Project.cycle_id == cycle.id)).all()
    return cycle, projects


def cast(session, cycle, project, *, voter: str, vote_id: str | None = None, hours: int = 1) -> str:
    record = VoteRecord.create(
        vote_id=vote_id,
        cycle_id=cycle.id,
        selections=[project.id],
        channel="kiosk",
        cast_at=cycle.voting_starts_at + timedelta(hours=hours),
        voter_key=voter * 64,
        device_id="T-0001",
    )
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, [record], "T-0001")
    session.commit()
    return record.vote_id


@both_databases  # SQLite: the demo
def test_a_counted_vote_is_found_however_its_code_is_typed(client, session, ballot):
    cycle, projects = ballot
    vote_id = cast(session, cycle, projects[0], voter="a", vote_id=vote_id_whose_code_has("01"))
    code = receipt_code(vote_id)
    compact = code.replace("-", "")
    look_alikes = compact.replace("0", "O").replace("1", "I")
    spaced = f"  {compact[:4]} {compact[4:]} "
    for typed in (code, code.lower(), compact, spaced, look_alikes, look_alikes.lower()):
        page = check(client, typed).get_data(as_text=True)
        assert 'data-state="counted"' in page, typed
        assert "Голос дійшов до сервера й зарахований." in page
        assert cycle.title in page
        assert projects[0].title not in page  # never what was chosen


def test_a_receipt_printed_in_the_old_alphabet_is_still_found(client, session, ballot):
    cycle, projects = ballot
    vote_id = cast(session, cycle, projects[0], voter="b")
    page = check(client, legacy_receipt_code(vote_id)).get_data(as_text=True)
    assert 'data-state="counted"' in page


def test_a_second_vote_of_the_same_resident_is_reported_as_not_the_one_that_counts(client, session, ballot):
    cycle, projects = ballot
    cast(session, cycle, projects[0], voter="c", hours=1)
    later = cast(session, cycle, projects[1], voter="c", hours=2)
    page = check(client, receipt_code(later)).get_data(as_text=True)
    assert 'data-state="duplicate"' in page
    assert projects[0].title not in page and projects[1].title not in page


@both_databases
def test_a_held_vote_waits_for_a_moderator_and_a_rejected_one_says_so(client, session, make, ballot):
    cycle, _projects = ballot
    from server.models import Community

    device = make.device(session.get(Community, cycle.community_id))
    vote_id = str(uuid.uuid4())
    held = HeldVote(
        community_id=cycle.community_id,
        cycle_id=cycle.id,
        device_id=device.id,
        seq=1,
        vote_id=vote_id,
        record={"vote_id": vote_id},
        cast_at=utcnow(),
        reason="results_published",
        held_at=utcnow(),
        note="",
    )
    session.add(held)
    session.commit()
    page = check(client, receipt_code(vote_id)).get_data(as_text=True)
    assert 'data-state="held"' in page and "чекає рішення модератора" in page
    held.decision, held.decided_at = "rejected", utcnow()
    session.commit()
    assert 'data-state="rejected"' in check(client, receipt_code(vote_id)).get_data(as_text=True)


def test_a_code_the_server_has_not_seen_explains_the_terminal_may_not_have_sent_it(client):
    page = check(client, receipt_code(str(uuid.uuid4())))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-state="unknown"' in text
    assert "Сервер ще не отримав голосу з цим кодом." in text and "надсилає його на сервер" in text


BAD_INPUT = [
    ("", "Введіть код з квитанції."),
    ("7KQM-2XP", "Код квитанції має 8 символів, а введено 7."),
    ("7KQM-2XP0-AB", "Код квитанції має 8 символів, а введено 10."),
    ("7KQM-2XP$", "Символ «$» не буває в кодах квитанцій"),
    ("<script>x</script>", "Символ «&lt;» не буває"),
    ("7KQM-2XP0" * 500, "Це задовгий текст для коду квитанції"),
    ("8UUU-UUUU", "Такого коду квитанція не могла мати"),  # 8 is only new, U only old
]


def test_bad_input_gets_a_clear_message_and_is_not_counted(client, session):
    for typed, message in BAD_INPUT:
        answer = check(client, typed)
        assert answer.status_code == 400, typed
        text = answer.get_data(as_text=True)
        assert message in text and 'aria-invalid="true"' in text, typed
        assert "<script>" not in text
        assert len(text) < 20_000  # a flood is not sent back
    assert session.scalar(select(func.count()).select_from(ThrottleBucket)) == 0
    english = client.post("/check?lang=en", data={"code": "7KQM", "csrf_token": CSRF_TOKEN})
    assert "A receipt code has 8 symbols, but 4 were entered." in english.get_data(as_text=True)


def test_checks_are_rate_limited_per_address(app, client):
    app.config["RECEIPT_CHECKS_PER_IP"] = 2
    code = receipt_code(str(uuid.uuid4()))
    assert check(client, code).status_code == 200
    assert check(client, code).status_code == 200
    refused = check(client, code)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Забагато перевірок поспіль" in refused.get_data(as_text=True)


def test_the_form_needs_its_csrf_token(client):
    assert client.post("/check", data={"code": "7KQM-2XP0"}).status_code == 400


def test_the_page_is_in_english_too_and_linked_from_the_public_pages(client, session, ballot):
    english = client.get("/check?lang=en").get_data(as_text=True)
    assert "Check your vote" in english and "Receipt code" in english
    assert "The server has not received a vote" in check(client, "7KQM-2XP0").get_data(as_text=True)
    assert 'href="/check"' in client.get("/?lang=uk").get_data(as_text=True)


@pytest.mark.parametrize(
    ("table", "index"), [("vote", "ix_vote_receipt"), ("poll_answer", "ix_poll_answer_receipt")]
)
def test_on_postgresql_the_lookup_can_use_the_receipt_index(session, table, index):
    from server.models import PollAnswer, Vote
    from server.services.receipt_check import _key_of

    model = {"vote": Vote, "poll_answer": PollAnswer}[table]
    query = select(model.id).where(_key_of(session, f"{table}.id").in_([b"\x01\x02\x03\x04\x05"]))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(session.execute(text(f"EXPLAIN {compiled}")).scalars())
    session.rollback()
    assert index in plan, plan


@both_databases  # SQLite: the demo, whose kiosk prints poll receipts too
def test_a_terminals_poll_answer_is_found_by_its_receipt_in_both_languages(client, make, session):
    from server.polls.answers import store_answers
    from server.polls.store import poll_rule

    from .test_sync_poll_answers import a_poll, good_answers

    community = make.community()
    poll = a_poll(session, community)
    rule = poll_rule(session, poll)

    def answered(voter: str, minutes: int) -> str:
        record = PollAnswerRecord.create(
            poll=rule,
            answers=good_answers(session, poll),
            channel="kiosk",
            cast_at=utcnow() - timedelta(minutes=minutes),
            voter_key=voter * 64,
            device_id="T-0001",
        )
        store_answers(session, poll, rule, [record], source="T-0001")
        session.commit()
        return record.answer_id

    counted, again = answered("c", 30), answered("c", 10)
    page = check(client, receipt_code(counted)).get_data(as_text=True)
    assert (
        'data-state="counted"' in page and "Відповіді на опитування дійшли до сервера й зараховані." in page
    )
    assert f"Опитування «{poll.title}»" in page and community.name in page
    assert "Голос дійшов" not in page  # a poll answer is not called a vote
    page = check(client, receipt_code(again), "?lang=en").get_data(as_text=True)
    assert 'data-state="duplicate"' in page and "other answers of the same person" in page
    # Nothing of what was answered is shown.
    options = [o for q in rule.questions for o in q.option_ids]
    assert not any(f'value="{o}"' in page for o in options)
