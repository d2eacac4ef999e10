"""Keep the prefix window's start still while the user types, so the KV cache stays valid.

The freshest window starts at the farthest statement that fits the budget; as the user
types, that start creeps forward every few keystrokes. Each move changes the prompt right
after the cross-file context, so the model re-evaluates everything from there (measured on
a 1.3B model, 2 cores: ~1,100 tokens, 25 s, against 2-4 tokens for an ordinary keystroke).

So the server remembers, per document, where the last prefix started (the anchor) and keeps
it while the prefix from there still fits the budget and still fills most of it. When it no
longer fits, the new start is chosen with ``headroom`` of the prefix budget left free, so the
next few hundred typed tokens fit without another move. Headless commands do not use this:
their output must not depend on earlier requests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from slm_lsp.context.tokens import Count
from slm_lsp.context.window import Window

EDITOR_HEADROOM = 0.25
"""Share of the prefix budget left free when the anchor moves: ~200 tokens of typing with
the default budgets before the next move, for an eighth less prefix on average."""
_HEAD_CHARS = 64  # text after the anchor that must be unchanged for the anchor to hold


@dataclass(frozen=True)
class _Anchor:
    start: int
    head: str  # text[start : start + _HEAD_CHARS] when the anchor was set


class WindowAnchors:
    """Per-document prefix starts, the ``capacity`` most recently set. Requests use it on
    the model thread; closing a document forgets its anchor from the event loop."""

    def __init__(self, headroom: float, capacity: int = 64) -> None:
        self.headroom = headroom
        self._capacity = capacity
        self._anchors: OrderedDict[str, _Anchor] = OrderedDict()
        self._lock = threading.Lock()

    def window(self, uri: str, text: str, cursor: int, fresh: Window, count: Count, prefix_budget: int,
               cut_prefix: Callable[[int], Window]) -> Window:
        """``fresh`` with its prefix starting at the remembered start while that still fits
        and fills most of the room, else at a new start found by ``cut_prefix(tokens)`` (a
        cut that gives the prefix exactly that budget). The suffix is always ``fresh``'s."""
        if fresh.start == 0:  # the whole beginning of the file fits: nothing will creep
            self._set(uri, text, 0)
            return fresh
        # The room the fresh cut found: the prefix budget plus what a short suffix left over.
        room = max(prefix_budget, fresh.prefix_tokens)
        with self._lock:
            anchor = self._anchors.get(uri)
        if anchor is not None and fresh.start <= anchor.start <= cursor \
                and text.startswith(anchor.head, anchor.start):
            prefix = text[anchor.start : cursor]
            tokens = count(prefix)
            if (1.0 - 2 * self.headroom) * room <= tokens <= room:
                return replace(fresh, start=anchor.start, prefix=prefix, prefix_tokens=tokens)
        moved = cut_prefix(int(room * (1.0 - self.headroom)))
        self._set(uri, text, moved.start)
        return replace(fresh, start=moved.start, prefix=moved.prefix, prefix_tokens=moved.prefix_tokens)

    def forget(self, uri: str) -> None:
        with self._lock:
            self._anchors.pop(uri, None)

    def _set(self, uri: str, text: str, start: int) -> None:
        with self._lock:
            self._anchors[uri] = _Anchor(start, text[start : start + _HEAD_CHARS])
            self._anchors.move_to_end(uri)
            while len(self._anchors) > self._capacity:
                self._anchors.popitem(last=False)
