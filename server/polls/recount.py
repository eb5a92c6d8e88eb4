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

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from server.models import Device, DeviceLogEntry, Poll, PollAnswer, PollAnswerItem
from server.polls.answers import item_rows
from server.polls.count import count_poll as published_count
from server.polls.store import poll_rule
from server.sync.entry_answers import KIND as ANSWER_KIND
from server.sync.recount import ChainReport, verify_device_chain
from voting.counting import VoteStatus
from voting.poll_count import count_poll, decide_answers
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
    """Recount `poll_id` from its raw records; read-only. UnknownPoll if there is none."""
    poll = session.get(Poll, poll_id) if 0 < poll_id < 2**31 else None
    if poll is None:
        raise UnknownPoll(poll_id)
    rule = poll_rule(session, poll)
    report = PollRecountReport(poll_id)
    records: dict[str, PollAnswerRecord] = {}
    stored: dict[str, tuple[str, str | None]] = {}
    sources: dict[str, str] = {}
    for row in session.scalars(
        select(PollAnswer).where(PollAnswer.poll_id == poll_id).execution_options(yield_per=_STREAM)
    ):
        report.answers += 1
        stored[row.id] = (row.status, row.counted_answer_id)
        sources[row.id] = row.source
        try:
            record = PollAnswerRecord.from_canonical_body(row.body, rule)
        except (ValueError, TypeError):
            report.record_problems.append(f"answer {row.id} is not a canonical answer to the poll")
            continue
        if record.answer_id != row.id or record.content_hash() != row.content_hash:
            report.record_problems.append(f"answer {row.id} does not hash to its content hash")
            continue
        if (record.voter, record.channel.value, record.device_id) != (row.voter, row.channel, row.device_id):
            report.record_problems.append(f"answer {row.id}: its columns differ from its record")
        records[row.id] = record

    devices = _logged_answers_match(session, poll, records, sources, report)
    decisions = decide_answers(records.values())
    counted: set[str] = set()
    for answer_id, decision in decisions.items():
        recomputed = (decision.status.value, decision.counted_vote_id)
        if decision.status is VoteStatus.COUNTED:
            counted.add(answer_id)
        if recomputed != stored[answer_id]:
            report.status_mismatches.append(AnswerMismatch(answer_id, stored[answer_id], recomputed))
    _check_items(session, poll, rule, records, counted, report)
    # Only the counted ones are given: the in-memory count decides again by itself,
    # and a record left out as unreadable above must not change who counts.
    report.count_agrees = count_poll(rule, [records[i] for i in sorted(counted)]) == published_count(
        session, rule
    )
    for device in session.scalars(
        select(Device).where(Device.code.in_(sorted(devices))).order_by(Device.code)
    ):
        report.chains.append(verify_device_chain(session, device))
    return report


def _logged_answers_match(
    session: Session,
    poll: Poll,
    records: dict[str, PollAnswerRecord],
    sources: dict[str, str],
    report: PollRecountReport,
) -> set[str]:
    """Each device answer against its log entry; the codes of the devices involved."""
    logged: dict[str, tuple[str, int, dict]] = {}
    for code, seq, payload, answer_id in session.execute(
        select(Device.code, DeviceLogEntry.seq, DeviceLogEntry.payload, PollAnswer.id)
        .join(
            DeviceLogEntry,
            and_(
                DeviceLogEntry.kind == ANSWER_KIND,
                DeviceLogEntry.community_id == PollAnswer.community_id,
                DeviceLogEntry.vote_id == PollAnswer.id,
            ),
        )
        .join(Device, Device.id == DeviceLogEntry.device_id)
        .where(PollAnswer.poll_id == poll.id)
        .execution_options(yield_per=_STREAM)
    ):
        logged[answer_id] = (code, seq, payload)
    devices = {code for code, _seq, _payload in logged.values()}
    device_codes = set(session.scalars(select(Device.code).where(Device.community_id == poll.community_id)))
    unlogged: dict[str, list[str]] = defaultdict(list)
    for answer_id, source in sources.items():
        entry = logged.get(answer_id)
        if entry is None:
            if source in device_codes:
                unlogged[source].append(answer_id)
            continue
        code, seq, payload = entry
        record = records.get(answer_id)
        if record is None or payload != record.canonical_body() or code != source:
            report.record_problems.append(f"answer {answer_id} differs from entry {seq} of {code}")
    for code, ids in sorted(unlogged.items()):
        ids.sort()
        report.record_problems.append(
            f"{len(ids)} answer(s) from {code} without a log entry: {', '.join(ids[:10])}"
        )
        devices.add(code)
    return devices


def _check_items(
    session: Session,
    poll: Poll,
    rule: PollRule,
    records: dict[str, PollAnswerRecord],
    counted: set[str],
    report: PollRecountReport,
) -> None:
    """Every answer's items exactly as its record gives them, and no others."""
    ranked = {q.question_id for q in rule.questions if q.kind is QuestionKind.RANK}
    found: dict[str, list[tuple]] = defaultdict(list)
    for answer_id, question, option, value, is_counted in session.execute(
        select(
            PollAnswerItem.answer_id,
            PollAnswerItem.question_id,
            PollAnswerItem.option_id,
            PollAnswerItem.value,
            PollAnswerItem.counted,
        )
        .where(PollAnswerItem.poll_id == poll.id)
        .execution_options(yield_per=_STREAM)
    ):
        found[answer_id].append((question, option if option is not None else -1, value, is_counted))
    for answer_id in sorted(found.keys() - records.keys()):
        report.item_problems.append(f"items of answer {answer_id}, which has no readable record")
    for answer_id, record in records.items():
        expected = sorted(
            (question, option if option is not None else -1, value, is_counted)
            for _c, _a, _p, question, option, value, is_counted in item_rows(
                record, poll.community_id, answer_id in counted, ranked
            )
        )
        if sorted(found.get(answer_id, [])) != expected:
            report.item_problems.append(f"the items of answer {answer_id} are not its record's")
