"""A poll's results: a moderator publishes them (two steps, audited, refused before the
poll is published or has opened) and unpublishes them; anyone reads the public page and
its CSV and JSON without signing in, and they hold exactly the domain's count, overall
and by channel. Nothing of an unpublished poll, another community's or a junk id leaks."""

from __future__ import annotations

import copy
import csv
import io
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Poll, Role, utcnow
from server.polls.answers import store_answers
from server.polls.results import publish_poll_results
from server.polls.store import PollStateError, create_poll, poll_rule, publish_poll
from tests.factories import CSRF_TOKEN, post, sign_in
from voting.channels import Channel
from voting.counting import VoteStatus
from voting.poll_count import count_poll as count_in_memory
from voting.poll_count import decide_answers
from voting.polls import PollAnswerRecord, QuestionKind

from .test_polls import SPEC


def _spec(opens_days_ago: float = 10, open_days: float = 30, **changes) -> dict:
    """SPEC with its window around now: opened `opens_days_ago` days ago."""
    spec = copy.deepcopy(SPEC)
    opens = utcnow() - timedelta(days=opens_days_ago)
    spec.update(opens_at=opens.isoformat(), closes_at=(opens + timedelta(days=open_days)).isoformat())
    spec.update(changes)
    return spec


def _poll(session, community, *, published: bool = True, **spec_args) -> Poll:
    poll = create_poll(session, community.id, _spec(**spec_args))
    if published:
        publish_poll(session, poll)
    session.commit()
    return poll


def _records(session, poll: Poll, n: int, *, seed: int = 3) -> list[PollAnswerRecord]:
    """`n` answers to `poll` of every kind, from every channel, some voters twice, some
    questions skipped."""
    rule = poll_rule(session, poll)
    rng = random.Random(seed)
    channels = [Channel.WEB, Channel.KIOSK, Channel.PAPER, Channel.SCHOOL_CODE]
    records = []
    for i in range(n):
        voter = rng.randrange(max(n * 2 // 3, 1))
        answers: dict[int, object] = {}
        for question in rule.questions:
            if answers and rng.random() < 0.15:
                continue  # skipped
            options = list(question.option_ids)
            if question.kind is QuestionKind.ONE:
                answers[question.question_id] = [rng.choice(options)]
            elif question.kind is QuestionKind.UP_TO:
                answers[question.question_id] = rng.sample(options, rng.randint(1, question.most_chosen))
            elif question.kind is QuestionKind.RANK:
                answers[question.question_id] = rng.sample(options, rng.randint(1, question.most_chosen))
            else:
                answers[question.question_id] = [
                    [o, rng.randint(0, question.max_points or 0)] for o in options
                ]
        channel = channels[voter % len(channels)]
        records.append(
            PollAnswerRecord.create(
                poll=rule,
                answers=answers,
                channel=channel,
                cast_at=poll.opens_at + timedelta(minutes=rng.randrange(1, 5000)),
                voter_key=None if channel is Channel.SCHOOL_CODE else f"{voter:064x}",
                code_id=f"CODE-{voter}" if channel is Channel.SCHOOL_CODE else None,
                device_id="T-0001" if channel is Channel.KIOSK else None,
            )
        )
    return records


def _store(session, poll: Poll, records: list[PollAnswerRecord]) -> None:
    store_answers(session, poll, poll_rule(session, poll), records, source="test")
    session.commit()


def _public(poll: Poll, community, ext: str = "") -> str:
    return f"/polls/{community.slug}/{poll.id}{ext}"


def _confirmed(client, url: str):
    """A confirmed console POST, following the redirect to the page that says what happened."""
    return client.post(url, data={"csrf_token": CSRF_TOKEN, "confirm": "yes"}, follow_redirects=True)


@pytest.fixture
def moderator(make):
    community = make.community()
    return make.user(Role.COMMUNITY_MODERATOR, community), community


# --- publishing ----------------------------------------------------------------------------


def test_a_moderator_publishes_and_unpublishes_the_results_in_two_steps(client, session, moderator):
    user, community = moderator
    poll = _poll(session, community)
    _store(session, poll, _records(session, poll, 12))
    sign_in(client, user)
    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert "Оприлюднити результати" in page and "publish-poll-results-check" in page
    assert client.get(_public(poll, community)).status_code == 404

    # Without the confirming tick nothing changes and nothing is logged.
    post(client, f"/console/polls/{poll.id}/results/publish")
    session.refresh(poll)
    assert poll.results_published_at is None
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0

    answer = post(client, f"/console/polls/{poll.id}/results/publish", confirm="yes")
    assert answer.status_code == 303
    session.refresh(poll)
    assert poll.results_published_at is not None
    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert f'href="/polls/{community.slug}/{poll.id}"' in page and "Зняти результати з публікації" in page
    assert client.get(_public(poll, community)).status_code == 200
    # Again: nothing new, and said so.
    again = _confirmed(client, f"/console/polls/{poll.id}/results/publish")
    assert "вже оприлюднено" in again.get_data(as_text=True)

    post(client, f"/console/polls/{poll.id}/results/unpublish")  # no tick: still public
    session.refresh(poll)
    assert poll.results_published_at is not None
    post(client, f"/console/polls/{poll.id}/results/unpublish", confirm="yes")
    session.refresh(poll)
    assert poll.results_published_at is None
    assert client.get(_public(poll, community)).status_code == 404
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["poll.results_publish", "poll.results_unpublish"]
    assert {(e.target_type, e.target_id, e.user_id) for e in events} == {("poll", str(poll.id), user.id)}
    assert events[1].details["published_at"]
    log = client.get("/console/audit?lang=en").get_data(as_text=True)
    assert "Poll results published" in log and "Poll results unpublished" in log


@pytest.mark.parametrize(
    ("published", "opens_days_ago", "says_uk", "says_en"),
    [
        (False, 10, "ще не оприлюднено", "not published yet"),
        (True, -3, "ще не почалося", "has not started yet"),
    ],
)
def test_results_are_refused_before_the_poll_is_published_or_opens(
    client, session, moderator, published, opens_days_ago, says_uk, says_en
):
    user, community = moderator
    poll = _poll(session, community, published=published, opens_days_ago=opens_days_ago)
    with pytest.raises(PollStateError):
        publish_poll_results(session, poll)
    sign_in(client, user)
    page = client.get(f"/console/polls/{poll.id}").get_data(as_text=True)
    assert "publish-poll-results" not in page  # no button to press
    answer = _confirmed(client, f"/console/polls/{poll.id}/results/publish")
    assert says_uk in answer.get_data(as_text=True)
    english = _confirmed(client, f"/console/polls/{poll.id}/results/publish?lang=en")
    assert says_en in english.get_data(as_text=True)
    session.refresh(poll)
    assert poll.results_published_at is None
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_without_the_csrf_token_nothing_is_published(client, session, moderator):
    user, community = moderator
    poll = _poll(session, community)
    sign_in(client, user)
    for action in ("publish", "unpublish"):
        answer = client.post(f"/console/polls/{poll.id}/results/{action}", data={"confirm": "yes"})
        assert answer.status_code in (400, 403)
        answer = client.post(
            f"/console/polls/{poll.id}/results/{action}", data={"confirm": "yes", "csrf_token": "x" * 40}
        )
        assert answer.status_code in (400, 403)
    session.refresh(poll)
    assert poll.results_published_at is None


@pytest.mark.parametrize("who", ["school", "operator", "other_community", "anonymous"])
def test_only_the_communitys_managers_publish_or_unpublish(client, session, make, moderator, who):
    _user, community = moderator
    poll = _poll(session, community)
    shown = _poll(session, community)
    shown.results_published_at = utcnow()
    session.commit()
    if who == "school":
        school = make.school(community)
        sign_in(client, make.user(Role.SCHOOL_MODERATOR, community, school_id=school.id))
        expected = 403
    elif who == "operator":
        sign_in(client, make.user(Role.SUPPORT_OPERATOR, community))
        expected = 403
    elif who == "other_community":
        sign_in(client, make.user(Role.COMMUNITY_MODERATOR, make.community()))
        expected = 404
    else:
        expected = None
    for target, action in ((poll, "publish"), (shown, "unpublish")):
        answer = post(client, f"/console/polls/{target.id}/results/{action}", confirm="yes")
        if expected is None:  # not signed in: no session, no CSRF token
            assert answer.status_code in (302, 400)
        else:
            assert answer.status_code == expected
    session.expire_all()
    assert session.get(Poll, poll.id).results_published_at is None
    assert session.get(Poll, shown.id).results_published_at is not None
    assert (
        session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("poll.%")))
        == 0
    )


def test_an_administrator_publishes_any_communitys_results(client, session, make, moderator):
    _user, community = moderator
    poll = _poll(session, community)
    sign_in(client, make.user(Role.ADMINISTRATOR))
    assert post(client, f"/console/polls/{poll.id}/results/publish", confirm="yes").status_code == 303
    session.refresh(poll)
    assert poll.results_published_at is not None


# --- the public page and its files ----------------------------------------------------------


def _published_results(session, community, records_n: int = 0, **spec_args) -> Poll:
    poll = _poll(session, community, **spec_args)
    if records_n:
        _store(session, poll, _records(session, poll, records_n))
    publish_poll_results(session, poll)
    session.commit()
    return poll


def test_nothing_unpublished_or_foreign_or_junk_is_found(client, session, make):
    community, other = make.community(), make.community()
    hidden = _poll(session, community, title="Таємне опитування")  # published poll, results not
    draft = _poll(session, community, published=False, title="Чернетка опитування")
    theirs = _published_results(session, other, title="Чуже опитування")
    session.commit()
    urls = [
        _public(hidden, community),
        _public(draft, community),
        _public(theirs, community),  # another community's poll under this community
        f"/polls/{community.slug}/{theirs.id + 1000}",
        f"/polls/{community.slug}/abc",
        f"/polls/{community.slug}/-1",
        f"/polls/{community.slug}/1.5",
        f"/polls/{community.slug}/{2**31}",
        f"/polls/{community.slug}/{10**30}",
        f"/polls/{community.slug}/0",
        f"/polls/no-such-community/{theirs.id}",
        f"/polls/{'x' * 200}/{theirs.id}",
        "/polls/%3Cscript%3E",
        "/polls/no-such-community",
    ]
    for url in urls:
        for ext in ("", ".csv", ".json"):
            if ext and not url[-1].isdigit():
                continue
            answer = client.get(url + ext)
            assert answer.status_code == 404, url + ext
            body = answer.get_data(as_text=True)
            assert "Таємне" not in body and "Чернетка" not in body and "Чуже" not in body
    listing = client.get(f"/polls/{community.slug}").get_data(as_text=True)
    assert "Таємне" not in listing and "Чернетка" not in listing and "Чуже" not in listing
    assert "Оприлюднених результатів опитувань поки немає." in listing
    assert "Чуже опитування" in client.get(f"/polls/{other.slug}").get_data(as_text=True)


def _expected(session, poll: Poll, records: list[PollAnswerRecord]) -> tuple:
    """The domain's count: overall, and per channel among the counted answers."""
    rule = poll_rule(session, poll)
    received = list({r.answer_id: r for r in records}.values())  # an id received twice is one answer
    decisions = decide_answers(received)
    counted = [r for r in received if decisions[r.answer_id].status is VoteStatus.COUNTED]
    by_channel = {
        channel.value: count_in_memory(rule, [r for r in counted if r.channel is channel])
        for channel in Channel  # the page's order
        if any(r.channel is channel for r in counted)
    }
    return count_in_memory(rule, records), by_channel, counted


def _option_json(option, kind: QuestionKind) -> dict:
    shown = {"id": option.option_id, "chosen": option.chosen, "share": round(option.share, 6)}
    if kind is QuestionKind.RANK:
        shown |= {
            "borda": option.borda,
            "mean_rank": None if option.mean_rank is None else round(option.mean_rank, 6),
            "first": option.first,
            "by_position": list(option.distribution),
        }
    elif kind is QuestionKind.POINTS:
        shown |= {
            "points": option.points,
            "mean_points": round(option.mean_points, 6),
            "by_points": list(option.distribution),
        }
    return shown


def _question_json(result) -> dict:
    return {
        "id": result.question_id,
        "kind": result.kind.value,
        "respondents": result.respondents,
        "order": result.order,
        "options": [_option_json(o, result.kind) for o in result.options],
    }


def _strip_texts(question: dict) -> dict:
    return {
        **{k: question[k] for k in ("id", "kind", "respondents", "order")},
        "options": [{k: v for k, v in o.items() if k != "text"} for o in question["options"]],
    }


def test_the_json_and_csv_hold_exactly_the_domains_count_overall_and_by_channel(client, session, make):
    community = make.community()
    poll = _poll(session, community)
    records = _records(session, poll, 90, seed=11)
    records += records[:5]  # the same answers received again: counted once
    _store(session, poll, records)
    publish_poll_results(session, poll)
    session.commit()
    overall, by_channel, counted = _expected(session, poll, records)
    assert len(by_channel) == 4

    body = client.get(_public(poll, community, ".json")).get_json()
    assert body["poll"] == poll.id and body["community"] == community.slug
    assert body["residents"] == len(counted)
    assert body["channels"] == {c.value: sum(r.channel is c for r in counted) for c in Channel}
    assert [_strip_texts(q) for q in body["questions"]] == [_question_json(r) for r in overall]
    for question, position in zip(body["questions"], range(4), strict=True):
        assert question["position"] == position + 1
        assert {c: _strip_texts(q) for c, q in question["by_channel"].items()} == {
            c: _question_json(results[position]) for c, results in by_channel.items()
        }
    texts = {o["id"]: o["text"] for q in body["questions"] for o in q["options"]}
    assert texts[overall[0].options[0].option_id] in SPEC["questions"][0]["options"]

    answer = client.get(_public(poll, community, ".csv"))
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    header, rows = rows[0], rows[1:]
    assert header[0] == "Канал" and len(rows) == 14 * (1 + len(by_channel))
    expected_rows = []
    for channel, results in [("all", overall), *by_channel.items()]:
        for position, result in enumerate(results, start=1):
            for option in result.options:
                expected_rows.append(
                    (
                        channel,
                        str(position),
                        result.kind.value,
                        str(result.respondents),
                        texts[option.option_id],
                        str(option.chosen),
                        f"{option.share * 100:.2f}",
                        str(option.borda) if result.kind is QuestionKind.RANK else "",
                        str(option.points) if result.kind is QuestionKind.POINTS else "",
                    )
                )
    assert [(r[0], r[1], r[3], r[4], r[5], r[6], r[7], r[8], r[11]) for r in rows] == expected_rows
    # A ranking's distribution: the count at each place, as the domain has it.
    rank_row = next(r for r in rows if r[0] == "all" and r[3] == "rank")
    rank_option = overall[2].options[0]
    assert rank_row[13] == "; ".join(f"{p}: {n}" for p, n in enumerate(rank_option.distribution, start=1))
    points_row = next(r for r in rows if r[0] == "all" and r[3] == "points")
    assert points_row[13].startswith(f"0: {overall[3].options[0].distribution[0]};")
    english = client.get(_public(poll, community, ".csv") + "?lang=en").get_data(as_text=True)
    assert english.lstrip("\ufeff").startswith("Channel,Question no.,Question,")


def test_the_page_shows_each_kinds_figures_charts_and_channels_in_both_languages(client, session, make):
    community = make.community()
    poll = _published_results(session, community, records_n=40)
    page = client.get(_public(poll, community)).get_data(as_text=True)
    assert page.count('class="poll-question"') == 4 and page.count('role="img"') == 4
    assert "Бали Борда" in page and "1-е місце" in page and "3-е місце" in page  # the ranking
    assert "Середній бал" in page and "0 балів" in page and "5 балів" in page  # points 0..5
    assert "Обрали" in page and "%" in page
    # Channels: every channel is listed; the one that brought nothing says so.
    assert 'data-channel="staff_assisted"' in page
    staff_row = page.split('data-channel="staff_assisted"')[1].split("</tr>")[0]
    assert "немає" in staff_row
    assert "Онлайн" in page and "Термінал" in page and "Шкільний код" in page
    assert page.count("poll-by-channel") == 4
    assert f'href="/polls/{community.slug}/{poll.id}.csv"' in page
    english = client.get(_public(poll, community) + "?lang=en").get_data(as_text=True)
    assert "answers counted" in english and "Place 1" in english and "Borda points" in english
    assert "Mean points" in english and "Channels" in english and "none" in english.lower()
    assert 'lang="en"' in english


@pytest.mark.parametrize(("residents", "uk", "en"), [
    (0, "Зараховано 0 відповідей", "0 answers counted"),
    (1, "Зараховано 1 відповідь:", "1 answer counted"),
    (2, "Зараховано 2 відповіді:", "2 answers counted"),
    (5, "Зараховано 5 відповідей:", "5 answers counted"),
    (21, "Зараховано 21 відповідь:", "21 answers counted"),
])  # fmt: skip
def test_counted_answers_are_said_in_the_right_form(client, session, make, residents, uk, en):
    community = make.community()
    poll = _poll(session, community)
    rule = poll_rule(session, poll)
    one = rule.questions[0]
    _store(
        session,
        poll,
        [
            PollAnswerRecord.create(
                poll=rule,
                answers={one.question_id: [one.option_ids[n % 3]]},
                channel=Channel.WEB,
                cast_at=poll.opens_at + timedelta(minutes=n + 1),
                voter_key=f"{n:064x}",
            )
            for n in range(residents)
        ],
    )
    publish_poll_results(session, poll)
    session.commit()
    page = client.get(_public(poll, community)).get_data(as_text=True)
    assert uk in page
    assert en in client.get(_public(poll, community) + "?lang=en").get_data(as_text=True)
    if residents == 0:
        assert page.count("немає") == len(Channel) and 'role="img"' not in page
        assert page.count("На це питання ще ніхто не відповів.") == 4
        body = client.get(_public(poll, community, ".json")).get_json()
        assert body["residents"] == 0 and all(q["respondents"] == 0 for q in body["questions"])
        assert all(q["by_channel"] == {} for q in body["questions"])
        rows = list(
            csv.reader(io.StringIO(client.get(_public(poll, community, ".csv")).get_data(as_text=True)))
        )
        assert len(rows) == 1 + 14 and {r[6] for r in rows[1:]} == {"0"}


def test_texts_are_escaped_and_csv_cells_are_not_formulas(client, session, make):
    community = make.community()
    spec_questions = copy.deepcopy(SPEC["questions"])
    spec_questions[0]["options"] = ["<script>alert(1)</script>", '=HYPERLINK("http://x")', "Ні"]
    poll = _published_results(session, community, questions=spec_questions, title="<b>Парк</b>")
    page = client.get(_public(poll, community)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "<b>Парк" not in page
    text = client.get(_public(poll, community, ".csv")).get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_the_front_page_and_the_communitys_list_link_published_results(client, session, make):
    community = make.community()
    shown = _published_results(session, community, title="Опитування про парк")
    _poll(session, community, title="Опитування без результатів")
    home = client.get("/").get_data(as_text=True)
    assert f'href="/polls/{community.slug}/{shown.id}"' in home and "Результати опитувань" in home
    assert "Опитування без результатів" not in home
    listing = client.get(f"/polls/{community.slug}?lang=en").get_data(as_text=True)
    assert "Опитування про парк" in listing and "Опитування без результатів" not in listing
    assert "The community&#39;s polls" in listing


def test_junk_and_huge_ids_on_the_console_routes_are_not_found(client, session, moderator):
    user, community = moderator
    poll = _poll(session, community)
    sign_in(client, user)
    for poll_id in (0, poll.id + 1000, 2**31, 10**30):
        for action in ("publish", "unpublish"):
            answer = post(client, f"/console/polls/{poll_id}/results/{action}", confirm="yes")
            assert answer.status_code == 404
    for junk in ("abc", "-1", "1.5", "%00"):
        assert post(client, f"/console/polls/{junk}/results/publish", confirm="yes").status_code == 404
    session.refresh(poll)
    assert poll.results_published_at is None
