"""Git's exclusion algorithm for one "layer" of ignore rules.

A layer is a directory tree (``top``) with fixed pattern lists (lowest precedence first:
global excludes, then ``info/exclude``; or configured patterns) and, optionally, a
per-directory file name (``.gitignore``, ``.slmignore``) read at every level.

As git does (dir.c prep_exclude / last_matching_pattern), a path ``a/b/c`` is decided by
walking down: the directory ``a`` is tested with the patterns known at the top, ``a/b``
with those plus ``a/.gitignore``, and so on; the first ancestor directory that is
excluded excludes everything below it — a file under an excluded directory can never be
re-included, whatever ``!pattern`` says. Within the patterns that apply to one path the
last match wins, deeper files overriding shallower ones, per-directory files overriding
``info/exclude``, which overrides the global file. A directory's own ignore file never
applies to the directory itself.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from slm_lsp.privacy.ignorefiles import IgnoreFileCache, Loaded, Unreadable
from slm_lsp.privacy.wildmatch import IgnorePattern


@dataclass(frozen=True)
class Layer:
    """Where one family of ignore rules comes from."""

    name: str  # "git", ".slmignore" or "config": shown in explanations
    top: Path
    fixed: tuple[Loaded, ...] = ()
    per_dir_file: str | None = None
    follow: bool = False  # follow a symlinked per-directory file (git does not)
    casefold: bool = False


@dataclass(frozen=True)
class Verdict:
    """The outcome of one layer for one path."""

    excluded: bool
    rule: str | None = None  # "source:line:pattern", or why we failed closed
    pattern: IgnorePattern | None = None  # the deciding pattern (may be a negation)
    via: str | None = None  # the ancestor directory that was excluded, if it was one


@dataclass(frozen=True)
class _DirState:
    """What applies to entries directly inside one directory of a layer."""

    stack: tuple[IgnorePattern, ...]  # patterns in precedence order (last match wins)
    blocked: Verdict | None  # set when the directory or one of its ancestors is excluded


class DirMemo:
    """Per-directory states shared between decisions, valid for ``ttl`` seconds.

    The decisions built on them are cached for the same time, so a stale state is never
    older than a stale decision; ``clear`` drops everything at once.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._states: dict[tuple[object, ...], tuple[float, tuple[Loaded, ...], _DirState]] = {}

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def get(self, key: tuple[object, ...], fixed: tuple[Loaded, ...]) -> _DirState | None:
        with self._lock:
            entry = self._states.get(key)
        if entry is None or entry[0] < time.monotonic() or len(entry[1]) != len(fixed):
            return None
        if any(a is not b for a, b in zip(entry[1], fixed)):
            return None
        return entry[2]

    def put(self, key: tuple[object, ...], fixed: tuple[Loaded, ...], state: _DirState) -> None:
        with self._lock:
            if len(self._states) > 200_000:
                self._states.clear()
            self._states[key] = (time.monotonic() + self.ttl, fixed, state)


def evaluate(
    layer: Layer, parts: Sequence[bytes], final_is_dir: bool, cache: IgnoreFileCache, memo: DirMemo | None = None
) -> Verdict:
    """Decide ``top/parts...`` in ``layer`` exactly as ``git check-ignore`` would."""
    if not parts:
        for loaded in layer.fixed:
            if isinstance(loaded, Unreadable):
                return _unreadable(loaded)
        return Verdict(False)
    state = _state(layer, parts, len(parts) - 1, cache, memo)
    if state.blocked is not None:
        return state.blocked
    match = last_match(state.stack, b"/".join(parts), parts[-1], final_is_dir)
    if match is None:
        return Verdict(False)
    return Verdict(not match.negated, match.describe(), match)


def _state(layer: Layer, parts: Sequence[bytes], depth: int, cache: IgnoreFileCache, memo: DirMemo | None) -> _DirState:
    """The state of directory ``parts[:depth]``, built from the deepest memoized ancestor."""
    top = os.fspath(layer.top)
    prefix = (layer.name, top, layer.per_dir_file, layer.follow, layer.casefold)
    known: _DirState | None = None
    start = depth
    if memo is not None:
        while start >= 0:
            known = memo.get((*prefix, b"/".join(parts[:start])), layer.fixed)
            if known is not None:
                break
            start -= 1
    if known is None:
        start = 0
        stack: list[IgnorePattern] = []
        for loaded in layer.fixed:
            if isinstance(loaded, Unreadable):
                return _DirState((), _unreadable(loaded))
            stack.extend(loaded)
        known = _with_file(layer, top, b"", tuple(stack), cache)
        if memo is not None:
            memo.put((*prefix, b""), layer.fixed, known)
    for k in range(start, depth):
        if known.blocked is None:
            rel = b"/".join(parts[: k + 1])
            match = last_match(known.stack, rel, parts[k], True)
            if match is not None and not match.negated:
                known = _DirState((), Verdict(True, match.describe(), match, via=os.fsdecode(rel) + "/"))
            else:
                known = _with_file(layer, top, rel, known.stack, cache)
        if memo is not None:
            memo.put((*prefix, b"/".join(parts[: k + 1])), layer.fixed, known)
    return known


def _with_file(layer: Layer, top: str, rel: bytes, stack: tuple[IgnorePattern, ...], cache: IgnoreFileCache) -> _DirState:
    if layer.per_dir_file is None:
        return _DirState(stack, None)
    directory = top if not rel else f"{top}/{os.fsdecode(rel)}"
    loaded = cache.load(f"{directory}/{layer.per_dir_file}", base=rel, follow=layer.follow, casefold=layer.casefold)
    if isinstance(loaded, Unreadable):
        return _DirState((), _unreadable(loaded))
    return _DirState(stack + loaded if loaded else stack, None)


def last_match(patterns: Sequence[IgnorePattern], rel: bytes, basename: bytes, is_dir: bool) -> IgnorePattern | None:
    """The last pattern matching ``rel`` (git's last_matching_pattern_from_list)."""
    for pattern in reversed(patterns):
        if pattern.matches(rel, basename, is_dir):
            return pattern
    return None


def _unreadable(loaded: Unreadable) -> Verdict:
    return Verdict(True, f"unreadable ignore file {loaded.path} ({loaded.reason}): failing closed")
