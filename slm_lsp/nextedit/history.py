"""Per-document edit history from ``didChange``, through the privacy gate, bounded.

What a next-edit predictor needs is what the user just did: the hunks of each open
document in order, with their time, as unified diffs (the form next-edit models are trained
on). Rules, all fail-closed:

- an excluded document (or one outside the workspace) is never tracked: not its text, not
  its changes; a document that becomes excluded (``privacy_changed``) is dropped;
- every hunk's diff is admitted by the gate when it is recorded, so what leaves this module
  as text is a sealed, redacted ``PromptPiece``; a hunk whose diff held anything
  secret-shaped is marked ``sensitive`` and its raw texts are never handed out (the
  propagation predictor would otherwise copy a secret to other places);
- at most ``max_hunks`` hunks per document and ``max_documents`` documents (least recently
  edited dropped first); a change larger than ``max_hunk_chars`` (a paste, a reformat)
  is no hunk at all;
- closing a document clears its history.

Thread-safe: the server records on its event loop and predicts on a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slm_lsp.context.languages import grammar_for_language_id, grammar_for_path
from slm_lsp.context.paths import display_path, path_from_uri
from slm_lsp.context.syntax import common_prefix_length, common_suffix_length
from slm_lsp.nextedit.hunks import Hunk, apply_change, unified_diff
from slm_lsp.privacy import GateError, PrivacyGate, PromptPiece

log = logging.getLogger(__name__)

EDIT = "edit"  # the prompt-piece kind of a hunk's diff

Change = tuple[tuple[int, int, int, int] | None, str]
"""One LSP content change: ((start line, start character, end line, end character) or None
for the whole document, new text)."""
OffsetOf = Callable[[str, int, int], int]
"""(text, line, character) -> offset, in the negotiated position encoding."""


@dataclass(frozen=True)
class HunkView:
    """A hunk as handed out: ``old``/``new`` are None when ``sensitive``; ``diff`` is admitted."""

    uri: str
    start: int
    old: str | None
    new: str | None
    order: int
    first_seen: float
    last_seen: float
    diff: PromptPiece
    sensitive: bool

    @property
    def end(self) -> int:
        return self.start + len(self.new or "")


@dataclass
class _Document:
    uri: str
    text: str
    grammar: str | None
    source: str  # the name shown in diffs
    hunks: list[Hunk] = field(default_factory=list)
    diffs: dict[int, tuple[PromptPiece, bool]] = field(default_factory=dict)  # order -> (diff, sensitive)
    refused: bool = False  # the gate refused a diff: the document goes


@dataclass(frozen=True)
class DocumentView:
    """An open, admitted document's current text (for predictors looking at open files)."""

    uri: str
    text: str
    grammar: str | None
    source: str = ""  # the workspace-relative name shown in diffs and model prompts


class EditHistory:
    """The edit history of the open documents the privacy gate admits."""

    def __init__(self, gate: PrivacyGate, *, max_documents: int = 32, max_hunks: int = 16,
                 max_hunk_chars: int = 4000, clock: Callable[[], float] = time.time) -> None:
        self.gate = gate
        self.max_documents = max_documents
        self.max_hunks = max_hunks
        self.max_hunk_chars = max_hunk_chars
        self._clock = clock
        self._documents: OrderedDict[str, _Document] = OrderedDict()  # least recently edited first
        self._order = 0
        self._lock = threading.Lock()

    # -- editor events ----------------------------------------------------------------------

    def opened(self, uri: str, text: str, language_id: str | None = None) -> None:
        """Start tracking ``uri`` (a re-open starts over); excluded documents are not tracked."""
        with self._lock:
            self._documents.pop(uri, None)
        if not self._admissible(uri):
            return
        path = path_from_uri(uri)
        grammar = grammar_for_language_id(language_id) or (grammar_for_path(path, text[:4096]) if path else None)
        with self._lock:
            self._documents[uri] = _Document(uri, text, grammar, self._display(uri, path))
            while len(self._documents) > self.max_documents:
                self._documents.popitem(last=False)

    def changed(self, uri: str, changes: Sequence[Change], final_text: str, offset_of: OffsetOf) -> None:
        """Apply an LSP ``didChange``'s content changes in order, recording each as a hunk.

        ``final_text`` is the editor's document after them (pygls' copy): if applying the
        changes here does not give the same text, the history restarts from it rather than
        hold positions that no longer match.
        """
        with self._lock:
            document = self._documents.get(uri)
        if document is None:
            return  # not open here, or excluded
        if not self._admissible(uri):
            self.forget(uri)
            return
        with self._lock:
            if self._documents.get(uri) is not document:
                return
            for span, text in changes:
                before = document.text
                if span is None:
                    start = common_prefix_length(before, text)
                    end = len(before) - common_suffix_length(before, text, start)
                    replacement = text[start:len(text) - (len(before) - end)]
                else:
                    start = offset_of(before, span[0], span[1])
                    end = max(start, offset_of(before, span[2], span[3]))
                    replacement = text
                self._record(document, before, start, end, replacement)
                if document.refused:
                    self._documents.pop(uri, None)
                    return
            if document.text != final_text:
                log.debug("edit history of %s out of step with the editor: restarted", document.source)
                document.text, document.hunks, document.diffs = final_text, [], {}
            self._documents.move_to_end(uri)

    def replace(self, uri: str, start: int, end: int, text: str) -> None:
        """One change in string offsets of the tracked text (what ``eval --next-edit`` replays)."""
        with self._lock:
            document = self._documents.get(uri)
            current = None if document is None else document.text
        if document is None or current is None:
            return
        after = current[:start] + text + current[end:]
        self.changed(uri, [((start, 0, end, 0), text)], after, lambda _text, offset, _zero: offset)

    def closed(self, uri: str) -> None:
        """The document was closed: its history is gone."""
        self.forget(uri)

    def forget(self, uri: str) -> None:
        with self._lock:
            self._documents.pop(uri, None)

    def privacy_changed(self) -> None:
        """The gate's rules changed: drop every document that is now excluded."""
        with self._lock:
            uris = list(self._documents)
        for uri in uris:
            if not self._admissible(uri):
                self.forget(uri)

    # -- reading ------------------------------------------------------------------------------

    def hunks(self, uri: str) -> list[HunkView]:
        """The document's hunks, oldest first (empty when it is not tracked)."""
        with self._lock:
            document = self._documents.get(uri)
            if document is None:
                return []
            return [self._view(document, hunk) for hunk in sorted(document.hunks, key=lambda h: h.order)]

    def latest(self, uri: str) -> HunkView | None:
        found = self.hunks(uri)
        return found[-1] if found else None

    def recent(self, limit: int = 8) -> list[HunkView]:
        """The newest hunks of all documents, oldest first (for a model's "User edited" list)."""
        with self._lock:
            views = [self._view(d, h) for d in self._documents.values() for h in d.hunks]
        return sorted(views, key=lambda v: v.order)[-limit:] if limit > 0 else []

    def document(self, uri: str) -> DocumentView | None:
        with self._lock:
            document = self._documents.get(uri)
            return None if document is None else DocumentView(document.uri, document.text, document.grammar, document.source)

    def documents(self) -> list[DocumentView]:
        """Every tracked document, most recently edited first."""
        with self._lock:
            return [DocumentView(d.uri, d.text, d.grammar, d.source) for d in reversed(self._documents.values())]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"documents": len(self._documents), "hunks": sum(len(d.hunks) for d in self._documents.values())}

    # -- internals ------------------------------------------------------------------------------

    def _admissible(self, uri: str) -> bool:
        decision = self.gate.check_uri(uri)
        if decision.excluded:
            return False
        real = decision.real_path or decision.path
        roots = self.gate.roots
        return real is None or not roots or any(_inside(real, root) for root in roots)

    def _record(self, document: _Document, before: str, start: int, end: int, text: str) -> None:
        after = before[:start] + text + before[end:]
        document.text = after
        self._order += 1
        hunks, hunk = apply_change(document.hunks, before, start, end, text, self._order, self._clock())
        if hunk is not None and hunk.size() > self.max_hunk_chars:
            hunks.remove(hunk)
            hunk = None
        if len(hunks) > self.max_hunks:
            hunks = sorted(hunks, key=lambda h: h.order)[-self.max_hunks:]
        document.hunks = hunks
        live = {h.order for h in hunks}
        document.diffs = {order: value for order, value in document.diffs.items() if order in live}
        if hunk is not None:
            admitted = self._admit(document, hunk)
            if admitted is None:
                document.refused = True
                return
            document.diffs[hunk.order] = admitted
        # hunks that only moved keep their admitted diff: it shows the lines as they were

    def _admit(self, document: _Document, hunk: Hunk) -> tuple[PromptPiece, bool] | None:
        shift = sum(h.new.count("\n") - h.old.count("\n") for h in document.hunks if h.start < hunk.start)
        old_line = document.text.count("\n", 0, hunk.start) - shift
        raw = unified_diff(document.source, document.text, hunk, old_line)
        try:
            piece = self.gate.admit(PromptPiece(text=raw, source=document.uri, kind=EDIT))
        except GateError:  # excluded since it was opened: the caller drops the whole document
            return None
        return piece, piece.text != raw

    def _view(self, document: _Document, hunk: Hunk) -> HunkView:
        diff, sensitive = document.diffs[hunk.order]
        return HunkView(document.uri, hunk.start, None if sensitive else hunk.old, None if sensitive else hunk.new,
                        hunk.order, hunk.first_seen, hunk.last_seen, diff, sensitive)

    def _display(self, uri: str, path: Path | None) -> str:
        if path is None:
            return uri.rsplit("/", 1)[-1] or "untitled"
        return display_path(path, list(self.gate.roots))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
