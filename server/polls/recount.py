"""Recount a poll from its raw records, trusting nothing the server computed on the way
(as server.sync.recount does for a cycle's votes).

1. Every stored answer's body is read again as a canonical answer to the poll, judged by
   the poll's rule, and must hash to its content hash.
2. An answer a device delivered must be exactly the answer in that device's log entry,
   and each such device's whole log is verified again from its first entry against its
   own checkpoint signatures. An answer that names a device as its source but is in no
   log entry of it was not delivered by sync: someone wrote it into the table.
3. Which answer of each resident counts is decided again by the counting rule
   (voting.poll_count.decide_answers) and compared with what is stored.
4. Each answer's item rows (what the count adds up) must be exactly the rows its record
   gives, counted or not as its recomputed standing says.
5. The count from the recounted records (voting.poll_count.count_poll, in memory) must
   equal the count the server publishes (one SQL aggregate over the items).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from server.models import Device, DeviceLogEntry, Poll, PollAnswer, PollAnswerItem
from server.polls.answers import item_rows
from server.polls.count import count_poll as published_count
from server.polls.store import poll_rule
from server.sync.entry_answers import KIND as ANSWER_KIND
from server.sync.recount import ChainReport, verify_device_chain
from voting.counting import CountingInput, VoteStatus, decide
from voting.poll_count import QuestionResult, distribution_of, question_result
from voting.polls import PollAnswerRecord, PollRule, QuestionKind

_STREAM = 2000


@dataclass(frozen=True)
class AnswerMismatch:
    answer_id: str
    stored: tuple[str, str | None]  # status, counted_answer_id
    recomputed: tuple[str, str | None]


@dataclass
class PollRecountReport:
    poll_id: int
    answers: int = 0
    chains: list[ChainReport] = field(default_factory=list)
    record_problems: list[str] = field(default_factory=list)
    status_mismatches: list[AnswerMismatch] = field(default_factory=list)
    item_problems: list[str] = field(default_factory=list)
    count_agrees: bool = True

    @property
    def ok(self) -> bool:
        return (
            all(c.ok for c in self.chains)
            and not self.record_problems
            and not self.status_mismatches
            and not self.item_problems
            and self.count_agrees
        )

    def json_lines(self) -> Iterator[dict]:
        """One object per finding, then a summary: for `spilno server polls recount --json`."""
        for chain in self.chains:
            yield {"type": "chain", "device": chain.device, "ok": chain.ok, "problems": chain.problems}
        for problem in self.record_problems:
            yield {"type": "record", "problem": problem}
        for m in self.status_mismatches:
            yield {
                "type": "status",
                "answer_id": m.answer_id,
                "stored": {"status": m.stored[0], "counted_answer_id": m.stored[1]},
                "recomputed": {"status": m.recomputed[0], "counted_answer_id": m.recomputed[1]},
            }
        for problem in self.item_problems:
            yield {"type": "items", "problem": problem}
        yield {
            "type": "summary",
            "poll_id": self.poll_id,
            "answers": self.answers,
            "devices": len(self.chains),
            "broken_chains": sum(not c.ok for c in self.chains),
            "record_problems": len(self.record_problems),
            "status_mismatches": len(self.status_mismatches),
            "item_problems": len(self.item_problems),
            "count_agrees": self.count_agrees,
            "ok": self.ok,
        }


class UnknownPoll(LookupError):
    pass


def recount_poll(session: Session, poll_id: int) -> PollRecountReport:
    """Recount `poll_id` from its raw records; read-only. UnknownPoll if there is none.

    Two streamed passes over the answers (a poll may have a million): the first checks
    each record and its device's log entry and keeps only what deciding needs; the
    second, with every answer's standing decided, checks its items and counts it."""
    poll = session.get(Poll, poll_id) if 0 < poll_id < 2**31 else None
    if poll is None:
        raise UnknownPoll(poll_id)
    rule = poll_rule(session, poll)
    report = PollRecountReport(poll_id)
    inputs, stored, devices = _check_records(session, poll, rule, report)
    decisions = decide(inputs)
    counted: set[str] = set()
    for answer_id, decision in decisions.items():
        recomputed = (decision.status.value, decision.counted_vote_id)
        if decision.status is VoteStatus.COUNTED:
            counted.add(answer_id)
        if recomputed != stored[answer_id]:
            report.status_mismatches.append(AnswerMismatch(answer_id, stored[answer_id], recomputed))
    # Only the counted ones are counted: a record left out as unreadable above must not
    # change who counts.
    mine = _check_items_and_count(session, poll, rule, counted, report)
    report.count_agrees = mine == published_count(session, rule)
    for device in session.scalars(
        select(Device).where(Device.code.in_(sorted(devices))).order_by(Device.code)
    ):
        report.chains.append(verify_device_chain(session, device))
    return report


def _answer_rows(session: Session, poll: Poll, *columns: Any, join: Any = None) -> Iterator[list[Any]]:
    """The poll's answers with `columns` of what `join` adds to each (outer), streamed,
    the rows of one answer together (its id first in every row)."""
    query = select(PollAnswer.id, *columns).where(PollAnswer.poll_id == poll.id)
    for target, condition in join or ():
        query = query.outerjoin(target, condition)
    rows = session.execute(query.order_by(PollAnswer.id).execution_options(yield_per=_STREAM))
    group: list[Any] = []
    for row in rows:
        if group and row[0] != group[0][0]:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def _check_records(
    session: Session, poll: Poll, rule: PollRule, report: PollRecountReport
) -> tuple[list[CountingInput], dict[str, tuple[str, str | None]], set[str]]:
    """Each answer read again and hashed, a device's answer compared with its log entry;
    what deciding needs of each readable one, every one's stored standing, and the codes
    of the devices whose logs are to be verified."""
    inputs: list[CountingInput] = []
    stored: dict[str, tuple[str, str | None]] = {}
    devices: set[str] = set()
    unlogged: dict[str, list[str]] = defaultdict(list)
    device_codes = set(session.scalars(select(Device.code).where(Device.community_id == poll.community_id)))
    entry_of_answer = and_(
        DeviceLogEntry.kind == ANSWER_KIND,
        DeviceLogEntry.community_id == PollAnswer.community_id,
        DeviceLogEntry.vote_id == PollAnswer.id,
    )
    for group in _answer_rows(
        session,
        poll,
        PollAnswer.body,
        PollAnswer.content_hash,
        PollAnswer.voter,
        PollAnswer.channel,
        PollAnswer.device_id,
        PollAnswer.source,
        PollAnswer.status,
        PollAnswer.counted_answer_id,
        Device.code,
        DeviceLogEntry.seq,
        DeviceLogEntry.payload,
        join=[(DeviceLogEntry, entry_of_answer), (Device, Device.id == DeviceLogEntry.device_id)],
    ):
        answer_id, body, content_hash, voter, channel, device_id, source, status, counted_id = group[0][:9]
        report.answers += 1
        stored[answer_id] = (status, counted_id)
        record = _read(answer_id, body, content_hash, rule, report)
        if record is not None:
            if (record.voter, record.channel.value, record.device_id) != (voter, channel, device_id):
                report.record_problems.append(f"answer {answer_id}: its columns differ from its record")
            inputs.append(CountingInput(answer_id, record.voter, record.cast_at))
        logged = [(code, seq, payload) for *_a, code, seq, payload in group if code is not None]
        if not logged and source in device_codes:
            unlogged[source].append(answer_id)
            devices.add(source)
        for code, seq, payload in logged:
            devices.add(code)
            if record is None or payload != record.canonical_body() or code != source:
                report.record_problems.append(f"answer {answer_id} differs from entry {seq} of {code}")
    for code, ids in sorted(unlogged.items()):
        ids.sort()
        report.record_problems.append(
            f"{len(ids)} answer(s) from {code} without a log entry: {', '.join(ids[:10])}"
        )
    return inputs, stored, devices


def _read(
    answer_id: str, body: Any, content_hash: str, rule: PollRule, report: PollRecountReport | None
) -> PollAnswerRecord | None:
    """The stored answer as a record, or None (said in `report`, when given)."""
    try:
        record = PollAnswerRecord.from_canonical_body(body, rule)
    except (ValueError, TypeError):
        if report is not None:
            report.record_problems.append(f"answer {answer_id} is not a canonical answer to the poll")
        return None
    if record.answer_id != answer_id or record.content_hash() != content_hash:
        if report is not None:
            report.record_problems.append(f"answer {answer_id} does not hash to its content hash")
        return None
    return record


def _check_items_and_count(
    session: Session, poll: Poll, rule: PollRule, counted: set[str], report: PollRecountReport
) -> tuple[QuestionResult, ...]:
    """Every answer's items exactly as its record gives them (counted as decided), and
    no others; the count of the counted records, built as it streams past."""
    ranked = {q.question_id for q in rule.questions if q.kind is QuestionKind.RANK}
    respondents: Counter[int] = Counter()
    tables: dict[int, Counter[tuple[int, int]]] = {q.question_id: Counter() for q in rule.questions}
    questions = {q.question_id: q for q in rule.questions}
    item = (PollAnswerItem.poll_id, PollAnswerItem.question_id, PollAnswerItem.option_id)
    for group in _answer_rows(
        session,
        poll,
        PollAnswer.body,
        PollAnswer.content_hash,
        *item,
        PollAnswerItem.value,
        PollAnswerItem.counted,
        join=[
            (
                PollAnswerItem,
                and_(
                    PollAnswerItem.community_id == PollAnswer.community_id,
                    PollAnswerItem.answer_id == PollAnswer.id,
                ),
            )
        ],
    ):
        answer_id, body, content_hash = group[0][:3]
        found = sorted(
            (poll_id, question, -1 if option is None else option, value, is_counted)
            for _i, _b, _h, poll_id, question, option, value, is_counted in group
            if question is not None
        )
        record = _read(answer_id, body, content_hash, rule, None)
        if record is None:
            if found:
                report.item_problems.append(f"items of answer {answer_id}, which has no readable record")
            continue
        is_counted = answer_id in counted
        expected = sorted(
            (poll_id, question, -1 if option is None else option, value, flag)
            for _c, _a, poll_id, question, option, value, flag in item_rows(
                record, poll.community_id, is_counted, ranked
            )
        )
        if found != expected:
            report.item_problems.append(f"the items of answer {answer_id} are not its record's")
        if is_counted:
            for question_id, answer in record.answers:
                people, table = distribution_of(questions[question_id], [answer])
                respondents[question_id] += people
                tables[question_id].update(table)
    # Items of this poll under an answer of another poll are not reached above.
    stray = session.scalars(
        select(PollAnswerItem.answer_id)
        .join(
            PollAnswer,
            and_(
                PollAnswer.community_id == PollAnswerItem.community_id,
                PollAnswer.id == PollAnswerItem.answer_id,
            ),
        )
        .where(PollAnswerItem.poll_id == poll.id, PollAnswer.poll_id != poll.id)
        .distinct()
        .limit(10)
    ).all()
    for answer_id in stray:
        report.item_problems.append(f"items of this poll under answer {answer_id} of another poll")
    return tuple(
        question_result(q, respondents[q.question_id], tables[q.question_id]) for q in rule.questions
    )
