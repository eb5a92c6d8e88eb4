"""Paper sheets read on the server: a moderator uploads a support point's scans, the
same review core as at the point judges them, people decide the unclear marks and
correct any box the reader got wrong, and ready sheets become paper votes counted once."""

from __future__ import annotations

import hashlib

import cv2
import pytest
from sqlalchemy import func, select, text

from paper import review, sheet_state
from paper.reading import BoxReading, SheetReading
from paper.sheet_vote import sheet_vote_id
from server.models import AuditEvent, Community, PaperScanDecision, PaperScanSheet, Project, Vote, utcnow
from server.paper.scan_rows import ms
from server.paper.scans import commit_ready, import_scans, packaged_cycle, server_sheet_vote_id, store_for
from server.services.cycle_rules import PAPER_SCAN_GRACE
from server.sync.packages import cycle_body
from tests.factories import stored_vote
from tests.paper import corpus
from tests.paper.corpus import Distortion, MarkKind, make_sheet
from voting import VoteRecord, community_voter_secret

SECRET = b"s" * 32


@pytest.fixture
def sheet_key(monkeypatch):
    """Sheets printed with the given form key (the corpus prints with its test key)."""

    def use(key: bytes) -> None:
        monkeypatch.setattr(corpus, "TEST_FORM_KEY", key)
        corpus._RENDERS.clear()  # rendered pages are cached by cycle and serial, not by key

    yield use
    corpus._RENDERS.clear()


@pytest.fixture
def setup(app, make, session, sheet_key):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    point = make.device(community, kind="support_point", code="S-0042", name="Пункт у бібліотеці")
    moderator = make.user("community_moderator", community)
    secret = app.config["VOTER_KEY_SECRET_BYTES"]
    from paper.serials import form_key

    sheet_key(form_key(community_voter_secret(secret, community.key_id)))
    projects = session.scalars(select(Project).where(Project.cycle_id == cycle.id).order_by(Project.id)).all()
    return {
        "cycle": cycle,
        "body": cycle_body(session, cycle),  # what the sheets are printed from
        "packaged": packaged_cycle(session, cycle),  # the same, read as the review core takes it
        "point": point,
        "user": moderator,
        "secret": secret,
        "small": [p.id for p in projects if p.title.startswith("Сквер")],
        "large": [p.id for p in projects if p.title.startswith("Стадіон")],
    }


def png(setup, marks: dict[int, MarkKind], serial: str = "S0042-000001", seed: int = 0) -> bytes:
    image, _answer = make_sheet(setup["body"], marks, Distortion(), dpi=150, seed=seed, serial=serial)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def upload(session, setup, files, now_ms: int | None = None):
    return import_scans(
        session,
        setup["cycle"],
        setup["point"],
        files,
        master_secret=setup["secret"],
        user=setup["user"],
        now_ms=now_ms if now_ms is not None else ms(utcnow()),
    )


def test_a_clear_sheet_is_read_kept_and_committed_as_one_paper_vote(session, setup):
    small, large = setup["small"], setup["large"]
    data = png(setup, {small[0]: MarkKind.TICK, large[1]: MarkKind.CROSS})
    result = upload(session, setup, [("scan 1.png", data)])
    assert [(p.serial, p.outcome, p.reasons) for p in result.pages] == [("S0042-000001", "accepted", [])]
    store = store_for(session, setup["cycle"])
    assert store.counts()["ready"] == 1
    # The same file again is a no-op; nothing new is kept.
    again = upload(session, setup, [("scan 1 again.png", data)])
    assert [p.outcome for p in again.pages] == ["duplicate"]
    assert store.page_count() == 1

    outcome = commit_ready(session, setup["cycle"], user=setup["user"], now=paper_now(setup))
    assert outcome.refused is None and outcome.held == []
    vote_id = server_sheet_vote_id("S-0042", setup["cycle"].id, "S0042-000001")
    assert outcome.committed == [("S0042-000001", vote_id)]
    vote = stored_vote(session, vote_id)
    assert vote.channel == "paper" and vote.code_id == "sheet_S0042-000001" and vote.device_id == "S-0042"
    assert sorted(vote.selections) == sorted([small[0], large[1]])
    assert vote.status == "counted"
    assert store.counts()["committed"] == 1
    # Committing again stores nothing more.
    second = commit_ready(session, setup["cycle"], user=setup["user"], now=paper_now(setup))
    assert second.committed == []
    assert session.scalar(select(func.count()).select_from(Vote)) == 1
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("paper_scans.upload") == 2 and actions.count("paper_scans.commit") == 1


def paper_now(_setup):
    return utcnow()


def test_an_unclear_mark_waits_for_a_person_and_decisions_are_kept_with_who_and_when(session, setup):
    small, large = setup["small"], setup["large"]
    data = png(setup, {small[0]: MarkKind.TICK, small[1]: MarkKind.CANCELLED, large[0]: MarkKind.TICK})
    result = upload(session, setup, [("unclear.png", data)])
    assert result.pages[0].outcome == "needs_review"
    assert "sheet.marginal_mark" in result.pages[0].reasons
    store = store_for(session, setup["cycle"], user=setup["user"])
    [sheet] = store.sheets("review")
    state = sheet_state.evaluate(sheet, store.pages_of(sheet.cycle_id, sheet.serial), [], setup["packaged"])
    # The scribble may spill into a neighbour's box too: every unclear box waits for a person.
    assert small[1] in {b.project_id for b in state.unclear}
    for box in state.unclear:
        assert store.crop(box.page_id, box.project_id).startswith(b"\x89PNG")
    assert store.preview(state.unclear[0].page_id).startswith(b"\xff\xd8")
    cycles = {setup["cycle"].id: setup["packaged"]}
    for box in state.unclear:
        review.decide_box(
            store,
            sheet.cycle_id,
            sheet.serial,
            page_id=box.page_id,
            project_id=box.project_id,
            verdict="marked" if box.project_id in (small[0], large[0]) else "unmarked",
            seen=0,
            operator="Олена",
            cycles=cycles,
            now_ms=ms(utcnow()),
        )
    session.commit()
    # A second moderator with the old page open (seen=0) is refused: the first decision stands.
    box = next(b for b in state.unclear if b.project_id == small[1])
    with pytest.raises(review.ReviewError) as refused:
        review.decide_box(
            store,
            sheet.cycle_id,
            sheet.serial,
            page_id=box.page_id,
            project_id=box.project_id,
            verdict="marked",
            seen=0,
            operator="Петро",
            cycles=cycles,
            now_ms=ms(utcnow()),
        )
    session.rollback()
    assert refused.value.code == "review.decided_meanwhile"
    assert store.sheet(sheet.cycle_id, sheet.serial).state == "ready"
    assert list(store.sheet(sheet.cycle_id, sheet.serial).selections) == sorted([small[0], large[0]])
    decisions = session.scalars(select(PaperScanDecision)).all()
    assert len(decisions) == len(state.unclear)
    assert {(d.operator, d.user_id) for d in decisions} == {("Олена", setup["user"].id)}
    assert next(d for d in decisions if d.project_id == small[1]).verdict == "unmarked"


def test_sheets_of_another_point_another_community_or_no_sheet_at_all_are_rejected(session, setup, sheet_key):
    small = setup["small"]
    other_point = png(setup, {small[0]: MarkKind.TICK}, serial="S0043-000001")
    blank_page = cv2.imencode(".png", 255 * __import__("numpy").ones((800, 600), dtype="uint8"))[1].tobytes()
    files = [
        ("other.png", other_point),
        ("blank.png", blank_page),
        ("empty.png", b""),
        ("junk.pdf", b"%PDF-1.7 not really"),
        ("../../etc/passwd", b"\x00" * 100),
    ]
    sheet_key(b"k" * 32)  # printed with a key that is not this community's
    files.append(("forged.png", png(setup, {small[0]: MarkKind.TICK}, serial="S0042-000009")))
    result = upload(session, setup, files)
    outcomes = {p.file: (p.outcome, p.reasons) for p in result.pages}
    assert outcomes["other.png"] == ("rejected", ["sheet.other_point"])
    assert outcomes["forged.png"] == ("rejected", ["sheet.qr_checksum"])
    assert outcomes["blank.png"][0] == "rejected"
    assert outcomes["empty.png"][0] == "rejected"
    assert outcomes["junk.pdf"][0] == "rejected"
    assert outcomes["passwd"][0] == "rejected"  # only the name's last part is kept
    assert session.scalar(select(func.count()).select_from(PaperScanSheet)) == 0


def test_a_sheet_the_point_already_sent_is_held_not_counted_twice(session, setup):
    small = setup["small"]
    upload(session, setup, [("a.png", png(setup, {small[0]: MarkKind.TICK}, serial="S0042-000005"))])
    cycle = setup["cycle"]
    from server.services.ballot_box import store_votes
    from server.services.cycle_rules import load_cycle_rules

    point_vote = VoteRecord.create(
        vote_id=sheet_vote_id("S-0042", cycle.id, "S0042-000005"),
        cycle_id=cycle.id,
        selections=[small[0]],
        channel="paper",
        cast_at=utcnow(),
        code_id="sheet_S0042-000005",
        device_id="S-0042",
    )
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, [point_vote], "test")
    session.commit()
    outcome = commit_ready(session, cycle, user=setup["user"], now=utcnow())
    assert outcome.committed == [] and outcome.held == [("S0042-000005", "paper_scans.sent_by_point")]
    assert session.scalar(select(func.count()).select_from(Vote)) == 1


def test_nothing_is_committed_after_the_paper_window(session, setup):
    from datetime import timedelta

    upload(session, setup, [("a.png", png(setup, {setup["small"][0]: MarkKind.TICK}))])
    late = setup["cycle"].voting_ends_at + PAPER_SCAN_GRACE + timedelta(minutes=1)
    outcome = commit_ready(session, setup["cycle"], user=setup["user"], now=late)
    assert outcome.refused == "paper_tally.window_closed" and outcome.committed == []
    assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_the_page_limit_stops_an_upload_and_the_rest_can_follow(session, setup):
    small = setup["small"]
    files = [(f"s{n}.png", png(setup, {small[0]: MarkKind.TICK}, serial=f"S0042-00010{n}")) for n in range(3)]
    first = import_scans(
        session,
        setup["cycle"],
        setup["point"],
        files,
        master_secret=setup["secret"],
        user=setup["user"],
        now_ms=ms(utcnow()),
        max_pages=2,
    )
    assert first.truncated and len(first.pages) == 2
    rest = upload(session, setup, files)
    assert [p.outcome for p in rest.pages] == ["duplicate", "duplicate", "accepted"]


def test_a_decision_can_be_neither_rewritten_nor_deleted(session, setup):
    data = png(setup, {setup["small"][0]: MarkKind.CANCELLED, setup["large"][0]: MarkKind.TICK})
    upload(session, setup, [("a.png", data)])
    store = store_for(session, setup["cycle"], user=setup["user"])
    [sheet] = store.sheets("review")
    review.spoil_sheet(
        store,
        sheet.cycle_id,
        sheet.serial,
        reason="Закреслено",
        seen=0,
        operator="Олена",
        cycles={sheet.cycle_id: setup["packaged"]},
        now_ms=ms(utcnow()),
    )
    session.commit()
    for statement in ("UPDATE paper_scan_decision SET reason = 'інше'", "DELETE FROM paper_scan_decision"):
        with pytest.raises(Exception, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.scalars(select(PaperScanDecision.reason)).all() == ["Закреслено"]


def test_the_command_line_reads_a_folder_and_commits(app, session, setup, tmp_path):
    import json

    from server.paper.scans_cli import paper_scans_group

    small = setup["small"]
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "1.png").write_bytes(png(setup, {small[0]: MarkKind.TICK}, serial="S0042-000201"))
    (folder / "2.png").write_bytes(b"not an image")
    runner = app.test_cli_runner()
    cycle_id = str(setup["cycle"].id)
    read = runner.invoke(
        paper_scans_group, ["import", str(folder), "--cycle", cycle_id, "--point", "S-0042", "--json"]
    )
    lines = [json.loads(line) for line in read.output.splitlines()]
    assert [(p["file"], p["outcome"]) for p in lines] == [("1.png", "accepted"), ("2.png", "rejected")]
    assert read.exit_code == 1  # a page was rejected
    unknown = runner.invoke(
        paper_scans_group, ["import", str(folder), "--cycle", cycle_id, "--point", "S-9999"]
    )
    assert unknown.exit_code != 0 and "S-9999" in unknown.output
    again = runner.invoke(
        paper_scans_group, ["import", str(folder), "--cycle", cycle_id, "--point", "S-0042", "--json"]
    )
    lines = [json.loads(line) for line in again.output.splitlines()]
    # the sheet read before is a duplicate; the file refused before is refused again
    assert [(p["file"], p["outcome"], p["reasons"]) for p in lines] == [
        ("1.png", "duplicate", []),
        ("2.png", "rejected", ["sheet.not_an_image"]),
    ]
    assert again.exit_code == 1
    assert runner.invoke(paper_scans_group, ["commit", "--cycle", "999999"]).exit_code != 0
    done = runner.invoke(paper_scans_group, ["commit", "--cycle", cycle_id, "--json"])
    assert done.exit_code == 0
    assert [c["serial"] for c in json.loads(done.output)["committed"]] == ["S0042-000201"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Vote)) == 1


def shadow_reading(setup, serial: str = "S0042-000301", cropped: set[int] | None = None) -> SheetReading:
    """A page a phone's shadow lay over: the reader is sure every box is marked (an
    overvote). Crops of the `cropped` boxes (all by default), as the reader makes them for
    every box of a page needing review."""
    projects = setup["body"]["projects"]
    cropped = {p["id"] for p in projects} if cropped is None else cropped
    return SheetReading(
        file="shadow.jpg",
        page_index=0,
        image_sha256=hashlib.sha256(serial.encode()).hexdigest(),
        serial=serial,
        page="1/1",
        cycle_id=setup["cycle"].id,
        outcome="needs_review",
        reasons=["sheet.overvote"],
        boxes=[BoxReading(p["id"], p["category_id"], 0.3, "marked") for p in projects],
        selections=[p["id"] for p in projects],
        crops={pid: b"\x89PNG\r\n\x1a\n" + str(pid).encode() for pid in cropped},
    )


def keep_shadow(session, setup, **kw) -> str:
    reading = shadow_reading(setup, **kw)
    store = store_for(session, setup["cycle"], device=setup["point"], user=setup["user"])
    review.keep_reading(
        store,
        reading,
        None,
        cycles={setup["cycle"].id: setup["packaged"]},
        serial_prefix="S0042",
        now_ms=ms(utcnow()),
    )
    session.commit()
    return reading.serial


def test_a_shadow_overvote_is_fixed_box_by_box_and_committed(session, setup):
    small, large = setup["small"], setup["large"]
    serial = keep_shadow(session, setup)
    cycle, cycles = setup["cycle"], {setup["cycle"].id: setup["packaged"]}
    store = store_for(session, cycle, user=setup["user"])
    sheet = store.sheet(cycle.id, serial)
    assert sheet.state == "review" and "sheet.overvote" in sheet.reasons
    [page] = store.pages_of(cycle.id, serial)
    # The store keeps the crop of every box it is given, not only of marginal ones.
    assert store.cropped_boxes([page.id]) == {(page.id, pid) for pid in small + large}
    wrong = small[1:] + large[1:]
    with pytest.raises(review.ReviewError, match=r"override_reason"):
        review.decide_box(store, cycle.id, serial, page_id=page.id, project_id=wrong[0], verdict="unmarked",
                          seen=0, operator="Олена", cycles=cycles, now_ms=ms(utcnow()))  # fmt: skip
    session.rollback()
    for pid in wrong:
        state = review.decide_box(
            store, cycle.id, serial, page_id=page.id, project_id=pid, verdict="unmarked", seen=0,
            operator="Олена", cycles=cycles, now_ms=ms(utcnow()), reason="тінь від телефону",
        )  # fmt: skip
        session.commit()
    assert state.state == "ready" and state.selections == sorted([small[0], large[0]])
    decisions = session.scalars(select(PaperScanDecision).order_by(PaperScanDecision.id)).all()
    assert [d.project_id for d in decisions] == wrong
    assert {(d.kind, d.verdict, d.operator, d.user_id, d.reason) for d in decisions} == {
        ("box", "unmarked", "Олена", setup["user"].id, "тінь від телефону")
    }
    assert all(d.decided_at is not None and d.replaces is None for d in decisions)
    outcome = commit_ready(session, cycle, user=setup["user"], now=utcnow())
    assert [s for s, _v in outcome.committed] == [serial]
    vote = stored_vote(session, outcome.committed[0][1])
    assert sorted(vote.selections) == sorted([small[0], large[0]])


def test_a_decision_made_on_the_server_can_be_changed_only_with_a_reason(session, setup):
    serial = keep_shadow(session, setup)
    cycle, cycles = setup["cycle"], {setup["cycle"].id: setup["packaged"]}
    store = store_for(session, cycle, user=setup["user"])
    [page] = store.pages_of(cycle.id, serial)
    pid = setup["large"][0]

    def decide(verdict, seen, reason=None):
        state = review.decide_box(
            store, cycle.id, serial, page_id=page.id, project_id=pid, verdict=verdict, seen=seen,
            operator="Петро", cycles=cycles, now_ms=ms(utcnow()), reason=reason,
        )  # fmt: skip
        session.commit()
        return state

    decide("unmarked", 0, "тінь")
    [first] = store.decisions(cycle.id, serial)
    refusals = [
        (0, "ні", "review.decided_meanwhile"),  # a stale page
        (first.id, None, "review.override_reason"),  # changing a decision: say why
        (first.id, "\u202eні", "review.reason"),
    ]
    for seen, reason, code in refusals:
        with pytest.raises(review.ReviewError) as refused:
            decide("marked", seen, reason)
        session.rollback()
        assert refused.value.code == code
    state = decide("marked", first.id, "таки позначка")  # back to the reader's own verdict
    second = store.decisions(cycle.id, serial)[-1]
    assert (second.verdict, second.reason, second.replaces) == ("marked", "таки позначка", first.id)
    assert state.box(page.id, pid).history == (first, second)


def test_an_image_bomb_uploaded_twice_is_refused_twice_and_changes_nothing(session, setup):
    from tests.paper.bombs import png_bomb, tiff

    doubled = [(256, 4, 20_000), (256, 4, 100), (257, 4, 20_000), (257, 4, 100), (258, 3, 8), (273, 4, 0)]
    files = [("bomb.png", png_bomb(12_000, 12_000)), ("doubled.tif", tiff([doubled]))]
    for _attempt in range(2):
        result = upload(session, setup, files)
        assert [(p.file, p.outcome, p.reasons) for p in result.pages] == [
            ("bomb.png", "rejected", ["sheet.too_large"]),
            ("doubled.tif", "rejected", ["sheet.unreadable"]),
        ]
    assert session.scalar(select(func.count()).select_from(PaperScanSheet)) == 0
