"""The demo's school budget: contests open now, codes to try, some already used."""

from __future__ import annotations

import pytest

from server.demo import seed_demo
from server.school.code_votes import CodeRefused, find_code
from server.school.codes import class_usage
from server.school.keys import app_code_keys


def test_demo_schools_have_open_contests_and_codes_to_try(app, session):
    summary = seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=50)
    keys = app_code_keys(app)
    assert len(summary.schools.contests) == 2
    for contest, unused in summary.schools.cards:
        assert unused, "every demo school has cards left to try"
        assert find_code(session, keys, unused[0].code).contest.id == contest.id
        usage = class_usage(session, contest)
        assert sum(u.used for u in usage) > 0
        assert sum(u.unused for u in usage) == len(unused)
    spent_somewhere = False
    for contest, _unused in summary.schools.cards:
        for u in class_usage(session, contest):
            spent_somewhere |= u.used > 0
    assert spent_somewhere
    assert ("school", "school_moderator", "school-demo-2027") in summary.users


def test_a_demo_code_cannot_be_found_with_another_servers_keys(session, app):
    from server.school.keys import CodeKeys

    summary = seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=10)
    _contest, unused = summary.schools.cards[0]
    other = CodeKeys.from_master(b"\x01" * 32)
    with pytest.raises(CodeRefused) as refused:
        find_code(session, other, unused[0].code)
    assert refused.value.code == "code.unknown"


def test_the_first_demo_school_has_a_poll_its_students_answered_and_a_card_left_can_answer(app, session):
    from sqlalchemy import select

    from server.models import Poll, PollAnswer
    from server.school.code_polls import answer_by_code, open_polls, poll_code

    summary = seed_demo(session, app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=10)
    session.commit()
    first, _second = summary.schools.contests
    poll = session.scalar(select(Poll).where(Poll.school_id.is_not(None)))
    assert poll is not None and poll.school_id == first.school.id and poll.published_at is not None
    channels = set(session.scalars(select(PollAnswer.channel).where(PollAnswer.poll_id == poll.id)))
    assert channels == {"school_code"}
    _contest, unused = summary.schools.cards[0]
    code = poll_code(session, unused[0].code_id)
    [offered] = open_polls(session, code)
    assert offered.poll.id == poll.id
    from server.polls.store import poll_rule

    one, _points = poll_rule(session, poll).questions
    answer_by_code(session, code, poll.id, {one.question_id: [one.option_ids[0]]})
    session.commit()
    # The second school's cards are not offered the first school's poll.
    _contest, theirs = summary.schools.cards[1]
    assert open_polls(session, poll_code(session, theirs[0].code_id)) == []
