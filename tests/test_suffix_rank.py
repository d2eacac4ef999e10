"""Suffix ranking and confidence (slm_lsp.prompt.suffix_rank), the gating curve (slm_lsp.evaluation.gating): pure logic."""

from __future__ import annotations

import math

import pytest

from slm_lsp.evaluation.gating import gating_curve
from slm_lsp.prompt.suffix_rank import (
    Candidate,
    Rule,
    choice_logprob,
    confidence,
    dedupe,
    mean,
    min_token_probability,
    score,
    select,
    suffix_extract,
)

LOG_HALF = math.log(0.5)


@pytest.mark.parametrize(
    ("candidate", "rule", "n", "expected"),
    [
        # suffix: mean of the first n suffix log-probs only
        (Candidate("a", (-1.0,), (-2.0, -4.0, -100.0)), Rule.SUFFIX, 2, -3.0),
        (Candidate("a", (-1.0,), (-2.0,)), Rule.SUFFIX, 8, -2.0),  # fewer suffix tokens than n
        # joint: mean over own tokens and the suffix head together
        (Candidate("a", (-1.0, -3.0), (-2.0, -6.0)), Rule.JOINT, 2, -3.0),
        (Candidate("", (), (-2.0, -4.0)), Rule.JOINT, 2, -3.0),  # empty candidate: suffix alone
        # sum: the unnormalised joint log-likelihood
        (Candidate("a", (-1.0, -3.0), (-2.0, -6.0, -9.0)), Rule.SUM, 2, -12.0),
        # nothing scored after the candidate: never preferred
        (Candidate("a", (-1.0,), ()), Rule.SUFFIX, 4, -math.inf),
        (Candidate("a", (-1.0,), ()), Rule.SUM, 4, -math.inf),
    ],
)
def test_score(candidate: Candidate, rule: Rule, n: int, expected: float) -> None:
    assert score(candidate, rule, n) == pytest.approx(expected)


def test_score_needs_a_suffix_token() -> None:
    with pytest.raises(ValueError):
        score(Candidate("a", (), (-1.0,)), Rule.SUFFIX, 0)


def _c(text: str, own: tuple[float, ...], suffix: tuple[float, ...]) -> Candidate:
    return Candidate(text, own, suffix)


@pytest.mark.parametrize(
    ("candidates", "rule", "n", "gain", "expected"),
    [
        # the alternative leads into the suffix better: it wins
        ([_c("g", (-0.1,), (-5.0,)), _c("x", (-2.0,), (-1.0,))], Rule.SUFFIX, 1, 0.0, 1),
        # the same, but the gain it needs is larger than its lead: greedy stays
        ([_c("g", (-0.1,), (-5.0,)), _c("x", (-2.0,), (-1.0,))], Rule.SUFFIX, 1, 4.5, 0),
        # a tie keeps the greedy candidate (index 0)
        ([_c("g", (), (-1.0,)), _c("x", (), (-1.0,))], Rule.SUFFIX, 1, 0.0, 0),
        # a tie between alternatives that beat greedy keeps the earlier one
        ([_c("g", (), (-3.0,)), _c("x", (), (-1.0,)), _c("y", (), (-1.0,))], Rule.SUFFIX, 1, 0.0, 1),
        # joint: the alternative's own tokens are too unlikely to make up for its suffix
        ([_c("g", (-0.1, -0.1), (-2.0,)), _c("x", (-6.0, -6.0), (-1.0,))], Rule.JOINT, 1, 0.0, 0),
        # n limits which suffix tokens count: the far one decides only with n=2
        ([_c("g", (), (-1.0, -9.0)), _c("x", (), (-1.5, -1.0))], Rule.SUFFIX, 1, 0.0, 0),
        ([_c("g", (), (-1.0, -9.0)), _c("x", (), (-1.5, -1.0))], Rule.SUFFIX, 2, 0.0, 1),
        # sum penalises a long alternative that the mean would forgive
        ([_c("g", (-0.5,), (-1.0,)), _c("x", (-0.4,) * 5, (-1.0,))], Rule.SUM, 1, 0.0, 0),
        ([_c("g", (-0.5,), (-1.0,)), _c("x", (-0.4,) * 5, (-1.0,))], Rule.JOINT, 1, 0.0, 1),
        # only the greedy candidate
        ([_c("g", (-1.0,), ())], Rule.SUFFIX, 4, 0.0, 0),
    ],
)
def test_select(candidates: list[Candidate], rule: Rule, n: int, gain: float, expected: int) -> None:
    assert select(candidates, rule, n, gain) == expected


def test_select_needs_candidates() -> None:
    with pytest.raises(ValueError):
        select([], Rule.SUFFIX, 4)


@pytest.mark.parametrize(
    ("sums", "chosen", "expected"),
    [
        ((-5.0, -5.0), 1, 0.5),  # a tie: either could be right
        ((-6.0, -4.0, -9.0), 1, 1 / (1 + math.exp(-2.0))),  # against the next best only
        ((-4.0, -6.0), 0, 1 / (1 + math.exp(-2.0))),  # the greedy line winning reads the same
        ((-1000.0, -1.0), 0, math.exp(-999.0)),  # far behind: no overflow
        ((-3.0,), 0, 1.0),  # nothing to choose between
    ],
)
def test_choice_logprob_is_the_two_way_posterior_of_the_scores(sums: tuple[float, ...], chosen: int, expected: float) -> None:
    candidates = [Candidate(str(i), (total,), (0.0,)) for i, total in enumerate(sums)]  # SUM score = total
    assert math.exp(choice_logprob(candidates, chosen, Rule.SUM, 1)) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_choice_logprob_of_unscored_candidates() -> None:
    scored, unscored = Candidate("a", (-1.0,), (-1.0,)), Candidate("b", (-1.0,), ())
    assert choice_logprob([scored, unscored], 0, Rule.SUM, 4) == 0.0  # the rival never counts
    assert choice_logprob([unscored, scored], 0, Rule.SUM, 4) == -math.inf
    assert choice_logprob([unscored, unscored], 1, Rule.SUM, 4) == LOG_HALF  # nothing known either way


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["a", "b", "a"], [0, 1]),
        (["a", "a  ", "b"], [0, 2]),  # trailing whitespace does not make a new line
        (["", "", "x"], [0, 2]),
        ([" a", "a"], [0, 1]),  # leading whitespace does (indentation matters)
    ],
)
def test_dedupe(texts: list[str], expected: list[int]) -> None:
    assert dedupe([Candidate(t) for t in texts]) == expected


@pytest.mark.parametrize(
    ("own", "geo", "lowest"),
    [
        ((LOG_HALF, LOG_HALF), 0.5, 0.5),
        ((0.0, math.log(0.25)), 0.5, 0.25),
        ((0.0,), 1.0, 1.0),
        ((), 0.0, 0.0),  # nothing to show, nothing to trust
    ],
)
def test_confidence(own: tuple[float, ...], geo: float, lowest: float) -> None:
    candidate = Candidate("x", own)
    assert confidence(candidate) == pytest.approx(geo)
    assert min_token_probability(candidate) == pytest.approx(lowest)


def test_mean_of_nothing_is_minus_infinity() -> None:
    assert mean([]) == -math.inf
    assert mean([1.0, 2.0]) == 1.5


def test_gating_curve() -> None:
    scores = [0.9, 0.8, 0.4, 0.3, 0.1]
    right = [True, False, True, False, False]
    points = gating_curve(scores, right, [0.0, 0.35, 0.85, 0.95])
    assert [(p.shown, p.right_shown) for p in points] == [(5, 2), (3, 2), (1, 1), (0, 0)]
    assert [p.precision for p in points] == pytest.approx([0.4, 2 / 3, 1.0, 1.0])
    assert [p.recall for p in points] == pytest.approx([1.0, 1.0, 0.5, 0.0])


def test_gating_curve_without_right_suggestions_and_mismatched_lengths() -> None:
    (point,) = gating_curve([0.5, 0.2], [False, False], [0.3])
    assert (point.shown, point.precision, point.recall) == (1, 0.0, 1.0)
    with pytest.raises(ValueError):
        gating_curve([0.5], [True, False], [0.1])


@pytest.mark.parametrize(
    ("suffix", "kwargs", "expected"),
    [
        # the rest of the cursor line is skipped, blank lines dropped, indentation kept
        ("x)\n    return y\n\n    z = 1\n", {}, "# Code below the cursor:\n#     return y\n#     z = 1\n\n"),
        # at most max_lines lines
        ("\na\nb\nc\n", {"max_lines": 2}, "# Code below the cursor:\n# a\n# b\n\n"),
        # at most max_chars characters of code
        ("\naaaa\nbbbb\n", {"max_chars": 6}, "# Code below the cursor:\n# aaaa\n\n"),
        # another comment marker
        ("\nreturn 1;\n", {"comment": "//"}, "// Code below the cursor:\n// return 1;\n\n"),
        # nothing below the cursor, or no line comment in the language
        ("rest of line only", {}, ""),
        ("\n\n   \n", {}, ""),
        ("\nreturn 1\n", {"comment": ""}, ""),
    ],
)
def test_suffix_extract(suffix: str, kwargs: dict[str, object], expected: str) -> None:
    assert suffix_extract(suffix, **kwargs) == expected  # type: ignore[arg-type]


def test_suffix_extract_never_adds_text_beyond_the_suffix() -> None:
    suffix = "\n    token = 'abc'\n    return token\n"
    block = suffix_extract(suffix)
    body = [line.removeprefix("# ") for line in block.splitlines()[1:] if line]
    assert all(line in suffix for line in body)
