"""``textDocument/copilotInlineEdit``: next-edit suggestions in Copilot's request shape.

Clients that already speak it (sidekick.nvim, copilot-lsp for Neovim) work unchanged:
params ``{textDocument: {uri, version}, position}``, result ``{edits: [{text, textDocument:
{uri, version}, range, command}]}`` — the entries are alternatives, nearest first; each
edit's ``command`` (``slm.acceptedNextEdit``) is run by the editor when it applies the edit,
so ``slm/status`` counts accepted proposals against answered requests. A request whose
``version`` is not the document's current one (the user typed on) is answered with no
edits, and so is one whose document changed while the suggestion was computed. The
suggestions come from ``slm_lsp.nextedit``; this module only translates, and picks the
model predictor: when the loaded model is a next-edit model (``nextEditPredictor``,
``slm_lsp.nextedit.model.choose_format``) its proposals follow edit propagation's. The model
runs as a job on the model worker thread, never blocking the event loop; it stops when the
request is cancelled or superseded, when the document changes, or when another job (a
completion) queues behind it — completions come first.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from slm_lsp.lsp.positions import PositionError, negotiated_encoding, offset_at, position_at
from slm_lsp.lsp.service import ModelState, RequestSuperseded
from slm_lsp.models.catalog import CatalogError, load_catalog
from slm_lsp.nextedit.history import Change
from slm_lsp.nextedit.model import choose_format
from slm_lsp.nextedit.service import Suggestions

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from slm_lsp.lsp.server import SlmLanguageServer

INLINE_EDIT_METHOD = "textDocument/copilotInlineEdit"
ACCEPTED_NEXT_EDIT = "slm.acceptedNextEdit"
EXPERIMENTAL = {"copilotInlineEdit": {"predictors": ["propagation"]}}
"""Advertised under ``capabilities.experimental`` (LSP has no standard entry for it)."""


def register_inline_edit(server: SlmLanguageServer) -> None:
    @server.feature(INLINE_EDIT_METHOD)
    async def inline_edit(ls: SlmLanguageServer, params: Any) -> dict[str, Any]:
        try:
            uri, version = str(params.textDocument.uri), int(params.textDocument.version)
            line, character = int(params.position.line), int(params.position.character)
        except (AttributeError, TypeError, ValueError) as exc:
            raise JsonRpcInvalidParams(
                f"{INLINE_EDIT_METHOD} needs {{textDocument: {{uri, version}}, position: {{line, character}}}}"
            ) from exc
        document = ls.workspace.text_documents.get(unquote(uri))
        if document is None or document.version != version:
            return {"edits": []}
        text = document.source
        try:
            cursor = offset_at(text, line, character, encoding=negotiated_encoding(ls), clamp=True)
        except PositionError as exc:
            raise JsonRpcInvalidParams(f"invalid position: {exc}") from exc
        found = await asyncio.to_thread(ls.next_edits.suggest, document.uri, cursor, text=text)
        modelled = await _model_suggestions(ls, document, cursor, text)
        if document.version != version or document.source != text:
            return {"edits": []}  # the user typed on while it was computed
        edits = _edits(ls, found)
        edits += [edit for edit in _edits(ls, modelled) if not any(_same(edit, e) for e in edits)]
        ls.next_edits.answered += bool(edits)
        return {"edits": edits}

    @server.command(ACCEPTED_NEXT_EDIT)
    def accepted(ls: Any, *args: Any) -> None:
        """The editor applied a proposal: counted for slm/status (the argument is the edited uri).
        ``ls`` is untyped: pygls resolves a command's hints at run time, and the server class
        is imported only for type checking here (it imports this module)."""
        if len(args) != 1 or not isinstance(args[0], dict) or not isinstance(args[0].get("uri"), str):
            raise JsonRpcInvalidParams(f"{ACCEPTED_NEXT_EDIT} needs [{{uri}}]")
        ls.next_edits.accepted += 1


async def _model_suggestions(ls: SlmLanguageServer, document: Any, cursor: int, text: str) -> Suggestions:
    """The next-edit model's proposals, or none (no next-edit model loaded, superseded)."""
    service = ls.service
    pipeline = service.pipeline
    if service.state is not ModelState.READY or pipeline is None:
        return Suggestions()
    fmt = model_format(service.settings.next_edit_predictor, pipeline.engine)
    special = getattr(pipeline.engine, "special_token", None)
    if fmt is None or special is None:  # special is None: a remote backend has no vocabulary here
        return Suggestions()
    uri = document.uri

    def job(running: Any, ticket: Any) -> Suggestions:
        def stop() -> bool:
            return ticket() or service.others_waiting() or document.source != text

        engine = running.engine
        return ls.next_edits.predict(fmt, engine, engine.special_token, uri, cursor, text=text, cancelled=stop)

    try:
        return await service.run(job, key=f"next-edit:{uri}")
    except RequestSuperseded:
        return Suggestions()
    except Exception:  # the model predictor is an extra: propagation's answer must still go out
        log.exception("next-edit model prediction failed")
        return Suggestions()


def model_format(setting: str, engine: Any) -> str | None:
    """The next-edit format of ``engine``'s model under ``setting`` (see ``choose_format``)."""
    info = getattr(engine, "info", None)
    file_name = info.path.name if info is not None else ""
    return _format(setting, str(getattr(engine, "name", "")), file_name)


@functools.lru_cache(maxsize=16)
def _format(setting: str, model_name: str, file_name: str) -> str | None:
    try:
        entry = next((e for e in load_catalog() if e.file == file_name), None) if file_name else None
    except CatalogError:
        entry = None
    chosen = choose_format(setting, catalog_format=entry.next_edit if entry else None,
                           model_name=model_name, file_name=file_name)
    if chosen:
        log.info("next-edit model predictor: %s format", chosen)
    return chosen


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["text"] == b["text"] and a["range"] == b["range"] and a["textDocument"] == b["textDocument"]


def changes(events: Any) -> list[Change]:
    """LSP content changes as the edit history takes them."""
    out: list[Change] = []
    for event in events:
        if isinstance(event, types.TextDocumentContentChangePartial):
            r = event.range
            out.append(((r.start.line, r.start.character, r.end.line, r.end.character), event.text))
        else:
            out.append((None, event.text))
    return out


def offset_in(ls: SlmLanguageServer) -> Any:
    """(text, line, character) -> offset in the negotiated encoding, clamped as LSP says."""
    chosen = negotiated_encoding(ls)

    def offset_of(text: str, line: int, character: int) -> int:
        return offset_at(text, line, character, encoding=chosen, clamp=True)

    return offset_of


def _edits(ls: SlmLanguageServer, found: Suggestions) -> list[dict[str, Any]]:
    """Each proposal as Copilot's edit, positions computed on the text it was made for; a
    proposal for a document that changed since (or was closed) is left out."""
    chosen = negotiated_encoding(ls)
    edits: list[dict[str, Any]] = []
    for proposal in found.proposals:
        document = ls.workspace.text_documents.get(unquote(proposal.uri))
        text = found.texts[proposal.uri]
        if document is None or document.source != text:
            continue
        start = position_at(text, proposal.start, encoding=chosen)
        end = position_at(text, proposal.end, encoding=chosen)
        edits.append({
            "text": proposal.text,
            "textDocument": {"uri": document.uri, "version": document.version},
            "range": {"start": {"line": start[0], "character": start[1]},
                      "end": {"line": end[0], "character": end[1]}},
            "command": {"title": "Accepted next edit", "command": ACCEPTED_NEXT_EDIT,
                        "arguments": [{"uri": document.uri}]},
        })
    return edits
