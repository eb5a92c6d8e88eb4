"""The console's form to write a poll without a file (docs/polls.md, "Making a poll").

The form is read into exactly the JSON spec the upload takes, and that spec goes to the
same `create_poll`: every rule and every message is the spec's. This module only reads
the fields into the spec and puts each of the spec's problems back beside the field it
is about ("questions[1].options" beside question 2's options); what it cannot place goes
at the top of the form.

Question blocks are named `q-<n>-text`, `q-<n>-kind`, `q-<n>-max_choices`,
`q-<n>-max_points`, `q-<n>-options` (n from 0); a block left empty is not a question. A
field naming a block the form never shows (a number beyond the spec's most questions, a
negative or odd one) is refused, and nothing is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.forms import Errors, FormReader
from server.i18n import KYIV, _
from server.models import Community, School
from server.polls.store import SpecProblem
from voting.polls import MAX_QUESTIONS, QuestionKind

SHOWN_BLOCKS = 3  # empty question blocks a new form shows
QUESTION_FIELDS = ("text", "kind", "max_choices", "max_points", "options")
KINDS = tuple(kind.value for kind in QuestionKind)
_BLOCK_FIELD = re.compile(r"q-([0-9]{1,2})-(text|kind|max_choices|max_points|options)")
_SCHOOL_ID = re.compile(r"[0-9]{1,10}")
_SPEC_WHERE = re.compile(r"questions\[([0-9]+)\](?:\.([a-z_]+)(?:\[([0-9]+)\])?)?")
# Top-level spec fields and the form fields they are typed in.
_TOP_FIELDS = {
    "title": "title",
    "description": "description",
    "opens_at": "opens_at",
    "closes_at": "closes_at",
    "questions": "questions",
    "who.min_age": "min_age",
    "who.voter_list": "voter_list",
    "who.district": "district",
    "school": "school",
    # The only "who" problem a form can make: age, list or district given for a school.
    "who": "school",
}


def block_field(block: int, name: str) -> str:
    return f"q-{block}-{name}"


@dataclass
class PollForm:
    """What was read: the spec for create_poll, the block each spec question came from,
    the problems found before the spec is checked, and how many blocks to show again."""

    spec: dict[str, Any]
    blocks: list[int]  # spec question index -> form block
    errors: Errors = field(default_factory=dict)
    shown: int = SHOWN_BLOCKS


def school_options(session: Session, communities: list[Community]) -> list[tuple[int, str]]:
    """(id, name) of the schools a poll may belong to: those of `communities` (the
    user's), each named with its community when there are several to choose from."""
    names = {c.id: c.name for c in communities}
    rows = session.scalars(
        select(School).where(School.community_id.in_(list(names))).order_by(School.name, School.id)
    )
    if len(names) == 1:
        return [(school.id, school.name) for school in rows]
    return [(school.id, f"{school.name} ({names[school.community_id]})") for school in rows]


def option_lines(raw: str) -> list[str]:
    """A textarea's options, one a line; blank lines are not options. Only line breaks
    split (a vertical tab or other control character stays, for the spec to refuse)."""
    lines = raw.replace("\r\n", "\n").split("\n")
    return [line for line in lines if line.strip()]


def _block_is_empty(form: Any, block: int) -> bool:
    return not any(
        form.get(block_field(block, name), "").strip() for name in QUESTION_FIELDS if name != "kind"
    )


def shown_blocks(form: Any, used: set[int], *, more: int = 0) -> int:
    """Blocks to show: as many as were shown (never fewer than SHOWN_BLOCKS or than the
    blocks typed in), `more` added, never beyond the spec's most questions."""
    raw = form.get("blocks", "")
    shown = int(raw) if raw.isdigit() and len(raw) <= 3 else SHOWN_BLOCKS
    return max(1, min(MAX_QUESTIONS, max(shown, SHOWN_BLOCKS, max(used, default=-1) + 1) + more))


def used_blocks(form: Any) -> tuple[set[int], bool]:
    """The question blocks the form's fields name, and whether any field names a block
    the form cannot have (tampered)."""
    used: set[int] = set()
    tampered = False
    for name in form:
        if not name.startswith("q-"):
            continue
        match = _BLOCK_FIELD.fullmatch(name)
        if (
            match is None
            or int(match.group(1)) >= MAX_QUESTIONS
            or match.group(1) != str(int(match.group(1)))
        ):
            tampered = True
            continue
        used.add(int(match.group(1)))
    return used, tampered


def read_poll_form(reader: FormReader) -> PollForm:
    """The spec the submitted form describes (see the module's docstring)."""
    form = reader.form
    spec: dict[str, Any] = {"title": reader.text("title")}
    description = reader.text("description")
    if description.strip():
        spec["description"] = description
    for name in ("opens_at", "closes_at"):
        moment = reader.local_datetime(name, KYIV.key)
        spec[name] = moment.astimezone(KYIV).isoformat() if moment is not None else None
    who: dict[str, Any] = {}
    min_age = reader.integer("min_age", required=False)
    if min_age is not None:
        who["min_age"] = min_age
    if reader.flag("voter_list"):
        who["voter_list"] = True
    district = reader.text("district")
    if district.strip():
        who["district"] = district
    if who:
        spec["who"] = who
    school = form.get("school", "").strip()
    if school:  # a school's poll; none chosen: the community's
        if _SCHOOL_ID.fullmatch(school):
            spec["school"] = int(school)
        else:
            reader.add_error("school", _("Оберіть школу зі списку."))

    used, tampered = used_blocks(form)
    if tampered:
        reader.add_error(
            "",
            _(
                "Форма надіслала питання, якого в ній немає: щонайбільше {most} питань. Нічого не збережено.",
                most=MAX_QUESTIONS,
            ),
        )
    questions: list[dict[str, Any]] = []
    blocks: list[int] = []
    for block in sorted(used):
        if _block_is_empty(form, block):
            continue
        kind = form.get(block_field(block, "kind"), "")
        question: dict[str, Any] = {"text": form.get(block_field(block, "text"), ""), "kind": kind}
        for limit, kinds in (("max_choices", ("up_to", "rank")), ("max_points", ("points",))):
            # A limit typed for a kind that has none is not part of the question.
            if kind in KINDS and kind not in kinds:
                continue
            value = reader.integer(block_field(block, limit), required=False)
            if value is not None:
                question[limit] = value
        question["options"] = option_lines(form.get(block_field(block, "options"), ""))
        questions.append(question)
        blocks.append(block)
    spec["questions"] = questions
    return PollForm(spec, blocks, reader.errors, shown_blocks(form, used))


def place_problems(form: PollForm, problems: list[SpecProblem], locale: str) -> None:
    """Each spec problem beside its field in `form.errors`; a field the form has
    already refused keeps the form's message alone (the spec's would repeat it in JSON
    words); what has no field goes to the top ("")."""
    already = set(form.errors)
    beside: dict[str, list[str]] = {}
    for problem in problems:
        name, prefix = _field_of(problem.where, form.blocks)
        text = problem.what.render(locale)
        if name == "":
            form.errors.setdefault("", []).append(f"{problem.where}: {text}" if problem.where else text)
        elif name not in already:
            beside.setdefault(name, []).append(f"{prefix}{text}")
    for name, texts in beside.items():  # the spec's fragments, one sentence per field
        form.errors[name] = ["; ".join(texts) + "."]


def _field_of(where: str, blocks: list[int]) -> tuple[str, str]:
    """(form field, message prefix) of a spec problem's place."""
    if where in _TOP_FIELDS:
        return _TOP_FIELDS[where], ""
    match = _SPEC_WHERE.fullmatch(where)
    if match is None or int(match.group(1)) >= len(blocks):
        return "", ""
    block = blocks[int(match.group(1))]
    name, option = match.group(2), match.group(3)
    if name is None or name not in QUESTION_FIELDS:
        return block_field(block, "text"), ""
    if option is not None:
        return block_field(block, name), _("Варіант {n}: ", n=int(option) + 1)
    return block_field(block, name), ""
