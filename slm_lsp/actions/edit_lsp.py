"""The LSP side of "Edit selection with an instruction": two commands, so that every client can
show the proposal before anything changes (Neovim ignores ``needsConfirmation``).

``slm.editSelection`` ``{uri, range, instruction, version?}`` streams the rewrite as
cancellable progress and returns a proposal ``{id, uri, version, range, newText, diff,
parses, …}``; nothing is applied. The code action carries the command without the
instruction: the editor asks the user for it (VS Code: an input box; Neovim: vim.ui.input)
and adds it to the argument. ``slm.applyEdit`` ``{proposal}`` applies a proposal this server
made, through ``workspace/applyEdit``, only while the document is still at the proposal's
version and the privacy gate still admits it; otherwise it says "the file changed; ask
again". Proposals are kept by id (the last few), so a client cannot apply text the model
did not propose or the gate did not see.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from slm_lsp.actions import EDIT_COMMAND, core, edit
from slm_lsp.actions.lsp import (
    _document,
    _gate_or_refuse,
    _range,
    _range_json,
    _request,
    _run,
    _show,
    display_source,
)

MAX_PROPOSALS = 16
CHANGED = "the file changed; ask again"


@dataclass(frozen=True)
class Proposal:
    uri: str
    version: int | None
    text: str  # the document the proposal was made for
    range: types.Range
    new_text: str


def _proposals(ls: Any) -> OrderedDict[str, Proposal]:
    store = getattr(ls, "slm_edit_proposals", None)
    if store is None:
        store = ls.slm_edit_proposals = OrderedDict()
    return store


async def run_edit(ls: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    request = _request(ls, args)
    argument = args[0]
    instruction = argument.get("instruction")
    if not isinstance(instruction, str):
        raise JsonRpcInvalidParams("argument 'instruction' must be a string (the editor asks the user for it)")
    gate = _gate_or_refuse(ls, request.uri)
    version = argument.get("version")
    if version is not None and version != request.version:
        _show(ls, types.MessageType.Warning, f"slm-lsp: {CHANGED}.")
        return {"uri": request.uri, "error": CHANGED, "stopReason": "error"}
    document = core.Document(request.text, request.uri, request.document.language_id,
                             display_source(ls, request.uri))

    def job(engine: Any, cancelled: Callable[[], bool], on_text: Callable[[str], None]) -> core.Outcome:
        return edit.edit_selection(engine, document, request.start, request.end, instruction, gate,
                                   cancelled=cancelled, on_text=on_text)

    outcome, result, progress = await _run(ls, request, EDIT_COMMAND, "slm: editing", job)
    if outcome is None or outcome.edit is None:
        return result
    span = _range(ls, request.text, outcome.edit.start, outcome.edit.end)
    proposal_id = uuid.uuid4().hex
    proposals = _proposals(ls)
    proposals[proposal_id] = Proposal(request.uri, request.version, request.text, span, outcome.edit.new_text)
    while len(proposals) > MAX_PROPOSALS:
        proposals.popitem(last=False)
    progress.end("done" if outcome.parses is not False else "done: the rewrite does not parse")
    del result["text"]
    return {**result, "id": proposal_id, "version": request.version, "range": _range_json(span),
            "newText": outcome.edit.new_text, "diff": edit.unified_diff(outcome, request.text, document.source),
            "parses": outcome.parses}


async def run_apply(ls: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    if len(args) != 1 or not isinstance(args[0], dict) or not isinstance(args[0].get("proposal"), dict):
        raise JsonRpcInvalidParams("expected one argument: {proposal} (the result of slm.editSelection)")
    proposal_id = args[0]["proposal"].get("id")
    if not isinstance(proposal_id, str):
        raise JsonRpcInvalidParams("the proposal has no id: pass the result of slm.editSelection")
    proposal = _proposals(ls).get(proposal_id)
    if proposal is None:
        _show(ls, types.MessageType.Warning, "slm-lsp: this proposal is no longer available; ask again.")
        return {"applied": False, "error": "unknown proposal"}
    _gate_or_refuse(ls, proposal.uri)
    current = _document(ls, proposal.uri)
    if current is None or current.version != proposal.version or current.source != proposal.text:
        _proposals(ls).pop(proposal_id, None)
        _show(ls, types.MessageType.Warning, f"slm-lsp: {CHANGED}.")
        return {"applied": False, "error": CHANGED}
    capabilities = ls.client_capabilities
    if not (capabilities.workspace and capabilities.workspace.apply_edit):
        return {"applied": False, "error": "the editor cannot apply edits (workspace.applyEdit)"}
    response = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=types.WorkspaceEdit(changes={proposal.uri: [types.TextEdit(range=proposal.range, new_text=proposal.new_text)]}),
        label="slm: edit selection",
    ))
    applied = bool(response and response.applied)
    if not applied:
        reason = getattr(response, "failure_reason", None) or "the editor refused the edit"
        _show(ls, types.MessageType.Warning, f"slm-lsp: could not apply the edit: {reason}")
        return {"applied": False, "error": reason}
    _proposals(ls).pop(proposal_id, None)
    return {"applied": True}
