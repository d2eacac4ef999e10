"""How sure the model was of the suggestion post-processing kept: the probability of its least likely token.

A suggestion the model itself doubts is usually wrong, and a wrong suggestion shown costs the
user more than a right one hidden. Measured on HumanEval single-line (README "Quality"), the
probability of the least likely token separates right from wrong far better than the geometric
mean: one guessed name or operator is what makes a line wrong, and a mean dilutes it.

Only the tokens whose text survives post-processing count: a generation that runs on past the
line with a doubtful tail is judged by the line it shows, not by the tail that was cut away.
Pure logic on floats (natural-log probabilities) and offsets; nothing here calls a model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def kept_confidence(
    generated: str, kept: str, logprobs: Sequence[float], token_ends: Sequence[int], start: int = 0
) -> float | None:
    """Probability of the least likely generated token whose text is part of ``kept``.

    ``generated`` is the model's output, ``logprobs[i]`` token i's log-probability and
    ``token_ends[i]`` where its text ends in ``generated`` (token i spans
    ``token_ends[i-1]..token_ends[i]``; an end beyond ``generated`` is a token a stop
    sequence cut). ``kept`` is what post-processing made of ``generated[start:]`` — a
    substring in all but rare cases (text tidied inside), where it is aligned character by
    character instead. None when nothing is known: no logprobs (a backend that does not
    return them) or nothing kept.
    """
    if len(logprobs) != len(token_ends):
        raise ValueError("one end offset per token log-probability")
    if not logprobs or not kept:
        return None
    used = _kept_span(generated, kept, start)
    lowest: float | None = None
    token_start = 0
    for logprob, end in zip(logprobs, token_ends):
        if end > token_start and _overlaps(used, token_start, end):
            lowest = logprob if lowest is None else min(lowest, logprob)
        token_start = max(token_start, end)
    if lowest is None:  # kept text the tokens do not cover: judge the whole generation
        lowest = min(logprobs)
    return math.exp(lowest)


def _kept_span(generated: str, kept: str, start: int) -> list[tuple[int, int]]:
    """The ranges of ``generated`` that ``kept`` consists of."""
    found = generated.find(kept, start)
    if found >= 0:
        return [(found, found + len(kept))]
    ranges: list[tuple[int, int]] = []
    position = start
    for char in kept:  # a subsequence: post-processing only drops characters (CRLF, whitespace)
        position = generated.find(char, position)
        if position < 0:
            return [(start, len(generated))]  # not derived from the output as expected: count it all
        if ranges and ranges[-1][1] == position:
            ranges[-1] = (ranges[-1][0], position + 1)
        else:
            ranges.append((position, position + 1))
        position += 1
    return ranges


def _overlaps(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a < end and start < b for a, b in ranges)


def gated(confidence: float | None, threshold: float) -> bool:
    """Whether a suggestion of ``confidence`` is withheld at ``threshold`` (unknown: never)."""
    return confidence is not None and confidence < threshold
