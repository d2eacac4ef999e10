"""Code actions end to end: the real server over stdio, real llama.cpp, tiny random-weight models.

Tiny models write nonsense, which is all these tests need: they check what is offered, the
progress, the documents and messages, cancellation, and that edits keep the file parsing.
"""

from __future__ import annotations

import asyncio
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from tree_sitter_language_pack import get_parser

from tests.actions.conftest import StartServer, capabilities, status
from tests.tiny_models import counting_model_path

EXPLAIN, DOCSTRING, FIX = "slm.explainSelection", "slm.writeDocstring", "slm.fixDiagnostic"

SOURCE = '''import math


def hypotenuse(a, b):
    squares = a * a + b * b
    return math.sqrt(squares)


class Counter:
    def __init__(self):
        self.count = 0

    def increment(self, step=1):
        self.count += step
        return self.count
'''


def span(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2))


def range_json(r: types.Range) -> dict[str, Any]:
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))


async def actions(client: LanguageClient, uri: str, r: types.Range, diagnostics: list[types.Diagnostic] | None = None,
                  only: list[str] | None = None) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=r,
        context=types.CodeActionContext(diagnostics=diagnostics or [], only=only)))
    assert result is not None
    return [a for a in result if isinstance(a, types.CodeAction)]


async def execute(client: LanguageClient, command: str, argument: dict[str, Any], msg_id: str | None = None) -> Any:
    params = types.ExecuteCommandParams(command=command, arguments=[argument])
    if msg_id is None:
        return await client.workspace_execute_command_async(params)
    return await asyncio.wrap_future(client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id))


def action_tokens(client: LanguageClient) -> list[str]:
    return [str(token) for token in client.progress_reports if str(token).startswith("slm-action-")]


def field(result: Any, name: str) -> Any:
    return result[name] if isinstance(result, dict) else getattr(result, name)


def has(result: Any, name: str) -> bool:
    return name in result if isinstance(result, dict) else hasattr(result, name)


def errors_in(source: str, grammar: str) -> int:
    """ERROR/MISSING nodes, counted with the grammar directly (independent of the code under test)."""
    tree = get_parser(grammar).parse(source.encode())  # type: ignore[arg-type]
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        count += node.is_error or node.is_missing
        stack.extend(node.children)
    return count


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


# -- offering --------------------------------------------------------------------------------------


async def test_capabilities_advertise_actions_and_commands(start_server: StartServer) -> None:
    client = await start_server()
    capabilities = client.init_result.capabilities  # type: ignore[attr-defined]
    provider = capabilities.code_action_provider
    assert isinstance(provider, types.CodeActionOptions)
    assert list(provider.code_action_kinds) == ["slm.explain", "refactor.slm.docstring", "quickfix.slm", "refactor.rewrite.slm"]
    assert not provider.resolve_provider
    assert {EXPLAIN, DOCSTRING, FIX, "slm.editSelection", "slm.applyEdit"} <= set(capabilities.execute_command_provider.commands)


async def test_actions_offered_for_selection_cursor_and_diagnostics(start_server: StartServer, workspace: Path) -> None:
    client = await start_server()
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)

    selected = await actions(client, uri, span(4, 4, 5, 29))  # the body of hypotenuse
    explain = [a for a in selected if a.command and a.command.command == EXPLAIN]
    assert len(explain) == 1 and explain[0].kind == "slm.explain"
    assert list(explain[0].command.arguments) == [{"uri": uri, "range": range_json(span(4, 4, 5, 29))}]
    docstring = [a for a in selected if a.command and a.command.command == DOCSTRING]
    assert len(docstring) == 1 and "`hypotenuse`" in docstring[0].title
    assert not [a for a in selected if a.command and a.command.command == FIX]  # no diagnostics sent

    at_cursor = await actions(client, uri, span(13, 8, 13, 8))  # inside Counter.increment
    titles = [a.title for a in at_cursor]
    assert any("Explain `increment`" in t for t in titles), titles
    assert any("docstring for `increment`" in t for t in titles), titles

    outside = await actions(client, uri, span(1, 0, 1, 0))  # a blank line at module level
    assert not outside

    problem = types.Diagnostic(range=span(5, 11, 5, 15), message="math is not defined", severity=types.DiagnosticSeverity.Error)
    with_problem = await actions(client, uri, span(5, 11, 5, 11), diagnostics=[problem])
    fixes = [a for a in with_problem if a.command and a.command.command == FIX]
    assert len(fixes) == 1 and fixes[0].kind == "quickfix.slm" and list(fixes[0].diagnostics) == [problem]
    assert fixes[0].command.arguments[0]["diagnostic"]["message"] == "math is not defined"

    only_fix = await actions(client, uri, span(5, 11, 5, 11), diagnostics=[problem], only=["quickfix"])
    assert [a.command.command for a in only_fix if a.command] == [FIX]


async def test_excluded_file_gets_no_action_and_no_document(start_server: StartServer, workspace: Path,
                                                             server_env: dict[str, str]) -> None:
    client = await start_server()
    secret_text = 'API_KEY = "sk-live-canary-000000000000000000"\ndef f():\n    return API_KEY\n'
    allowed = (workspace / "settings.py").as_uri()
    open_document(client, allowed, SOURCE)
    assert await actions(client, allowed, span(4, 4, 5, 29))  # the same request on an allowed file
    for name in (".env", "deploy/server.pem", ".ssh/config.py", "secrets.yaml"):
        uri = (workspace / name).as_uri()
        open_document(client, uri, secret_text, language="python")
        assert await actions(client, uri, span(0, 0, 2, 18)) == [], name
        assert await actions(client, uri, span(1, 5, 1, 5)) == [], name
        with pytest.raises(JsonRpcException, match="excluded"):
            await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(0, 0, 2, 18))})
    tmp = Path(server_env["TMPDIR"])
    assert not list(tmp.rglob("*.md")), "an explanation file was written for an excluded document"
    assert not client.shown_documents


# -- explain ---------------------------------------------------------------------------------------


async def test_explain_streams_progress_then_shows_a_private_document(start_server: StartServer, workspace: Path,
                                                                     server_env: dict[str, str]) -> None:
    client = await start_server(counting_model_path())  # text that never loops, so it streams on
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    result = await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(3, 0, 5, 29)), "maxTokens": 48})

    assert field(result, "stopReason") in ("length", "end", "stop", "repetition")
    assert field(result, "promptStyle") == "completion"  # the tiny nofim model has no chat template
    assert field(result, "lines") == [4, 6]
    tokens = action_tokens(client)
    assert len(tokens) == 1
    reports = client.progress_reports[tokens[0]]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    texts = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport) and r.message
             and r.message.startswith("This function")]
    assert texts, reports
    assert all(len(t) <= 160 for t in texts)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and reports[-1].message == "done"

    assert len(client.shown_documents) == 1
    shown = client.shown_documents[0]
    assert field(result, "document") == shown.uri
    path = Path(shown.uri.removeprefix("file://"))
    tmp = Path(server_env["TMPDIR"])
    assert path.is_relative_to(tmp) and path.suffix == ".md"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    markdown = path.read_text()
    assert markdown.startswith("# Explanation: `hypotenuse` geometry.py, lines 4–6")
    assert field(result, "text") in markdown and field(result, "text").startswith("This function")
    assert not [m for m in client.messages if m.type == types.MessageType.Info and "Explanation" in m.message]

    await client.shutdown_session()
    assert not path.exists() and not path.parent.exists(), "explanations must be deleted at shutdown"


async def test_explain_falls_back_to_show_message(start_server: StartServer, workspace: Path) -> None:
    client = await start_server(caps=capabilities(show_document=False, progress=False))
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    result = await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(4, 4, 5, 29)), "maxTokens": 24})
    assert field(result, "document") is None
    assert not client.shown_documents and not action_tokens(client)
    messages = [m.message for m in client.messages if m.type == types.MessageType.Info]
    assert len(messages) == 1 and messages[0].startswith("Explanation of geometry.py, lines 5–6:")
    assert field(result, "text") in messages[0]


async def test_chat_template_model_uses_the_template(start_server: StartServer, workspace: Path, chat_model: Path) -> None:
    client = await start_server(chat_model)
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    result = await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(4, 4, 5, 29)), "maxTokens": 16})
    assert field(result, "promptStyle") == "chat"
    assert field(result, "timings")["prompt_tokens"] > 50


# -- cancelling ------------------------------------------------------------------------------------

LONG = 2000  # tokens: far longer than any test waits


async def _first_report(client: LanguageClient, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        for token in action_tokens(client):
            if any(isinstance(r, types.WorkDoneProgressReport) and r.message and r.message.startswith("This")
                   for r in client.progress_reports[token]):
                return token
        assert time.monotonic() < deadline, "no streamed text"
        await asyncio.sleep(0.01)


async def test_cancel_from_progress_ui_stops_generation(start_server: StartServer, workspace: Path) -> None:
    client = await start_server(counting_model_path())  # text that never loops, so it streams on
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    pending = asyncio.ensure_future(
        execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(4, 4, 5, 29)), "maxTokens": LONG}))
    token = await _first_report(client)
    cancelled_at = time.monotonic()
    client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(pending, timeout=30)
    answered_in = time.monotonic() - cancelled_at
    assert field(result, "stopReason") == "cancelled"
    last = (await status(client)).last
    assert last.stopReason == "cancelled" and last.action == EXPLAIN
    assert last.generated_tokens < LONG / 4, last
    assert answered_in < 5, answered_in
    reports = client.progress_reports[token]
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and reports[-1].message == "cancelled"
    assert not client.shown_documents
    # The model thread is free again: a short explanation completes.
    result = await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(4, 4, 5, 29)), "maxTokens": 8})
    assert field(result, "stopReason") != "cancelled"


async def test_cancel_request_stops_generation(start_server: StartServer, workspace: Path) -> None:
    client = await start_server(counting_model_path())  # text that never loops, so it streams on
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    pending = asyncio.ensure_future(execute(
        client, EXPLAIN, {"uri": uri, "range": range_json(span(4, 4, 5, 29)), "maxTokens": LONG}, msg_id="explain-1"))
    token = await _first_report(client)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="explain-1"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(pending, timeout=30)
    deadline = time.monotonic() + 20
    while getattr((await status(client)).last, "action", None) != EXPLAIN:
        assert time.monotonic() < deadline, ("the cancelled generation never ended", (await status(client)).last)
        await asyncio.sleep(0.05)
    last = (await status(client)).last
    assert last.stopReason == "cancelled" and last.generated_tokens < LONG / 4, last
    reports = client.progress_reports[token]
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and reports[-1].message == "cancelled"


# -- docstrings ------------------------------------------------------------------------------------

DOC_CASES = {
    "python": ("geometry.py", SOURCE, span(13, 8, 13, 8), "python"),
    "javascript": ("util.js", "export function clamp(x, lo, hi) {\n  return Math.min(hi, Math.max(lo, x));\n}\n",
                   span(1, 4, 1, 4), "javascript"),
    "go": ("max.go", "package m\n\nfunc Max(a, b int) int {\n\tif a > b {\n\t\treturn a\n\t}\n\treturn b\n}\n",
           span(3, 2, 3, 2), "go"),
    "rust": ("lib.rs", "#[inline]\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n", span(2, 4, 2, 4), "rust"),
}


@pytest.mark.parametrize("language", sorted(DOC_CASES))
async def test_docstring_action_applies_an_edit_that_parses(start_server: StartServer, workspace: Path, language: str) -> None:
    name, text, where, grammar = DOC_CASES[language]
    client = await start_server()
    uri = (workspace / name).as_uri()
    open_document(client, uri, text, language=language)
    offered = [a for a in await actions(client, uri, where) if a.command and a.command.command == DOCSTRING]
    assert len(offered) == 1
    result = await execute(client, DOCSTRING, offered[0].command.arguments[0])
    assert field(result, "applied") is True, result
    edits = client.applied_edits  # type: ignore[attr-defined]
    assert len(edits) == 1
    changes = edits[0].edit.changes[uri]
    edited = apply_text_edits(text, list(changes))
    assert errors_in(text, grammar) == 0 and errors_in(edited, grammar) == 0, edited
    summary = field(result, "text")
    assert summary and summary.split()[0].lower() in edited.lower()
    if language == "python":
        assert '    def increment(self, step=1):\n        """' in edited
    elif language == "javascript":
        assert edited.startswith("/**\n * ") and "\n */\nexport function clamp" in edited
    elif language == "go":
        assert "\n// Max " in edited and "\nfunc Max" in edited
    else:
        assert edited.startswith("/// ") and "\n#[inline]\npub fn add" in edited


async def test_docstring_refuses_a_document_that_changed(start_server: StartServer, workspace: Path) -> None:
    client = await start_server()
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    pending = asyncio.ensure_future(execute(client, DOCSTRING, {"uri": uri, "range": range_json(span(4, 4, 4, 4))}))
    await asyncio.sleep(0)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(range=span(0, 0, 0, 0), text="# edited\n")]))
    result = await pending
    assert field(result, "applied") is False and field(result, "error") == "document changed"
    assert not client.applied_edits  # type: ignore[attr-defined]


# -- fixes -----------------------------------------------------------------------------------------


async def test_fix_command_reports_progress_and_never_breaks_the_file(start_server: StartServer, workspace: Path) -> None:
    broken = SOURCE.replace("squares = a * a + b * b", "squares = a * a + b *")
    client = await start_server()
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, broken)
    problem = types.Diagnostic(range=span(4, 24, 4, 25), message="SyntaxError: invalid syntax")
    fix = [a for a in await actions(client, uri, span(4, 24, 4, 24), diagnostics=[problem])
           if a.command and a.command.command == FIX]
    result = await execute(client, FIX, fix[0].command.arguments[0])
    assert action_tokens(client)
    if has(result, "error"):  # a random model rarely writes valid code: refusing is the right answer
        assert any("slm-lsp:" in m.message for m in client.messages)
        assert not client.applied_edits  # type: ignore[attr-defined]
    else:
        changes = client.applied_edits[0].edit.changes[uri]  # type: ignore[attr-defined]
        assert errors_in(apply_text_edits(broken, list(changes)), "python") <= errors_in(broken, "python")


# -- errors ----------------------------------------------------------------------------------------


async def test_bad_arguments_are_errors(start_server: StartServer, workspace: Path) -> None:
    client = await start_server()
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    with pytest.raises(JsonRpcException, match="not open"):
        await execute(client, EXPLAIN, {"uri": (workspace / "other.py").as_uri(), "range": range_json(span(0, 0, 0, 1))})
    with pytest.raises(JsonRpcException, match="range"):
        await execute(client, EXPLAIN, {"uri": uri, "range": "all of it"})
    with pytest.raises(JsonRpcException, match="maxTokens"):
        await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(4, 0, 5, 0)), "maxTokens": 0})
    with pytest.raises(JsonRpcException, match="document"):
        await execute(client, DOCSTRING, {"uri": uri, "range": range_json(span(1, 0, 1, 0))})
    result = await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(1, 0, 1, 0))})
    assert field(result, "error") == "select some code to explain"
    assert any("select some code" in m.message for m in client.messages)


# -- the actions model -----------------------------------------------------------------------------


async def test_actions_model_is_loaded_on_the_first_action_and_closed_when_idle(
        start_server: StartServer, workspace: Path, chat_model: Path) -> None:
    client = await start_server(options={"actionsModel": str(chat_model), "actionsIdleSeconds": 1})
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    arguments = {"uri": uri, "range": range_json(span(4, 4, 5, 29)), "maxTokens": 8}

    first = await execute(client, EXPLAIN, arguments)
    assert field(first, "model") == "tiny-qwen2" and field(first, "promptStyle") == "chat"
    assert field(first, "timings")["actions_model_load_ms"] > 0  # loaded by the action, not at start
    second = await execute(client, EXPLAIN, arguments)
    assert "actions_model_load_ms" not in field(second, "timings")  # kept while in use
    await asyncio.sleep(3)  # past actionsIdleSeconds: closed, so the next action loads it again
    third = await execute(client, EXPLAIN, arguments)
    assert field(third, "timings")["actions_model_load_ms"] > 0 and field(third, "model") == "tiny-qwen2"

    # Completions still run on the completion model.
    assert (await status(client)).model == "tiny-nofim"


async def test_an_unusable_actions_model_is_reported_and_the_server_keeps_serving(
        start_server: StartServer, workspace: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model")
    client = await start_server(options={"actionsModel": str(broken)})
    uri = (workspace / "geometry.py").as_uri()
    open_document(client, uri, SOURCE)
    result = await execute(client, EXPLAIN, {"uri": uri, "range": range_json(span(4, 4, 5, 29)), "maxTokens": 8})
    assert field(result, "stopReason") == "error" and "broken.gguf" in field(result, "error")
    errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert errors and "actionsModel" in errors[-1] and "broken.gguf" in errors[-1]
    assert (await status(client)).state == "ready"
