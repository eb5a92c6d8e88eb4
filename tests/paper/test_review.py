"""The review core: people decide unclear marks, duplicate scans and spoiled sheets, and
correct any box the reader got wrong; their decisions are recorded with who, when and
(going against what stood) why, and a re-import never overwrites them."""

from __future__ import annotations

import hashlib

import pytest

from paper.reading import BoxReading, SheetReading
from paper.review import (
    ReviewError,
    choose_page,
    clean_operator,
    decide_box,
    keep_reading,
    restore_sheet,
    spoil_sheet,
)
from tests.paper.test_sheet_store import (
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


def decide(at, verdict="marked", seen=0, operator="Олена Коваль", project_id=102, page_id=None, now_ms=T0,
           serial=B, **extra):  # fmt: skip
    return decide_box(
        at.sheets, 31, serial, page_id=page_id or unclear_box(at, serial), project_id=project_id,
        verdict=verdict, seen=seen, operator=operator, cycles=at.cycles, now_ms=now_ms, **extra,
    )  # fmt: skip


SHADOW = "S0001-000009"
# The sample cycle's projects and their categories (tests/support_point/corpus.sample_cycle).
CATEGORY_OF = {101: 21, 102: 21, 103: 21, 104: 21, 105: 22, 106: 22}
PNG = b"\x89PNG\r\n\x1a\n" + b"crop"


def shadow_reading(serial=SHADOW, cropped=tuple(CATEGORY_OF), marginal=()) -> SheetReading:
    """A page where a phone's shadow lay over the boxes: the reader is sure every box is
    marked (an overvote), but for the `marginal` ones. The voter marked only 102 and 106.
    Crops of the `cropped` boxes, as the reader makes them for every box of a page needing
    review. Made by hand, so the tests do not hang on how the reader judges any image."""
    return SheetReading(
        file="shadow.jpg",
        page_index=0,
        image_sha256=hashlib.sha256(serial.encode()).hexdigest(),
        serial=serial,
        page="1/1",
        cycle_id=31,
        outcome="needs_review",
        reasons=["sheet.overvote"],
        boxes=[
            BoxReading(pid, cat, 0.31, "marginal" if pid in marginal else "marked")
            for pid, cat in CATEGORY_OF.items()
        ],
        selections=list(CATEGORY_OF),
        crops={pid: PNG + bytes([pid - 100]) for pid in cropped},
    )


def keep_shadow(at, serial=SHADOW, cropped=tuple(CATEGORY_OF), marginal=()):
    return keep_reading(
        at.sheets,
        shadow_reading(serial, cropped, marginal),
        None,
        cycles=at.cycles,
        serial_prefix="S0001",
        now_ms=T0,
    )


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
    # Seeing Олена's decision, Петро changes it explicitly, saying why: a new decision
    # naming the old one. Without a reason the change is refused.
    with pytest.raises(ReviewError, match=r"review\.override_reason"):
        decide(reviewing, "unmarked", seen=first.id, operator="Петро")
    state = decide(reviewing, "unmarked", seen=first.id, operator="Петро", reason="закреслено навхрест")
    assert state.selections == [106]
    second = reviewing.sheets.decisions(31, B)[-1]
    assert (
        second.operator == "Петро" and second.replaces == first.id and second.reason == "закреслено навхрест"
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"project_id": 101}, "review.override_reason"),  # read clearly unmarked: say why
        ({"project_id": 101, "reason": "   "}, "review.override_reason"),
        ({"project_id": 999, "reason": "тінь"}, "review.no_box"),  # not on this sheet
        ({"page_id": 424242}, "review.no_box"),
        ({"project_id": 101, "reason": "тінь\u202e"}, "review.reason"),  # an RTL override
        ({"project_id": 101, "reason": "тінь\x00"}, "review.reason"),
        ({"project_id": 101, "reason": "я" * 301}, "review.reason"),
        ({"reason": "x" * 10_000}, "review.reason"),  # a bad reason is refused even where optional
        ({"reason": ["тінь"]}, "review.reason"),
        ({"project_id": 101, "reason": "тінь", "seen": 7}, "review.decided_meanwhile"),
        ({"verdict": "maybe"}, "review.bad_form"),
        ({"verdict": "marginal"}, "review.bad_form"),
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
    from paper.review import refresh

    point.keep(point.write("a.png", ACCEPTED_A))
    state = refresh(point.sheets, 31, ACCEPTED_A[0], {}, T0)
    assert state.state == "review" and state.reasons == ["ballots.no_cycle"]


def test_an_operator_name_is_tidied_not_mangled():
    assert clean_operator("  Олена   Коваль ") == "Олена Коваль"


# --- correcting boxes the reader read clearly ----------------------------------------


def test_a_shadow_overvote_is_fixed_box_by_box_with_who_when_and_why(point):  # noqa: F811
    assert keep_shadow(point) == ("needs_review", ["sheet.overvote"])
    assert point.sheets.sheet(31, SHADOW).reasons == ("sheet.overvote", "sheet.over_budget")
    [page] = point.sheets.pages_of(31, SHADOW)
    # Every box's crop is kept, not only the marginal ones (there are none here).
    assert point.sheets.cropped_boxes([page.id]) == {(page.id, pid) for pid in CATEGORY_OF}
    assert point.sheets.crop(page.id, 104) == PNG + bytes([4])
    operators = ["Олена", "Петро", "Олена", "Петро"]
    for n, (pid, who) in enumerate(zip((101, 103, 104, 105), operators, strict=True)):
        assert point.sheets.sheet(31, SHADOW).state == "review"
        state = decide(point, "unmarked", project_id=pid, serial=SHADOW, operator=who,
                       now_ms=T0 + n * 1000, reason="тінь від телефону, не позначка")  # fmt: skip
    assert state.state == "ready" and state.selections == [102, 106] and state.reasons == []
    sheet = point.sheets.sheet(31, SHADOW)
    assert sheet.state == "ready" and sheet.selections == (102, 106) and sheet.ready_at_ms == T0 + 3000
    decisions = point.sheets.decisions(31, SHADOW)
    assert [
        (d.project_id, d.verdict, d.operator, d.decided_at_ms, d.reason, d.replaces) for d in decisions
    ] == [
        (pid, "unmarked", who, T0 + n * 1000, "тінь від телефону, не позначка", None)
        for n, (pid, who) in enumerate(zip((101, 103, 104, 105), operators, strict=True))
    ]
    overridden = {box.project_id for box in state.boxes if box.overridden}
    assert overridden == {101, 103, 104, 105} and state.unclear == []


def test_the_shadow_sheet_is_judged_by_the_rules_after_every_correction(point):  # noqa: F811
    keep_shadow(point)
    reasons = []
    for pid in (101, 103, 104):
        reasons.append(decide(point, "unmarked", project_id=pid, serial=SHADOW, reason="тінь").reasons)
    # 102+103+104: too many, and too dear; 102+104: within the count but over the small
    # category's budget; 105 and 106 stay both chosen where one is allowed, until corrected.
    assert reasons == [
        ["sheet.overvote", "sheet.over_budget"],
        ["sheet.over_budget", "sheet.overvote"],
        ["sheet.overvote"],
    ]


def test_setting_a_box_back_to_the_readers_verdict_is_a_decision_of_its_own(point):  # noqa: F811
    keep_shadow(point)
    for pid in (101, 103, 104, 105):
        decide(point, "unmarked", project_id=pid, serial=SHADOW, operator="Олена", reason="тінь")
    first = point.sheets.decisions(31, SHADOW)[-1]
    # Changing a person's decision needs a reason too, even back to what the reader saw.
    with pytest.raises(ReviewError, match=r"override_reason"):
        decide(point, "marked", project_id=105, serial=SHADOW, seen=first.id, operator="Петро")
    state = decide(point, "marked", project_id=105, serial=SHADOW, seen=first.id, operator="Петро",
                   reason="помилився клітинкою", now_ms=T0 + 9000)  # fmt: skip
    back = point.sheets.decisions(31, SHADOW)[-1]
    assert (back.verdict, back.operator, back.reason) == ("marked", "Петро", "помилився клітинкою")
    assert back.replaces == first.id
    box = state.box(back.page_id, 105)
    assert box.verdict == "marked" and not box.overridden and box.history == (first, back)
    assert state.state == "review" and state.reasons == ["sheet.overvote"]


def test_confirming_a_clear_reading_needs_no_reason_and_is_recorded(point):  # noqa: F811
    keep_shadow(point)
    state = decide(point, "marked", project_id=102, serial=SHADOW, operator="Олена")
    [decision] = point.sheets.decisions(31, SHADOW)
    assert (decision.project_id, decision.verdict, decision.reason) == (102, "marked", None)
    assert not state.box(decision.page_id, 102).overridden
    # The same answer again (a double click on a stale page) records nothing new.
    decide(point, "marked", project_id=102, serial=SHADOW, seen=decision.id, operator="Олена")
    assert len(point.sheets.decisions(31, SHADOW)) == 1


def test_a_reason_given_for_an_unclear_box_is_kept(reviewing):
    decide(reviewing, "unmarked", reason="  закреслено,   потім   поставлено поруч ")
    [decision] = reviewing.sheets.decisions(31, B)
    assert decision.reason == "закреслено, потім поставлено поруч"


def test_a_ready_sheet_can_be_corrected_and_goes_back_to_review(point):  # noqa: F811
    point.keep(point.write("a.png", ACCEPTED_A))
    serial = ACCEPTED_A[0]
    assert point.sheets.sheet(31, serial).state == "ready"
    state = decide(point, "unmarked", project_id=105, serial=serial, reason="позначка олівцем стерта")
    assert state.state == "review" and state.reasons == ["sheet.undervote"]
    sheet = point.sheets.sheet(31, serial)
    assert sheet.state == "review" and sheet.ready_at_ms is None


def test_a_stale_page_cannot_overrule_a_correction_of_a_clear_box(point):  # noqa: F811
    keep_shadow(point)
    decide(point, "unmarked", project_id=101, serial=SHADOW, operator="Олена", reason="тінь")
    with pytest.raises(ReviewError) as refused:
        decide(point, "unmarked", project_id=101, serial=SHADOW, operator="Петро", reason="тінь")
    assert refused.value.code == "review.decided_meanwhile" and refused.value.detail == "Олена"
    assert [d.operator for d in point.sheets.decisions(31, SHADOW)] == ["Олена"]


def test_boxes_of_a_scan_that_does_not_count_cannot_be_decided(point):  # noqa: F811
    keep_shadow(point)
    rescan = shadow_reading()
    rescan.file, rescan.image_sha256 = "shadow-again.jpg", hashlib.sha256(b"again").hexdigest()
    keep_reading(point.sheets, rescan, None, cycles=point.cycles, serial_prefix="S0001", now_ms=T0)
    first, second = point.sheets.pages_of(31, SHADOW)
    with pytest.raises(ReviewError, match=r"review\.no_box"):  # which scan counts is not chosen yet
        decide(point, "unmarked", project_id=101, serial=SHADOW, page_id=first.id, reason="тінь")
    choose_page(point.sheets, 31, SHADOW, page_id=second.id, seen=0, operator="Оля", cycles=point.cycles,
                now_ms=T0)  # fmt: skip
    with pytest.raises(ReviewError, match=r"review\.no_box"):  # the scan set aside
        decide(point, "unmarked", project_id=101, serial=SHADOW, page_id=first.id, reason="тінь")
    decide(point, "unmarked", project_id=101, serial=SHADOW, page_id=second.id, reason="тінь")
    assert [d.page_id for d in point.sheets.decisions(31, SHADOW) if d.kind == "box"] == [second.id]


def test_a_committed_sheet_cannot_be_corrected(point):  # noqa: F811
    point.keep(point.write("a.png", ACCEPTED_A))
    serial = ACCEPTED_A[0]
    point.sheets.mark_committed([(31, serial, "vote-1")], T0)
    with pytest.raises(ReviewError, match=r"review\.committed"):
        decide(point, "unmarked", project_id=105, serial=serial, reason="тінь")
    assert point.sheets.decisions(31, serial) == []


def test_a_marginal_box_still_needs_a_decision_before_the_sheet_is_ready(point):  # noqa: F811
    keep_shadow(point, marginal=(104,))
    for pid in (101, 103, 105):
        state = decide(point, "unmarked", project_id=pid, serial=SHADOW, reason="тінь")
    assert state.state == "review" and state.reasons == ["sheet.marginal_mark"]
    assert [box.project_id for box in state.unclear] == [104] and state.box(
        state.unclear[0].page_id, 104
    ).verdict is None
    state = decide(point, "unmarked", project_id=104, serial=SHADOW)  # no reason needed: nothing stood
    assert state.state == "ready" and state.selections == [102, 106]
