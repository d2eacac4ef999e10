"""The context stage: from a document and a cursor to gated prompt pieces within a token budget.

``ContextEngine`` ties the parts together. Document and file events (called on the event loop)
only record text and queue work; the background indexer keeps the workspace index current;
``assemble`` (called on a worker thread) cuts the current file around the cursor, ranks the
definitions the file can see, adds recently edited code from other documents, and admits every
piece through the privacy gate, all from memory: it parses only the current document
(incrementally) and, at most, another open document that changed since it was last indexed.

The budget covers the prefix, the suffix and every extra piece including a per-piece allowance
for the prompt stage's formatting (a file-separator token or a path comment plus the path
itself). Tokens the prompt adds once (FIM control tokens, the repository name, the current
file's path) are the caller's to subtract before calling.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from slm_lsp.context.admission import admit_window
from slm_lsp.context.anchors import WindowAnchors
from slm_lsp.context.candidates import rank
from slm_lsp.context.documents import Documents, OpenDocument, TreeCache
from slm_lsp.context.imports import extract_facts
from slm_lsp.context.index import FileRecord, IndexStats, WorkspaceIndex
from slm_lsp.context.indexer import Indexer, build_record
from slm_lsp.context.languages import INDEXED, grammar_for_language_id, grammar_for_path
from slm_lsp.context.packing import pack_definitions, pack_recent
from slm_lsp.context.paths import display_path, normalise_root, path_from_uri
from slm_lsp.context.recent import RecentChunks
from slm_lsp.context.relevance import focus
from slm_lsp.context.resolve import Resolver
from slm_lsp.context.symbols import defined_names
from slm_lsp.context.syntax import common_prefix_length, common_suffix_length
from slm_lsp.context.tokens import TokenMemo
from slm_lsp.context.window import Window, cut_window
from slm_lsp.privacy import GateError, PrivacyGate, PromptPiece

log = logging.getLogger(__name__)

_FOCUS_PREFIX_CHARS = 4000
_FOCUS_SUFFIX_CHARS = 1500
_AREA_LINES = 24
_LIKELY_CHARS_PER_TOKEN = 8  # a text this many characters per budget token surely does not fit


@dataclass(frozen=True)
class ContextResult:
    """Everything the prompt stage lays out, each piece already admitted by the privacy gate.

    ``extras`` are ordered stable-first: definitions (most relevant file first), then recent
    chunks from other documents (oldest first). Each extra's ``source`` is its
    workspace-relative path; the prefix and suffix carry the document's (its URI when it is
    outside the workspace; show ``path`` instead). ``prefix_start_offset``/``suffix_end_offset``
    are where the current document was cut (character offsets into the request's ``text``;
    the pieces' text is the gate's redaction of that span).
    """

    prefix: PromptPiece
    suffix: PromptPiece
    extras: list[PromptPiece]
    prefix_start_offset: int
    suffix_end_offset: int
    path: str | None = None  # the document as shown to the model: workspace-relative, else its name
    tokens: dict[str, int] = field(default_factory=dict)  # prefix, suffix, definitions, recent, budget
    elapsed_ms: float = 0.0
    index_ready: bool = False


class ContextEngine:
    """The workspace index, open documents and recent edits, and the assembly of a request's context."""

    def __init__(
        self,
        roots: Iterable[Path],
        gate: PrivacyGate,
        *,
        max_files: int = 20_000,
        max_file_bytes: int = 512 * 1024,
        max_symbols: int = 300_000,
        recent_chunks: int = 12,
        extras_ratio: float = 0.3,
        piece_overhead_tokens: int = 6,
        syntactic_slack: float = 0.3,
        similarity_threshold: float = 0.5,
        quiet_seconds: float = 0.5,
        window_headroom: float | None = None,
    ) -> None:
        self.roots = [normalise_root(Path(root)) for root in roots]
        self.gate = gate
        self.extras_ratio = extras_ratio
        self.piece_overhead_tokens = piece_overhead_tokens
        self.syntactic_slack = syntactic_slack
        self.similarity_threshold = similarity_threshold
        self.quiet_seconds = quiet_seconds
        self.index = WorkspaceIndex(max_files=max_files, max_symbols=max_symbols)
        self.resolver = Resolver(self.index, self.roots)
        self.documents = Documents()
        self.recent = RecentChunks(recent_chunks)
        self.trees = TreeCache()
        self.indexer = Indexer(self.index, gate, self.roots, max_file_bytes=max_file_bytes,
                               is_open=self.documents.is_open, on_idle=self.index_open_documents)
        self._tokens = TokenMemo()
        # Set (the server does) to keep each document's prefix start while the user types.
        self.anchors = WindowAnchors(window_headroom) if window_headroom else None

    # -- lifecycle -----------------------------------------------------------------------------

    def start_indexing(self) -> None:
        """Start the background indexer; returns at once (requests work meanwhile, with less context)."""
        self.indexer.start()

    def shutdown(self) -> None:
        self.indexer.stop()

    def wait_until_indexed(self, timeout: float = 30.0) -> bool:
        """Block until the first walk and all queued events are done (tests, CLI, benchmark)."""
        return self.indexer.wait_idle(timeout)

    def stats(self) -> IndexStats:
        return self.index.stats()

    # -- editor and file-system events (on the event loop: no parsing, no reading files) ------

    def document_opened(self, uri: str, text: str, language_id: str | None) -> None:
        path = path_from_uri(uri)
        excluded = self.gate.check_uri(uri).excluded
        grammar = grammar_for_language_id(language_id)
        if grammar not in INDEXED:
            grammar = grammar_for_path(path, text[:4096]) if path is not None else None
        indexable = grammar in INDEXED and path is not None and self._inside(path)  # others import nothing of it
        self.documents.open(OpenDocument(uri, path, text, grammar if indexable else None, excluded))
        if excluded:
            self._forget(uri, path)

    def document_changed(self, uri: str, text: str) -> None:
        changed = self.documents.change(uri, text)
        if changed is None:
            self.document_opened(uri, text, None)
            return
        document, previous = changed
        if document.excluded or (document.path is not None and not self._inside(document.path)):
            return
        start = common_prefix_length(previous, text)
        end = len(text) - common_suffix_length(previous, text, start)
        self.recent.record(uri, self._source(uri, document.path), text, start, max(start, end))

    def document_saved(self, uri: str) -> None:
        self.documents.saved(uri)

    def document_closed(self, uri: str) -> None:
        """The disk version replaces the editor's (unsaved edits are gone)."""
        document = self.documents.close(uri)
        self.trees.forget(uri)
        if self.anchors is not None:
            self.anchors.forget(uri)
        if document is not None and document.path is not None:
            self.indexer.refresh(document.path)

    def file_events(self, events: Iterable[tuple[str, str]]) -> None:
        """File-watcher events: (uri, "created" | "changed" | "deleted"); paths outside every
        root are ignored (an event for ``file:///`` must not start a walk of the whole disk)."""
        for uri, kind in events:
            path = path_from_uri(uri)
            if path is None or not self._inside(path):
                continue
            if kind == "deleted":
                self._forget(uri, path)
                self.index.remove_under(path)
            if not self.documents.is_open(path):
                self.indexer.refresh(path)

    def privacy_changed(self) -> None:
        """The gate's rules changed: drop what is now excluded, pick up what is now allowed."""
        for uri in self.documents.uris():
            excluded = self.gate.check_uri(uri).excluded
            self.documents.set_excluded(uri, excluded)
            if excluded:
                self._forget(uri, path_from_uri(uri))
        self.indexer.run_soon(self._drop_excluded)
        for root in self.roots:
            self.indexer.rescan(root)

    def _drop_excluded(self) -> None:
        for path in self.index.paths():
            if self.gate.check_path(path).excluded:
                self.index.remove(path)

    def _forget(self, uri: str, path: Path | None) -> None:
        self.recent.forget(uri)
        if self.anchors is not None:
            self.anchors.forget(uri)
        if path is not None:
            self.index.remove(path)

    # -- requests (worker thread) --------------------------------------------------------------

    def assemble(
        self,
        uri: str | None,
        text: str,
        offset: int,
        language_id: str | None,
        *,
        count_tokens: Callable[[str], int],
        budget_tokens: int,
        prefix_ratio: float = 0.75,
        extras_ratio: float | None = None,
    ) -> ContextResult:
        """The context for a completion at ``offset`` in ``text`` within ``budget_tokens`` tokens.

        ``count_tokens`` must be the model's tokenizer (counting text as plain text); pass the
        same function object on every call so its counts are remembered between requests.
        Raises GateError if the gate excludes the document itself.
        """
        began = time.perf_counter()
        if not 0 <= offset <= len(text):
            raise ValueError(f"cursor offset {offset} is outside the document ({len(text)} characters)")
        count = self._tokens.bind(count_tokens)
        budget = max(0, int(budget_tokens))
        ratio = min(max(self.extras_ratio if extras_ratio is None else extras_ratio, 0.0), 1.0)
        path = path_from_uri(uri) if uri else None
        source = self._source(uri, path)
        decision = self.gate.check_source(source)
        if decision.excluded:  # no work, no recording, no completion for an excluded document
            raise GateError(f"source {source} is excluded: {decision.rule}", source=source, rule=decision.rule)
        grammar = grammar_for_language_id(language_id) or (grammar_for_path(path, text[:4096]) if path else None)
        parsed = self.trees.parse(uri or "", text, grammar) if grammar else None
        overhead = self._overhead(count)

        # Cross-file pieces first, within their share (more when the whole file fits anyway);
        # the current file then gets everything they leave.
        extras_budget = _extras_budget(text, count, budget, ratio)
        definitions: list[PromptPiece] = []
        definition_tokens = 0
        if parsed is not None and grammar in INDEXED:
            self.index_open_documents(quiet=0.0, skip=uri)
            near = focus(text[max(0, offset - _FOCUS_PREFIX_CHARS) : offset],
                         text[offset : offset + _FOCUS_SUFFIX_CHARS])
            record = self.index.get(path) if path is not None else None
            local = {s.name for s in record.symbols} if record is not None else defined_names(parsed)
            candidates = rank(self.resolver, self.index, path=path, grammar=grammar, facts=extract_facts(parsed),
                              focus=near, local_names=local)
            packed = pack_definitions(candidates, count, extras_budget, overhead, self.gate, self._still_on_disk)
            for dropped in packed.dropped_sources:
                self.index.remove(dropped)
            definitions, definition_tokens = packed.pieces, packed.tokens
        chunks = self.recent.candidates(uri, _cursor_area(text, offset), self.similarity_threshold)
        recent = pack_recent(chunks, count, extras_budget - definition_tokens, overhead, self.gate,
                             [piece.text for piece in definitions], self.similarity_threshold)

        file_budget = budget - definition_tokens - recent.tokens
        prefix_budget = int(file_budget * min(max(prefix_ratio, 0.0), 1.0))
        def cut(prefix_tokens: int, suffix_tokens: int) -> Window:
            return cut_window(text, offset, parsed, count, prefix_budget=prefix_tokens,
                              suffix_budget=suffix_tokens, slack=self.syntactic_slack)

        window = cut(prefix_budget, file_budget - prefix_budget)
        if self.anchors is not None and uri is not None:
            window = self.anchors.window(uri, text, offset, window, count, prefix_budget,
                                         lambda prefix_tokens: cut(prefix_tokens, 0))
        prefix, suffix = admit_window(self.gate, text, offset, window, source, count=count, budget=file_budget)
        if uri is not None and (path is None or self._inside(path)):
            self.recent.record(uri, source, text, offset, offset)

        result = ContextResult(
            prefix=prefix,
            suffix=suffix,
            extras=[*definitions, *recent.pieces],
            prefix_start_offset=window.start,
            suffix_end_offset=window.end,
            path=display_path(path, self.roots) if path is not None else None,
            tokens={"prefix": count(prefix.text), "suffix": count(suffix.text), "definitions": definition_tokens,
                    "recent": recent.tokens, "budget": budget},
            elapsed_ms=(time.perf_counter() - began) * 1000,
            index_ready=self.indexer.ready.is_set(),
        )
        log.debug("context in %.1f ms: tokens %s, %d extras", result.elapsed_ms, result.tokens, len(result.extras))
        return result

    def piece_overhead(self, source: str | PurePath | None, count_tokens: Callable[[str], int]) -> int:
        """Tokens reserved for the prompt stage to frame one extra piece from ``source``."""
        return self._overhead(self._tokens.bind(count_tokens))("" if source is None else str(source))

    def _overhead(self, count: Callable[[str], int]) -> Callable[[str], int]:
        return lambda source: self.piece_overhead_tokens + count(source)

    def _still_on_disk(self, record: FileRecord) -> bool:
        """Whether a file read from disk is still there (one stat; a watcher event may never come).

        A vanished file is dropped from the index; a changed one is re-read in the background.
        """
        if record.stamp is None:
            return True
        try:
            info = os.stat(record.path)
        except OSError:
            self.index.remove(record.path)
            return False
        if (info.st_mtime_ns, info.st_size) != record.stamp:
            self.indexer.refresh(record.path)
        return True

    def _source(self, uri: str | None, path: Path | None) -> str:
        """How a document is named in prompts: its workspace-relative path when inside a root,
        else its URI (the gate decides on either; only workspace files are shown by path)."""
        if path is not None and self._inside(path):
            return display_path(path, self.roots)
        return uri or "untitled"

    def _inside(self, path: Path) -> bool:
        return any(path.is_relative_to(root) for root in self.roots)

    def index_open_documents(self, quiet: float | None = None, skip: str | None = None) -> int:
        """Re-index open documents edited since their last indexing and quiet for ``quiet`` seconds.

        The indexer thread calls this when idle; a request calls it (quiet 0) for documents other
        than its own. Returns how many documents were indexed.
        """
        indexed = 0
        for document in self.documents.stale(self.quiet_seconds if quiet is None else quiet, skip):
            assert document.path is not None and document.grammar is not None
            record = build_record(document.path, display_path(document.path, self.roots), document.text,
                                  document.grammar, None)
            if record is not None and self.documents.publish(document.uri, document.version,
                                                              functools.partial(self.index.put, record)):
                indexed += 1
        return indexed


def _extras_budget(text: str, count: Callable[[str], int], budget: int, ratio: float) -> int:
    """``ratio`` of the budget for other files' code, or all the current file leaves unused.

    The file's size is estimated from its lines' (remembered) counts; only the exact cut made
    afterwards is binding, so an estimate cannot break the budget.
    """
    share = int(budget * ratio)
    if len(text) > budget * _LIKELY_CHARS_PER_TOKEN:
        return share
    estimate = 0
    for line in text.splitlines(keepends=True):
        estimate += count(line)
        if estimate >= budget - share:
            return share
    return budget - estimate


def _cursor_area(text: str, offset: int) -> str:
    """About ``_AREA_LINES`` lines around the cursor: what a recent chunk must not merely repeat."""
    start = offset
    for _ in range(_AREA_LINES * 2 // 3):
        start = text.rfind("\n", 0, max(start - 1, 0)) + 1 if start > 0 else 0
    end = offset
    for _ in range(_AREA_LINES // 3):
        newline = text.find("\n", end + 1)
        end = len(text) if newline < 0 else newline
    return text[start:end]
