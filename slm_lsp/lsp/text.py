"""The server's copy of open documents, with lines as LSP counts them.

pygls 2.1 splits a document with ``str.splitlines``, which also ends a line at a form
feed, a vertical tab, U+0085, U+2028, U+2029 and the file/group/record separators. LSP
(and every editor) ends lines only at ``\\n``, ``\\r\\n`` and ``\\r``, so after such a
character an incremental edit lands on the wrong line and the server's text silently
diverges from the editor's: every later suggestion is computed on text the user does not
have. Form feeds are common in GNU-style C and older Python sources.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pygls.workspace import TextDocument, Workspace

_LSP_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class LspTextDocument(TextDocument):
    """A pygls TextDocument whose lines end only at ``\\n``, ``\\r\\n`` or ``\\r``."""

    @property
    def lines(self) -> Sequence[str]:
        return tuple(_LSP_LINE.findall(self.source))


class LspWorkspace(Workspace):
    """A pygls Workspace that keeps its documents as LspTextDocuments."""

    def _create_text_document(
        self, doc_uri: str, source: str | None = None, version: int | None = None, language_id: str | None = None
    ) -> TextDocument:
        return LspTextDocument(doc_uri, source=source, version=version, language_id=language_id,
                               sync_kind=self._sync_kind, position_codec=self._position_codec)

    @classmethod
    def replacing(cls, workspace: Workspace) -> LspWorkspace:
        """The same (still empty) workspace as ``workspace``, pygls' own, just created."""
        return cls(workspace.root_uri, workspace._sync_kind, list(workspace.folders.values()),
                   workspace.position_encoding)
