"""The cycle package as a device reads it: the signed JSON contract between the server
(server.sync.packages) and the devices, as frozen dataclasses.

A package holds the community, the cycles whose voting has not ended with their
categories (and funding rules), admitted projects (with their details for residents),
the school and code verifiers of school contests, the community's published polls whose
window has not ended (their questions, options and who may answer), and the secrets a
device needs offline: the voter-key secret and the key that turns a school code into its
verifier.

sync.package_parser.parse_package makes one from the verified JSON, once, after the
signature check; a device then reads attributes, never keys. The raw dict is still kept
beside it (sync.packages.StoredPackage.package): the signature is over its text, and
its digest is what a device tells the server it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.packages import NOT_RESIDENTS_KINDS, SCHOOL_CONTEST
from voting import Ballot, BallotProject, CategoryRule
from voting.poll_who import WhoMayAnswer
from voting.polls import PollRule, QuestionKind, QuestionRule

DEFAULT_TIMEZONE = "Europe/Kyiv"


@dataclass(frozen=True, slots=True)
class PhotoRef:
    sha256: str
    width: int
    height: int
    alt_uk: str
    alt_en: str

    def alt(self, locale: str) -> str:
        return (self.alt_en if locale == "en" else "") or self.alt_uk


@dataclass(frozen=True, slots=True)
class BudgetItem:
    item: str
    amount: int  # kopiykas


@dataclass(frozen=True, slots=True)
class ProjectDetails:
    address: str
    budget: tuple[BudgetItem, ...]
    photos: tuple[PhotoRef, ...]


NO_DETAILS = ProjectDetails("", (), ())


@dataclass(frozen=True, slots=True)
class Community:
    id: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class School:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Funding:
    """A category's funding rule (server.services.cycle_rules.funding_body); a package
    from before these rules carries none, and the defaults are that rule."""

    method: str = "greedy"
    tie_break: str = "cheaper"
    lot_seed: str = ""
    min_votes_share: int = 0
    min_project_cost: int | None = None
    leftover_to: int | None = None
    exclusive_groups: tuple[tuple[int, ...], ...] = ()
    completion_step: int = 100


@dataclass(frozen=True, slots=True)
class PackagedCategory:
    id: int
    name: str
    budget: int  # kopiykas
    min_choices: int
    max_choices: int
    budget_limited: bool
    max_project_cost: int | None
    min_votes_to_fund: int
    position: int
    funding: Funding
    district: str | None  # only residents the list places there vote here; None: all

    def rule(self) -> CategoryRule:
        f = self.funding
        return CategoryRule(
            category_id=self.id,
            name=self.name,
            budget=self.budget,
            min_choices=self.min_choices,
            max_choices=self.max_choices,
            budget_limited=self.budget_limited,
            max_project_cost=self.max_project_cost,
            min_votes_to_fund=self.min_votes_to_fund,
            method=f.method,
            tie_break=f.tie_break,
            lot_seed=f.lot_seed,
            min_votes_share=f.min_votes_share,
            min_project_cost=f.min_project_cost,
            leftover_to=f.leftover_to,
            exclusive_groups=f.exclusive_groups,
            completion_step=f.completion_step,
        )


@dataclass(frozen=True, slots=True)
class PackagedProject:
    id: int
    number: int | None  # the number printed on ballots
    title: str
    description: str
    cost: int  # kopiykas
    district: str | None
    category_id: int
    details: ProjectDetails  # NO_DETAILS for a project without them, or an older package


@dataclass(frozen=True, slots=True)
class PackagedCycle:
    id: int
    title: str
    slug: str
    kind: str | None
    voting_starts_at: datetime  # aware
    voting_ends_at: datetime
    timezone: str | None
    min_total: int
    max_total: int | None
    min_age: int | None  # None: no limit (also a value no server would send)
    categories: tuple[PackagedCategory, ...]
    projects: tuple[PackagedProject, ...]
    school: School | None = None  # school contests only
    code_verifiers: frozenset[str] = frozenset()  # school contests: their valid codes' verifiers

    def window_state(self, now: datetime) -> str:
        """Where `now` (server time) lies in the cycle's voting window: "not_yet", "open"
        or "ended"."""
        if now < self.voting_starts_at:
            return "not_yet"
        return "open" if now < self.voting_ends_at else "ended"

    @property
    def for_residents(self) -> bool:
        """Residents vote here; school budgets are voted with per-student codes only."""
        return self.kind not in NOT_RESIDENTS_KINDS

    @property
    def is_school_contest(self) -> bool:
        return self.kind == SCHOOL_CONTEST

    @property
    def zone(self) -> ZoneInfo:
        """The cycle's time zone (whose birthday it is today), Kyiv when unreadable."""
        try:
            return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIMEZONE)

    def ballot(self) -> Ballot:
        """The ballot rule of the cycle, as voting.Ballot checks it everywhere."""
        categories = sorted(self.categories, key=lambda c: (c.position, c.id))
        return Ballot(
            [c.rule() for c in categories],
            [BallotProject(p.id, p.category_id, p.cost, p.title, p.number) for p in self.projects],
            min_total=self.min_total,
            max_total=self.max_total,
        )


@dataclass(frozen=True, slots=True)
class PackagedOption:
    id: int
    position: int
    text: str


@dataclass(frozen=True, slots=True)
class PackagedQuestion:
    id: int
    position: int
    text: str
    kind: QuestionKind
    max_choices: int | None  # up_to (always), rank (None: every option); None for the others
    max_points: int | None  # points only
    options: tuple[PackagedOption, ...]  # in their order

    def rule(self) -> QuestionRule:
        return QuestionRule(
            self.id, self.kind, tuple(o.id for o in self.options), self.max_choices, self.max_points
        )


@dataclass(frozen=True, slots=True)
class PackagedPoll:
    """A published poll (server.polls.store): its questions never change once published."""

    id: int
    title: str
    description: str
    opens_at: datetime  # aware
    closes_at: datetime
    who: WhoMayAnswer
    questions: tuple[PackagedQuestion, ...]  # in their order

    def window_state(self, now: datetime) -> str:
        """Where `now` (server time) lies in the poll's window: "not_yet", "open" or "ended"."""
        if now < self.opens_at:
            return "not_yet"
        return "open" if now < self.closes_at else "ended"

    def rule(self) -> PollRule:
        """The rule answers are judged by (voting.polls.check_answers), as on the server."""
        return PollRule(self.id, tuple(q.rule() for q in self.questions), self.who)

    def question(self, question_id: int) -> PackagedQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True, slots=True)
class CyclePackage:
    format: int
    version: int
    issued_at: datetime | None
    community: Community
    server_key: str
    voter_key_secret: bytes
    code_verifier_key: bytes | None  # None from a server that does not send it: no code can be checked
    cycles: tuple[PackagedCycle, ...]
    polls: tuple[PackagedPoll, ...] = ()  # none from a server that does not send them

    def open_cycles(self, now: datetime) -> list[PackagedCycle]:
        """The cycles in which a resident may vote at `now` (server time)."""
        return [c for c in self.cycles if c.for_residents and c.window_state(now) == "open"]

    def open_school_contests(self, now: datetime) -> list[PackagedCycle]:
        """The school contests in which students may vote with their codes at `now`."""
        return [c for c in self.cycles if c.is_school_contest and c.window_state(now) == "open"]

    def cycle(self, cycle_id: int) -> PackagedCycle | None:
        return next((c for c in self.cycles if c.id == cycle_id), None)

    def open_polls(self, now: datetime) -> list[PackagedPoll]:
        """The polls a resident may answer at `now` (server time)."""
        return [p for p in self.polls if p.window_state(now) == "open"]

    def poll(self, poll_id: int) -> PackagedPoll | None:
        return next((p for p in self.polls if p.id == poll_id), None)

    def contest_of_code(self, verifier: str) -> PackagedCycle | None:
        """The school contest whose valid codes include `verifier`, whatever its window.
        A verifier is an HMAC of a random code, so it is in at most one contest."""
        for cycle in self.cycles:
            if cycle.is_school_contest and verifier in cycle.code_verifiers:
                return cycle
        return None

    def photo_digests(self) -> set[str]:
        """Every photo digest the package's projects name."""
        return {
            photo.sha256
            for cycle in self.cycles
            for project in cycle.projects
            for photo in project.details.photos
        }
