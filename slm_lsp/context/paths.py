"""Document URIs, file paths and the workspace-relative names shown to the model.

The model sees ``pkg/mod.py``, never ``/home/alice/work/pkg/mod.py``: absolute paths would leak
the user's directory layout into prompts (and logs) and waste tokens. A file outside every
root is shown by its name alone.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname


@functools.lru_cache(maxsize=4096)
def path_from_uri(uri: str) -> Path | None:
    """The real absolute path of a ``file:`` URI, None for other schemes (``untitled:``...).

    Symlinks are resolved so that an editor's path and the indexer's walk name a file alike.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = url2pathname(unquote(parsed.path))
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"
    return Path(os.path.realpath(path))


def display_path(path: Path, roots: list[Path]) -> str:
    """``path`` relative to the root holding it (prefixed with the root's name when several)."""
    for root in roots:
        if path.is_relative_to(root):
            relative = path.relative_to(root).as_posix()
            return f"{root.name}/{relative}" if len(roots) > 1 else relative
    return path.name


def normalise_root(root: Path) -> Path:
    """Roots are compared with indexed paths, so both are absolute and symlink-free."""
    return Path(os.path.realpath(root))
