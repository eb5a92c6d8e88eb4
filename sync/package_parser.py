"""Reading a verified cycle package into a sync.cycle_package.CyclePackage, once, where it
arrives (sync.store_packages, after the signature check) and where it is loaded again.

A field a device needs that is missing or of another type refuses the whole package
with PackageError, which says where and what in both languages: no page meets a
KeyError later. Fields the contract lets older servers leave out read as their
defaults; fields this device does not know are ignored. Project details (address,
budget lines, photos) are the exception that reads leniently: a detail not of the
expected shape reads as absent, because the ballot must still work without it.

Polls are read strictly, as a ballot is: a terminal judges answers by what it reads
(voting.polls.check_answers), so a poll whose questions, options, limits or "who may
answer" are not what the server makes refuses the package. A package without "polls"
(from a server before them, or a community with none open) has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sync.cycle_package import (
    BudgetItem,
    Community,
    CyclePackage,
    Funding,
    PackagedCategory,
    PackagedCycle,
    PackagedOption,
    PackagedPoll,
    PackagedProject,
    PackagedQuestion,
    PhotoRef,
    ProjectDetails,
    School,
)
from sync.texts import N_, catalog
from sync.wire import HEX64, PROTOCOL_VERSION, ProtocolError
from voting.district import DistrictError, clean_district
from voting.eligibility import MIN_AGE_LIMITS
from voting.polls import MAX_OPTIONS, MAX_POINTS, MAX_QUESTIONS, QuestionKind, WhoMayAnswer, check_poll_rule

# Every whole number in a package is an id, a count or kopiykas: all fit a signed
# 64-bit column on the server. Anything beyond is no number the server made.
_INT_LIMIT = 2**63


class PackageError(ProtocolError):
    """A signed package that does not follow the package contract. `where` is the path
    of the field at fault ("cycles[0].categories[1].budget")."""

    def __init__(self, where: str, reason: str) -> None:
        at = f" {where}" if where else ""
        said = (
            catalog(locale).gettext(_MALFORMED, at=at, reason=catalog(locale).gettext(reason))
            for locale in ("uk", "en")
        )
        super().__init__("package.malformed", " / ".join(said))
        self.where = where


# The Ukrainian texts (the catalog's keys); the English is in sync/translations/en/.
_MALFORMED = N_("пакет пошкоджено:{at} {reason}")
_MISSING = N_("поля немає")
_NOT_INT = N_("має бути цілим числом")
_TOO_BIG = N_("число поза межами")
_NOT_TEXT = N_("має бути текстом")
_NOT_BOOL = N_("має бути true або false")
_NOT_OBJECT = N_("має бути об'єктом JSON")
_NOT_LIST = N_("має бути списком")
_NOT_TIME = N_("має бути часом ISO 8601 з часовим поясом")
_NOT_HEX = N_("має бути шістнадцятковим рядком")
_NOT_POSITIVE = N_("має бути додатним числом")
_EMPTY = N_("не може бути порожнім")
_REPEATED = N_("повторюється")
_COUNT = N_("кількість елементів поза межами")
_UNKNOWN_KIND = N_("невідомий вид питання")
_NOT_FOR_KIND = N_("не буває в питанні цього виду")
_NOT_AFTER = N_("має бути пізніше за opens_at")
_NOT_DISTRICT = N_("має бути назвою району")
_BAD_POLL = N_("опитування не відповідає правилам опитувань")


def _fail(where: str, reason: str) -> PackageError:
    return PackageError(where, reason)


def _int(value: object, where: str) -> int:
    if type(value) is not int:  # not bool, not a float (1.0, NaN, Infinity)
        raise _fail(where, _NOT_INT)
    if not -_INT_LIMIT <= value < _INT_LIMIT:
        raise _fail(where, _TOO_BIG)
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, _NOT_TEXT)
    return value


def _time(value: object, where: str) -> datetime:
    text = _text(value, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(where, _NOT_TIME) from None
    if moment.tzinfo is None:
        raise _fail(where, _NOT_TIME)
    return moment


def _hex(value: object, where: str) -> bytes:
    text = _text(value, where)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise _fail(where, _NOT_HEX) from None
    if not raw:
        raise _fail(where, _NOT_HEX)
    return raw


def _items(value: object, where: str) -> list[tuple[object, str]]:
    """A list's elements, each with where it is."""
    if not isinstance(value, list):
        raise _fail(where, _NOT_LIST)
    return [(item, f"{where}[{i}]") for i, item in enumerate(value)]


class _Fields:
    """One JSON object of the package and where it is, read field by field."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise _fail(where, _NOT_OBJECT)
        self.data: dict[str, object] = value
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str) -> object:
        if key not in self.data:
            raise _fail(self.at(key), _MISSING)
        return self.data[key]

    def number(self, key: str) -> int:
        return _int(self._get(key), self.at(key))

    def number_or_none(self, key: str) -> int | None:
        """A field that must be there but may be null."""
        value = self._get(key)
        return None if value is None else _int(value, self.at(key))

    def optional_number(self, key: str) -> int | None:
        value = self.data.get(key)
        return None if value is None else _int(value, self.at(key))

    def text(self, key: str) -> str:
        return _text(self._get(key), self.at(key))

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        return None if value is None else _text(value, self.at(key))

    def text_or_none(self, key: str) -> str | None:
        """A text field that must be there but may be null."""
        value = self._get(key)
        return None if value is None else _text(value, self.at(key))

    def positive(self, key: str) -> int:
        """An id: a whole number from 1."""
        value = self.number(key)
        if value < 1:
            raise _fail(self.at(key), _NOT_POSITIVE)
        return value

    def words(self, key: str) -> str:
        """A text a resident reads: not empty, nor only spaces."""
        value = self.text(key)
        if not value.strip():
            raise _fail(self.at(key), _EMPTY)
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise _fail(self.at(key), _NOT_BOOL)
        return value

    def hex(self, key: str) -> bytes:
        return _hex(self._get(key), self.at(key))

    def time(self, key: str) -> datetime:
        return _time(self._get(key), self.at(key))

    def child(self, key: str) -> _Fields:
        return _Fields(self._get(key), self.at(key))

    def optional_child(self, key: str) -> _Fields | None:
        value = self.data.get(key)
        return None if value is None else _Fields(value, self.at(key))

    def items(self, key: str, *, required: bool = True) -> list[tuple[object, str]]:
        """The list's elements, each with where it is; an optional list may be absent."""
        value = self._get(key) if required else self.data.get(key)
        if value is None and not required:
            return []
        return _items(value, self.at(key))


def parse_package(data: object) -> CyclePackage:
    """The package in `data` (its JSON, already verified), or PackageError."""
    top = _Fields(data, "")
    if top.number("format") != PROTOCOL_VERSION:
        raise PackageError("format", N_("невідомий формат пакета"))
    version = top.number("version")
    if version < 1:
        raise PackageError("version", N_("має бути додатним числом"))
    issued = top.data.get("issued_at")
    community = top.child("community")
    verifier_key = top.data.get("code_verifier_key")
    return CyclePackage(
        format=PROTOCOL_VERSION,
        version=version,
        issued_at=None if issued is None else _time(issued, "issued_at"),
        community=Community(
            id=community.number("id"),
            slug=community.optional_text("slug") or "",
            name=community.optional_text("name") or "",
        ),
        server_key=top.text("server_key"),
        voter_key_secret=top.hex("voter_key_secret"),
        # Absent (or empty) from a server that does not send it: no code can be checked here.
        code_verifier_key=_hex(verifier_key, "code_verifier_key") if verifier_key else None,
        cycles=tuple(_cycle(_Fields(item, where)) for item, where in top.items("cycles", required=False)),
        polls=_polls(top),
    )


def parse_cycle(data: object, where: str = "cycle") -> PackagedCycle:
    """One cycle as a package carries it (server.sync.packages.cycle_body makes one for
    reading sheets on the server), or PackageError naming the field under `where`."""
    return _cycle(_Fields(data, where))


def _cycle(cycle: _Fields) -> PackagedCycle:
    min_age = cycle.optional_number("min_age")
    school = cycle.optional_child("school")
    return PackagedCycle(
        id=cycle.number("id"),
        title=cycle.text("title"),
        slug=cycle.optional_text("slug") or "",
        kind=cycle.optional_text("kind"),
        voting_starts_at=cycle.time("voting_starts_at"),
        voting_ends_at=cycle.time("voting_ends_at"),
        timezone=cycle.optional_text("timezone"),
        min_total=cycle.number("min_total"),
        max_total=cycle.number_or_none("max_total"),
        # A value no server would send reads as no limit, as it always has.
        min_age=min_age if min_age is not None and 1 <= min_age <= 120 else None,
        categories=tuple(_category(_Fields(item, where)) for item, where in cycle.items("categories")),
        projects=tuple(_project(_Fields(item, where)) for item, where in cycle.items("projects")),
        school=None if school is None else School(school.number("id"), school.optional_text("name") or ""),
        code_verifiers=frozenset(
            _text(item, where) for item, where in cycle.items("code_verifiers", required=False)
        ),
    )


def _category(category: _Fields) -> PackagedCategory:
    return PackagedCategory(
        id=category.number("id"),
        name=category.text("name"),
        budget=category.number("budget"),
        min_choices=category.number("min_choices"),
        max_choices=category.number("max_choices"),
        budget_limited=category.flag("budget_limited"),
        max_project_cost=category.number_or_none("max_project_cost"),
        min_votes_to_fund=category.number("min_votes_to_fund"),
        position=category.number("position"),
        funding=_funding(category.optional_child("funding")),
        district=category.optional_text("district"),
    )


def _funding(funding: _Fields | None) -> Funding:
    """A package from before funding rules carries none: the defaults are that rule."""
    if funding is None:
        return Funding()
    default = Funding()
    groups = tuple(
        tuple(_int(number, inner) for number, inner in _items(group, where))
        for group, where in funding.items("exclusive_groups", required=False)
    )
    method, tie_break = funding.optional_text("method"), funding.optional_text("tie_break")
    lot_seed, share = funding.optional_text("lot_seed"), funding.optional_number("min_votes_share")
    step = funding.optional_number("completion_step")
    return Funding(
        method=default.method if method is None else method,
        tie_break=default.tie_break if tie_break is None else tie_break,
        lot_seed=default.lot_seed if lot_seed is None else lot_seed,
        min_votes_share=default.min_votes_share if share is None else share,
        min_project_cost=funding.optional_number("min_project_cost"),
        leftover_to=funding.optional_number("leftover_to"),
        exclusive_groups=groups,
        completion_step=default.completion_step if step is None else step,
    )


def _project(project: _Fields) -> PackagedProject:
    return PackagedProject(
        id=project.number("id"),
        number=project.optional_number("number"),
        title=project.text("title"),
        description=project.optional_text("description") or "",
        cost=project.number("cost"),
        district=project.optional_text("district"),
        category_id=project.number("category_id"),
        details=project_details(project.data),
    )


def _polls(top: _Fields) -> tuple[PackagedPoll, ...]:
    polls = [_poll(_Fields(item, where)) for item, where in top.items("polls", required=False)]
    _unique([p.id for p in polls], "polls[{}].id")
    return tuple(polls)


def _unique(ids: list[int], where: str) -> None:
    """Refuse the first id that is there twice, naming where (`where` has a "{}" for its index)."""
    seen: set[int] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise _fail(where.format(index), _REPEATED)
        seen.add(value)


def _poll(poll: _Fields) -> PackagedPoll:
    poll_id = poll.positive("id")
    title = poll.words("title")
    description = poll.optional_text("description") or ""
    opens_at, closes_at = poll.time("opens_at"), poll.time("closes_at")
    if closes_at <= opens_at:
        raise _fail(poll.at("closes_at"), _NOT_AFTER)
    who = _who(poll.child("who"))
    items = poll.items("questions")
    if not 1 <= len(items) <= MAX_QUESTIONS:
        raise _fail(poll.at("questions"), _COUNT)
    questions = [_question(_Fields(item, where)) for item, where in items]
    _unique([q.id for q in questions], poll.at("questions") + "[{}].id")
    packaged = PackagedPoll(
        id=poll_id,
        title=title,
        description=description,
        opens_at=opens_at,
        closes_at=closes_at,
        who=who,
        questions=tuple(sorted(questions, key=lambda q: (q.position, q.id))),
    )
    if check_poll_rule(packaged.rule()):  # the checks above leave nothing; kept as the domain's word
        raise _fail(poll.where, _BAD_POLL)
    return packaged


def _who(who: _Fields) -> WhoMayAnswer:
    """Who may answer: every field is there (null for no age or district), so a
    restriction left out never reads as "anyone"."""
    min_age = who.number_or_none("min_age")
    low, high = MIN_AGE_LIMITS
    if min_age is not None and not low <= min_age <= high:
        raise _fail(who.at("min_age"), _TOO_BIG)
    voter_list = who.flag("voter_list")
    district = who.text_or_none("district")
    if district is not None:
        try:
            stored = clean_district(district)
        except DistrictError:
            stored = None
        if not district or stored != district:
            raise _fail(who.at("district"), _NOT_DISTRICT)
    return WhoMayAnswer(min_age=min_age, voter_list=voter_list, district=district or "")


def _question(question: _Fields) -> PackagedQuestion:
    question_id = question.positive("id")
    position = question.number("position")
    if position < 0:
        raise _fail(question.at("position"), _TOO_BIG)
    text = question.words("text")
    kind_name = question.text("kind")  # outside the try: PackageError is a ValueError too
    try:
        kind = QuestionKind(kind_name)
    except ValueError:
        raise _fail(question.at("kind"), _UNKNOWN_KIND) from None
    items = question.items("options")
    if not 2 <= len(items) <= MAX_OPTIONS:
        raise _fail(question.at("options"), _COUNT)
    options = [_option(_Fields(item, where)) for item, where in items]
    _unique([o.id for o in options], question.at("options") + "[{}].id")
    max_choices = question.optional_number("max_choices")
    max_points = question.optional_number("max_points")
    if max_choices is None and kind is QuestionKind.UP_TO:
        raise _fail(question.at("max_choices"), _MISSING)
    if max_choices is not None:
        if kind not in (QuestionKind.UP_TO, QuestionKind.RANK):
            raise _fail(question.at("max_choices"), _NOT_FOR_KIND)
        if not 1 <= max_choices <= len(options):
            raise _fail(question.at("max_choices"), _TOO_BIG)
    if max_points is None and kind is QuestionKind.POINTS:
        raise _fail(question.at("max_points"), _MISSING)
    if max_points is not None:
        if kind is not QuestionKind.POINTS:
            raise _fail(question.at("max_points"), _NOT_FOR_KIND)
        if not 1 <= max_points <= MAX_POINTS:
            raise _fail(question.at("max_points"), _TOO_BIG)
    return PackagedQuestion(
        id=question_id,
        position=position,
        text=text,
        kind=kind,
        max_choices=max_choices,
        max_points=max_points,
        options=tuple(sorted(options, key=lambda o: (o.position, o.id))),
    )


def _option(option: _Fields) -> PackagedOption:
    option_id = option.positive("id")
    position = option.number("position")
    if position < 0:
        raise _fail(option.at("position"), _TOO_BIG)
    return PackagedOption(id=option_id, position=position, text=option.words("text"))


def _detail_text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _digest(value: object) -> str | None:
    return value if isinstance(value, str) and HEX64.fullmatch(value) else None


def project_details(project: Mapping[str, object]) -> ProjectDetails:
    """A packaged project's details; what is missing (an older package) or not of the
    expected shape reads as absent, never as an error: the ballot must still work."""
    budget = []
    for line in _list(project.get("budget")):
        if isinstance(line, dict) and type(line.get("amount")) is int and line["amount"] > 0:
            budget.append(BudgetItem(_detail_text(line.get("item"), 200), line["amount"]))
    photos = []
    for photo in _list(project.get("photos")):
        if not isinstance(photo, dict) or (sha256 := _digest(photo.get("sha256"))) is None:
            continue
        alt = photo.get("alt")
        if not isinstance(alt, dict):
            alt = {}
        width, height = photo.get("width"), photo.get("height")
        if (
            type(width) is not int
            or type(height) is not int
            or not (0 < width <= 4096 and 0 < height <= 4096)
        ):
            continue
        photos.append(
            PhotoRef(
                sha256, width, height, _detail_text(alt.get("uk"), 300), _detail_text(alt.get("en"), 300)
            )
        )
    return ProjectDetails(_detail_text(project.get("address"), 300), tuple(budget), tuple(photos))


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
