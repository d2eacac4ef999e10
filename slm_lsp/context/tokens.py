"""Token counting with the model's tokenizer, remembered between requests.

Real tokenizers are slow enough to matter (llama.cpp's Qwen2 tokenizer runs at roughly half a
megabyte a second from Python), and consecutive requests count mostly the same texts: the same
lines of the current file, the same definition snippets. Counts are remembered per text for as
long as the same counting function is in use; a different function (another model) starts a
fresh memo, so a count is never reused across tokenizers.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

Count = Callable[[str], int]


class TokenMemo:
    """Remembers ``count(text)`` results for the counting function last bound."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._identity: object = None
        self._counts: dict[str, int] = {}

    def bind(self, count: Count) -> Count:
        """A memoising version of ``count``; binding a different function forgets old counts."""
        identity = _identity(count)
        if identity != self._identity:
            self._identity = identity
            self._counts = {}
        counts = self._counts
        capacity = self.capacity

        def counted(text: str) -> int:
            if not text:
                return 0
            value = counts.get(text)
            if value is None:
                value = count(text)
                if len(counts) >= capacity:
                    counts.clear()
                counts[text] = value
            return value

        return counted


def _identity(count: Count) -> object:
    """Equal for the same function (bound methods are re-created on every attribute access)."""
    owner = getattr(count, "__self__", None)
    function = getattr(count, "__func__", count)
    if owner is None:
        return function
    try:
        return weakref.ref(owner), function
    except TypeError:
        return owner, function
