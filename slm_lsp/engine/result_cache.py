"""Answers that need no model call: an exact-prompt LRU and "typed ahead" reuse.

While a suggestion is shown the user often types its first characters; re-running the
model for every one of them would waste the CPU and make the suggestion flicker. The
typed-ahead check answers with the rest of the suggestion as long as the typed text is
a prefix of it and nothing else in the document changed. The LRU catches repeated
prompts (undo, cursor moving back and forth). Both live in memory only — nothing here
is ever written to disk.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A small bounded least-recently-used map."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def prompt_key(ids: Sequence[int], max_tokens: int, stops: Sequence[str]) -> str:
    """A digest of everything that determines a greedy generation (keeps the LRU small)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(b",".join(str(i).encode() for i in ids))
    digest.update(f"|{max_tokens}|{stops!r}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ShownSuggestion:
    """The last suggestion made for a document — shown, or withheld by the confidence gate —
    with the text around the cursor then.

    ``tokens`` are its kept tokens as (log-probability, where the token's text ends in
    ``completion``), so the rest left after the user typed its start can be judged on the
    tokens not typed yet (``postprocess.confidence.rest_confidence``): typing a withheld
    suggestion's doubtful first word confirms it, and the rest may be shown without a model
    call. Empty when the backend returned no log-probabilities.
    """

    before: str
    after: str
    completion: str
    tokens: tuple[tuple[float, int], ...] = ()


@dataclass(frozen=True)
class TypedRest:
    """What the user has not typed yet of the last suggestion, and how much of it they did type."""

    text: str
    typed: int  # characters of the suggestion typed
    tokens: tuple[tuple[float, int], ...]  # the suggestion's kept tokens (ShownSuggestion.tokens)


class TypedAhead:
    """Per-document memory of the last suggestion, for answering while the user types it."""

    def __init__(self, documents: int = 64) -> None:
        self._shown: LRU[str, ShownSuggestion] = LRU(documents)

    def remember(
        self, key: str, before: str, after: str, completion: str, tokens: Sequence[tuple[float, int]] = ()
    ) -> None:
        if completion:
            self._shown.put(key, ShownSuggestion(before, after, completion, tuple(tokens)))

    def lookup(self, key: str, before: str, after: str) -> TypedRest | None:
        """The rest of the last suggestion if the user has typed a prefix of it and nothing else changed."""
        shown = self._shown.get(key)
        if shown is None or after != shown.after or not before.startswith(shown.before):
            return None
        typed = before[len(shown.before) :]
        if typed and shown.completion.startswith(typed) and len(typed) < len(shown.completion):
            return TypedRest(shown.completion[len(typed) :], len(typed), shown.tokens)
        return None
