"""Documents open in the editor: their live text wins over the disk, and their parse trees.

The editor's text is the truth for an open document (it may be unsaved), so the indexer leaves
open files alone and the engine indexes their text instead, lazily: a keystroke only stores the
text and bumps a version; the record is rebuilt when the document has been quiet for a moment
(by the indexer thread) or when a request needs it. Document events arrive on the event loop, so
everything here is a few dictionary operations under a lock that is never held while parsing.

``TreeCache`` keeps the last parse tree of the few most recently completed documents so that a
request re-parses incrementally from the previous keystroke's tree.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from slm_lsp.context.syntax import ParsedText, parse

TREE_CACHE_SIZE = 8


@dataclass(frozen=True)
class OpenDocument:
    """A snapshot of an open document."""

    uri: str
    path: Path | None
    text: str
    grammar: str | None  # indexed grammar, None when not indexable
    excluded: bool  # the privacy gate excludes it: never indexed, never shown elsewhere
    version: int = 0
    indexed_version: int = -1
    changed_at: float = 0.0


class Documents:
    """The open documents, by URI."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._documents: dict[str, OpenDocument] = {}
        self._paths: dict[Path, str] = {}

    def open(self, document: OpenDocument) -> None:
        with self._lock:
            self._documents[document.uri] = replace(document, changed_at=time.monotonic())
            if document.path is not None:
                self._paths[document.path] = document.uri

    def change(self, uri: str, text: str) -> tuple[OpenDocument, str] | None:
        """Store the new text; the updated document and the previous text, None if not open."""
        with self._lock:
            current = self._documents.get(uri)
            if current is None:
                return None
            updated = replace(current, text=text, version=current.version + 1, changed_at=time.monotonic())
            self._documents[uri] = updated
            return updated, current.text

    def saved(self, uri: str) -> None:
        """A save ends the quiet period: the document is indexed at the next idle moment."""
        with self._lock:
            current = self._documents.get(uri)
            if current is not None:
                self._documents[uri] = replace(current, changed_at=0.0)

    def set_excluded(self, uri: str, excluded: bool) -> None:
        """The privacy rules changed; a document allowed again is indexed afresh."""
        with self._lock:
            current = self._documents.get(uri)
            if current is not None and current.excluded != excluded:
                self._documents[uri] = replace(current, excluded=excluded, indexed_version=-1)

    def close(self, uri: str) -> OpenDocument | None:
        with self._lock:
            document = self._documents.pop(uri, None)
            if document is not None and document.path is not None:
                self._paths.pop(document.path, None)
            return document

    def get(self, uri: str) -> OpenDocument | None:
        with self._lock:
            return self._documents.get(uri)

    def is_open(self, path: Path) -> bool:
        with self._lock:
            return path in self._paths

    def stale(self, quiet_seconds: float, skip: str | None = None) -> list[OpenDocument]:
        """Indexable documents whose record is older than their text, quiet for ``quiet_seconds``."""
        now = time.monotonic()
        with self._lock:
            return [d for d in self._documents.values()
                    if d.uri != skip and d.grammar is not None and not d.excluded and d.path is not None
                    and d.indexed_version != d.version and now - d.changed_at >= quiet_seconds]

    def publish(self, uri: str, version: int, action: Callable[[], object]) -> bool:
        """Run ``action`` (store the record of ``version``) unless a newer version is already indexed.

        Done under the lock so a slow indexing of an old version can never overwrite a newer one.
        """
        with self._lock:
            current = self._documents.get(uri)
            if current is None or current.indexed_version >= version:
                return False
            action()
            self._documents[uri] = replace(current, indexed_version=version)
            return True

    def uris(self) -> list[str]:
        with self._lock:
            return list(self._documents)


class TreeCache:
    """The last parse of the most recently requested documents, for incremental re-parsing."""

    def __init__(self, size: int = TREE_CACHE_SIZE) -> None:
        self._lock = threading.Lock()
        self._trees: OrderedDict[str, ParsedText] = OrderedDict()
        self._size = size

    def parse(self, key: str, text: str, grammar: str) -> ParsedText | None:
        with self._lock:
            previous = self._trees.get(key)
        parsed = parse(text, grammar, previous)
        if parsed is not None:
            with self._lock:
                self._trees[key] = parsed
                self._trees.move_to_end(key)
                while len(self._trees) > self._size:
                    self._trees.popitem(last=False)
        return parsed

    def forget(self, key: str) -> None:
        with self._lock:
            self._trees.pop(key, None)
