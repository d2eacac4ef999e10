"""The background indexer: walks the workspace once, then applies file events, off the event loop.

One daemon thread owns all disk reads for the index, and every read goes through the privacy
gate (``check_path`` first, so excluded files are not even opened, then ``read_text``, which
refuses binary, oversized and undecodable files). The walk is breadth-first so shallow project
code is indexed first, skips vendored and hidden directories and generated files, never
follows symlinks, and stops when the index is full. Events (saves, file-watcher changes) are
served between batches of the walk so an edit is reflected promptly even during the first scan.
"""

from __future__ import annotations

import logging
import os
import queue
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from slm_lsp.context.configs import CONFIG_FILES, read_config
from slm_lsp.context.filters import is_generated_name, is_generated_text, is_skipped_dir
from slm_lsp.context.imports import extract_facts
from slm_lsp.context.index import FileRecord, WorkspaceIndex
from slm_lsp.context.languages import INDEXED, grammar_for_path, needs_head
from slm_lsp.context.paths import display_path
from slm_lsp.context.symbols import extract_symbols
from slm_lsp.context.syntax import parse
from slm_lsp.privacy import PrivacyGate

log = logging.getLogger(__name__)

_BATCH = 16
_IDLE_POLL_S = 0.2


def build_record(path: Path, rel: str, text: str, grammar: str, stamp: tuple[int, int] | None) -> FileRecord | None:
    """Parse ``text`` and extract its definitions and imports (None without a grammar)."""
    parsed = parse(text, grammar)
    if parsed is None:
        return None
    return FileRecord(path, rel, grammar, tuple(extract_symbols(parsed)), extract_facts(parsed), stamp)


@dataclass
class ScanStats:
    """How the first walk went (for logs and the benchmark)."""

    seen: int = 0
    indexed: int = 0
    skipped: int = 0
    seconds: float = 0.0


class Indexer:
    """Owns the indexing thread and its queue of work."""

    def __init__(self, index: WorkspaceIndex, gate: PrivacyGate, roots: list[Path], *, max_file_bytes: int,
                 is_open: Callable[[Path], bool], on_idle: Callable[[], object]) -> None:
        self.index = index
        self.gate = gate
        self.roots = roots
        self.max_file_bytes = max_file_bytes
        self._is_open = is_open
        self._on_idle = on_idle
        self._queue: queue.Queue[tuple[str, Path | Callable[[], None]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._walks: deque[Iterator[tuple[Path, os.stat_result]]] = deque()
        self.ready = threading.Event()
        self.stats = ScanStats()

    def start(self) -> None:
        """Start the thread and queue the initial walk of every root; returns at once."""
        if self._thread is not None:
            return
        for root in self.roots:
            self._queue.put(("scan", root))
        self._thread = threading.Thread(target=self._run, name="slm-lsp-indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._queue.put(("call", lambda: None))  # wake the thread if it is waiting for work
        if self._thread is not None:
            self._thread.join(timeout)

    def refresh(self, path: Path) -> None:
        """Re-read ``path`` from disk soon (saved, created or changed on disk)."""
        self._queue.put(("file", path))

    def rescan(self, directory: Path) -> None:
        """Walk ``directory`` again (a folder appeared, or the privacy rules changed)."""
        self._queue.put(("scan", directory))

    def run_soon(self, action: Callable[[], None]) -> None:
        """Run ``action`` on the indexer thread (work too slow for the event loop)."""
        self._queue.put(("call", action))

    def wait_idle(self, timeout: float) -> bool:
        """Block until the queue is drained and the walk finished (tests and the benchmark)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.is_set() and self._queue.unfinished_tasks == 0 and not self._walks:
                return True
            time.sleep(0.01)
        return False

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        walks = self._walks
        started = time.perf_counter()
        while not self._stop.is_set():
            try:
                kind, path = self._queue.get_nowait() if walks else self._queue.get(timeout=_IDLE_POLL_S)
            except queue.Empty:
                if walks:
                    self._advance(walks)
                    if not walks and not self.ready.is_set():
                        self.stats.seconds = time.perf_counter() - started
                        log.info("indexed %d files in %.1fs", self.stats.indexed, self.stats.seconds)
                        self.ready.set()
                else:
                    self.ready.set()
                    self._guard(self._on_idle)
                continue
            try:
                if isinstance(path, Path):
                    if kind == "scan":
                        walks.append(self._walk(path))
                    else:
                        self._guard(self._index_path, path)
                else:
                    self._guard(path)
            finally:
                self._queue.task_done()

    def _advance(self, walks: deque[Iterator[tuple[Path, os.stat_result]]]) -> None:
        """Index the next few files of the current walk."""
        walk = walks[0]
        for _ in range(_BATCH):
            if len(self.index) >= self.index.max_files:
                walks.clear()
                return
            item = next(walk, None)
            if item is None:
                walks.popleft()
                return
            path, info = item
            self.stats.seen += 1
            self._guard(self._index_file, path, info)
        time.sleep(0)  # let a request thread take the GIL between batches

    def _guard(self, action: Callable[..., object], *args: object) -> None:
        """One bad file (or a bug in a grammar) must not kill the indexer: log, and go on."""
        try:
            action(*args)
        except Exception:
            log.exception("indexing failed")

    def _walk(self, top: Path) -> Iterator[tuple[Path, os.stat_result]]:
        """Files below ``top``, breadth-first, without vendored/hidden/excluded directories."""
        pending = deque([top])
        while pending:
            directory = pending.popleft()
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                path = Path(entry.path)
                if stat.S_ISDIR(info.st_mode):
                    if not is_skipped_dir(entry.name) and not self.gate.check_path(path).excluded:
                        pending.append(path)
                elif stat.S_ISREG(info.st_mode):
                    yield path, info

    def _index_path(self, path: Path) -> None:
        """Re-index one path after an event: gone, a directory, or a file."""
        try:
            info = path.stat(follow_symlinks=False)
        except OSError:
            self.index.remove(path)
            self.index.remove_under(path)
            if path.name in CONFIG_FILES:
                self.index.set_config(CONFIG_FILES[path.name], path.parent, None)
            return
        if stat.S_ISDIR(info.st_mode):
            self.rescan(path)
        elif stat.S_ISREG(info.st_mode):
            self._index_file(path, info)

    def _index_file(self, path: Path, info: os.stat_result) -> None:
        """Index (or drop) one regular file, reading it only through the privacy gate."""
        name = path.name
        if name in CONFIG_FILES:
            self._read_config(path)
            return
        grammar = grammar_for_path(name)
        guessing = grammar is None and needs_head(name) and bool(info.st_mode & 0o111)
        if (grammar is None and not guessing) or self._is_open(path):
            return
        if info.st_size > self.max_file_bytes or is_generated_name(name) or self.gate.check_path(path).excluded:
            self._skip(path)
            return
        known = self.index.get(path)
        if known is not None and known.stamp == (info.st_mtime_ns, info.st_size):
            return  # unchanged since it was indexed (a rescan after the privacy rules changed)
        text = self.gate.read_text(path)
        if text is None or is_generated_text(text):
            self._skip(path)
            return
        grammar = grammar_for_path(name, text[:4096]) if needs_head(name) else grammar
        if grammar not in INDEXED:
            self._skip(path)
            return
        record = build_record(path, display_path(path, self.roots), text, grammar, (info.st_mtime_ns, info.st_size))
        if record is not None and self.index.put(record):
            self.stats.indexed += 1

    def _skip(self, path: Path) -> None:
        self.stats.skipped += 1
        self.index.remove(path)

    def _read_config(self, path: Path) -> None:
        """Project files name the module paths, crates and aliases imports resolve against."""
        text = None if self.gate.check_path(path).excluded else self.gate.read_text(path)
        kind, value = read_config(path, text)
        self.index.set_config(kind, path.parent, value)
