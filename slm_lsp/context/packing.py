"""Filling the cross-file part of the budget: definitions first, then recent chunks.

Definitions are taken best-first, each as its rendered snippet or, when that does not fit, its
signature, and grouped into one piece per file (in source order, so the piece reads like an
excerpt of that file and pays the per-piece overhead once). Every piece goes through the
privacy gate's ``admit`` before it is counted for the last time: redaction may change its
length, a source excluded since it was indexed is dropped, and whatever is returned is
guaranteed to fit: the sum over pieces of ``count(text) + overhead(source)`` never exceeds the
budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slm_lsp.context.candidates import Candidate
from slm_lsp.context.index import FileRecord
from slm_lsp.context.recent import Chunk, identifiers, jaccard
from slm_lsp.context.tokens import Count
from slm_lsp.privacy import GateError, PrivacyGate, PromptPiece

MAX_TRIED = 64
SEPARATOR = "\n\n"  # between definitions from one file, as between top-level definitions in code
DEFINITION = "definition"
RECENT = "recent"


@dataclass
class _Group:
    """The definitions chosen from one file."""

    source: str
    path: Path
    score: float
    parts: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, text)

    def overlaps(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e, _ in self.parts)

    def text(self) -> str:
        return SEPARATOR.join(text.rstrip("\n") for _, _, text in sorted(self.parts)) + "\n"


@dataclass(frozen=True)
class Packed:
    pieces: list[PromptPiece]
    tokens: int  # including the per-piece overhead
    dropped_sources: list[Path]  # files the gate refused (now excluded)


def pack_definitions(candidates: Sequence[Candidate], count: Count, budget: int, overhead: Callable[[str], int],
                     gate: PrivacyGate, exists: Callable[[FileRecord], bool]) -> Packed:
    """The best definitions that fit ``budget`` tokens, one admitted piece per file, best file first.

    ``exists`` is asked once per file before its first definition is taken.
    """
    groups: dict[Path, _Group] = {}
    checked: dict[Path, bool] = {}
    used = 0
    for candidate in candidates[:MAX_TRIED]:
        record, symbol = candidate.record, candidate.symbol
        group = groups.get(record.path)
        if group is not None and group.overlaps(symbol.start, symbol.end):
            continue
        if group is None:
            alive = checked.get(record.path)
            if alive is None:
                alive = checked[record.path] = exists(record)
            if not alive:
                continue
        extra = overhead(record.rel) if group is None else count(SEPARATOR)
        for text in dict.fromkeys((symbol.snippet, symbol.signature)):
            cost = count(text) + extra
            if used + cost <= budget:
                if group is None:
                    group = groups[record.path] = _Group(record.rel, record.path, candidate.score)
                group.parts.append((symbol.start, symbol.end, text))
                used += cost
                break
    return _admit_all(sorted(groups.values(), key=lambda g: -g.score), count, budget, overhead, gate)


def _admit_all(groups: list[_Group], count: Count, budget: int, overhead: Callable[[str], int],
               gate: PrivacyGate) -> Packed:
    """Admit each group's piece; drop lowest-ranked parts until the exact total fits."""
    dropped: list[Path] = []
    while True:
        pieces: list[PromptPiece] = []
        total = 0
        for group in list(groups):
            try:
                piece = gate.admit(PromptPiece(text=group.text(), source=group.source, kind=DEFINITION))
            except GateError:
                groups.remove(group)
                dropped.append(group.path)
                continue
            pieces.append(piece)
            total += count(piece.text) + overhead(group.source)
        if total <= budget:
            return Packed(pieces, total, dropped)
        last = groups[-1]
        last.parts.pop()
        if not last.parts:
            groups.pop()


def pack_recent(chunks: Sequence[Chunk], count: Count, budget: int, overhead: Callable[[str], int],
                gate: PrivacyGate, already: Sequence[str], threshold: float) -> Packed:
    """Recent chunks (newest preferred, returned oldest first) that fit and add something new."""
    shown: list[set[str] | frozenset[str]] = [identifiers(text) for text in already]
    chosen: list[PromptPiece] = []
    used = 0
    for chunk in reversed(chunks):
        if any(jaccard(chunk.words, other) > threshold for other in shown):
            continue
        if used + count(chunk.text) + overhead(chunk.source) > budget:
            continue  # (checked before admitting: the gate's work is not free)
        try:
            piece = gate.admit(PromptPiece(text=chunk.text, source=chunk.source, kind=RECENT))
        except GateError:
            continue
        cost = count(piece.text) + overhead(chunk.source)
        if used + cost > budget:
            continue
        chosen.append(piece)
        shown.append(chunk.words)
        used += cost
    chosen.reverse()
    return Packed(chosen, used, [])
