"""Next-edit suggestions: from what the user just changed, the change they will make next.

LSP 3.18's inline completion inserts at the cursor; a next edit replaces text elsewhere (the
other uses of a renamed variable, the other calls whose arguments changed). The modules:
``hunks`` (one coalesced change and its unified diff), ``history`` (per-document edit
history from ``didChange``, through the privacy gate, bounded, cleared on close), ``roles``
(per-grammar tree-sitter node kinds: identifiers, literals, argument lists, scopes and
bindings), ``propagation`` (the edit-propagation predictor: the latest replacement A → B
proposed where A occurs again in the same syntactic role) and ``service`` (a request: the
latest hunk of a document, its open neighbours, the proposals nearest first).

May import ``privacy``, ``treesitter`` and ``context`` (its parsing and grammar helpers);
the LSP layer and ``evaluation`` import this package, no pipeline stage does.
"""

from slm_lsp.nextedit.history import EditHistory, HunkView
from slm_lsp.nextedit.propagation import Proposal, propagate
from slm_lsp.nextedit.service import NextEdits

__all__ = ["EditHistory", "HunkView", "NextEdits", "Proposal", "propagate"]
