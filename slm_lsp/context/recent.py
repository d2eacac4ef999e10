"""Recently edited and viewed code from other documents, as a small ring of chunks.

What the user just changed in another file (a function they added, a field they renamed) is
often exactly what the next completion needs, and no import resolution finds it when the
import is not written yet. Each edit or completion request records the lines around it; a
later record overlapping the same region of the same document replaces the earlier one, and
the ring keeps only the newest ``capacity`` chunks. At request time chunks from the current
document are left out (the prefix and suffix show it) and so are chunks whose tokens mostly
repeat the cursor area (Jaccard similarity above a threshold).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Chunk:
    """Lines of one document around an edit or a completion request."""

    uri: str
    source: str  # workspace-relative path shown to the model
    first_line: int
    last_line: int
    text: str
    words: frozenset[str]  # its identifiers, for similarity checks


class RecentChunks:
    """A thread-safe ring buffer of chunks, newest last, at most one per region of a document."""

    def __init__(self, capacity: int, *, context_lines: int = 6, max_lines: int = 24) -> None:
        self.capacity = capacity
        self.context_lines = context_lines
        self.max_lines = max_lines
        self._chunks: deque[Chunk] = deque()
        self._lock = threading.Lock()

    def record(self, uri: str, source: str, text: str, start: int, end: int) -> None:
        """Remember the lines around ``text[start:end]`` (the changed or viewed span)."""
        if self.capacity <= 0:
            return
        chunk = self._chunk(uri, source, text, start, end)
        if not chunk.text.strip():
            return
        with self._lock:
            kept = [c for c in self._chunks if not _same_region(c, chunk, self.context_lines)]
            kept.append(chunk)
            self._chunks = deque(kept[-self.capacity:])

    def forget(self, uri: str) -> None:
        """Drop every chunk of a document (deleted, or newly excluded by the privacy rules)."""
        with self._lock:
            self._chunks = deque(c for c in self._chunks if c.uri != uri)

    def has_other(self, uri: str | None) -> bool:
        """Whether any chunk comes from a document other than ``uri``."""
        with self._lock:
            return any(c.uri != uri for c in self._chunks)

    def candidates(self, current_uri: str | None, cursor_area: str, threshold: float) -> list[Chunk]:
        """Chunks of other documents, oldest first, without those too similar to ``cursor_area``."""
        with self._lock:
            chunks = list(self._chunks)
        area = identifiers(cursor_area)
        chosen: list[Chunk] = []
        seen: list[frozenset[str]] = []
        for chunk in reversed(chunks):
            if chunk.uri == current_uri:
                continue
            if jaccard(chunk.words, area) > threshold or any(jaccard(chunk.words, other) > threshold for other in seen):
                continue
            chosen.append(chunk)
            seen.append(chunk.words)
        chosen.reverse()
        return chosen

    def _chunk(self, uri: str, source: str, text: str, start: int, end: int) -> Chunk:
        """Whole lines from ``context_lines`` above ``start`` to as many below ``end``, at most ``max_lines``."""
        begin = text.rfind("\n", 0, start) + 1
        for _ in range(self.context_lines):
            if begin == 0:
                break
            begin = text.rfind("\n", 0, begin - 1) + 1
        finish, taken, after = begin, 0, -1
        while finish < len(text) and taken < self.max_lines and after < self.context_lines:
            newline = text.find("\n", finish)
            finish = len(text) if newline < 0 else newline + 1
            taken += 1
            if finish > end:
                after += 1
        first_line = text.count("\n", 0, begin)
        chunk = text[begin:finish]
        return Chunk(uri, source, first_line, first_line + max(taken - 1, 0), chunk, frozenset(identifiers(chunk)))


def _same_region(a: Chunk, b: Chunk, margin: int) -> bool:
    return a.uri == b.uri and a.first_line <= b.last_line + margin and b.first_line <= a.last_line + margin


def identifiers(text: str) -> set[str]:
    """The set of identifier tokens in ``text`` (what similarity is measured on)."""
    return set(_IDENTIFIER.findall(text))


def jaccard(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
