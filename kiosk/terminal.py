"""This terminal's view of voting: which cycle is open now, who may vote in it, and
recording a vote. A thin layer over the device store (sync/) and the domain (voting/).

Time: a vote's `cast_at` is the device clock, as the device log expects (each entry
carries the clock offset learned from the server). Whether voting is open is judged
on the server's time line (device clock minus that offset), so a terminal with a
wrong clock opens and closes together with everyone else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from kiosk.eligibility import Refusal, VotedElsewhere, check_eligibility
from kiosk.i18n import N_
from kiosk.qr_handlers import QrContext
from kiosk.voting_switch import VotingSwitch
from sync.clock import Clock, datetime_from_ms, system_clock_ms
from sync.clock_guard import ClockGuard, monotonic_ms
from sync.cycle_package import PackagedCycle, PackagedPoll
from sync.device_store import DeviceStore
from sync.packages import StoredPackage
from sync.voted_here import VotedHere
from voting import Ballot, Channel, IdentityKind, Problem, VoteRecord, VoterKey
from voting.district import ballot_for_resident, district_problems
from voting.poll_who import answer_refusal
from voting.polls import PollAnswerRecord

# Polls carry no time zone: a resident's age is judged on the community's day, in Kyiv
# (as the server judges the platform's answers, server/polls/who.py).
POLL_ZONE = ZoneInfo("Europe/Kyiv")

CODE_NOT_VALID_HERE = N_("Цей код не дійсний у цьому голосуванні. Зверніться до вчителя.")


class Unavailable(StrEnum):
    """Why no one can vote on this terminal now."""

    NOT_ENROLLED = "not_enrolled"
    NO_PACKAGE = "no_package"
    NO_OPEN_CYCLE = "no_open_cycle"
    CLOSED_HERE = "closed_here"  # staff closed it on the maintenance screen
    REVOKED = "revoked"  # the server revoked this terminal (a signed answer said so)


UNAVAILABLE_TEXTS = {
    Unavailable.NOT_ENROLLED: N_("Термінал не зареєстровано."),
    Unavailable.NO_PACKAGE: N_("Термінал ще не отримав даних голосування."),
    Unavailable.NO_OPEN_CYCLE: N_("Зараз немає відкритого голосування."),
    Unavailable.CLOSED_HERE: N_("Голосування на цьому терміналі закрито"),
    Unavailable.REVOKED: N_("Цей термінал виведено з роботи. Проголосуйте на іншому терміналі або онлайн."),
}


@dataclass(frozen=True)
class OpenVoting:
    """The cycle a resident votes in at this terminal now, with its ballot rule."""

    cycle: PackagedCycle
    ballot: Ballot
    voter_secret: bytes
    package_version: int
    # Once a voter is known (Terminal.for_voter): the whole cycle's ballot, of which
    # `ballot` is the part offered to them, and the district the list gives them.
    full_ballot: Ballot | None = None
    resident_district: str | None = None

    def district_problems(self, selections: list[int]) -> list[Problem]:
        """Choices in a district category the voter does not live in (voting.district)."""
        return district_problems(self.full_ballot or self.ballot, selections, self.resident_district)

    @property
    def cycle_id(self) -> int:
        return self.cycle.id

    @property
    def title(self) -> str:
        return self.cycle.title


class Terminal:
    def __init__(
        self,
        store: DeviceStore,
        *,
        switch: VotingSwitch | None = None,
        voted_elsewhere: VotedElsewhere | None = None,
        clock: Clock = system_clock_ms,
        monotonic: Clock = monotonic_ms,
        school_id: int | None = None,
        districts: Callable[[str], str | None] | None = None,
    ) -> None:
        self.store = store
        # Where the community's list says a resident lives (voter key -> district).
        self._district_of = districts or listed_district(store)
        self.school_id = school_id  # a school's own terminal takes only that school's codes
        self.switch = switch  # None: staff cannot close this terminal (tests, demos)
        self._voted_here = VotedHere(store)
        self._voted_elsewhere = voted_elsewhere
        self.clock = clock
        self.guard = ClockGuard(store, clock, monotonic)
        self._ballots: dict[tuple[int, int], Ballot] = {}

    def device_code(self) -> str | None:
        identity = self.store.identity()
        return identity.device if identity else None

    def label(self) -> str:
        """The terminal as a receipt names it: community and device code."""
        identity = self.store.require_identity()
        return f"{identity.community_name}, {identity.device}"

    def check_url(self) -> str | None:
        """The server's «Перевірити свій голос» page, printed on the receipt."""
        from kiosk.receipt import check_address

        return check_address(self.store.require_identity().server_url)

    def server_time_ms(self) -> int:
        # Through the guard: a device clock set back or forward while offline must not
        # reorder a resident's votes or move the close (sync.clock_guard).
        return self.guard.server_now_ms()

    def _package(self) -> StoredPackage | Unavailable:
        """The package votes may be cast under now, or why there is none."""
        if not self.store.enrolled():
            return Unavailable.NOT_ENROLLED
        if self.store.revoked():
            return Unavailable.REVOKED
        stored = self.store.package()
        if stored is None:
            return Unavailable.NO_PACKAGE
        if self.switch is not None and not self.switch.is_open():
            return Unavailable.CLOSED_HERE
        return stored

    def _open(self, stored: StoredPackage, cycle: PackagedCycle) -> OpenVoting:
        key = (stored.version, cycle.id)
        if key not in self._ballots:
            self._ballots[key] = with_package_districts(cycle.ballot(), cycle)
        return OpenVoting(
            cycle=cycle,
            ballot=self._ballots[key],
            voter_secret=stored.content.voter_key_secret,
            package_version=stored.version,
        )

    def for_voter(self, voting: OpenVoting, voter_key: str | None) -> OpenVoting:
        """The voting as this voter sees it: the categories open to every resident and
        those of the district the list gives them. A voter with no key (a code) or no
        district in the list is offered no district category at all."""
        if voting.full_ballot is not None:
            voting = replace(voting, ballot=voting.full_ballot, full_ballot=None, resident_district=None)
        if not any(c.district for c in voting.ballot.categories):
            return voting
        district = self._district_of(voter_key) if voter_key else None
        return replace(
            voting,
            ballot=ballot_for_resident(voting.ballot, district),
            full_ballot=voting.ballot,
            resident_district=district,
        )

    def _server_now(self) -> datetime:
        return datetime_from_ms(self.server_time_ms())

    def voting_now(self) -> OpenVoting | Unavailable:
        """The cycle a resident with a card or document votes in now."""
        stored = self._package()
        if isinstance(stored, Unavailable):
            return stored
        # Never a school budget's cycle (PackagedCycle.for_residents): students vote
        # there with their code cards (kiosk/school_codes.py), residents never do.
        cycles = stored.content.open_cycles(self._server_now())
        if not cycles:
            return Unavailable.NO_OPEN_CYCLE
        # Several open at once is rare (overlapping cycles of one community); the one
        # that opened first is the one residents came for.
        return self._open(stored, cycles[0])

    def voting_in(self, cycle_id: int) -> OpenVoting | Unavailable:
        """Voting in one given cycle, if it is open here now (a school contest a student's
        code belongs to; at confirmation, the cycle the visit began in)."""
        stored = self._package()
        if isinstance(stored, Unavailable):
            return stored
        cycle = stored.content.cycle(cycle_id)
        if cycle is None or cycle.window_state(self._server_now()) != "open":
            return Unavailable.NO_OPEN_CYCLE
        return self._open(stored, cycle)

    def open_school_contests(self) -> list[PackagedCycle]:
        """The school contests open now that this terminal takes codes for (only its own
        school's when it is set up for one school)."""
        stored = self._package()
        if isinstance(stored, Unavailable):
            return []
        return [
            c
            for c in stored.content.open_school_contests(self._server_now())
            if self.school_id is None or (c.school is not None and c.school.id == self.school_id)
        ]

    def qr_context(self) -> QrContext | None:
        """What a QR handler needs to judge a code offline; None while nobody can vote
        here at all (not enrolled, no package, closed by staff: the screen says so)."""
        stored = self._package()
        if isinstance(stored, Unavailable):
            return None
        resident = self.voting_now()
        return QrContext(
            package=stored.content,
            now=self._server_now(),
            school_id=self.school_id,
            cycle=resident.cycle if isinstance(resident, OpenVoting) else None,
            voter_secret=resident.voter_secret if isinstance(resident, OpenVoting) else None,
        )

    @staticmethod
    def voter_key(voting: OpenVoting, kind: IdentityKind | str, raw: str) -> VoterKey:
        """The resident's key in this community (IdentityError for a malformed number)."""
        return VoterKey.derive(voting.voter_secret, kind, raw)

    def resident_key(self, kind: IdentityKind | str, raw: str) -> VoterKey | None:
        """The resident's key from the package's secret, which is there with or without
        an open cycle (a terminal where only polls are open); None while nobody can vote
        or answer here. IdentityError for a malformed number."""
        stored = self._package()
        if isinstance(stored, Unavailable):
            return None
        return VoterKey.derive(stored.content.voter_key_secret, kind, raw)

    # --- polls ------------------------------------------------------------------------

    def open_polls(self) -> list[PackagedPoll]:
        """The polls residents may answer here now (none while the terminal is closed)."""
        stored = self._package()
        return [] if isinstance(stored, Unavailable) else stored.content.open_polls(self._server_now())

    def open_poll(self, poll_id: int) -> PackagedPoll | None:
        """One poll, if the package this terminal holds now has it open; None for an
        unknown id, a poll that closed or vanished with a new package."""
        return next((p for p in self.open_polls() if p.id == poll_id), None)

    def poll_refusal(
        self, poll: PackagedPoll, voter_key: str, born: date | None, age_confirmed: bool = False
    ) -> Problem | None:
        """Why a resident may not answer `poll` by its "who may answer" (voting.polls.
        answer_refusal, the server's own rule): the list as held here (applied only once
        read in full, as for votes), the age from their document's birth date (None: the
        card or document shows none: refused, as for votes, unless `age_confirmed` by
        staff or the list in force names them), and the district the list gives them."""
        if poll.who.anyone:
            return None
        eligibility = self.store.eligibility
        listed = eligibility.is_listed(voter_key) if eligibility.applies() else None
        return answer_refusal(
            poll.who,
            day=self._server_now().astimezone(POLL_ZONE).date(),
            born=born,
            listed=listed,
            district=self._district_of(voter_key),
            age_confirmed=age_confirmed,
        )

    def answered_here(self, poll_id: int, voter: str) -> bool:
        """Has `voter` ("key:<hex>") answered this poll on this terminal (its own log)?"""
        return self._voted_here.answered(poll_id, voter)

    def record_poll_answer(
        self,
        poll: PackagedPoll,
        answers: dict[int, object],
        *,
        channel: Channel,
        voter_key: str | None = None,
        code_id: str | None = None,
    ) -> PollAnswerRecord:
        """Record one resident's answers; on disk (answer and log entry, one transaction)
        when this returns. PollAnswerRefused for answers the poll's rule refuses (nothing
        written); StoreError or sqlite3.Error if it could not be written."""
        record = PollAnswerRecord.create(
            poll=poll.rule(),
            answers=answers,
            channel=channel,
            cast_at=datetime_from_ms(self.server_time_ms()),
            voter_key=voter_key,
            code_id=code_id,
            device_id=self.store.require_identity().device,
        )
        self.store.append_poll_answer(record)
        return record

    def _resident_refusal(
        self, voting: OpenVoting, voter_key: str, born: date | None, confirmed: bool
    ) -> Refusal | None:
        refusal = self.store.eligibility.refusal(
            voting.cycle, voter_key, born=born, age_confirmed=confirmed, server_now=self._server_now()
        )
        if refusal is None:
            return None
        code, min_age = refusal
        return Refusal(code, {"min_age": min_age}, domain=True)

    def refusal_for(
        self, voting: OpenVoting, voter: str, *, born: date | None = None, age_confirmed: bool = False
    ) -> Refusal | None:
        """Why `voter` may not vote in this cycle here now, or None. A resident is checked
        against the community's rules (list, minimum age; `born` from their document,
        `age_confirmed` by staff) before whether they voted already."""
        if voter.startswith("key:") and voting.cycle.for_residents:
            refusal = self._resident_refusal(voting, voter.removeprefix("key:"), born, age_confirmed)
            if refusal is not None:
                return refusal
        if voting.cycle.is_school_contest:
            # Only a valid code of this contest votes in it. Checked again at confirmation,
            # so a package that arrived mid-visit with the code revoked stops the vote.
            code_id = voter.removeprefix("code:") if voter.startswith("code:") else None
            if code_id is None or code_id not in voting.cycle.code_verifiers:
                return Refusal(CODE_NOT_VALID_HERE)
        return check_eligibility(
            voting.cycle_id, voter, voted_here=self._voted_here, voted_elsewhere=self._voted_elsewhere
        )

    def cast(
        self,
        voting: OpenVoting,
        selections: list[int],
        *,
        channel: Channel,
        voter_key: str | None = None,
        code_id: str | None = None,
    ) -> VoteRecord:
        """Record the vote; it is on disk (vote and log entry, one transaction) when
        this returns. Raises StoreError or sqlite3.Error if it could not be written."""
        if voting.district_problems(selections):
            # The screens never offer such a choice; a crafted request must not store it.
            raise ValueError("a choice in a district category the voter does not live in")
        record = VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=voting.cycle_id,
            selections=selections,
            channel=channel,
            cast_at=datetime_from_ms(self.server_time_ms()),
            voter_key=voter_key,
            code_id=code_id,
            device_id=self.store.require_identity().device,
        )
        self.store.append_vote(record)
        return record


def with_package_districts(ballot: Ballot, cycle: PackagedCycle) -> Ballot:
    """The ballot with each category's district as the package names it (server.sync.
    packages: "district", null for a category open to all)."""
    named = {c.id: c.district for c in cycle.categories}
    if not any(isinstance(d, str) and d for d in named.values()):
        return ballot
    categories = [
        replace(c, district=d) if isinstance(d := named.get(c.category_id), str) and d else c
        for c in ballot.categories
    ]
    return replace(ballot, categories=categories)


def listed_district(store: DeviceStore) -> Callable[[str], str | None]:
    """Where the device's copy of the community's list places a resident. The copy holds
    districts once the sync client stores the ones the server sends with the list
    (server.services.eligibility.changes_since: `districts`) as `district_of`; a copy
    without them places nobody, so no district category is offered (fail closed) and
    residents vote in those on the other channels, where the server checks them."""
    lookup = getattr(store.eligibility, "district_of", None)
    if callable(lookup):
        return lookup
    return lambda _voter_key: None
