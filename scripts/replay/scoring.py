"""What a user would have got from the answers: shown, right, and characters Tab saves.

An answer counts as *shown* only if it arrived before the next key (after that the editor has
moved on) and it has text. A shown suggestion is *right* if accepting it would have been
correct: it is a prefix of what the user types next, or it equals the rest of the line (the
original line's remainder, even if the typist would have ended differently). *Tab saved*
replays a user who accepts the first right suggestion and keeps typing after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Answer:
    """One request's fate, client side. ``keys`` is how many characters were typed at it."""

    keys: int
    sent: float
    arrived: float | None = None
    text: str = ""
    cancelled: bool = False
    error: str | None = None
    next_key: float | None = None  # when the following key was pressed (None: last key)
    command: object = None  # the item's command (accept notification), if the server sent one
    request_id: int | None = None  # the JSON-RPC id, to cancel it

    @property
    def latency(self) -> float | None:
        return None if self.arrived is None else self.arrived - self.sent

    @property
    def in_time(self) -> bool:
        """Answered (not cancelled) before the next key."""
        return (self.arrived is not None and not self.cancelled and self.error is None
                and (self.next_key is None or self.arrived <= self.next_key))

    @property
    def shown(self) -> bool:
        return self.in_time and bool(self.text.strip())


def is_right(suggestion: str, typed: str, keys: int) -> bool:
    """Would accepting ``suggestion`` after ``keys`` characters of ``typed`` (the rest of the
    line) have been correct?"""
    rest = typed[keys:]
    if not suggestion.strip():
        return False
    return rest.startswith(suggestion) or suggestion.rstrip() == rest.rstrip()


def tab_saved(answers: list[Answer], typed: str) -> int:
    """Characters not typed by a user who accepts the first right shown suggestion and keeps
    typing after it (answers at positions the accept skipped over are never seen)."""
    by_keys = {a.keys: a for a in answers if a.shown}
    saved, position = 0, 0
    while position < len(typed):
        answer = by_keys.get(position)
        if answer is not None and is_right(answer.text, typed, position):
            take = accepted_length(answer.text, typed, position)
            saved += take
            position += take
            continue
        position += 1
    return saved


def accepted_length(suggestion: str, typed: str, keys: int) -> int:
    """How many characters of ``typed`` a right suggestion at ``keys`` fills in."""
    if typed[keys:].startswith(suggestion):
        return len(suggestion)
    return len(typed) - keys  # it equals the rest of the line


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def longest_stall(chain: list[tuple[bool, int | None]]) -> int | None:
    """Longest run of cancelled jobs in a row each of which left the cached prompt no longer
    than the job before it did.

    ``chain`` holds (cancelled, cached tokens after the job) in order; None when the server
    does not say (then the answer is None)."""
    if any(tokens is None for _, tokens in chain):
        return None
    longest = run = 0
    previous = -1
    for cancelled, tokens in chain:
        assert tokens is not None
        run = run + 1 if cancelled and tokens <= previous else 0
        previous = tokens
        longest = max(longest, run)
    return longest
