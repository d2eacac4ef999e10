"""The pygls layer: translate LSP messages into pipeline calls and results back.

No completion logic lives here. Handlers convert positions, look up documents, ask the
CompletionService, and shape the answer; pygls itself keeps documents in sync
(incremental didChange). Model failures are reported once with ``window/showMessage``;
completion requests then return no items rather than an error each.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path as uris_to_fs_path
from pygls.workspace import TextDocument

from slm_lsp import __version__
from slm_lsp.actions import register_actions
from slm_lsp.config.files import file_layers
from slm_lsp.config.layers import ConfigStack, Layer, LayerError, client_settings
from slm_lsp.context import ContextEngine
from slm_lsp.context.anchors import EDITOR_HEADROOM
from slm_lsp.engine.backends import describe
from slm_lsp.lsp.inline_edit import (
    EXPERIMENTAL,
    changes,
    model_format,
    offset_in,
    register_inline_edit,
)
from slm_lsp.lsp.positions import PositionError, negotiated_encoding, offset_at, position_at
from slm_lsp.lsp.protocol import AlreadyAnswered, SlmProtocol
from slm_lsp.lsp.service import CompletionService, ModelState, RequestSuperseded
from slm_lsp.nextedit import NextEdits
from slm_lsp.pipeline import CompletionRequest, CompletionResult, Selection
from slm_lsp.privacy import PrivacyGate

log = logging.getLogger(__name__)

STATUS_METHOD = "slm/status"
WHY_EXCLUDED_METHOD = "slm/whyExcluded"
PREFETCH_METHOD = "slm/prefetch"
ACCEPTED_COMMAND = "slm.acceptedCompletion"
TYPING_PAUSE_SECONDS = 0.4  # no edit for this long: the user is reading, warm the prompt at the cursor
ACCEPT_EDIT_WAIT_SECONDS = 0.5  # how long the accept command waits for the didChange that inserts the text
_IGNORE_FILES = {".gitignore", ".slmignore", "exclude", "config"}  # the last two under .git/


class SlmLanguageServer(LanguageServer):
    """pygls server holding the completion service and the command-line overrides."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        super().__init__("slm-lsp", __version__, protocol_cls=SlmProtocol)
        self.overrides = overrides or {}
        self.config = ConfigStack([Layer("command line", "command line", self.overrides)])
        self.reloads: set[asyncio.Future[None]] = set()
        self.gate = PrivacyGate()
        self.context = ContextEngine([], self.gate, window_headroom=EDITOR_HEADROOM)
        self.service = CompletionService(self.config.settings, self.context)
        self.next_edits = NextEdits(self.gate)
        self.experimental_capabilities = EXPERIMENTAL  # merged into initialize's result by SlmProtocol
        self.pauses: dict[str, asyncio.TimerHandle] = {}  # per document: the prefetch once typing pauses

    def cancel_pause(self, uri: str) -> None:
        timer = self.pauses.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def show_error(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))

    def show_warning(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log protocol-level errors; never pop them up in the user's editor."""
        if isinstance(error, AlreadyAnswered):
            return
        log.warning("ignored a message the server could not handle: %s", error)


def build_server(overrides: dict[str, Any] | None = None) -> SlmLanguageServer:
    """Create the server with its handlers; ``overrides`` are settings from the command line."""
    server = SlmLanguageServer(overrides)

    @server.feature(types.INITIALIZE)
    def initialize(ls: SlmLanguageServer, params: types.InitializeParams) -> None:
        roots = _workspace_roots(params)
        layers, problems = file_layers(roots[0] if roots else None)
        ls.config = ConfigStack([
            *layers,
            Layer("initialization", "initializationOptions", params.initialization_options or {}),
            Layer("command line", "command line", ls.overrides),
        ])
        for problem in [*map(str, problems), *ls.config.problems]:
            ls.show_error(f"slm-lsp: {problem}")
        ls.gate = PrivacyGate(roots)
        ls.context = ContextEngine(roots, ls.gate, window_headroom=EDITOR_HEADROOM)
        ls.service = CompletionService(ls.config.settings, ls.context)
        ls.next_edits = NextEdits(ls.gate)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: SlmLanguageServer, params: types.InitializedParams) -> None:
        ls.context.start_indexing()
        await _load_model(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: SlmLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        """Settings under "slm" / "slm-lsp" (or flat, as Helix sends them) replace the
        previous ones from this message. Synchronous, so the next request already sees
        them; a model or backend change reloads in the background, as at start-up."""
        source = "workspace/didChangeConfiguration"
        try:
            values = client_settings(params.settings, source)
            if values is None:
                return
            settings = ls.config.replace(Layer("client", source, values))
        except LayerError as exc:
            ls.show_error(f"slm-lsp: {exc}; the previous settings stay in force")
            return
        if ls.service.reconfigure(settings):
            task = asyncio.ensure_future(_load_model(ls))
            ls.reloads.add(task)  # a task nobody references may be garbage-collected mid-way
            task.add_done_callback(ls.reloads.discard)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SlmLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        ls.context.document_opened(document.uri, document.text, document.language_id)
        opened = _open_document(ls, document.uri)
        ls.next_edits.history.opened(opened.uri, opened.source, opened.language_id)
        # The cursor is not known yet: warm what every prompt in this file starts with.
        ls.service.prefetch(CompletionRequest(opened.source, 0, opened.uri, opened.language_id), "open")

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SlmLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        document = ls.workspace.text_documents.get(unquote(params.text_document.uri))
        if document is not None:
            ls.context.document_changed(document.uri, document.source)
            ls.next_edits.history.changed(document.uri, changes(params.content_changes), document.source, offset_in(ls))
            _prefetch_after_pause(ls, document, params.content_changes)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SlmLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.context.document_saved(params.text_document.uri)
        _invalidate_if_ignore_file(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SlmLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.context.document_closed(params.text_document.uri)
        ls.next_edits.history.closed(params.text_document.uri)
        ls.cancel_pause(unquote(params.text_document.uri))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: SlmLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        kinds = {types.FileChangeType.Created: "created", types.FileChangeType.Changed: "changed",
                 types.FileChangeType.Deleted: "deleted"}
        for change in params.changes:
            _invalidate_if_ignore_file(ls, change.uri)
        ls.context.file_events([(change.uri, kinds[change.type]) for change in params.changes])

    @server.feature(WHY_EXCLUDED_METHOD)
    def why_excluded(ls: SlmLanguageServer, params: Any) -> dict[str, Any]:
        uri = getattr(params, "uri", None)
        if not isinstance(uri, str):
            raise JsonRpcInvalidParams("slm/whyExcluded needs {uri: string}")
        decision = ls.gate.check_uri(uri)
        return {"excluded": decision.excluded, "rule": decision.rule, "explanation": ls.gate.explain(uri)}

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: SlmLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        return (await _suggest(ls, params))[1]

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
    async def completion(ls: SlmLanguageServer, params: types.CompletionParams) -> types.CompletionList:
        """The inline suggestion as one ordinary completion item, for clients without inline
        completion (Helix, older Emacs); answers nothing unless ``completionFallback`` is on."""
        empty = types.CompletionList(is_incomplete=False, items=[])
        service = ls.service
        if not service.settings.completion_fallback:
            return empty
        inline = types.InlineCompletionParams(
            text_document=params.text_document,
            position=params.position,
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
        _, suggestion = await _suggest(ls, inline)
        if not suggestion.items:
            return empty
        item = suggestion.items[0]
        text = str(item.insert_text)
        assert item.range is not None
        return types.CompletionList(
            is_incomplete=True,  # the suggestion depends on every keystroke
            items=[
                types.CompletionItem(
                    label=text.strip().split("\n", 1)[0][:60] or text,
                    kind=types.CompletionItemKind.Snippet,
                    detail="slm-lsp",
                    text_edit=types.TextEdit(range=item.range, new_text=text),
                )
            ],
        )

    @server.feature(PREFETCH_METHOD)
    def prefetch(ls: SlmLanguageServer, params: Any) -> None:
        """``{textDocument: {uri}, position}``: the editor's cursor rests there; warm the
        prompt a request there would need (a notification: nothing is answered)."""
        try:
            uri = params.textDocument.uri
            position = types.Position(line=int(params.position.line), character=int(params.position.character))
        except (AttributeError, TypeError, ValueError):
            log.info("ignored slm/prefetch without {textDocument: {uri}, position: {line, character}}")
            return
        document = ls.workspace.text_documents.get(unquote(uri))
        if document is None:
            return
        offset = _offset(document.source, position, negotiated_encoding(ls))
        ls.service.prefetch(CompletionRequest(document.source, offset, document.uri, document.language_id), "client")

    @server.command(ACCEPTED_COMMAND)
    async def accepted(ls: SlmLanguageServer, *args: Any) -> None:
        """The user accepted a suggestion: compute the next one, for the position after the
        accepted text, at once, so the request that follows is answered from the cache."""
        accept = args[0] if args and isinstance(args[0], dict) else None
        try:
            uri, text = str(accept["uri"]), str(accept["text"])  # type: ignore[index]
            position = types.Position(line=int(accept["line"]), character=int(accept["character"]))  # type: ignore[index]
        except (KeyError, TypeError, ValueError) as exc:
            raise JsonRpcInvalidParams(f"{ACCEPTED_COMMAND} needs [{{uri, line, character, text}}]") from exc
        request = await _after_accept(ls, uri, position, text)
        if request is None or not await ls.service.wait_ready(0):
            return
        try:
            await ls.service.complete(request, key=request.uri or uri, speculative=True)
        except RequestSuperseded:
            pass

    @server.feature(STATUS_METHOD)
    def status(ls: SlmLanguageServer, params: Any) -> dict[str, Any]:
        service = ls.service
        pipeline = service.pipeline
        return {
            "state": service.state.value,
            "error": service.error,
            "model": pipeline.engine.name if pipeline else None,
            "family": pipeline.engine.fim.family if pipeline else None,
            "modelOrigin": service.choice.origin,
            "last": service.last,
            "jobs": service.jobs.as_dict(),
            "gating": service.gating_status(),
            "cache": service.cache_status(),
            "backend": describe(pipeline.engine) if pipeline else {"name": service.settings.backend},
            "config": {"sources": ls.config.sources(), "settings": service.settings.as_camel_dict()},
            "nextEdit": {**ls.next_edits.stats(), "modelFormat": (
                model_format(service.settings.next_edit_predictor, pipeline.engine) if pipeline else None)},
        }

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: SlmLanguageServer, params: Any) -> None:
        ls.service.shutdown()
        ls.context.shutdown()

    register_actions(server)
    register_inline_edit(server)
    return server


async def _suggest(
    ls: SlmLanguageServer, params: types.InlineCompletionParams
) -> tuple[CompletionRequest, types.InlineCompletionList]:
    """Run the pipeline for an inline-completion request; no items while the model is not
    ready or when a newer request for the document took over."""
    document = _open_document(ls, params.text_document.uri)
    ls.cancel_pause(document.uri)
    request = _to_request(ls, document, params)
    service = ls.service
    if not await service.wait_ready(service.settings.ready_wait_seconds):
        return request, types.InlineCompletionList(items=[])
    try:
        result = await service.complete(request, key=document.uri)
    except RequestSuperseded:
        return request, types.InlineCompletionList(items=[])
    return request, _to_items(ls, request, result)


def _prefetch_after_pause(
    ls: SlmLanguageServer, document: TextDocument, changes: Sequence[types.TextDocumentContentChangeEvent]
) -> None:
    """Once no edit has come for TYPING_PAUSE_SECONDS, warm the prompt at the end of the
    last edit (where the cursor is after typing); every later edit or request restarts it."""
    ls.cancel_pause(document.uri)
    last = changes[-1] if changes else None
    if not isinstance(last, types.TextDocumentContentChangePartial):
        return  # a whole-document change says nothing about the cursor
    start = _offset(document.source, last.range.start, negotiated_encoding(ls))
    offset = min(len(document.source), start + len(last.text))
    request = CompletionRequest(document.source, offset, document.uri, document.language_id)
    loop = asyncio.get_running_loop()
    ls.pauses[document.uri] = loop.call_later(TYPING_PAUSE_SECONDS, _paused, ls, document.uri, request)


def _paused(ls: SlmLanguageServer, uri: str, request: CompletionRequest) -> None:
    ls.pauses.pop(uri, None)
    ls.service.prefetch(request, "pause")


async def _after_accept(ls: SlmLanguageServer, uri: str, position: types.Position, text: str) -> CompletionRequest | None:
    """The request at the end of an accepted text. The didChange inserting it may come
    before or after the command: wait briefly for it, else assume the text inserted there."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ACCEPT_EDIT_WAIT_SECONDS
    while True:
        document = ls.workspace.text_documents.get(unquote(uri))
        if document is None:
            return None
        source = document.source
        start = _offset(source, position, negotiated_encoding(ls))
        if source.startswith(text, start):
            return CompletionRequest(source, start + len(text), document.uri, document.language_id)
        if loop.time() >= deadline:
            inserted = source[:start] + text + source[start:]
            return CompletionRequest(inserted, start + len(text), document.uri, document.language_id)
        await asyncio.sleep(0.02)


async def _load_model(ls: SlmLanguageServer) -> None:
    """Load the model on the worker thread, reporting work-done progress if the client can show it."""
    loop = asyncio.get_running_loop()
    token = f"slm-lsp-load-{uuid.uuid4().hex[:8]}"
    capabilities = ls.client_capabilities
    use_progress = bool(capabilities.window and capabilities.window.work_done_progress)
    if use_progress:
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
            ls.work_done_progress.begin(
                token, types.WorkDoneProgressBegin(title="slm-lsp: loading model", percentage=0)
            )
        except Exception:  # noqa: BLE001 - a client that refuses progress still gets a model
            log.info("client did not accept a progress token; loading without progress")
            use_progress = False

    def report(message: str, fraction: float | None) -> None:
        if not use_progress:
            return
        percentage = None if fraction is None else int(fraction * 100)
        value = types.WorkDoneProgressReport(message=message, percentage=percentage)
        loop.call_soon_threadsafe(ls.work_done_progress.report, token, value)

    def notify(message: str) -> None:  # called on the worker thread
        loop.call_soon_threadsafe(ls.show_warning, message)

    ls.service.notify = notify
    await asyncio.wrap_future(ls.service.start_loading(report))
    service = ls.service
    if use_progress:
        end_message = "model ready" if service.state is ModelState.READY else "model failed to load"
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=end_message))
    if service.state is ModelState.FAILED:
        ls.show_error(f"slm-lsp: {service.error}. Inline completions are off until this is fixed.")


def _workspace_roots(params: types.InitializeParams) -> list[Path]:
    """Workspace folders as paths (only ``file:`` folders can hold files to read)."""
    uris = [folder.uri for folder in params.workspace_folders or []] or ([params.root_uri] if params.root_uri else [])
    roots = [Path(path) for uri in uris if uri.startswith("file:") and (path := uris_to_fs_path(uri))]
    if not roots and params.root_path:
        roots.append(Path(params.root_path))
    return roots


def _invalidate_if_ignore_file(ls: SlmLanguageServer, uri: str) -> None:
    """A changed ignore file can change any decision: drop the gate's caches and re-check."""
    if uri.rsplit("/", 1)[-1] in _IGNORE_FILES:
        ls.gate.invalidate(uri)
        ls.context.privacy_changed()
        ls.next_edits.history.privacy_changed()


def _open_document(ls: SlmLanguageServer, uri: str) -> TextDocument:
    document = ls.workspace.text_documents.get(unquote(uri))
    if document is None:
        raise JsonRpcInvalidParams(f"document {uri} is not open (send textDocument/didOpen first)")
    return document


def _offset(text: str, position: types.Position, encoding: str) -> int:
    try:
        return offset_at(text, position.line, position.character, encoding=encoding, clamp=True)
    except PositionError as exc:
        raise JsonRpcInvalidParams(f"invalid position: {exc}") from exc


def _to_request(ls: SlmLanguageServer, document: TextDocument, params: types.InlineCompletionParams) -> CompletionRequest:
    text = document.source
    encoding = negotiated_encoding(ls)
    offset = _offset(text, params.position, encoding)
    selection = None
    info = params.context.selected_completion_info
    if info is not None:
        start = _offset(text, info.range.start, encoding)
        end = _offset(text, info.range.end, encoding)
        if start > offset or start > end:
            raise JsonRpcInvalidParams("selectedCompletionInfo.range must start before the cursor")
        selection = Selection(start=start, end=max(end, offset), text=info.text)
    return CompletionRequest(
        text=text, offset=offset, uri=document.uri, language=document.language_id, selection=selection
    )


def _to_items(ls: SlmLanguageServer, request: CompletionRequest, result: CompletionResult) -> types.InlineCompletionList:
    """Shape the result; positions are computed on the text the request saw, not the live document."""
    if not result.completion:
        return types.InlineCompletionList(items=[])
    encoding = negotiated_encoding(ls)
    text = request.text
    start = position_at(text, result.start, encoding=encoding)
    end = position_at(text, result.end, encoding=encoding)
    item = types.InlineCompletionItem(
        insert_text=result.insert_text,
        range=types.Range(
            start=types.Position(line=start[0], character=start[1]),
            end=types.Position(line=end[0], character=end[1]),
        ),
        command=types.Command(
            title="slm-lsp: suggestion accepted",
            command=ACCEPTED_COMMAND,
            arguments=[{"uri": request.uri, "line": start[0], "character": start[1], "text": result.insert_text}],
        ),
    )
    return types.InlineCompletionList(items=[item])
