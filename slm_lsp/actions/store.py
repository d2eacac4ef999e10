"""Explanations as temporary markdown files, for clients that open documents (window/showDocument).

The files live in one private directory per server process (mode 0700, files 0600) and are
deleted when the server exits. A directory left behind by a server that was killed is
removed by the next server that creates its own. Only redacted model output is written;
callers never write anything for an excluded document.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "slm-lsp-actions-"


class ExplanationStore:
    """Writes explanation documents into a private temporary directory."""

    def __init__(self, base: Path | None = None) -> None:
        self._base = base
        self._directory: Path | None = None
        self._lock = threading.Lock()
        self._count = 0
        atexit.register(self.cleanup)

    @property
    def directory(self) -> Path | None:
        return self._directory

    def _ensure(self) -> Path:
        if self._directory is None:
            base = Path(self._base or tempfile.gettempdir())
            _remove_orphans(base)
            self._directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
            os.chmod(self._directory, 0o700)
        return self._directory

    def write(self, stem: str, markdown: str) -> Path:
        """Write ``markdown`` to a new file (mode 0600) and return its path."""
        with self._lock:
            directory = self._ensure()
            self._count += 1
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:60] or "explanation"
            path = directory / f"{self._count:03d}-{safe}.md"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(markdown)
            return path

    def cleanup(self) -> None:
        with self._lock:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None


def _remove_orphans(base: Path) -> None:
    """Delete directories of servers (of this user) that are no longer running."""
    try:
        entries = list(base.glob(f"{PREFIX}*"))
    except OSError:
        return
    for entry in entries:
        match = re.match(rf"{PREFIX}(\d+)-", entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except (PermissionError, OSError):
            continue
