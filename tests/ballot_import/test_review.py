"""The review core: people decide unclear marks, duplicate scans and spoiled sheets; their
decisions are recorded with who and when, and a re-import never overwrites them."""

from __future__ import annotations

import pytest

from ballot_import.review import (
    ReviewError,
    choose_page,
    clean_operator,
    decide_box,
    restore_sheet,
    spoil_sheet,
)
from tests.ballot_import.test_sheet_store import (
    ACCEPTED_A,
    BLANK_C,
    OVERVOTE_D,
    T0,
    UNCLEAR_B,
    point,  # noqa: F401  (the fixture)
)

B = "S0001-000002"


def unclear_box(at, serial=B):
    [page] = at.sheets.pages_of(31, serial)
    return page.id


def decide(at, verdict="marked", seen=0, operator="Олена Коваль", project_id=102, page_id=None, now_ms=T0):
    return decide_box(
        at.sheets, 31, B, page_id=page_id or unclear_box(at), project_id=project_id, verdict=verdict,
        seen=seen, operator=operator, cycles=at.cycles, now_ms=now_ms,
    )  # fmt: skip


@pytest.fixture
def reviewing(point):  # noqa: F811
    point.keep(point.write("b.jpg", UNCLEAR_B, jpeg=80))
    return point


def test_deciding_the_unclear_box_makes_the_sheet_ready_with_who_and_when(reviewing):
    state = decide(reviewing, "unmarked", now_ms=T0 + 5_000)
    assert state.state == "ready" and state.selections == [106]
    sheet = reviewing.sheets.sheet(31, B)
    assert sheet.state == "ready" and sheet.ready_at_ms == T0 + 5_000 and sheet.selections == (106,)
    [decision] = reviewing.sheets.decisions(31, B)
    assert (decision.operator, decision.verdict) == ("Олена Коваль", "unmarked")
    assert decision.decided_at_ms == T0 + 5_000


def test_a_marked_decision_counts_the_box(reviewing):
    assert decide(reviewing, "marked").selections == [102, 106]


def test_re_reading_the_same_sheet_never_overwrites_a_decision(reviewing):
    decide(reviewing, "unmarked")
    before = (reviewing.sheets.sheet(31, B), reviewing.sheets.decisions(31, B))
    [(outcome, _)] = reviewing.keep(reviewing.folder / "b.jpg", now_ms=T0 + 99_000)
    assert outcome == "duplicate"
    assert (reviewing.sheets.sheet(31, B), reviewing.sheets.decisions(31, B)) == before


def test_a_rescan_from_another_image_keeps_the_decision_on_the_first_scan(reviewing):
    decide(reviewing, "marked")
    [(outcome, reasons)] = reviewing.keep(reviewing.write("b-rescan.png", UNCLEAR_B))
    assert outcome == "needs_review" and "sheet.duplicate_serial" in reasons
    first, _second = reviewing.sheets.pages_of(31, B)
    state = choose_page(reviewing.sheets, 31, B, page_id=first.id, seen=0, operator="Іван",
                        cycles=reviewing.cycles, now_ms=T0)  # fmt: skip
    assert state.state == "ready" and state.selections == [102, 106]  # the first scan's decision stands


def test_a_second_operator_with_a_stale_page_cannot_overrule_the_first(reviewing):
    decide(reviewing, "marked", operator="Олена")
    with pytest.raises(ReviewError) as refused:
        decide(reviewing, "unmarked", seen=0, operator="Петро")
    assert refused.value.code == "review.decided_meanwhile" and refused.value.detail == "Олена"
    [first] = reviewing.sheets.decisions(31, B)
    assert reviewing.sheets.sheet(31, B).selections == (102, 106)
    # Seeing Олена's decision, Петро changes it explicitly: a new decision naming the old one.
    state = decide(reviewing, "unmarked", seen=first.id, operator="Петро")
    assert state.selections == [106]
    second = reviewing.sheets.decisions(31, B)[-1]
    assert second.operator == "Петро" and second.replaces == first.id


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"project_id": 101}, "review.not_unclear"),  # a box that was read clearly
        ({"project_id": 999}, "review.not_unclear"),
        ({"page_id": 424242}, "review.not_unclear"),
        ({"verdict": "maybe"}, "review.bad_form"),
        ({"verdict": ["marked"]}, "review.bad_form"),
        ({"operator": ""}, "review.operator"),
        ({"operator": "   "}, "review.operator"),
        ({"operator": "Олена\u202eавокеП"}, "review.operator"),  # an RTL override
        ({"operator": "Олена\x1b[31m"}, "review.operator"),
        ({"operator": "О" * 81}, "review.operator"),
        ({"operator": 42}, "review.operator"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(reviewing, change, code):
    with pytest.raises(ReviewError) as refused:
        decide(reviewing, **change)
    assert refused.value.code == code
    assert reviewing.sheets.decisions(31, B) == [] and reviewing.sheets.sheet(31, B).state == "review"


def test_a_blank_sheet_stays_in_review_until_spoiled_and_can_be_restored(point):  # noqa: F811
    point.keep(point.write("c.png", BLANK_C))
    sheet = point.sheets.sheet(31, "S0001-000003")
    assert sheet.state == "review" and "sheet.blank" in sheet.reasons
    with pytest.raises(ReviewError, match=r"review\.reason"):
        spoil_sheet(point.sheets, 31, "S0001-000003", reason="\x00", seen=0, operator="Оля",
                    cycles=point.cycles, now_ms=T0)  # fmt: skip
    state = spoil_sheet(point.sheets, 31, "S0001-000003", reason="порожній бюлетень", seen=0, operator="Оля",
                        cycles=point.cycles, now_ms=T0)  # fmt: skip
    assert state.state == "spoiled" and point.sheets.sheet(31, "S0001-000003").state == "spoiled"
    state = restore_sheet(point.sheets, 31, "S0001-000003", seen=state.spoil.id, operator="Оля",
                          cycles=point.cycles, now_ms=T0)  # fmt: skip
    assert state.state == "review"


def test_the_whole_sheet_is_checked_against_the_cycles_rules(point):  # noqa: F811
    [(outcome, reasons)] = point.keep(point.write("d.png", OVERVOTE_D))
    assert outcome == "needs_review" and "sheet.overvote" in reasons
    sheet = point.sheets.sheet(31, "S0001-000004")
    assert sheet.state == "review" and "sheet.overvote" in sheet.reasons


def test_a_sheet_of_a_cycle_missing_from_the_package_is_not_ready(point):  # noqa: F811
    from ballot_import.review import refresh

    point.keep(point.write("a.png", ACCEPTED_A))
    state = refresh(point.sheets, 31, ACCEPTED_A[0], {}, T0)
    assert state.state == "review" and state.reasons == ["ballots.no_cycle"]


def test_an_operator_name_is_tidied_not_mangled():
    assert clean_operator("  Олена   Коваль ") == "Олена Коваль"
