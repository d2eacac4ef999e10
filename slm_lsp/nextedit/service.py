"""A next-edit request: the document's latest hunk, propagated, through the gate once more.

The LSP layer (``textDocument/copilotInlineEdit``) and the evaluation both ask here, so they
get the same answers. Checks on every request, fail-closed: the document must be tracked
(admitted when it was opened) and still not excluded; its latest hunk must not be
sensitive; proposals in other open documents are kept only for documents the gate still
admits. The text the proposals refer to is returned with them, so a caller can map offsets
on exactly the text the predictor saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slm_lsp.nextedit.history import EditHistory
from slm_lsp.nextedit.propagation import Proposal, propagate
from slm_lsp.privacy import PrivacyGate

DEFAULT_LIMIT = 5


@dataclass(frozen=True)
class Suggestions:
    """Proposals, nearest first; ``texts`` holds each involved document's text they refer to."""

    proposals: list[Proposal] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)


class NextEdits:
    """Next-edit suggestions over an ``EditHistory`` (edit propagation; any model)."""

    def __init__(self, gate: PrivacyGate, history: EditHistory | None = None, *, limit: int = DEFAULT_LIMIT) -> None:
        self.gate = gate
        self.history = history or EditHistory(gate)
        self.limit = limit
        self.answered = 0  # requests that got at least one proposal
        self.accepted = 0  # proposals the editor reports applied (the edits' command)

    def stats(self) -> dict[str, int]:
        """What slm/status shows: tracked documents and hunks, answered and accepted proposals
        (their ratio is the acceptance rate an offline replay cannot measure)."""
        return {**self.history.stats(), "answered": self.answered, "accepted": self.accepted}

    def suggest(self, uri: str, cursor: int | None = None, *, text: str | None = None) -> Suggestions:
        """Proposals after the latest hunk of ``uri``; nothing when ``text`` (the editor's
        document) is given and differs from the history's: the request is out of date."""
        document = self.history.document(uri)
        if document is None or (text is not None and document.text != text) or self.gate.check_uri(uri).excluded:
            return Suggestions()
        hunk = self.history.latest(uri)
        if hunk is None or hunk.sensitive or hunk.old is None or hunk.new is None:
            return Suggestions()
        others = [d for d in self.history.documents() if d.uri != uri and not self.gate.check_uri(d.uri).excluded]
        proposals = propagate(document, hunk.start, hunk.old, hunk.new, cursor, others, self.limit)
        texts = {uri: document.text, **{d.uri: d.text for d in others}}
        return Suggestions(proposals, {p.uri: texts[p.uri] for p in proposals})
