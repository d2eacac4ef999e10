"""Exact match and edit similarity, and the Levenshtein distance behind it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slm_lsp.evaluation.metrics import (
    edit_similarity,
    exact_match,
    levenshtein,
    normalise,
)


def reference_levenshtein(a: str, b: str) -> int:
    """The textbook dynamic programme, to check the bit-parallel version against."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab c\n(", max_size=80), st.text(alphabet="ab c\n(", max_size=80))
def test_levenshtein_matches_the_textbook_algorithm(a: str, b: str) -> None:
    assert levenshtein(a, b) == reference_levenshtein(a, b)


def test_levenshtein_on_long_texts_crosses_word_boundaries() -> None:
    a = "def f(x):\n    return x + 1\n" * 20
    b = a.replace("x + 1", "x - 1").replace("def", "async def", 3)
    assert levenshtein(a, b) == reference_levenshtein(a, b)
    assert levenshtein("kitten", "sitting") == 3


def test_edit_similarity() -> None:
    assert edit_similarity("return x", "return x") == 1.0
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("", "return x") == 0.0
    assert edit_similarity("return y", "return x") == 1 - 1 / 8
    assert edit_similarity("    return x  \n", "    return x") == 1.0  # normalised first


def test_normalisation_keeps_indentation_and_inner_spaces() -> None:
    assert normalise("\n\n    x = 1   \r\n    y = 2\t\n\n") == "    x = 1\n    y = 2"
    assert exact_match("    x = 1\n", "    x = 1")
    assert not exact_match("x = 1", "    x = 1")  # indentation is meaning in Python
    assert not exact_match("    x=1", "    x = 1")
