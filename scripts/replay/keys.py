"""When each key is pressed: human-like or fixed intervals, never depending on any answer.

The schedule is computed before typing starts, so a slow server cannot slow the typist down:
an editor user does not wait for suggestions. ``human`` draws 100–250 ms between keys and adds
a pause after a word ends (space, punctuation), seeded for repeatable runs; a number means a
fixed interval in milliseconds.
"""

from __future__ import annotations

import random

WORD_END = set(" \t.,:;()[]{}=")


def parse_rate(rate: str) -> str | float:
    """'human' or a fixed interval in ms (e.g. '150', '700')."""
    if rate == "human":
        return rate
    value = float(rate)
    if value <= 0:
        raise ValueError(f"key interval must be positive, got {rate!r}")
    return value


def schedule(text: str, rate: str | float, rng: random.Random,
             low_ms: float = 100.0, high_ms: float = 250.0, pause_ms: tuple[float, float] = (250.0, 600.0)) -> list[float]:
    """Seconds from the first key to each key of ``text`` (the first is at 0)."""
    times, now = [], 0.0
    for index, char in enumerate(text):
        if index:
            if rate == "human":
                gap = rng.uniform(low_ms, high_ms)
                if text[index - 1] in WORD_END and char not in WORD_END:
                    gap += rng.uniform(*pause_ms)
            else:
                gap = float(rate)
            now += gap / 1000
        times.append(now)
    return times


def prefetch_times(times: list[float], debounce_s: float = 0.3) -> list[tuple[int, float]]:
    """(keys typed so far, time) of each cursor rest: ``debounce_s`` after a key with no next key
    within it, like the editor extensions' debounced ``slm/prefetch``."""
    rests = []
    for index, at in enumerate(times):
        following = times[index + 1] if index + 1 < len(times) else None
        if following is None or following - at > debounce_s:
            rests.append((index + 1, at + debounce_s))
    return rests
