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
