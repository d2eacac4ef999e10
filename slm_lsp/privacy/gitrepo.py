"""Finding the git repository a path belongs to, and where its ``info/exclude`` lives.

Done by looking at the file system rather than by running git: it is called for every
directory level of every decision. ``.git`` may be a directory or a "gitfile"
(``gitdir: ...``, used by submodules and worktrees); a worktree's shared files are in the
directory named by its ``commondir`` file.
"""

from __future__ import annotations

import os
from pathlib import Path

_GITFILE_CAP = 4096


def has_git(directory: str | Path) -> bool:
    """Whether ``directory`` is the top of a work tree (it holds ``.git``)."""
    return os.path.lexists(os.path.join(directory, ".git"))


def find_top(start: Path) -> Path | None:
    """The innermost work tree holding ``start`` (a directory), or None."""
    current = os.fspath(start)
    while True:
        if has_git(current):
            return Path(current)
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def git_dir(top: Path) -> Path | None:
    """The repository directory of the work tree at ``top`` (None if unreadable)."""
    dot_git = top / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        with open(dot_git, "rb") as handle:
            content = handle.read(_GITFILE_CAP).decode("utf-8", "replace")
    except OSError:
        return None
    if not content.startswith("gitdir:"):
        return None
    target = Path(content[len("gitdir:") :].strip())
    return target if target.is_absolute() else (top / target)


def common_dir(repo: Path) -> Path:
    """Where the files shared by all worktrees (``info/exclude``) are."""
    try:
        with open(repo / "commondir", "rb") as handle:
            content = handle.read(_GITFILE_CAP).decode("utf-8", "replace").strip()
    except OSError:
        return repo
    target = Path(content)
    return target if target.is_absolute() else (repo / target)


def info_exclude(top: Path) -> Path | None:
    repo = git_dir(top)
    return None if repo is None else common_dir(repo) / "info" / "exclude"
