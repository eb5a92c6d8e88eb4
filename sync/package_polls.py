"""The polls of a cycle package, read strictly, as a ballot is: a terminal judges answers
by what it reads (voting.polls.check_answers), so a poll whose questions, options,
limits or "who may answer" are not what the server makes refuses the package. A package
without "polls" (from a server before them, or a community with none open) has none.
"""

from __future__ import annotations

from sync.cycle_package import PackagedOption, PackagedPoll, PackagedQuestion
from sync.package_fields import (
    BAD_POLL,
    COUNT,
    MISSING,
    NOT_AFTER,
    NOT_DISTRICT,
    NOT_FOR_KIND,
    REPEATED,
    TOO_BIG,
    UNKNOWN_KIND,
    Fields,
    fail,
)
from voting.district import DistrictError, clean_district
from voting.eligibility import MIN_AGE_LIMITS
from voting.poll_who import WhoMayAnswer
from voting.polls import MAX_OPTIONS, MAX_POINTS, MAX_QUESTIONS, QuestionKind, check_poll_rule


def read_polls(top: Fields) -> tuple[PackagedPoll, ...]:
    polls = [_poll(Fields(item, where)) for item, where in top.items("polls", required=False)]
    _unique([p.id for p in polls], "polls[{}].id")
    return tuple(polls)


def _unique(ids: list[int], where: str) -> None:
    """Refuse the first id that is there twice, naming where (`where` has a "{}" for its index)."""
    seen: set[int] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise fail(where.format(index), REPEATED)
        seen.add(value)


def _poll(poll: Fields) -> PackagedPoll:
    poll_id = poll.positive("id")
    title = poll.words("title")
    description = poll.optional_text("description") or ""
    opens_at, closes_at = poll.time("opens_at"), poll.time("closes_at")
    if closes_at <= opens_at:
        raise fail(poll.at("closes_at"), NOT_AFTER)
    who = _who(poll.child("who"))
    items = poll.items("questions")
    if not 1 <= len(items) <= MAX_QUESTIONS:
        raise fail(poll.at("questions"), COUNT)
    questions = [_question(Fields(item, where)) for item, where in items]
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
        raise fail(poll.where, BAD_POLL)
    return packaged


def _who(who: Fields) -> WhoMayAnswer:
    """Who may answer: every field is there (null for no age or district), so a
    restriction left out never reads as "anyone"."""
    min_age = who.number_or_none("min_age")
    low, high = MIN_AGE_LIMITS
    if min_age is not None and not low <= min_age <= high:
        raise fail(who.at("min_age"), TOO_BIG)
    voter_list = who.flag("voter_list")
    district = who.text_or_none("district")
    if district is not None:
        try:
            stored = clean_district(district)
        except DistrictError:
            stored = None
        if not district or stored != district:
            raise fail(who.at("district"), NOT_DISTRICT)
    return WhoMayAnswer(min_age=min_age, voter_list=voter_list, district=district or "")


def _question(question: Fields) -> PackagedQuestion:
    question_id = question.positive("id")
    position = question.number("position")
    if position < 0:
        raise fail(question.at("position"), TOO_BIG)
    text = question.words("text")
    kind_name = question.text("kind")  # outside the try: PackageError is a ValueError too
    try:
        kind = QuestionKind(kind_name)
    except ValueError:
        raise fail(question.at("kind"), UNKNOWN_KIND) from None
    items = question.items("options")
    if not 2 <= len(items) <= MAX_OPTIONS:
        raise fail(question.at("options"), COUNT)
    options = [_option(Fields(item, where)) for item, where in items]
    _unique([o.id for o in options], question.at("options") + "[{}].id")
    max_choices = question.optional_number("max_choices")
    max_points = question.optional_number("max_points")
    if max_choices is None and kind is QuestionKind.UP_TO:
        raise fail(question.at("max_choices"), MISSING)
    if max_choices is not None:
        if kind not in (QuestionKind.UP_TO, QuestionKind.RANK):
            raise fail(question.at("max_choices"), NOT_FOR_KIND)
        if not 1 <= max_choices <= len(options):
            raise fail(question.at("max_choices"), TOO_BIG)
    if max_points is None and kind is QuestionKind.POINTS:
        raise fail(question.at("max_points"), MISSING)
    if max_points is not None:
        if kind is not QuestionKind.POINTS:
            raise fail(question.at("max_points"), NOT_FOR_KIND)
        if not 1 <= max_points <= MAX_POINTS:
            raise fail(question.at("max_points"), TOO_BIG)
    return PackagedQuestion(
        id=question_id,
        position=position,
        text=text,
        kind=kind,
        max_choices=max_choices,
        max_points=max_points,
        options=tuple(sorted(options, key=lambda o: (o.position, o.id))),
    )


def _option(option: Fields) -> PackagedOption:
    option_id = option.positive("id")
    position = option.number("position")
    if position < 0:
        raise fail(option.at("position"), TOO_BIG)
    return PackagedOption(id=option_id, position=position, text=option.words("text"))
