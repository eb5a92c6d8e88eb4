"""A terminal as it stands in a service centre after enrolment: its store in a temporary
directory, enrolled (offline: the server is never reached), holding a package signed by
a test server key, shaped exactly as server/sync/packages.py builds one. School contests
(`school_contest_cycle`) carry their school and the verifiers of the codes given."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qr_codes.codes import ALPHABET, CodeError, format_code, normalise, verifier
from sync import package_envelope, signing, wire
from sync.device_store import DeviceStore
from voting import IdentityKind, VoterKey

COMMUNITY = {"id": 3, "slug": "bila-tserkva", "name": "Біла Церква"}
OTHER_COMMUNITY = {"id": 4, "slug": "fastiv", "name": "Фастів"}
VOTER_KEY_SECRET = "6b" * 32
CODE_VERIFIER_KEY = "5c" * 32
SCHOOL = {"id": 7, "name": "Ліцей № 3"}
OTHER_SCHOOL = {"id": 8, "name": "Гімназія № 1"}
CARD_HOST = "https://bila-tserkva.spilno.example"
DEVICE = "T-0042"
# Nothing listens on port 9 (discard): any attempt to reach the server fails at once.
UNREACHABLE_SERVER = "http://127.0.0.1:9"
SMALL, LARGE = 21, 22  # category ids


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _category(category_id: int, name: str, position: int, **rule) -> dict:
    return {
        "id": category_id,
        "name": name,
        "budget": rule["budget"],
        "min_choices": rule.get("min_choices", 0),
        "max_choices": rule["max_choices"],
        "budget_limited": rule["budget_limited"],
        "max_project_cost": rule.get("max_project_cost"),
        "min_votes_to_fund": 1,
        "position": position,
    }


def _project(project_id: int, number: int, title: str, cost_uah: int, category: int, district=None) -> dict:
    return {
        "id": project_id,
        "number": number,
        "title": title,
        "description": f"Опис проєкту «{title}»: що зробимо, де і для кого.",
        "cost": cost_uah * 100,
        "district": district,
        "category_id": category,
    }


def make_package(
    server_key: str,
    version: int = 1,
    *,
    community: dict = COMMUNITY,
    open_now: bool = True,
    cycles=None,
    min_age: int | None = None,
    polls: list[dict] | None = None,
) -> dict:
    """One open cycle: "Малі проєкти" (budget-limited, up to 2 within 500 000 грн) and
    "Великі проєкти" (up to 1), at most 3 in total. `polls`: the package's polls (see
    `packaged_poll`); none by default, as from a community without polls."""
    now = datetime.now(UTC)
    starts = now - timedelta(days=1) if open_now else now + timedelta(days=5)
    cycle = {
        "id": 31,
        "title": "Громадський бюджет 2027",
        "slug": "gb-2027",
        "kind": "public",
        "voting_starts_at": iso(starts),
        "voting_ends_at": iso(starts + timedelta(days=30)),
        "timezone": "Europe/Kyiv",
        "min_total": 1,
        "max_total": 3,
        "min_age": min_age,
        "categories": [
            _category(SMALL, "Малі проєкти", 1, budget=500_000_00, max_choices=2, budget_limited=True),
            _category(LARGE, "Великі проєкти", 2, budget=3_000_000_00, max_choices=1, budget_limited=False),
        ],
        "projects": [
            _project(101, 1, "Лавки в парку Слави", 250_000, SMALL, "Центр"),
            _project(102, 2, "Велостоянки біля шкіл", 200_000, SMALL),
            _project(103, 3, "Книжкова шафа в бібліотеці", 100_000, SMALL),
            _project(104, 4, "Освітлення стадіону", 300_000, SMALL),
            _project(201, 5, "Сквер на Заріччі", 2_500_000, LARGE, "Заріччя"),
            _project(202, 6, "Спортивний майданчик", 2_000_000, LARGE),
        ],
    }
    return {
        "format": wire.PROTOCOL_VERSION,
        "version": version,
        "issued_at": iso(now),
        "community": community,
        "server_key": server_key,
        "voter_key_secret": VOTER_KEY_SECRET,
        "code_verifier_key": CODE_VERIFIER_KEY,
        "cycles": [cycle] if cycles is None else cycles,
    } | ({"polls": polls} if polls else {})


def packaged_poll(
    poll_id: int = 61,
    *,
    title: str = "Який вигляд має мати парк біля входу?",
    opens_in: timedelta = timedelta(days=-2),
    lasts: timedelta = timedelta(days=20),
    min_age: int | None = None,
    voter_list: bool = False,
    district: str | None = None,
) -> dict:
    """A published poll as the server packages it (docs/polls.md), one question of each
    kind; ids from `poll_id`: questions poll_id*10+1.., options poll_id*100+question*10+n.

    1. one: Так / Ні / Не знаю;  2. up_to 2 of 4;  3. rank up to 3 of 4;  4. points 0..5 for 3."""
    opens = datetime.now(UTC) + opens_in
    shapes = [
        ("Чи потрібна біля входу нова площа?", "one", None, None, ["Так", "Ні", "Не знаю"]),
        ("Що на ній має бути?", "up_to", 2, None, ["Лави в тіні", "Фонтан", "Сцена", "Укриття від дощу"]),
        (
            "Упорядкуйте, що зробити першим",
            "rank",
            3,
            None,
            ["Освітлення", "Доріжки", "Туалет", "Велостоянка"],
        ),
        ("Оцініть, наскільки це важливо", "points", None, 5, ["Безпека ввечері", "Чистота", "Доступність"]),
    ]
    questions = []
    for number, (text, kind, max_choices, max_points, options) in enumerate(shapes, start=1):
        question_id = poll_id * 10 + number
        questions.append(
            {
                "id": question_id,
                "position": number,
                "text": text,
                "kind": kind,
                "max_choices": max_choices,
                "max_points": max_points,
                "options": [
                    {"id": poll_id * 100 + number * 10 + n, "position": n, "text": option}
                    for n, option in enumerate(options, start=1)
                ],
            }
        )
    return {
        "id": poll_id,
        "title": title,
        "description": "Опитування мешканців перед проєктуванням.",
        "opens_at": iso(opens),
        "closes_at": iso(opens + lasts),
        "who": {"min_age": min_age, "voter_list": voter_list, "district": district},
        "questions": questions,
    }


def option_id(poll_id: int, question: int, option: int) -> int:
    """The id `packaged_poll` gives option number `option` (from 1) of question `question`."""
    return poll_id * 100 + question * 10 + option


def question_id(poll_id: int, question: int) -> int:
    return poll_id * 10 + question


def fixed_code(label: str) -> str:
    """A valid voting code that is the same in every process for the same `label`.
    Test parameters built from codes must be: pytest-xdist's workers each collect the
    tests and must find the same ids (new_code() draws a fresh one per process)."""
    rng = random.Random(label)
    while True:
        body = "".join(rng.choice(ALPHABET) for _ in range(19))
        for check in ALPHABET:
            code = format_code(body + check)
            try:
                normalise(code)
            except CodeError:
                continue
            return code


def code_id(code: str) -> str:
    """A code's verifier under the test package's key: what the terminal records."""
    return verifier(bytes.fromhex(CODE_VERIFIER_KEY), normalise(code))


def card_url(code: str, host: str = CARD_HOST) -> str:
    """What the QR code on a student's card holds (qr_codes.codes.code_url)."""
    return f"{host}/s/{code}"


def school_contest_cycle(
    cycle_id: int,
    codes: list[str],
    *,
    school: dict = SCHOOL,
    starts_in: timedelta = timedelta(days=-1),
    lasts: timedelta = timedelta(days=14),
) -> dict:
    """A school's contest as the server packages it: one category (up to 2 of 4 projects),
    the school, and the verifiers of `codes` (never the codes themselves)."""
    starts = datetime.now(UTC) + starts_in
    category = 40 + cycle_id % 10
    return {
        "id": cycle_id,
        "title": f"Шкільний бюджет 2027 — {school['name']}",
        "slug": f"school-2027-school-{school['id']}",
        "kind": "school_contest",
        "voting_starts_at": iso(starts),
        "voting_ends_at": iso(starts + lasts),
        "timezone": "Europe/Kyiv",
        "min_total": 1,
        "max_total": None,
        "categories": [
            _category(
                category,
                "Проєкти школи",
                0,
                budget=50_000_00,
                min_choices=1,
                max_choices=2,
                budget_limited=False,
            )
        ],
        "projects": [
            _project(cycle_id * 10 + 1, 1, "Футбольні ворота", 12_000, category),
            _project(cycle_id * 10 + 2, 2, "Книжковий куточок", 8_000, category),
            _project(cycle_id * 10 + 3, 3, "Мультимедійний проектор", 20_000, category),
            _project(cycle_id * 10 + 4, 4, "Лавки на подвір'ї", 9_000, category),
        ],
        "school": school,
        "code_verifiers": sorted(code_id(code) for code in codes),
    }


def school_programme_cycle(cycle_id: int = 50) -> dict:
    """The community's school budget itself (kind "school"): a window and no ballot."""
    starts = datetime.now(UTC) - timedelta(days=2)
    return {
        "id": cycle_id,
        "title": "Шкільний бюджет 2027",
        "slug": "school-2027",
        "kind": "school",
        "voting_starts_at": iso(starts),
        "voting_ends_at": iso(starts + timedelta(days=60)),
        "timezone": "Europe/Kyiv",
        "min_total": 0,
        "max_total": None,
        "categories": [],
        "projects": [],
    }


class PackageSigner:
    """The server's signing key, nothing more: the terminal never talks to a server here."""

    def __init__(self) -> None:
        self.key = signing.generate_private_key()
        self.public_key = signing.public_key_b64(self.key)

    def envelope(self, package: dict | None = None, **options) -> dict:
        return package_envelope.sign_package(self.key, package or make_package(self.public_key, **options))


def enrolled_store(path: Path, server: PackageSigner, *, with_package: bool = True, **options) -> DeviceStore:
    store = DeviceStore(path)
    store.save_enrolment(
        device=DEVICE,
        kind="terminal",
        community=COMMUNITY,
        private_key_pem=signing.private_key_to_pem(signing.generate_private_key()),
        server_url=UNREACHABLE_SERVER,
        server_key=server.public_key,
    )
    if with_package:
        store.store_package(server.envelope(**options))
    return store


def voter_key_of_card(card_id: str) -> str:
    return VoterKey.derive(bytes.fromhex(VOTER_KEY_SECRET), IdentityKind.CARD, card_id).hex


def logged_votes(store: DeviceStore) -> list[dict]:
    """Every vote in the store's log, as the canonical records the server will receive."""
    return [entry.payload for entry in store.entries_from(1, 10_000) if entry.kind == "vote"]


def logged_answers(store: DeviceStore) -> list[dict]:
    """Every poll answer in the store's log, as the canonical records the server will receive."""
    return [entry.payload for entry in store.entries_from(1, 10_000) if entry.kind != "vote"]
