"""Incremental edits keep the server's copy of a document identical to the editor's, also
around characters that ``str.splitlines`` treats as line ends but LSP does not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from slm_lsp.lsp.positions import position_at
from slm_lsp.lsp.server import build_server
from slm_lsp.lsp.text import LspWorkspace

URI = "file:///work/sync.py"
SEPARATORS = ["\n", "\r\n", "\r", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
texts = st.lists(st.one_of(st.sampled_from(SEPARATORS), st.text(alphabet="ab😀 ", max_size=3)), max_size=12).map("".join)


def _position(text: str, offset: int) -> types.Position:
    line, character = position_at(text, offset, encoding="utf-16")
    return types.Position(line=line, character=character)


def _offsets(text: str) -> list[int]:
    """Offsets an editor can name: not between the two halves of a CRLF."""
    return [i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1 : i + 1] == "\r\n")]


@settings(max_examples=300, deadline=None)
@given(texts, st.data())
def test_incremental_edits_match_the_editor(text: str, data: st.DataObject) -> None:
    workspace = LspWorkspace(None)
    workspace.put_text_document(types.TextDocumentItem(uri=URI, language_id="python", version=1, text=text))
    for version in range(2, 5):
        start, end = sorted(data.draw(st.lists(st.sampled_from(_offsets(text)), min_size=2, max_size=2)))
        insert = data.draw(texts)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=_position(text, start), end=_position(text, end)), text=insert)
        workspace.update_text_document(types.VersionedTextDocumentIdentifier(uri=URI, version=version), change)
        text = text[:start] + insert + text[end:]
        assert workspace.get_text_document(URI).source == text


def test_the_server_keeps_documents_with_lsp_lines() -> None:
    server = build_server()
    initialize = server.protocol.lsp_initialize(types.InitializeParams(capabilities=types.ClientCapabilities()))
    handler, args, _ = next(initialize)
    with pytest.raises(StopIteration):
        initialize.send(handler(*args))
    assert isinstance(server.protocol.workspace, LspWorkspace)
