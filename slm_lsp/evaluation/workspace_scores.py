"""Scores of one suggestion against the text that was cut out of the file.

Exact match and edit similarity are the HumanEval harness's (``metrics``). Two more say
what a user would get: a suggestion *would be accepted* when it is a prefix of the truth
(the user takes it and types on) or when it is the truth's whole first line (one-line
suggestions for a block are the common case); *characters saved* is then how much of the
truth it typed for the user, and 0 for a suggestion that would be rejected. Trailing
whitespace is ignored throughout: editors trim it and it is no one's typing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from slm_lsp.evaluation.metrics import edit_similarity, exact_match

METRICS: tuple[str, ...] = ("exact_match", "edit_similarity", "would_accept", "chars_saved")


@dataclass(frozen=True)
class HoleScore:
    """The scores of one suggestion; ``chars_saved`` counts characters, ``truth_chars`` the whole."""

    exact_match: bool
    edit_similarity: float
    would_accept: bool
    chars_saved: int
    truth_chars: int

    def as_dict(self) -> dict[str, float | int | bool]:
        return asdict(self)


def would_accept(suggestion: str, truth: str) -> bool:
    """A non-empty suggestion that is a prefix of the truth or equals its first line."""
    shown = suggestion.rstrip()
    if not shown.strip():
        return False
    return truth.startswith(shown) or shown == truth.split("\n", 1)[0].rstrip()


def chars_saved(suggestion: str, truth: str) -> int:
    """Characters of the truth an accepted suggestion types (0 when it would be rejected)."""
    return len(suggestion.rstrip()) if would_accept(suggestion, truth) else 0


def score(suggestion: str, truth: str) -> HoleScore:
    """All scores of ``suggestion`` for a hole whose text was ``truth``."""
    return HoleScore(
        exact_match=exact_match(suggestion, truth),
        edit_similarity=edit_similarity(suggestion, truth),
        would_accept=would_accept(suggestion, truth),
        chars_saved=chars_saved(suggestion, truth),
        truth_chars=len(truth.rstrip()),
    )
