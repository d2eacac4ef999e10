"""How sure the model was of the suggestion post-processing kept: the probability of its least likely token.

A suggestion the model itself doubts is usually wrong, and a wrong suggestion shown costs the
user more than a right one hidden. Measured on HumanEval single-line (README "Quality"), the
probability of the least likely token separates right from wrong far better than the geometric
mean: one guessed name or operator is what makes a line wrong, and a mean dilutes it.

Only the tokens whose text survives post-processing count: a generation that runs on past the
line with a doubtful tail is judged by the line it shows, not by the tail that was cut away.
Likewise, once the user has typed the first characters of a suggestion, its rest is judged by
the tokens the user has not typed yet (``kept_tokens`` / ``rest_confidence``).
Pure logic on floats (natural-log probabilities) and offsets; nothing here calls a model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

KeptToken = tuple[float, int]
"""A kept token's log-probability and where its text ends in the kept suggestion."""


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
    return rest_confidence(kept_tokens(generated, kept, logprobs, token_ends, start), 0)


def kept_tokens(
    generated: str, kept: str, logprobs: Sequence[float], token_ends: Sequence[int], start: int = 0
) -> tuple[KeptToken, ...]:
    """The tokens whose text is part of ``kept`` (arguments as for ``kept_confidence``), each
    with where it ends in ``kept``, so that any rest of the suggestion can be scored later
    (``rest_confidence``) without the generation: the typed-ahead memory keeps only this.

    A token cut by a stop or by post-processing ends where its kept part ends. When the kept
    text is not derived from the output, or no token covers it, every token counts for any
    rest (end ``len(kept)``): the whole generation judges it, as a whole suggestion would be.
    """
    if len(logprobs) != len(token_ends):
        raise ValueError("one end offset per token log-probability")
    if not logprobs or not kept:
        return ()
    used = _kept_span(generated, kept, start)
    if used is None:  # not derived from the output as expected: count it all
        used, derived = [(start, len(generated))], False
    else:
        derived = True
    tokens: list[KeptToken] = []
    token_start = 0
    for logprob, end in zip(logprobs, token_ends):
        if end > token_start and _overlaps(used, token_start, end):
            tokens.append((logprob, _kept_before(used, end) if derived else len(kept)))
        token_start = max(token_start, end)
    if not tokens:  # kept text the tokens do not cover: judge the whole generation
        return tuple((logprob, len(kept)) for logprob in logprobs)
    return tuple(tokens)


def rest_confidence(tokens: Sequence[KeptToken], typed: int) -> float | None:
    """Probability of the least likely kept token that overlaps the suggestion after its first
    ``typed`` characters (``tokens`` from ``kept_tokens``).

    The user typing a prefix of a suggestion confirms the tokens inside it, so they no longer
    count; a token the typed text ends inside of still does. Removing tokens cannot lower a
    minimum, so a rest is never less sure than the whole. None when nothing is known.
    """
    rest = [logprob for logprob, end in tokens if end > typed] or [logprob for logprob, _ in tokens]
    return math.exp(min(rest)) if rest else None


def _kept_span(generated: str, kept: str, start: int) -> list[tuple[int, int]] | None:
    """The ranges of ``generated`` that ``kept`` consists of (None: not derived from it)."""
    found = generated.find(kept, start)
    if found >= 0:
        return [(found, found + len(kept))]
    ranges: list[tuple[int, int]] = []
    position = start
    for char in kept:  # a subsequence: post-processing only drops characters (CRLF, whitespace)
        position = generated.find(char, position)
        if position < 0:
            return None
        if ranges and ranges[-1][1] == position:
            ranges[-1] = (ranges[-1][0], position + 1)
        else:
            ranges.append((position, position + 1))
        position += 1
    return ranges


def _kept_before(ranges: list[tuple[int, int]], end: int) -> int:
    """How many kept characters lie before offset ``end`` of the generation."""
    return sum(max(0, min(b, end) - a) for a, b in ranges)


def _overlaps(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a < end and start < b for a, b in ranges)


def gated(confidence: float | None, threshold: float) -> bool:
    """Whether a suggestion of ``confidence`` is withheld at ``threshold`` (unknown: never)."""
    return confidence is not None and confidence < threshold
