"""The poll answers inside a device's log entries (kind "poll_answer"): read, judged and
stored exactly once, one counted answer per resident and poll across every channel.

A device writes one answer per entry: the canonical answer record (voting.polls),
naming the device itself and a channel its kind may use, for a published poll of its
own community. Anything else is an invalid entry: the whole batch is refused and an
alarm raised, exactly as for votes (server.sync.entries).

An answer that is well formed but not taken is kept in the log as evidence and never
counted; the device learns the status "invalid" (reason REFUSED) and the moderators
get an alarm naming why. Not taken are answers that break the poll's rule (the device
checks it with the same function: only a faulty or forged device sends one), that were
cast outside the poll's window, whose resident the server's own voter list turns away,
from an anonymous paper sheet to a poll only some residents may answer (nobody can say
who filled it in), and answers delivered by a revoked device or by a store the device
was enrolled past. Unlike votes, nothing waits for a moderator: a poll is advice, and
its answers are counted as they come or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Device, DeviceKind, Poll
from server.polls.answers import AnswerStanding, PollAnswerConflict, store_answers
from server.polls.store import poll_rule
from server.polls.who import Resident, refusals
from sync.log_entries import LogEntry
from voting import Channel
from voting.polls import AnswerHeader, PollAnswerRecord, PollAnswerRefused, PollRule, answer_header

from . import alarms
from .alarm_texts import text_of
from .auth import DeviceRef
from .entries import EntryInvalid
from .tampering import Tampering

KIND = "poll_answer"
# The channels a device's answers may come by: a resident at a terminal (by card, or by
# staff typing their document), a paper sheet or a staff member at a support point.
# Students answer their school's polls on their own pages, never at a device.
ANSWER_CHANNELS = {
    DeviceKind.TERMINAL.value: frozenset({Channel.KIOSK, Channel.STAFF_ASSISTED}),
    DeviceKind.SUPPORT_POINT.value: frozenset({Channel.PAPER, Channel.STAFF_ASSISTED}),
}
# The status reason a device learns for an answer that was not taken (the alarm says why).
REFUSED = "poll_answer.refused"

# Why an answer was not taken (alarm_texts.ANSWER_REFUSALS says it in words).
BREAKS_RULE = "breaks_rule"
OUTSIDE_WINDOW = "outside_window"
NOT_ALLOWED = "not_allowed"
ANONYMOUS = "anonymous"
DEVICE_REVOKED = "device_revoked"
STORE_SUPERSEDED = "store_superseded"


@dataclass(frozen=True)
class ReadAnswer:
    entry: LogEntry
    header: AnswerHeader
    poll: Poll
    rule: PollRule  # the poll's (server.polls.store.poll_rule), read once a batch
    record: PollAnswerRecord | None  # None: it breaks the poll's rule
    refusal: str | None = None  # why it is not taken; None: it is stored


def read_answer_header(entry: LogEntry, device: DeviceRef) -> AnswerHeader:
    """The answer's header, or EntryInvalid naming the rule the entry breaks."""
    try:
        header = answer_header(entry.payload)
    except (ValueError, TypeError):
        raise EntryInvalid(entry.seq, "entry.answer_record") from None
    if header.device_id != device.code:
        raise EntryInvalid(entry.seq, "entry.answer_device")
    if header.channel not in ANSWER_CHANNELS.get(device.kind, frozenset()):
        raise EntryInvalid(entry.seq, "entry.answer_channel")
    if header.voter.startswith("code:"):
        # Only a blank paper sheet answers without a resident's key, as its serial, and a
        # point numbers only its own sheets. Any other code would be a voter the server
        # cannot tell from an invented one: a device could answer again and again.
        if header.channel != Channel.PAPER:
            raise EntryInvalid(entry.seq, "entry.answer_voter")
        if not header.voter.startswith(f"code:sheet_{device.code.replace('-', '')}-"):
            raise EntryInvalid(entry.seq, "entry.answer_sheet")
    return header


def read_entry_answers(
    session: Session, device: Device, ref: DeviceRef, entries: Sequence[LogEntry], *, superseded: bool
) -> list[ReadAnswer]:
    """Every entry's answer, judged; EntryInvalid at the first entry that breaks a rule
    an honest device cannot break."""
    headers = [read_answer_header(entry, ref) for entry in entries]
    wanted = sorted({h.poll_id for h in headers})
    polls = {
        p.id: p
        for p in session.scalars(
            select(Poll).where(
                Poll.id.in_(wanted), Poll.community_id == ref.community_id, Poll.published_at.is_not(None)
            )
        )
    }
    rules: dict[int, PollRule] = {}
    read: list[ReadAnswer] = []
    for entry, header in zip(entries, headers, strict=True):
        poll = polls.get(header.poll_id)
        # Another community's poll, or a draft, is refused exactly like one that does not
        # exist; so is a school's poll: only its students' codes answer it, on their own
        # pages, and no device is ever sent it.
        if poll is None or poll.school_id is not None:
            raise EntryInvalid(entry.seq, "entry.answer_poll")
        if poll.id not in rules:
            rules[poll.id] = poll_rule(session, poll)
        try:
            record = PollAnswerRecord.from_canonical_body(entry.payload, rules[poll.id])
        except PollAnswerRefused:
            read.append(ReadAnswer(entry, header, poll, rules[poll.id], None, BREAKS_RULE))
            continue
        except (ValueError, TypeError):
            raise EntryInvalid(entry.seq, "entry.answer_record") from None
        refusal = _refusal(device, poll, record, superseded)
        read.append(ReadAnswer(entry, header, poll, rules[poll.id], record, refusal))
    return _judge_who(session, ref.community_id, read)


def _refusal(device: Device, poll: Poll, record: PollAnswerRecord, superseded: bool) -> str | None:
    if device.revoked_at is not None:
        return DEVICE_REVOKED
    if superseded:
        return STORE_SUPERSEDED
    # Judged by the device's clock, as the device judged it when it took the answer.
    if not poll.opens_at <= record.cast_at < poll.closes_at:
        return OUTSIDE_WINDOW
    return None


def _judge_who(session: Session, community_id: int, read: list[ReadAnswer]) -> list[ReadAnswer]:
    """Who may answer, by the server's own list (two queries a poll at most)."""
    judged = list(read)
    asked: dict[int, list[tuple[int, Resident]]] = defaultdict(list)
    who = {answer.poll.id: answer.rule.who for answer in read}
    for index, answer in enumerate(read):
        record = answer.record
        if record is None or answer.refusal is not None or answer.rule.who.anyone:
            continue
        if record.voter_key is None:  # an anonymous sheet: nobody can say who filled it in
            judged[index] = replace(answer, refusal=ANONYMOUS)
        else:
            asked[answer.poll.id].append((index, Resident(record.voter_key, record.cast_at)))
    for poll_id, residents in asked.items():
        found = refusals(session, community_id, who[poll_id], [r for _i, r in residents])
        for (index, _resident), problem in zip(residents, found, strict=True):
            if problem is not None:
                judged[index] = replace(read[index], refusal=NOT_ALLOWED)
    return judged


def store_entry_answers(
    session: Session, ref: DeviceRef, read: list[ReadAnswer], now: datetime
) -> dict[int, AnswerStanding]:
    """Store the answers taken (one transaction with the batch: the caller's), raise the
    moderators' alarm for those that were not; each stored entry's standing by seq."""
    taken: dict[int, list[ReadAnswer]] = defaultdict(list)
    not_taken: dict[str, int] = defaultdict(int)
    for answer in read:
        if answer.refusal is None:
            taken[answer.poll.id].append(answer)
        else:
            not_taken[answer.refusal] += 1
    standings: dict[int, AnswerStanding] = {}
    for answers in taken.values():
        poll, rule = answers[0].poll, answers[0].rule
        records = [a.record for a in answers if a.record is not None]
        try:
            stood = store_answers(session, poll, rule, records, source=ref.code, now=now)
        except PollAnswerConflict as conflict:
            raise answer_conflict(ref, conflict) from None
        for answer, standing in zip(answers, stood, strict=True):
            standings[answer.entry.seq] = standing
    for why, count in sorted(not_taken.items()):
        alarms.raise_alarm(
            session,
            community_id=ref.community_id,
            source=ref.code,
            kind=alarms.ANSWERS_REFUSED,
            text=text_of("poll_answers.refused", code=ref.code, n=count, answer_why=why),
            details={"reason": why},
            now=now,
        )
    return standings


def answer_conflict(ref: DeviceRef, conflict: PollAnswerConflict) -> Tampering:
    """Answers whose ids are stored with other content: the batch is refused, as a vote
    conflict is (a device never makes two answers with one id)."""
    ids = sorted({c.answer_id for c in conflict.conflicts})
    return Tampering(
        409,
        "answer.conflict",
        alarms.VOTE_CONFLICT,
        text_of("answer_conflict.device", code=ref.code, n=len(ids)),
        {"conflicting_answer_ids": ids},
        {"conflicting_ids": ids},
    )
