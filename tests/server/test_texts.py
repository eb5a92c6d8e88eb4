"""A refusal is decided before anyone knows who reads it: its `Text` renders in the
reader's language, with the right Ukrainian form of a count, and nested texts follow."""

from __future__ import annotations

import pytest

from server.services.users import UserError
from server.services.validation import Refused, check_range, clean_text
from server.texts import Text, _l, _nl
from voting import Problem


def test_a_text_reads_in_either_language_with_its_parameters():
    text = _l("Має бути число від {minimum} до {maximum}.", minimum=1, maximum=5)
    assert text.render("uk") == "Має бути число від 1 до 5."
    assert text.render("en") == "Must be a number from 1 to 5."
    assert str(text) == "Має бути число від 1 до 5."  # outside a request: Ukrainian


@pytest.mark.parametrize(
    ("n", "uk", "en"),
    [
        (1, "Не більше 1 символу.", "At most 1 character."),
        (2, "Не більше 2 символів.", "At most 2 characters."),
        (21, "Не більше 21 символу.", "At most 21 characters."),
        (200, "Не більше 200 символів.", "At most 200 characters."),
    ],
)
def test_a_counted_refusal_reads_right_for_every_count(n, uk, en):
    with pytest.raises(Refused) as refused:
        clean_text("я" * (n + 1), field="title", max_length=n)
    assert (refused.value.message_uk, refused.value.message_en) == (uk, en)
    assert str(refused.value) == uk
    assert refused.value.field == "title"


def test_a_text_inside_a_text_is_read_in_the_same_language():
    inner = _l("Заповніть це поле.")
    outer = _l("Рядок {number}: {problem}", number=3, problem=inner)
    assert outer.render("uk") == "Рядок 3: Заповніть це поле."
    assert outer.render("en") == "Line 3: Fill in this field."


def test_an_unknown_language_reads_ukrainian_and_an_unknown_text_reads_as_written():
    assert _l("Заповніть це поле.").render("de") == "Заповніть це поле."
    assert _l("Текст без перекладу {x}", x="!").render("en") == "Текст без перекладу !"
    assert _nl("Невідомий {n} рядок.", "Невідомих {n} рядків.", 5).render("en") == "Невідомих 5 рядків."


def test_refused_with_domain_problems_reads_them_in_the_readers_language():
    refused = Refused(field="voting_ends_at", problems=[Problem("rule.window_order")])
    assert refused.message_uk and refused.message_en and refused.message_uk != refused.message_en
    assert refused.problems == [Problem("rule.window_order")]


def test_other_service_errors_explain_themselves_the_same_way():
    error = UserError(_l("Такий логін уже є."))
    assert (error.message_uk, error.message_en, str(error)) == (
        "Такий логін уже є.",
        "That login is taken.",
        "Такий логін уже є.",
    )
    with pytest.raises(Refused) as refused:
        check_range(True, field="n", minimum=0, maximum=3)  # a bool is not a number here
    assert refused.value.message_en == "Must be a number from 0 to 3."


def test_a_text_is_a_value_it_cannot_be_changed_after_it_is_made():
    text = _l("Не більше {maximum}.", maximum=3)
    with pytest.raises((AttributeError, TypeError)):
        text.params["maximum"] = 4  # type: ignore[index]
    assert isinstance(text, Text)
