"""A next-edit request: the document's latest hunk, propagated, through the gate once more;
and, for a next-edit model, the model predictor (``model``, ``zeta``, ``sweep``).

The LSP layer (``textDocument/copilotInlineEdit``) and the evaluation both ask here, so they
get the same answers. Propagation is cheap and runs off the event loop; the model predictor
runs on the model worker thread (the caller's job) and is told when to stop. Checks on every request, fail-closed: the document must be tracked
(admitted when it was opened) and still not excluded; its latest hunk must not be
sensitive; proposals in other open documents are kept only for documents the gate still
admits. The text the proposals refer to is returned with them, so a caller can map offsets
on exactly the text the predictor saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slm_lsp.nextedit.history import EditHistory
from slm_lsp.nextedit.model import Format, Prediction, Request, Runner, Special, predict
from slm_lsp.nextedit.propagation import Proposal, propagate
from slm_lsp.nextedit.sweep import Sweep
from slm_lsp.nextedit.zeta import Zeta
from slm_lsp.privacy import PrivacyGate

PREDICTORS: dict[str, Format] = {"zeta": Zeta(), "sweep": Sweep()}

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
        self.model_runs = 0  # model predictions that ran the model
        self.model_proposals = 0  # proposals they returned
        self.last_prediction = Prediction()  # the latest model prediction (the evaluation counts its ending)

    def stats(self) -> dict[str, int]:
        """What slm/status shows: tracked documents and hunks, answered and accepted proposals
        (their ratio is the acceptance rate an offline replay cannot measure)."""
        return {**self.history.stats(), "answered": self.answered, "accepted": self.accepted,
                "modelRuns": self.model_runs, "modelProposals": self.model_proposals}

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

    def predict(self, fmt: str, runner: Runner, special: Special, uri: str, cursor: int, *,
                text: str | None = None, cancelled: Callable[[], bool] = lambda: False) -> Suggestions:
        """Proposals of next-edit model format ``fmt`` run on ``runner`` (call it on the model
        worker thread); nothing for an untracked, excluded or out-of-date document."""
        self.last_prediction = Prediction()
        document = self.history.document(uri)
        if document is None or (text is not None and document.text != text) or self.gate.check_uri(uri).excluded:
            return Suggestions()
        request = Request(self.gate, self.history, uri, document.text, min(max(cursor, 0), len(document.text)),
                          document.source)
        found: Prediction = predict(PREDICTORS[fmt], request, runner, special, cancelled)
        if found.stop_reason != "none":
            self.model_runs += 1
            self.model_proposals += len(found.proposals[:self.limit])
        self.last_prediction = found
        proposals = found.proposals[:self.limit]
        return Suggestions(proposals, {uri: document.text} if proposals else {})
