"""The shared loop detector: prose loops (actions) and code loops (completions), table-driven."""

from __future__ import annotations

import pytest

from slm_lsp.postprocess.repetition import (
    RepetitionGuard,
    code_loop_in_line,
    prose_loop_from,
    prose_repeats_from,
)

FIZZ = 'This function will return "Fizz", "Buzz", ' + '"Fizz", ' * 40


@pytest.mark.parametrize(("text", "kept"), [
    (FIZZ, 'This function will return "Fizz", "Buzz", "Fizz", '),
    ("It returns the the the the value.", "It returns the "),
    ("The first line returns 1.\nThe second line returns 2.\nThe third", "The first line returns 1.\n"),
    ("Adds two numbers and returns the sum.", None),
    ("Returns a, b, c or d.", None),  # units too short or without a word
    ("Это айдайдайдайдайдайд", "Это айд"),  # letters of any script
    ("x " + "✤" * 30, "x ✤"),
    ("Heading\n" + "-" * 40 + "\nText.", None),  # a ruler is not a loop
    ("Sorts the list. Sorts it again? No: returns a new list.", None),
])
def test_prose_loops_keep_the_first_copy(text: str, kept: str | None) -> None:
    cut = prose_repeats_from(text)
    assert (None if cut is None else text[:cut]) == kept


@pytest.mark.parametrize(("line", "loops"), [
    ("foo(foo(foo(foo(foo(foo(foo(foo(foo(", True),
    ("x = [0, 0, 0, 0, 0, 0]", False),  # a literal someone types
    ("-" * 60, False),  # no letter or digit in the unit
    ('"Fizz", "Fizz", "Fizz", "Fizz"', False),  # 4 copies are a loop in prose, not in code
    ("ab" * 12, True),
])
def test_code_loops_need_eight_copies(line: str, loops: bool) -> None:
    assert code_loop_in_line(line) is loops


def test_guard_trips_within_a_few_copies_while_streaming() -> None:
    guard = RepetitionGuard()
    for end in range(1, len(FIZZ) + 1):
        guard.feed(FIZZ[:end])
        if guard.tripped:
            break
    assert guard.tripped
    assert FIZZ[:end].count('"Fizz"') <= 5


def test_guard_stays_quiet_on_a_normal_answer() -> None:
    answer = ("This function returns the largest value in a list. It starts with the first value and "
              "compares each of the others with it.\n\nAn empty list raises IndexError.")
    guard = RepetitionGuard()
    for end in range(1, len(answer) + 1):
        guard.feed(answer[:end])
    assert not guard.tripped
    assert prose_loop_from(answer) is None
