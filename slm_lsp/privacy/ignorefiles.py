"""Reading and caching ignore files (.gitignore, .slmignore, info/exclude, global excludes).

Each file is parsed once and kept with its stat signature (inode, size, mtime, ctime);
every use re-stats it, so an edited file is picked up even if nobody calls
``PrivacyGate.invalidate`` (which drops everything at once).

Failure policy, chosen to fail closed where git's own choice would silently allow:
- absent, or not a regular file: no patterns (as git);
- an in-tree ``.gitignore`` that is a symlink: not read (as git since 2.32, which opens
  it with O_NOFOLLOW); other ignore files may be symlinks;
- exists but cannot be read (permissions, I/O error) or is larger than
  ``MAX_IGNORE_FILE_BYTES``: ``Unreadable`` — the caller excludes everything the file
  would govern, because we cannot know what it says. Git warns and ignores it instead.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from slm_lsp.privacy.wildmatch import IgnorePattern, parse_lines

log = logging.getLogger(__name__)

MAX_IGNORE_FILE_BYTES = 8 << 20


@dataclass(frozen=True)
class Unreadable:
    """An ignore file that exists but could not be read; ``reason`` is for explanations."""

    path: str
    reason: str


Loaded = tuple[IgnorePattern, ...] | Unreadable
_Signature = tuple[int, int, int, int, int] | None


class IgnoreFileCache:
    """Parsed ignore files keyed by path and parse options, validated by stat on each use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, bool, bytes, bool], tuple[_Signature, Loaded]] = {}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def load(self, path: str | Path, *, base: bytes, follow: bool, casefold: bool, label: str | None = None) -> Loaded:
        """The patterns of ``path`` (relative to ``base`` in its layer), possibly cached."""
        name = os.fspath(path)
        key = (name, follow, base, casefold)
        try:
            info = os.stat(name) if follow else os.lstat(name)
        except FileNotFoundError:
            signature: _Signature = None
        except NotADirectoryError:
            signature = None
        except OSError as exc:
            return Unreadable(name, f"cannot stat ({errno.errorcode.get(exc.errno or 0, 'error')})")
        else:
            if not stat.S_ISREG(info.st_mode):
                if stat.S_ISLNK(info.st_mode):
                    log.debug("ignoring symlinked ignore file %s (git does too)", name)
                signature = None
            else:
                signature = (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        loaded: Loaded = () if signature is None else self._read(name, base=base, follow=follow,
                                                                   casefold=casefold, label=label or name)
        with self._lock:
            self._entries[key] = (signature, loaded)
        return loaded

    @staticmethod
    def _read(name: str, *, base: bytes, follow: bool, casefold: bool, label: str) -> Loaded:
        flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
        if not follow:
            flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(name, flags)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return ()
            return Unreadable(name, f"cannot open ({errno.errorcode.get(exc.errno or 0, 'error')})")
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return ()
            if info.st_size > MAX_IGNORE_FILE_BYTES:
                return Unreadable(name, f"larger than {MAX_IGNORE_FILE_BYTES} bytes")
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_IGNORE_FILE_BYTES:
                    return Unreadable(name, f"larger than {MAX_IGNORE_FILE_BYTES} bytes")
                chunks.append(chunk)
        except OSError as exc:
            return Unreadable(name, f"cannot read ({errno.errorcode.get(exc.errno or 0, 'error')})")
        finally:
            os.close(fd)
        return tuple(parse_lines(b"".join(chunks), source=label, base=base, casefold=casefold))
