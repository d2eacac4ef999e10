"""The LSP side of the code actions: offering them, running their commands, showing results.

``textDocument/codeAction`` offers, for a document the privacy gate allows:
- "Explain selection" for a non-empty selection (at a bare cursor: "Explain `name`" for the
  definition around it),
- "Write a docstring"/"Write a doc comment" for the function or class at the cursor,
- "Suggest a fix" for each diagnostic the client sends in the action's context,
- "Edit selection with an instruction…" for a non-empty selection (see ``edit_lsp``: the
  editor asks for the instruction, the server proposes, the user accepts).
Each action carries a command (``slm.explainSelection``, ``slm.writeDocstring``,
``slm.fixDiagnostic``) whose single argument is ``{"uri", "range"}`` (plus ``"diagnostic"``
for fixes and an optional ``"maxTokens"``). Nothing is computed until the user picks one.

A command reports server-initiated work-done progress while the model generates, with the
growing text as the report message (its tail, throttled to ten reports a second). The
progress is cancellable: ``window/workDoneProgress/cancel`` stops the generation within one
token, and so does ``$/cancelRequest`` for the ``workspace/executeCommand`` request. The
explanation is then shown with ``window/showDocument`` (a temporary markdown file, see
store) when the client supports it, else with ``window/showMessage``; edits go through
``workspace/applyEdit``. The command's result repeats what was produced, so an editor
extension can show it in its own panel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import FeatureAlreadyRegisteredError, JsonRpcInvalidParams
from pygls.workspace import TextDocument

from slm_lsp.actions import (
    APPLY_EDIT_COMMAND,
    DOCSTRING_COMMAND,
    EDIT_COMMAND,
    EXPLAIN_COMMAND,
    FIX_COMMAND,
    core,
    syntax,
)
from slm_lsp.actions.model import ActionsModel
from slm_lsp.actions.privacy import (
    Gate,
    excluded,
    gate_for,
    path_from_uri,
    workspace_roots,
)
from slm_lsp.actions.prompts import Extra
from slm_lsp.actions.store import ExplanationStore
from slm_lsp.actions.text import progress_line
from slm_lsp.lsp.positions import PositionError, negotiated_encoding, offset_at, position_at
from slm_lsp.lsp.service import RequestSuperseded
from slm_lsp.models.gguf_file import ModelFileError
from slm_lsp.privacy import GateError

log = logging.getLogger(__name__)
T = TypeVar("T")

EXPLAIN_KIND = "slm.explain"
DOCSTRING_KIND = "refactor.slm.docstring"
FIX_KIND = "quickfix.slm"
EDIT_KIND = "refactor.rewrite.slm"
KINDS = [EXPLAIN_KIND, DOCSTRING_KIND, FIX_KIND, EDIT_KIND]
EDIT_TITLE = "Edit selection with an instruction… (slm)"
MAX_FIX_ACTIONS = 3
MODEL_WAIT_SECONDS = 120.0
REPORT_INTERVAL = 0.1
MAX_TOKENS_LIMIT = 2048
CONTEXT_EXTRAS_TOKENS = 600


def register(server: Any) -> None:
    """Add the code-action feature, its three commands and the temp-file cleanup to ``server``."""
    store = ExplanationStore()
    server.slm_actions_store = store
    server.slm_actions_model = ActionsModel()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=False),
    )
    def code_action(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return offer_actions(ls, params)

    @server.command(EXPLAIN_COMMAND)
    async def explain_selection(ls: Any, *args: Any) -> dict[str, Any]:
        _follow_cancel_request(ls)
        return await run_explain(ls, _request(ls, args), store)

    @server.command(DOCSTRING_COMMAND)
    async def write_docstring(ls: Any, *args: Any) -> dict[str, Any]:
        _follow_cancel_request(ls)
        return await run_docstring(ls, _request(ls, args))

    @server.command(FIX_COMMAND)
    async def fix_diagnostic(ls: Any, *args: Any) -> dict[str, Any]:
        _follow_cancel_request(ls)
        return await run_fix(ls, _request(ls, args, diagnostic=True))

    from slm_lsp.actions.edit_lsp import run_apply, run_edit

    @server.command(EDIT_COMMAND)
    async def edit_selection(ls: Any, *args: Any) -> dict[str, Any]:
        _follow_cancel_request(ls)
        return await run_edit(ls, args)

    @server.command(APPLY_EDIT_COMMAND)
    async def apply_edit(ls: Any, *args: Any) -> dict[str, Any]:
        return await run_apply(ls, args)

    try:
        @server.feature(types.EXIT)
        def on_exit(ls: Any, *args: Any) -> None:
            store.cleanup()
    except FeatureAlreadyRegisteredError:  # the server has its own exit handler: atexit still cleans up
        pass


def _follow_cancel_request(ls: Any) -> None:
    """Cancel this command's task when the client cancels its ``workspace/executeCommand``.

    pygls runs ``workspace/executeCommand`` as a built-in generator that calls the command
    handler as a separate task, and ``$/cancelRequest`` cancels only the outer request (the
    client gets its "canceled" error, but the command would run on). The request's id is in
    the task's context, so the outer future can be found and followed.
    """
    task = asyncio.current_task()
    protocol = ls.protocol
    msg_id = protocol.msg_id
    outer = protocol._request_futures.get(msg_id) if msg_id is not None else None
    if task is None or outer is None or outer is task:
        return
    loop = asyncio.get_running_loop()

    def on_done(future: Any) -> None:
        if future.cancelled() and not task.done():
            loop.call_soon_threadsafe(task.cancel)

    outer.add_done_callback(on_done)


# -- offering actions ------------------------------------------------------------------------------


def _document(ls: Any, uri: str) -> TextDocument | None:
    documents = ls.workspace.text_documents
    return documents.get(uri) or documents.get(unquote(uri))


def _offsets(ls: Any, text: str, span: types.Range) -> tuple[int, int]:
    encoding = negotiated_encoding(ls)
    try:
        start = offset_at(text, span.start.line, span.start.character, encoding=encoding, clamp=True)
        end = offset_at(text, span.end.line, span.end.character, encoding=encoding, clamp=True)
    except PositionError as exc:
        raise JsonRpcInvalidParams(f"invalid range: {exc}") from exc
    return (start, end) if start <= end else (end, start)


def _range(ls: Any, text: str, start: int, end: int) -> types.Range:
    encoding = negotiated_encoding(ls)
    (sl, sc), (el, ec) = position_at(text, start, encoding=encoding), position_at(text, end, encoding=encoding)
    return types.Range(start=types.Position(line=sl, character=sc), end=types.Position(line=el, character=ec))


def _range_json(span: types.Range) -> dict[str, Any]:
    return {"start": {"line": span.start.line, "character": span.start.character},
            "end": {"line": span.end.line, "character": span.end.character}}


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == prefix or kind.startswith(prefix + ".") for prefix in only)


def offer_actions(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    document = _document(ls, uri)
    if document is None:
        return None
    is_excluded, _rule = excluded(gate_for(ls), uri)
    if is_excluded:
        return []
    text = document.source
    try:
        start, end = _offsets(ls, text, params.range)
    except JsonRpcInvalidParams:
        return []
    only = [str(getattr(kind, "value", kind)) for kind in params.context.only] if params.context.only else None
    argument = {"uri": uri, "range": _range_json(params.range)}
    actions: list[types.CodeAction] = []
    doc = core.Document(text, uri, document.language_id, "")

    if _wanted(EXPLAIN_KIND, only):
        title = None
        if end > start and text[start:end].strip():
            title = "Explain selection (slm)"
        else:
            parsed = syntax.parse(text, document.language_id)
            found = syntax.definitions_at(parsed, start, end) if parsed is not None else []
            if found:
                title = f"Explain `{found[0].name}` (slm)" if found[0].name else f"Explain this {found[0].noun} (slm)"
        if title:
            actions.append(types.CodeAction(
                title=title, kind=EXPLAIN_KIND,
                command=types.Command(title=title, command=EXPLAIN_COMMAND, arguments=[argument]),
            ))

    if _wanted(DOCSTRING_KIND, only):
        target = core.docstring_target(doc, start, end)
        if target is not None:
            what = "docstring" if target.style == "python" else "doc comment"
            verb = "Rewrite the" if target.existing else "Write a"
            name = f" for `{target.name}`" if target.name else ""
            title = f"{verb} {what}{name} (slm)"
            actions.append(types.CodeAction(
                title=title, kind=DOCSTRING_KIND,
                command=types.Command(title=title, command=DOCSTRING_COMMAND, arguments=[argument]),
            ))

    if _wanted(FIX_KIND, only):
        for diagnostic in list(params.context.diagnostics or [])[:MAX_FIX_ACTIONS]:
            message = " ".join(str(diagnostic.message).split())
            short = message if len(message) <= 60 else message[:59] + "…"
            title = f"Suggest a fix: {short} (slm)"
            fix_argument = {"uri": uri, "range": _range_json(diagnostic.range),
                            "diagnostic": {"message": message, "range": _range_json(diagnostic.range)}}
            actions.append(types.CodeAction(
                title=title, kind=FIX_KIND, diagnostics=[diagnostic],
                command=types.Command(title=title, command=FIX_COMMAND, arguments=[fix_argument]),
            ))

    if _wanted(EDIT_KIND, only) and end > start and text[start:end].strip():
        edit_argument = {**argument, "version": document.version}  # the editor adds "instruction"
        actions.append(types.CodeAction(
            title=EDIT_TITLE, kind=EDIT_KIND,
            command=types.Command(title=EDIT_TITLE, command=EDIT_COMMAND, arguments=[edit_argument]),
        ))
    return actions


# -- command requests ------------------------------------------------------------------------------


@dataclass
class ActionRequest:
    uri: str
    document: TextDocument
    version: int | None
    text: str
    start: int
    end: int
    max_tokens: int | None
    message: str = ""


def _request(ls: Any, args: tuple[Any, ...], *, diagnostic: bool = False) -> ActionRequest:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams("expected one argument: {uri, range}")
    argument = args[0]
    uri = argument.get("uri")
    if not isinstance(uri, str):
        raise JsonRpcInvalidParams("argument 'uri' must be a string")
    document = _document(ls, uri)
    if document is None:
        raise JsonRpcInvalidParams(f"document {uri} is not open (send textDocument/didOpen first)")
    try:
        span = ls.protocol._converter.structure(argument.get("range"), types.Range)
    except Exception as exc:
        raise JsonRpcInvalidParams("argument 'range' must be an LSP range") from exc
    max_tokens = argument.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)
                                   or not 1 <= max_tokens <= MAX_TOKENS_LIMIT):
        raise JsonRpcInvalidParams(f"argument 'maxTokens' must be an integer from 1 to {MAX_TOKENS_LIMIT}")
    text = document.source
    start, end = _offsets(ls, text, span)
    message = ""
    if diagnostic:
        info = argument.get("diagnostic")
        if not isinstance(info, dict) or not isinstance(info.get("message"), str):
            raise JsonRpcInvalidParams("argument 'diagnostic' must carry the diagnostic's message")
        message = info["message"]
    return ActionRequest(uri, document, document.version, text, start, end, max_tokens, message)


def display_source(ls: Any, uri: str) -> str:
    """The document's path as the model sees it: relative to its workspace folder, or its name."""
    path = path_from_uri(uri)
    if path is None:
        return unquote(uri.rsplit("/", 1)[-1]) or "untitled"
    for root in workspace_roots(ls):
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.name


class ActionProgress:
    """Server-initiated, cancellable work-done progress whose reports carry the growing text.

    ``cancelled`` is set when the user cancels from the progress UI. ``update`` may be called
    from any thread; reports are coalesced on the event loop.
    """

    def __init__(self, ls: Any, title: str) -> None:
        self.ls = ls
        self.title = title
        self.token: str | None = None
        self.cancelled = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._latest = ""
        self._sent = ""
        self._scheduled = False
        self._last_report = 0.0
        self._ended = False

    async def begin(self, message: str) -> None:
        capabilities = self.ls.client_capabilities
        if not (capabilities.window and capabilities.window.work_done_progress):
            return
        token = f"slm-action-{uuid.uuid4().hex[:12]}"
        try:
            await asyncio.wait_for(self.ls.work_done_progress.create_async(token), timeout=5)
        except Exception:  # noqa: BLE001 - no progress, but the action still runs
            log.info("client did not accept a progress token; running the action without progress")
            return
        self.token = token
        self.ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=self.title, cancellable=True, message=message)
        )
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: self.cancelled.set() if f.cancelled() else None)

    def update(self, text: str) -> None:
        """Record the text so far (any thread); a report follows within REPORT_INTERVAL."""
        self._latest = text
        if self.token is None or self._scheduled or self._ended:
            return
        self._scheduled = True
        self._loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        delay = max(0.0, self._last_report + REPORT_INTERVAL - time.monotonic())
        self._loop.call_later(delay, self._report)

    def _report(self) -> None:
        self._scheduled = False
        if self._ended or self.token is None or self._latest == self._sent:
            return
        self._sent = self._latest
        self._last_report = time.monotonic()
        self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=progress_line(self._latest)))

    def message(self, message: str) -> None:
        if self.token is not None and not self._ended:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self._ended:
            return
        self._ended = True
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)


Job = Callable[[Any, Callable[[], bool], Callable[[str], None]], core.Outcome]
"""``job(engine, cancelled, on_text)``: the engine is the actions model's or the completion model's."""


async def _run(ls: Any, request: ActionRequest, command: str, title: str,
               job: Job) -> tuple[core.Outcome | None, dict[str, Any], ActionProgress]:
    """Run ``job(engine, cancelled, on_text)`` on the model thread under cancellable progress.

    Returns the outcome (None when the action did not complete) and the base of the result.
    """
    progress = ActionProgress(ls, title)
    await progress.begin("waiting for the model")
    outcome: core.Outcome | None = None
    result: dict[str, Any] = {"uri": request.uri}
    service = ls.service
    try:
        if not await service.wait_ready(MODEL_WAIT_SECONDS):
            error = service.error or "the model is not loaded"
            progress.end("model not available")
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"slm-lsp: {error}"))
            return None, {**result, "error": error, "stopReason": "error"}, progress
        progress.message("generating…")

        def work(pipeline: Any, cancelled: Callable[[], bool]) -> core.Outcome:
            def stop() -> bool:
                return cancelled() or progress.cancelled.is_set()

            actions_model = ls.slm_actions_model
            engine = actions_model.engine_for(service.settings, pipeline.engine)
            done = job(engine, stop, progress.update)
            done.model = engine.name
            if actions_model.load_ms is not None:
                done.timings["actions_model_load_ms"] = actions_model.load_ms
            service.last = {"action": command, "stopReason": "cancelled" if stop() else done.stop_reason,
                            **done.timings}
            return done

        try:
            outcome = await service.run(work, key=f"{command}:{request.uri}")
        except RequestSuperseded:
            progress.end("superseded by a newer request")
            return None, {**result, "stopReason": "superseded"}, progress
        except GateError as exc:
            progress.end("excluded by the privacy settings")
            _show(ls, types.MessageType.Warning, "slm-lsp: this code is excluded from the model by the privacy settings.")
            return None, {**result, "error": f"excluded: {exc}", "stopReason": "error"}, progress
        except ModelFileError as exc:
            progress.end("actions model not available")
            message = f"slm-lsp: the actionsModel setting names a model that cannot be used: {exc}"
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))
            return None, {**result, "error": str(exc), "stopReason": "error"}, progress
        except core.ActionError as exc:
            progress.end(str(exc))
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"slm-lsp: {exc}"))
            return None, {**result, "error": str(exc), "stopReason": "error"}, progress
        result.update(outcome.as_dict())
        if progress.cancelled.is_set() or outcome.stop_reason == "cancelled":
            result["stopReason"] = "cancelled"
            progress.end("cancelled")
            return None, result, progress
        return outcome, result, progress
    except asyncio.CancelledError:
        progress.end("cancelled")
        raise
    finally:
        if outcome is None:
            progress.end("stopped")
        _close_actions_model_when_idle(ls)


def _close_actions_model_when_idle(ls: Any) -> None:
    """Give the actions model's memory back after ``actionsIdleSeconds`` without an action.

    The check runs as a job on the model thread (which owns llama.cpp); a later action's check
    supersedes an earlier one, so only the last action's timer counts.
    """
    if not ls.slm_actions_model.loaded:
        return
    service = ls.service
    idle = service.settings.actions_idle_seconds

    async def check() -> None:
        with contextlib.suppress(RequestSuperseded):
            await service.run(lambda _pipeline, _cancelled: ls.slm_actions_model.close_if_idle(idle),
                              key="actions-model:idle")

    loop = asyncio.get_running_loop()
    loop.call_later(idle + 0.5, lambda: loop.create_task(check()))


def _gate_or_refuse(ls: Any, uri: str) -> Gate:
    gate = gate_for(ls)
    is_excluded, rule = excluded(gate, uri)
    if is_excluded:
        reason = f" (rule {rule})" if rule else ""
        raise JsonRpcInvalidParams(f"this file is excluded from the model by the privacy settings{reason}")
    return gate


def _context_extras(ls: Any, request: ActionRequest, language: str | None, engine: Any) -> list[Extra]:
    """Definitions from other files, from the context engine when the server has one (``ls.context``)."""
    context = getattr(ls, "context", None)
    if context is None or not hasattr(context, "assemble"):
        return []
    try:
        result = context.assemble(request.uri, request.text, request.start, language,
                                  count_tokens=engine.count_tokens, budget_tokens=CONTEXT_EXTRAS_TOKENS,
                                  extras_ratio=1.0)
    except Exception as exc:  # noqa: BLE001 - context is an extra: explain without it
        log.info("no context for the explanation: %s", type(exc).__name__)
        return []
    return [Extra(piece.source, piece.text) for piece in result.extras[:4] if piece.text.strip()]


async def run_explain(ls: Any, request: ActionRequest, store: ExplanationStore) -> dict[str, Any]:
    gate = _gate_or_refuse(ls, request.uri)
    document = core.Document(request.text, request.uri, request.document.language_id,
                             display_source(ls, request.uri))

    def job(engine: Any, cancelled: Callable[[], bool], on_text: Callable[[str], None]) -> core.Outcome:
        extras = _context_extras(ls, request, document.language, engine)
        return core.explain(engine, document, request.start, request.end, gate, cancelled=cancelled,
                            on_text=on_text, max_tokens=request.max_tokens, extras=extras)

    outcome, result, progress = await _run(ls, request, EXPLAIN_COMMAND, "slm: explaining", job)
    if outcome is None:
        return result
    if not outcome.text.strip():
        progress.end("no explanation")
        _show(ls, types.MessageType.Warning, "slm-lsp: the model produced no explanation for this code.")
        return result
    progress.end("done")
    result["document"] = await _deliver(ls, store, document, outcome)
    return result


def _markdown(document: core.Document, outcome: core.Outcome, model: str) -> str:
    return (f"# Explanation: {outcome.title}\n\n{outcome.text.strip()}\n\n---\n"
            f"_Written offline by slm-lsp with {model}. A small model can be wrong: check before relying on it._\n")


async def _deliver(ls: Any, store: ExplanationStore, document: core.Document, outcome: core.Outcome) -> str | None:
    """Show the explanation as a markdown document if the client can, else as a message."""
    capabilities = ls.client_capabilities
    can_show = bool(capabilities.window and capabilities.window.show_document
                    and capabilities.window.show_document.support)
    if can_show:
        pipeline = ls.service.pipeline
        model = pipeline.engine.name if pipeline is not None else "a local model"
        stem = f"explain-{Path(document.source).stem}-L{outcome.lines[0]}-{outcome.lines[1]}"
        path = store.write(stem, _markdown(document, outcome, model))
        uri = path.as_uri()
        try:
            shown = await asyncio.wait_for(
                ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True)), timeout=30
            )
            if shown is not None and shown.success:
                return uri
        except Exception as exc:  # noqa: BLE001 - fall back to a message
            log.info("showDocument failed (%s); showing the explanation as a message", type(exc).__name__)
    _show(ls, types.MessageType.Info, f"Explanation of {outcome.title}:\n\n{outcome.text.strip()}")
    return None


def _show(ls: Any, kind: types.MessageType, message: str) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=message))


async def _apply(ls: Any, request: ActionRequest, outcome: core.Outcome, label: str) -> dict[str, Any]:
    """Apply ``outcome.edit`` with workspace/applyEdit unless the document changed meanwhile."""
    edit = outcome.edit
    assert edit is not None
    text_edit = types.TextEdit(range=_range(ls, request.text, edit.start, edit.end), new_text=edit.new_text)
    summary: dict[str, Any] = {"range": _range_json(text_edit.range), "newText": edit.new_text}
    current = _document(ls, request.uri)
    if current is None or current.version != request.version or current.source != request.text:
        _show(ls, types.MessageType.Warning, "slm-lsp: the document changed while the model was working; try again.")
        return {"edit": summary, "applied": False, "error": "document changed"}
    capabilities = ls.client_capabilities
    if not (capabilities.workspace and capabilities.workspace.apply_edit):
        _show(ls, types.MessageType.Info, f"slm-lsp suggests:\n\n{edit.new_text}")
        return {"edit": summary, "applied": False}
    response = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=types.WorkspaceEdit(changes={request.uri: [text_edit]}), label=label,
    ))
    applied = bool(response and response.applied)
    if not applied:
        reason = getattr(response, "failure_reason", None) or "the editor refused the edit"
        _show(ls, types.MessageType.Warning, f"slm-lsp: could not apply the edit: {reason}")
    return {"edit": summary, "applied": applied}


async def run_docstring(ls: Any, request: ActionRequest) -> dict[str, Any]:
    gate = _gate_or_refuse(ls, request.uri)
    document = core.Document(request.text, request.uri, request.document.language_id,
                             display_source(ls, request.uri))
    if core.docstring_target(document, request.start, request.end) is None:
        raise JsonRpcInvalidParams("there is no function or class here to document")

    def job(engine: Any, cancelled: Callable[[], bool], on_text: Callable[[str], None]) -> core.Outcome:
        return core.write_docstring(engine, document, request.start, request.end, gate,
                                    cancelled=cancelled, on_text=on_text)

    outcome, result, progress = await _run(ls, request, DOCSTRING_COMMAND, "slm: writing documentation", job)
    if outcome is None:
        return result
    if outcome.edit is None:
        progress.end("no documentation")
        _show(ls, types.MessageType.Warning, "slm-lsp: the model produced no usable summary for this definition.")
        return {**result, "applied": False}
    progress.end("done")
    return {**result, **await _apply(ls, request, outcome, f"slm: document {outcome.title}")}


async def run_fix(ls: Any, request: ActionRequest) -> dict[str, Any]:
    gate = _gate_or_refuse(ls, request.uri)
    document = core.Document(request.text, request.uri, request.document.language_id,
                             display_source(ls, request.uri))

    def job(engine: Any, cancelled: Callable[[], bool], on_text: Callable[[str], None]) -> core.Outcome:
        return core.suggest_fix(engine, document, request.start, request.end, request.message, gate,
                                cancelled=cancelled, on_text=on_text)

    outcome, result, progress = await _run(ls, request, FIX_COMMAND, "slm: suggesting a fix", job)
    if outcome is None:
        return result
    progress.end("done")
    return {**result, **await _apply(ls, request, outcome, "slm: suggested fix")}
