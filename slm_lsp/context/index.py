"""The workspace symbol index: per-file definitions and imports, and the maps that find them.

Written by the background indexer and by document events, read by every request, so every
method takes one lock and does only dictionary work under it (never parsing or I/O). Memory
is bounded by ``max_files`` and ``max_symbols``: past either cap new files are refused
(their imports would still resolve to nothing, which only costs context, never correctness).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from slm_lsp.context.imports import FileFacts
from slm_lsp.context.symbols import Symbol

_PACKAGE_FILE_STEMS = frozenset({"__init__", "mod", "index"})


@dataclass(frozen=True)
class FileRecord:
    """What the index knows about one file."""

    path: Path  # absolute
    rel: str  # workspace-relative, as shown to the model
    grammar: str
    symbols: tuple[Symbol, ...]
    facts: FileFacts
    stamp: tuple[int, int] | None  # (mtime_ns, size) when read from disk; None for editor text


@dataclass(frozen=True)
class IndexStats:
    files: int
    symbols: int
    refused: int  # files turned away by the caps


class WorkspaceIndex:
    """Thread-safe store of FileRecords with lookups by directory, module name, symbol and package."""

    def __init__(self, *, max_files: int, max_symbols: int) -> None:
        self.max_files = max_files
        self.max_symbols = max_symbols
        self._lock = threading.RLock()
        self._files: dict[Path, FileRecord] = {}
        # buckets are insertion-ordered dicts used as sets: deterministic without sorting Paths
        self._by_dir: dict[Path, dict[Path, None]] = defaultdict(dict)
        self._by_module: dict[str, dict[Path, None]] = defaultdict(dict)
        self._by_basename: dict[str, dict[Path, None]] = defaultdict(dict)
        self._by_symbol: dict[str, dict[Path, None]] = defaultdict(dict)
        self._by_package: dict[str, dict[Path, None]] = defaultdict(dict)
        self._configs: dict[str, dict[Path, object]] = defaultdict(dict)  # kind -> directory -> value
        self._symbols = 0
        self._refused = 0
        self.generation = 0  # bumped on every change, for callers' caches

    # -- writing -------------------------------------------------------------------------------

    def put(self, record: FileRecord) -> bool:
        """Add or replace a file's record; False when the caps refuse a new file."""
        with self._lock:
            old = self._files.get(record.path)
            if old is None and len(self._files) >= self.max_files:
                self._refused += 1
                return False
            room = self.max_symbols - self._symbols + (len(old.symbols) if old is not None else 0)
            if len(record.symbols) > room:
                record = replace(record, symbols=record.symbols[: max(room, 0)])
            if old is not None:
                self._unlink(old)
            self._link(record)
            self.generation += 1
            return True

    def remove(self, path: Path) -> bool:
        """Forget a file (deleted, renamed, excluded); True if it was indexed."""
        with self._lock:
            record = self._files.get(path)
            if record is None:
                return False
            self._unlink(record)
            self.generation += 1
            return True

    def remove_under(self, directory: Path) -> int:
        """Forget every file below ``directory`` (a deleted or newly excluded folder)."""
        with self._lock:
            doomed = [path for path in self._files if path.is_relative_to(directory)]
            for path in doomed:
                self._unlink(self._files[path])
            for table in self._configs.values():
                for root in [root for root in table if root.is_relative_to(directory)]:
                    del table[root]
            self.generation += 1
            return len(doomed)

    def set_config(self, kind: str, directory: Path, value: object | None) -> None:
        """Record (or with None forget) what ``directory``'s project file of ``kind`` declares."""
        with self._lock:
            if value is None:
                self._configs[kind].pop(directory, None)
            else:
                self._configs[kind][directory] = value
            self.generation += 1

    def _link(self, record: FileRecord) -> None:
        path = record.path
        self._files[path] = record
        self._by_dir[path.parent][path] = None
        self._by_module[_module_key(path)][path] = None
        self._by_basename[path.name][path] = None
        if record.facts.package:
            self._by_package[record.facts.package][path] = None
        for name in {symbol.name for symbol in record.symbols if symbol.container is None}:
            self._by_symbol[name][path] = None
        self._symbols += len(record.symbols)

    def _unlink(self, record: FileRecord) -> None:
        path = record.path
        del self._files[path]
        _discard(self._by_dir, path.parent, path)
        _discard(self._by_module, _module_key(path), path)
        _discard(self._by_basename, path.name, path)
        if record.facts.package:
            _discard(self._by_package, record.facts.package, path)
        for name in {symbol.name for symbol in record.symbols if symbol.container is None}:
            _discard(self._by_symbol, name, path)
        self._symbols -= len(record.symbols)

    # -- reading -------------------------------------------------------------------------------

    def get(self, path: Path) -> FileRecord | None:
        with self._lock:
            return self._files.get(path)

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return path in self._files

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def paths(self) -> list[Path]:
        with self._lock:
            return list(self._files)

    def files_in(self, directory: Path) -> list[Path]:
        with self._lock:
            return list(self._by_dir.get(directory, ()))

    def modules_named(self, name: str) -> list[Path]:
        """Files that are module ``name``: ``name.py``, ``name/__init__.py``, ``name/mod.rs``..."""
        with self._lock:
            return list(self._by_module.get(name, ()))

    def files_named(self, basename: str) -> list[Path]:
        with self._lock:
            return list(self._by_basename.get(basename, ()))

    def files_defining(self, name: str) -> list[Path]:
        """Files with a top-level definition called ``name``."""
        with self._lock:
            return list(self._by_symbol.get(name, ()))

    def package_files(self, package: str) -> list[Path]:
        """Files declaring ``package`` (Java package, Go package name)."""
        with self._lock:
            return list(self._by_package.get(package, ()))

    def config_for(self, kind: str, path: Path) -> tuple[Path, Any] | None:
        """The innermost project file of ``kind`` above ``path``: (its directory, its value)."""
        with self._lock:
            table = self._configs.get(kind, {})
            for parent in path.parents:
                if parent in table:
                    return parent, table[parent]
            return None

    def configs(self, kind: str) -> list[tuple[Path, Any]]:
        """Every project file of ``kind``: (directory, value)."""
        with self._lock:
            return list(self._configs.get(kind, {}).items())

    def stats(self) -> IndexStats:
        with self._lock:
            return IndexStats(len(self._files), self._symbols, self._refused)


def _module_key(path: Path) -> str:
    return path.parent.name if path.stem in _PACKAGE_FILE_STEMS else path.stem


def _discard(table: dict, key: object, path: Path) -> None:  # type: ignore[type-arg]
    bucket = table.get(key)
    if bucket is not None:
        bucket.pop(path, None)
        if not bucket:
            del table[key]
