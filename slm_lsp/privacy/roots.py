"""Workspace roots, and which root a path is judged under.

A root is kept both as given and as its real path, so ``/home/u/ws/x`` and
``/data/ws/x`` (when ``ws`` is a symlink to ``/data/ws``) are recognised alike. Paths are
compared component by component, never by string prefix (``/ws-evil`` is not in ``/ws``).

A path outside every root — or any path when no roots are configured (the CLI on one
file) — is judged under an *implied* root: its git work tree if it is in one, else its
directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from slm_lsp.privacy.gitrepo import find_top
from slm_lsp.privacy.uris import normalise


@dataclass(frozen=True)
class Root:
    given: Path  # absolute, normalised, as configured
    real: Path  # symlinks resolved
    configured: bool = True  # False for an implied root

    @classmethod
    def of(cls, path: str | os.PathLike[str], *, configured: bool = True) -> Root:
        given = Path(normalise(os.fspath(path)))
        return cls(given, Path(os.path.realpath(given)), configured)

    def relative(self, path: Path) -> tuple[str, ...] | None:
        """``path``'s components under this root (as given or real), or None if outside."""
        for base in (self.given, self.real):
            if path == base:
                return ()
            if path.is_relative_to(base):
                return path.relative_to(base).parts
        return None


def choose(path: Path, roots: tuple[Root, ...]) -> tuple[Root, tuple[str, ...]]:
    """The deepest configured root holding ``path``, else the implied root."""
    best: tuple[Root, tuple[str, ...]] | None = None
    for root in roots:
        parts = root.relative(path)
        if parts is not None and (best is None or len(parts) < len(best[1])):
            best = (root, parts)
    if best is not None:
        return best
    implied = implied_root(path)
    parts = implied.relative(path)
    assert parts is not None
    return implied, parts


def implied_root(path: Path) -> Root:
    directory = path.parent
    top = find_top(directory)
    return Root.of(top if top is not None else directory, configured=False)


def inside_any(real: Path, roots: tuple[Root, ...]) -> bool:
    return any(real == root.real or real.is_relative_to(root.real) for root in roots)
