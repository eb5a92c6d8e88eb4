"""The demo's history: a few thousand votes over several channels, with popular
favourites, a daytime rhythm, second tries and broken ballots, and an open poll with a
few hundred online answers. Seeded, so the same every run (server.demo)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from server.models import Community, Cycle
from server.polls.answers import store_answers
from server.polls.results import publish_poll_results
from server.polls.store import create_poll, poll_rule, publish_poll
from voting import Channel, VoteRecord, VoterKey
from voting.polls import PollAnswerRecord

from .demo_voters import random_rnokpp

CHANNEL_MIX = [
    (Channel.WEB, None, 60),
    (Channel.KIOSK, "T-0001", 9),
    (Channel.KIOSK, "T-0002", 6),
    (Channel.KIOSK, "T-0003", 5),
    (Channel.PAPER, "S-0001", 7),
    (Channel.PAPER, "S-0002", 5),
    (Channel.STAFF_ASSISTED, "S-0001", 8),
]


def seeded_votes(
    rng: random.Random, cycle: Cycle, rules, secret: bytes, count: int, until: datetime
) -> list[VoteRecord]:
    ballot = rules.ballot
    by_category: dict[int, list[int]] = {}
    for project in ballot.projects:
        by_category.setdefault(project.category_id, []).append(project.project_id)
    # Popularity: a few favourites, a long tail, as real votes look.
    weights = {
        pid: 1.0 / (rank + 1.5)
        for ids in by_category.values()
        for rank, pid in enumerate(rng.sample(ids, len(ids)))
    }
    channels = [(c, d) for c, d, _w in CHANNEL_MIX]
    channel_weights = [w for _c, _d, w in CHANNEL_MIX]
    span = (min(until, cycle.voting_ends_at) - cycle.voting_starts_at).total_seconds()
    residents = [random_rnokpp(rng) for _ in range(count)]
    records = []
    for i in range(count):
        # ~3% of residents try a second channel; ~1% of ballots break the rule.
        resident = residents[i] if rng.random() > 0.03 or i == 0 else residents[rng.randrange(i)]
        channel, _device = rng.choices(channels, channel_weights)[0]
        offset = rng.random() ** 0.8 * span
        moment = cycle.voting_starts_at + timedelta(seconds=offset)
        # Daytime rhythm: move night-time votes (Kyiv time, UTC+2/3) into the day.
        if moment.hour < 6 or moment.hour > 19:
            moment = moment.replace(hour=rng.randrange(6, 19))
        moment = min(max(moment, cycle.voting_starts_at), until - timedelta(minutes=1))
        selections: list[int] = []
        for category in ballot.categories:
            ids = by_category[category.category_id]
            k = rng.randint(1, category.max_choices) if rng.random() > 0.1 else 0
            picked: set[int] = set()
            while len(picked) < k:
                picked.add(rng.choices(ids, [weights[p] for p in ids])[0])
            selections.extend(picked)
        if not selections:
            selections = [rng.choice(by_category[ballot.categories[0].category_id])]
        if rng.random() < 0.01:
            selections = by_category[ballot.categories[0].category_id][:3]  # one too many
        records.append(
            VoteRecord.create(
                vote_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                cycle_id=cycle.id,
                selections=selections,
                channel=channel,
                cast_at=moment,
                voter_key=VoterKey.derive(secret, "rnokpp", resident).hex,
                # The seeded history keeps its channel but names no device: no device
                # log carries it, so crediting the demo's terminals would make their
                # page (log entries received) and the results (votes by device)
                # disagree. What the demo terminal casts arrives through sync and is
                # credited to it on both.
                device_id=None,
            )
        )
    return records


def demo_poll(session: Session, community: Community, rng: random.Random, now: datetime) -> None:
    """A published poll of the four kinds with a few hundred online answers, so the
    console's poll page and the API's results show something (docs/polls.md)."""
    opens = now - timedelta(days=9)
    spec = {
        "title": "Який вигляд має мати парк «Олександрія» біля входу?",
        "description": "Опитування мешканців перед проєктуванням.",
        "opens_at": opens.isoformat(),
        "closes_at": (now + timedelta(days=21)).isoformat(),
        "questions": [
            {
                "text": "Чи потрібна біля входу нова площа?",
                "kind": "one",
                "options": ["Так", "Ні", "Не знаю"],
            },
            {
                "text": "Що на ній має бути? (до двох)",
                "kind": "up_to",
                "max_choices": 2,
                "options": ["Лави в тіні", "Фонтан", "Сцена", "Укриття від дощу"],
            },
            {
                "text": "Упорядкуйте, що зробити першим",
                "kind": "rank",
                "max_choices": 3,
                "options": ["Освітлення", "Доріжки", "Туалет", "Велостоянка"],
            },
            {
                "text": "Оцініть від 0 до 5, наскільки це важливо",
                "kind": "points",
                "max_points": 5,
                "options": ["Безпека ввечері", "Чистота", "Доступність для візків"],
            },
        ],
    }
    poll = create_poll(session, community.id, spec)
    publish_poll(session, poll, now=opens)
    rule = poll_rule(session, poll)
    one, up_to, rank, points = rule.questions
    records = []
    for _ in range(400):
        answers: dict[int, object] = {one.question_id: [rng.choices(one.option_ids, (6, 2, 1))[0]]}
        if rng.random() < 0.8:
            answers[up_to.question_id] = rng.sample(up_to.option_ids, rng.randint(1, 2))
        if rng.random() < 0.7:
            answers[rank.question_id] = rng.sample(rank.option_ids, rng.randint(1, 3))
        if rng.random() < 0.6:
            answers[points.question_id] = {o: rng.randint(0, 5) for o in points.option_ids}
        records.append(
            PollAnswerRecord.create(
                answer_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                poll=rule,
                answers=answers,
                channel="web",
                cast_at=opens + timedelta(minutes=rng.randrange(9 * 24 * 60)),
                voter_key=f"{rng.getrandbits(256):064x}",
            )
        )
    store_answers(session, poll, rule, records, source="demo")
    # Interim results public, so the demo shows the residents' page (/polls/<community>).
    publish_poll_results(session, poll, now=now)
