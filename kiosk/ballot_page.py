"""The ballot screen's cards as ballot.html shows them (issue #21: the page at most 1.5
times a bare Flask page of the same cards).

A card's heading, cost, district and description and its link to the project's detail
come from the package: they are the same for every voter who sees the project in a
language. They are rendered once (templates/_ballot_card.html) and kept, keyed by all
that they show, so a new package or a changed title simply makes new ones. What is the
voter's own (chosen or not, why it cannot be chosen, the button) is rendered every time.
The kept parts held half of a page's ~870 escaped values (bench: `python -m bench kiosk`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import current_app, request
from markupsafe import Markup

from kiosk.ballot_view import ProjectCard
from kiosk.i18n import translate

# Kept parts for a few hundred projects in two languages; past this many, the store
# starts again empty (a package with far more projects, or many packages in one run).
MAX_KEPT = 4096
_TEMPLATE = "_ballot_card.html"

_Shown = tuple[int, int | None, str, str, str | None, int]  # what a kept part shows


class CardView(NamedTuple):
    """A card of the page: the project's kept parts and the voter's state."""

    key: str  # the project id as the card's ids name it: title-, why-, details-, project-
    chosen: bool
    blocked: str | None  # why it cannot be chosen now, in the voter's language
    face: Markup  # heading, cost, district, description
    details: Markup  # the link to the project's detail screen


def _shown(card: ProjectCard) -> _Shown:
    return (card.project_id, card.number, card.title, card.description, card.district, card.cost)


def card_views(cards: list[ProjectCard], locale: str) -> list[CardView]:
    """The page's cards in `locale`, their package parts rendered once and kept."""
    # {(language, the app's root, which the detail link holds): {shown: (face, link)}}
    store: dict[tuple[str, str], dict[_Shown, tuple[Markup, Markup]]]
    store = current_app.extensions.setdefault("spilno.ballot_cards", {})
    kept = store.setdefault((locale, request.script_root), {})
    macros: Any = None  # the template's macros, looked up by name
    views = []
    for card in cards:
        shown = _shown(card)
        parts = kept.get(shown)
        if parts is None:
            if macros is None:
                macros = current_app.jinja_env.get_template(_TEMPLATE).make_module({"locale": locale})
                if sum(len(k) for k in store.values()) + len(cards) > MAX_KEPT:
                    store.clear()
                    kept = store.setdefault((locale, request.script_root), {})
            parts = kept[shown] = (macros.face(card), macros.details_link(card))
        views.append(
            CardView(
                str(card.project_id),
                card.chosen,
                translate(card.blocked, locale) if card.blocked else None,
                *parts,
            )
        )
    return views
