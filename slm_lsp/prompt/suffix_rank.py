"""Suffix-aware choice among candidate completions, and confidence features, for prefix-only models.

A model without FIM tokens never sees the text after the cursor, yet that text is known.
Two cheap ways to use it, both pure logic here so the engine (which computes the token
log-probabilities) and the experiments share one definition:

* **ranking** — generate a few candidates (greedy plus alternatives at a branch point) and
  prefer the one after which the model best predicts the first suffix tokens: the model
  cannot write towards the suffix, but it can tell which of its own lines leads into it;
* **extract** — put the first lines of the suffix before the prefix, as a comment block
  the model reads as ordinary context.

Two confidence features of a candidate, compared by ``scripts/experiment_infill.py``: the
geometric mean probability of its own tokens and the probability of its least likely one.
The second separated right from wrong far better, and is what the pipeline gates on
(``postprocess.confidence``, the ``minConfidence`` setting). Everything works on plain
floats (natural-log probabilities); nothing here calls a model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """How a candidate's score is formed from its log-probabilities."""

    SUFFIX = "suffix"  # mean log p of the first n suffix tokens given prefix + candidate
    JOINT = "joint"  # mean over the candidate's tokens and the first n suffix tokens
    SUM = "sum"  # log p(candidate, first n suffix tokens | prefix), not length-normalised


@dataclass(frozen=True)
class Candidate:
    """One candidate completion with the log-probabilities its score needs.

    ``token_logprobs`` are the candidate's own tokens given the prompt (the token that
    ended it excluded); ``suffix_logprobs`` the tokens of the text after the cursor
    (starting with the line break that follows the candidate) given prompt + candidate.
    """

    text: str
    token_logprobs: tuple[float, ...] = ()
    suffix_logprobs: tuple[float, ...] = ()


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean; ``-inf`` for no values (nothing was predicted, nothing is known)."""
    return sum(values) / len(values) if values else -math.inf


def score(candidate: Candidate, rule: Rule, n_suffix: int) -> float:
    """The candidate's score under ``rule`` using the first ``n_suffix`` suffix tokens; higher is better.

    Candidates of one request are scored on the same suffix tokens, so the suffix part is
    comparable across them; a candidate scored on none gets ``-inf`` (never preferred).
    """
    if n_suffix < 1:
        raise ValueError("at least one suffix token must be scored")
    head = candidate.suffix_logprobs[:n_suffix]
    if not head:
        return -math.inf
    if rule is Rule.SUFFIX:
        return mean(head)
    if rule is Rule.JOINT:
        return mean([*candidate.token_logprobs, *head])
    return sum(candidate.token_logprobs) + sum(head)


def select(candidates: Sequence[Candidate], rule: Rule, n_suffix: int, min_gain: float = 0.0) -> int:
    """Index of the candidate to show; candidate 0 is the greedy one and the default.

    Another candidate replaces it only if its score is higher by more than ``min_gain``
    (a guard against switching on noise); among those the best wins, the earliest on ties.
    An empty candidate list is an error: there is always at least the greedy output.
    """
    if not candidates:
        raise ValueError("no candidates to select from")
    scores = [score(c, rule, n_suffix) for c in candidates]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    if best != 0 and scores[best] > scores[0] + min_gain:
        return best
    return 0


def choice_logprob(candidates: Sequence[Candidate], chosen: int, rule: Rule, n_suffix: int) -> float:
    """log of the probability that ``chosen`` rather than the next best candidate is right,
    judged by their scores alone: log sigmoid(score margin), a two-way posterior.

    A chosen alternative's first token is a runner-up, unlikely by itself; the code below
    is what made it win, so this (at least log 0.5 for a winner) stands in for that token's
    log-probability in its confidence. Measured by ``scripts/experiment_infill.py`` on
    held-out HumanEval: gating right from wrong as well as plain min p does for greedy lines.
    """
    scores = [score(c, rule, n_suffix) for c in candidates]
    rivals = [s for i, s in enumerate(scores) if i != chosen]
    if not rivals:
        return 0.0  # nothing to choose between
    margin = scores[chosen] - max(rivals)  # -inf / +inf when one side was scored on nothing
    if math.isnan(margin):
        return math.log(0.5)
    return -math.log1p(math.exp(-margin)) if margin > -30 else margin  # log sigmoid; ~margin far below 0


def dedupe(candidates: Sequence[Candidate]) -> list[int]:
    """Indices of the first candidate of each distinct text (trailing whitespace ignored),
    so identical lines are scored and tested once."""
    seen: set[str] = set()
    keep: list[int] = []
    for index, candidate in enumerate(candidates):
        key = candidate.text.rstrip()
        if key not in seen:
            seen.add(key)
            keep.append(index)
    return keep


def confidence(candidate: Candidate) -> float:
    """Geometric mean probability of the candidate's own tokens, in [0, 1]; 0 for an empty one."""
    if not candidate.token_logprobs:
        return 0.0
    return math.exp(mean(candidate.token_logprobs))


def min_token_probability(candidate: Candidate) -> float:
    """Probability of the candidate's least likely token, in [0, 1]; 0 for an empty one."""
    if not candidate.token_logprobs:
        return 0.0
    return math.exp(min(candidate.token_logprobs))


def suffix_extract(suffix: str, comment: str = "#", max_lines: int = 6, max_chars: int = 400) -> str:
    """The first non-blank lines after the cursor as a comment block to put before the prefix.

    The rest of the cursor's own line is skipped (it continues the completion, not the
    code below); ``""`` when nothing is left or the language has no line comment. Lines
    keep their indentation after the marker so the block structure stays readable.
    """
    if not comment:
        return ""
    lines = suffix.split("\n")[1:]
    picked: list[str] = []
    used = 0
    for line in lines:
        line = line.rstrip()
        if not line.strip():
            continue
        if len(picked) >= max_lines or used + len(line) > max_chars:
            break
        picked.append(f"{comment} {line}")
        used += len(line)
    if not picked:
        return ""
    return f"{comment} Code below the cursor:\n" + "\n".join(picked) + "\n\n"
