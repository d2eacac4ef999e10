"""Which workspace definitions the current file can see, scored by relevance to the cursor.

A definition is found through the current file's imports (a named import scores highest, a
member of an imported module or an ``#include``d header less, unless the cursor is right after
``module.``), through its package (Go and Java files see their package's definitions without
importing them), or, as a last resort, because a name near the cursor is defined in one or two
workspace files only. Its score then grows with how close to the cursor its name is used. The
members of a chosen class or type (Go methods, Rust impls, out-of-line C++ methods) follow it
at a fraction of its score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from slm_lsp.context.imports import FileFacts
from slm_lsp.context.index import FileRecord, WorkspaceIndex
from slm_lsp.context.languages import family
from slm_lsp.context.relevance import CursorFocus
from slm_lsp.context.resolve import Resolver, Target
from slm_lsp.context.symbols import Symbol

NAMED = 2.0  # imported by name: ``from m import Thing``
MODULE = 0.6  # member of an imported module: ``m.Thing``
WILDCARD = 0.4  # ``from m import *``, ``#include``, Go dot import
SIBLING = 0.3  # same Go/Java package, used near the cursor
GLOBAL = 0.2  # used near the cursor, defined in only one or two workspace files
ACCESS = 2.0  # the cursor is right after ``qualifier.`` and this is a member of it
PARTIAL = 1.5  # ... and its name starts with what is typed after the dot
USE = 1.5  # per unit of proximity-weighted use near the cursor
MEMBER = 0.5  # a member of a chosen type, as a fraction of the type's score
MAX_PER_MODULE = 200
OVERVIEW = 8  # the first definitions of an imported module, offered even when unused
MAX_GLOBAL_NAMES = 24
MAX_GLOBAL_FILES = 2
_TYPE_KINDS = frozenset({"class", "type", "impl"})


@dataclass(frozen=True)
class Candidate:
    """A definition that could go into the prompt, and how much it is wanted."""

    record: FileRecord
    symbol: Symbol
    score: float


class _Scores:
    """The best score seen per definition (one symbol may be reached several ways)."""

    def __init__(self, focus: CursorFocus) -> None:
        self.focus = focus
        self.best: dict[tuple[Path, int, str], Candidate] = {}

    def offer(self, record: FileRecord, symbol: Symbol, base: float, uses: float) -> None:
        key = (record.path, symbol.start, symbol.name)
        score = base + USE * uses
        if self.focus.qualifier is not None and _last_segment(self.focus.qualifier) == symbol.name:
            score += ACCESS  # ``Thing.`` / ``Thing::``: the type being accessed
        current = self.best.get(key)
        if current is None or current.score < score:
            self.best[key] = Candidate(record, symbol, score)


def rank(resolver: Resolver, index: WorkspaceIndex, *, path: Path | None, grammar: str, facts: FileFacts,
         focus: CursorFocus, local_names: set[str]) -> list[Candidate]:
    """Candidates for the file at ``path`` (its imports ``facts``), best first."""
    scores = _Scores(focus)
    for imp in facts.imports:
        for target in resolver.resolve(imp, path, grammar):
            if target.path != path:
                _offer_target(scores, resolver, target)
    for sibling in resolver.siblings(path, grammar, facts.package):
        record = index.get(sibling)
        if record is not None:
            for symbol in _top_level(record.symbols):
                if focus.weight(symbol.name) > 0:
                    scores.offer(record, symbol, SIBLING, focus.weight(symbol.name))
    _offer_global(scores, index, path, grammar, focus, local_names)
    _offer_members(scores)
    return sorted(scores.best.values(), key=lambda c: (-c.score, c.record.rel, c.symbol.start))


def _offer_target(scores: _Scores, resolver: Resolver, target: Target) -> None:
    focus = scores.focus
    if target.names:
        for original, local in target.names:
            accessed = ACCESS if focus.qualifier == local else 0.0
            for record, symbol in resolver.definitions(target.path, original):
                scores.offer(record, symbol, NAMED + accessed, focus.weight(local))
        return
    accessed = target.qualifier is not None and focus.qualifier == target.qualifier
    base = (WILDCARD if target.wildcard else MODULE) + (ACCESS if accessed else 0.0)
    for position, (record, symbol) in enumerate(resolver.exports(target.path)[:MAX_PER_MODULE]):
        uses = focus.weight(symbol.name)
        if not (uses or accessed or position < OVERVIEW):
            continue  # an unused member of a module that is not being accessed: not worth a slot
        bonus = PARTIAL if accessed and focus.partial and symbol.name.startswith(focus.partial) else 0.0
        scores.offer(record, symbol, base + bonus, uses)


def _offer_global(scores: _Scores, index: WorkspaceIndex, path: Path | None, grammar: str, focus: CursorFocus,
                  local_names: set[str]) -> None:
    """Names used near the cursor that only one or two workspace files define."""
    names = sorted((n for n in focus.weights if len(n) >= 3 and n not in local_names),
                   key=lambda n: -focus.weights[n])[:MAX_GLOBAL_NAMES]
    for name in names:
        files = [p for p in index.files_defining(name) if p != path]
        if not files or len(files) > MAX_GLOBAL_FILES:
            continue
        for file in files:
            record = index.get(file)
            if record is None or family(record.grammar) != family(grammar):
                continue
            for symbol in _top_level(record.symbols):
                if symbol.name == name:
                    scores.offer(record, symbol, GLOBAL, focus.weight(name))


def _offer_members(scores: _Scores) -> None:
    """Members defined apart from their type (Go methods, Rust impls) follow the type."""
    types: dict[Path, list[Candidate]] = {}
    for candidate in scores.best.values():
        if candidate.symbol.kind in _TYPE_KINDS:
            types.setdefault(candidate.record.path, []).append(candidate)
    for owners in types.values():
        by_name = {c.symbol.name: c for c in sorted(owners, key=lambda c: c.score)}  # best score wins
        record = owners[0].record
        for member in record.symbols:
            owner = by_name.get(member.container) if member.container is not None else None
            if owner is not None and not (owner.symbol.start <= member.start < owner.symbol.end):
                scores.offer(record, member, MEMBER * owner.score, scores.focus.weight(member.name))


def _last_segment(qualifier: str) -> str:
    """``Item`` for ``models.Item``, ``crate::models::Item`` or ``Item``."""
    return qualifier.rsplit("::", 1)[-1].rsplit(".", 1)[-1]


def _top_level(symbols: Iterable[Symbol]) -> list[Symbol]:
    return [s for s in symbols if s.container is None]
