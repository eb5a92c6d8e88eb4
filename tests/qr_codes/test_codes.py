"""The voting code: what a student types or scans, and how mistakes are caught."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qr_codes.codes import (
    ALPHABET,
    MESSAGES,
    CodeError,
    code_url,
    format_code,
    new_code,
    normalise,
    verifier,
)

from .conftest import complete

# A code holding every Latin letter that has a Cyrillic look-alike
LOOKALIKE_BODY = "ABCEHKMPTXY23456789"
LOOKALIKE_CODE = complete(LOOKALIKE_BODY)
SAMPLE_BODIES = ["7KQM2X9RTB4HZP3W8CX", "2222222222222222222", "ZZZZZZZZZZZZZZZZZZZ", LOOKALIKE_BODY]
SAMPLE_CODES = [c for c in map(complete, SAMPLE_BODIES) if c]
ERROR_CODES = {"code.empty", "code.too_long", "code.wrong_length", "code.bad_symbol", "code.check_failed"}


def error_of(text: str) -> CodeError:
    with pytest.raises(CodeError) as caught:
        normalise(text)
    return caught.value


def test_the_alphabet_has_none_of_the_worst_look_alikes():
    assert len(ALPHABET) == len(set(ALPHABET)) == 30
    assert not set("01OILU") & set(ALPHABET)


# Pairs still in the alphabet (the module's text says why they stay)
LOOKALIKE_PAIRS = ["5S", "8B", "2Z", "6G", "DQ"]


@pytest.mark.parametrize("pair", LOOKALIKE_PAIRS)
def test_a_look_alike_misread_anywhere_is_caught_not_corrected(pair):
    first, second = pair
    assert first in ALPHABET and second in ALPHABET  # both real symbols: neither is "corrected"
    compact = complete("5S8B2Z6GDQ7KM3X9RTA")  # every symbol of every pair, then others
    assert compact is not None
    misreads = 0
    for position, symbol in enumerate(compact):
        if symbol in pair:
            other = second if symbol == first else first
            misreads += 1
            assert error_of(compact[:position] + other + compact[position + 1 :]).code == "code.check_failed"
    assert misreads >= 2


def test_a_twin_error_at_positions_15_and_16_passes_the_check_as_documented():
    body = "7KQM2X9RTB4HZP" + "99" + "W8C"  # positions 15-16 hold "99"
    compact = complete(body)
    assert compact is not None
    for twin in "2345678ABZ":
        if twin != "9":
            assert normalise(compact[:14] + twin * 2 + compact[16:])  # passes: 31 × (a − b) ≡ 0
    # the same twin error one place earlier is caught
    shifted = complete("7KQM2X9RTB4HZ" + "99" + "PW8C")
    assert shifted is not None
    assert error_of(shifted[:13] + "77" + shifted[15:]).code == "code.check_failed"


def test_the_samples_are_valid_codes():
    assert LOOKALIKE_CODE is not None
    assert len(SAMPLE_CODES) >= 3


def test_a_new_code_is_five_groups_of_four_and_passes_its_own_check():
    for _ in range(200):
        code = new_code()
        assert re.fullmatch(r"([2-9A-HJKMNP-TV-Z]{4}-){4}[2-9A-HJKMNP-TV-Z]{4}", code)
        assert format_code(normalise(code)) == code


def test_new_codes_differ_and_every_symbol_turns_up_in_every_random_place():
    codes = [normalise(new_code()) for _ in range(3000)]
    assert len(set(codes)) == len(codes)
    for position in range(19):
        assert {code[position] for code in codes} == set(ALPHABET), position


def test_typo_in_one_symbol_is_caught_before_lookup():
    for code in SAMPLE_CODES:
        for position in range(20):
            for wrong in ALPHABET.replace(code[position], ""):
                typo = code[:position] + wrong + code[position + 1 :]
                assert error_of(typo).code == "code.check_failed", (code, position, wrong)


def test_two_neighbours_swapped_are_caught():
    for code in SAMPLE_CODES:
        for position in range(19):
            a, b = code[position], code[position + 1]
            if a != b:
                swapped = code[:position] + b + a + code[position + 2 :]
                assert error_of(swapped).code == "code.check_failed", (code, position)


def test_any_two_symbols_swapped_are_caught_even_far_apart():
    for code in SAMPLE_CODES:
        for i in range(20):
            for j in range(i + 1, 20):
                if code[i] != code[j]:
                    swapped = list(code)
                    swapped[i], swapped[j] = code[j], code[i]
                    assert error_of("".join(swapped)).code == "code.check_failed"


def test_the_check_rule_catches_every_single_typo_and_swap_in_every_code():
    # The check is linear: a typo at place i changes the sum by i × (a − b), a swap of
    # places i and j by (i − j) × (a − b). Neither may be a multiple of 31, whatever
    # the rest of the code is, for every pair of distinct symbol values.
    differences = range(1, 30)
    for i in range(1, 21):
        assert all(i * d % 31 for d in differences)
        for j in range(i + 1, 21):
            assert all((i - j) * d % 31 for d in differences)


bodies = st.text(alphabet=ALPHABET, min_size=19, max_size=19)


@given(bodies, st.integers(0, 19), st.sampled_from(ALPHABET))
def test_any_typo_in_any_code_is_caught(body, position, wrong):
    code = complete(body)
    assume(code is not None and code[position] != wrong)
    assert normalise(code) == code
    typo = code[:position] + wrong + code[position + 1 :]
    assert error_of(typo).code == "code.check_failed"


@given(bodies, st.integers(0, 19), st.integers(0, 19))
def test_any_swap_in_any_code_is_caught(body, i, j):
    code = complete(body)
    assume(code is not None and code[i] != code[j])
    swapped = list(code)
    swapped[i], swapped[j] = code[j], code[i]
    assert error_of("".join(swapped)).code == "code.check_failed"


@pytest.mark.parametrize(
    "typed",
    [
        "{dashed}",
        "{compact}",
        "{dashed_lower}",
        "  {spaced}  ",
        "{underscored}",
        "{en_dashed}",
        "https://vote.example.gov.ua/s/{dashed}",
        "https://vote.example.gov.ua/s/{dashed}/",
        "https://vote.example.gov.ua/s/{dashed_lower}?utm_source=qr#top",
        "vote.example.gov.ua/s/{compact}",
        "HTTPS://VOTE.EXAMPLE.GOV.UA/S/{dashed}",
        "https://vote.example.gov.ua/uk/s/{dashed}?lang=uk",
        "\u200b{dashed}\u200b",
        "\u202e{dashed}\u202c",
        "{fullwidth}",
    ],
)
def test_a_code_is_recognised_however_it_was_typed_or_scanned(typed):
    code = SAMPLE_CODES[0]
    dashed = format_code(code)
    spellings = {
        "compact": code,
        "dashed": dashed,
        "dashed_lower": dashed.lower(),
        "spaced": dashed.replace("-", " "),
        "underscored": dashed.replace("-", "_"),
        "en_dashed": dashed.replace("-", "–"),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in code),  # a phone's full-width keyboard
    }
    assert normalise(typed.format(**spellings)) == code


def test_cyrillic_lookalikes_typed_on_a_ukrainian_keyboard_are_read_as_latin():
    latin_to_cyrillic = str.maketrans("ABCEHKMPTXY", "АВСЕНКМРТХУ")
    cyrillic = LOOKALIKE_CODE.translate(latin_to_cyrillic)
    assert cyrillic != LOOKALIKE_CODE and not set(cyrillic[:11]) & set(ALPHABET)
    assert normalise(cyrillic) == LOOKALIKE_CODE
    assert normalise(cyrillic.lower()) == LOOKALIKE_CODE
    assert normalise(format_code(cyrillic).lower()) == LOOKALIKE_CODE


@pytest.mark.parametrize("letter", ["І", "і", "Ї", "O", "0", "1", "L", "U", "Ш"])
def test_a_symbol_never_used_in_codes_is_named_in_the_message(letter):
    typed = SAMPLE_CODES[0][:10] + letter + SAMPLE_CODES[0][11:]
    error = error_of(typed)
    assert error.code == "code.bad_symbol"
    shown = letter.upper()
    assert f"«{shown}»" in error.message() and f"“{shown}”" in error.message("en")


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("", "code.empty"),
        ("   ", "code.empty"),
        (" - _ -", "code.empty"),
        ("https://vote.example.gov.ua/s/", "code.empty"),
        ("https://vote.example.gov.ua/s/?utm_source=qr", "code.empty"),
        ("https://vote.example.gov.ua/", "code.bad_symbol"),
        ("7KQM-2X9R", "code.wrong_length"),
        ("7KQM-2X9R-TB4H-ZP3W-8CXN-7", "code.wrong_length"),
        ("7" * 200, "code.wrong_length"),
        ("7" * 201, "code.too_long"),
        ("x" * 10_000_000, "code.too_long"),
        ("7KQM-2X9R-TB4H-ZP3W-8CX\x00", "code.bad_symbol"),
        ("\x00" * 20, "code.bad_symbol"),
        ("7KQM-2X9R-TB4H-ZP3W-8CX😀", "code.bad_symbol"),
        ("👩‍👩‍👧‍👦" * 5, "code.bad_symbol"),
        ("\ud800" * 20, "code.bad_symbol"),
        ("'; DROP TABLE voting_codes; --", "code.bad_symbol"),
        ("<script>alert(1)</script>", "code.bad_symbol"),
    ],
)
def test_malformed_and_hostile_input_gets_a_clear_refusal(typed, rule):
    error = error_of(typed)
    assert error.code == rule
    assert error.message() and error.message("en")


def test_a_huge_paste_is_refused_before_any_work():
    huge = "7" * 10_000_000
    started = time.perf_counter()
    for _ in range(1000):
        assert error_of(huge).code == "code.too_long"
    assert time.perf_counter() - started < 0.5  # length first: no copying or scanning of 10 MB


def test_invisible_and_control_characters_are_shown_by_number_not_printed():
    error = error_of("7KQM-2X9R-TB4H-ZP3W-8CX\x00")
    assert "U+0000" in error.message() and "\x00" not in error.message()


@given(st.text(max_size=300))
@settings(max_examples=500)
def test_any_text_is_either_a_code_or_a_code_error(text):
    try:
        compact = normalise(text)
    except CodeError as error:
        assert error.code in ERROR_CODES
        assert error.message() and error.message("en")
    else:
        assert len(compact) == 20 and set(compact) <= set(ALPHABET)


def test_not_text_is_a_programming_error():
    with pytest.raises(TypeError):
        normalise(None)
    with pytest.raises(TypeError):
        normalise(b"7KQM-2X9R-TB4H-ZP3W-8CXN")


def test_every_refusal_has_a_ukrainian_and_an_english_sentence():
    assert set(MESSAGES) == ERROR_CODES
    params = {"length": 19, "symbol": "O"}
    for rule, texts in MESSAGES.items():
        error = CodeError(rule, **{k: v for k, v in params.items() if "{" + k + "}" in texts})
        uk, en = error.message(), error.message("en")
        assert re.search("[а-яіїєґ]", uk), rule
        assert not re.search("[а-яіїєґ]", en.lower()), rule
        assert uk.endswith(".") and en.endswith(".")
        assert error.message("en-GB") == en and error.message("uk-UA") == uk
    assert error_of("7KQM").message() == (
        "Код має 20 символів, а введено 4. Перевірте, чи не пропущено або не додано символ."
    )
    code = SAMPLE_CODES[0]
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    assert error_of(typo).message() == "У коді помилка: перевірте, чи правильно переписано всі символи."


def test_the_card_url_carries_the_formatted_code():
    code = SAMPLE_CODES[0]
    expected = f"https://vote.example.gov.ua/s/{format_code(code)}"
    assert code_url("https://vote.example.gov.ua", code) == expected
    assert code_url("https://vote.example.gov.ua/", format_code(code).lower()) == expected
    assert normalise(expected) == code
    with pytest.raises(CodeError):
        code_url("https://vote.example.gov.ua", "not a code")


def test_the_server_keeps_a_verifier_not_the_code():
    key = b"k" * 32
    code = SAMPLE_CODES[0]
    value = verifier(key, code)
    assert value == hmac.new(key, code.encode(), hashlib.sha256).hexdigest()[:32]
    assert re.fullmatch(r"[0-9a-f]{32}", value)
    assert verifier(key, code) == value
    assert verifier(b"x" * 32, code) != value
    assert verifier(key, SAMPLE_CODES[1]) != value
    assert code not in value


def test_a_verifier_of_a_formatted_code_is_refused_rather_than_matching_nothing():
    with pytest.raises(ValueError, match="compact"):
        verifier(b"k" * 32, format_code(SAMPLE_CODES[0]))


def test_format_code_wants_twenty_symbols():
    with pytest.raises(ValueError, match="20 symbols"):
        format_code("7KQM")
