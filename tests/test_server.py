"""End-to-end LSP tests: the real server in a subprocess, driven by pytest-lsp's client.

These use the embedded Gemma 3 270M model (a real model, so completions are real text).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import SERVER_COMMAND
from tests.raw_lsp import RawServer
from tests.tiny_models import counting_model_path

URI = "file:///work/example.py"
# Tests check behaviour, not speed: no time budgets, so a loaded CI machine gives the same answers.
UNTIMED = {"maxPromptSeconds": 0, "maxGenerationSeconds": 0, "adaptiveBudgets": False}
StartServer = Callable[..., Awaitable[LanguageClient]]


def _capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
    )


@pytest_asyncio.fixture
async def start_server(embedded_model: Path, clean_env: dict[str, str]) -> AsyncIterator[StartServer]:
    """Start servers on demand; every one is shut down and stopped after the test."""
    clients: list[LanguageClient] = []

    async def start(*args: str, model: str | None = str(embedded_model), options: dict[str, Any] | None = None) -> LanguageClient:
        command = [*SERVER_COMMAND, *args] + (["--model", model] if model else [])
        client = await ClientServerConfig(server_command=command, server_env=clean_env).start()
        clients.append(client)
        await client.initialize_session(
            types.InitializeParams(capabilities=_capabilities(), initialization_options={**UNTIMED, **(options or {})})
        )
        return client

    yield start
    for client in clients:
        await client.shutdown_session()
        await client.stop()


async def status(client: LanguageClient) -> dict[str, Any]:
    result = await client.protocol.send_request_async("slm/status", {})
    return {k: getattr(result, k) for k in ("state", "error", "model", "family", "modelOrigin", "last")}


async def wait_settled(client: LanguageClient, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the custom status request until the model is loaded or has failed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await status(client)
        if current["state"] in ("ready", "failed"):
            return current
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"model never settled: {current}")
        await asyncio.sleep(0.1)


def open_document(client: LanguageClient, text: str, uri: str = URI, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        )
    )


async def inline(
    client: LanguageClient,
    line: int,
    character: int,
    uri: str = URI,
    trigger: types.InlineCompletionTriggerKind = types.InlineCompletionTriggerKind.Invoked,
    selected: types.SelectedCompletionInfo | None = None,
) -> types.InlineCompletionList:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=trigger, selected_completion_info=selected),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    return result


def _run(source: str, insert: str, line: int, character: int) -> dict[str, Any]:
    lines = source.split("\n")
    lines[line] = lines[line][:character] + insert + lines[line][character:]
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)  # noqa: S102 - the test's own fixture code
    return namespace


async def test_capabilities_and_load_progress(start_server: StartServer) -> None:
    client = await start_server()
    settled = await wait_settled(client)
    assert settled["state"] == "ready", settled
    assert settled["family"] == "none"  # Gemma 3 has no FIM tokens
    reports = next(iter(client.progress_reports.values()))
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert reports[-1].message == "model ready"


async def test_inline_completion_provider_is_advertised(embedded_model: Path, clean_env: dict[str, str]) -> None:
    client = await ClientServerConfig(
        server_command=[*SERVER_COMMAND, "--model", str(embedded_model)], server_env=clean_env
    ).start()
    try:
        response = await client.initialize_session(types.InitializeParams(capabilities=_capabilities()))
        assert response.capabilities.inline_completion_provider is not None
        sync = response.capabilities.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.change == types.TextDocumentSyncKind.Incremental
        await client.shutdown_session()
        assert client._server is not None and client._server.returncode == 0  # clean exit
    finally:
        await client.stop()


@pytest.mark.parametrize(
    "trigger", [types.InlineCompletionTriggerKind.Invoked, types.InlineCompletionTriggerKind.Automatic]
)
async def test_completion_makes_function_correct(start_server: StartServer, trigger: types.InlineCompletionTriggerKind) -> None:
    client = await start_server()
    source = "def add(a, b):\n    return\n"
    open_document(client, source)
    await wait_settled(client)
    result = await inline(client, 1, 10, trigger=trigger)
    assert len(result.items) == 1
    item = result.items[0]
    assert item.range == types.Range(start=types.Position(line=1, character=10), end=types.Position(line=1, character=10))
    namespace = _run(source, str(item.insert_text), 1, 10)
    assert namespace["add"](2, 3) == 5, item.insert_text


async def test_doubtful_suggestions_are_withheld_and_reported(start_server: StartServer) -> None:
    """The shipped minConfidence (0.3) on a random-weight model (every token p ~ 0.013): no
    item, and slm/status says why; at minConfidence 0 the same request gets the suggestion."""
    client = await start_server(model=str(counting_model_path()))
    assert (await wait_settled(client))["state"] == "ready"
    open_document(client, "def add(a, b):\n    return\n")
    assert not (await inline(client, 1, 10)).items
    result = await client.protocol.send_request_async("slm/status", {})
    gating, last = result.gating, result.last
    assert (gating.minConfidence, gating.lastGated, gating.gated) == (0.3, True, 1)
    assert 0 < gating.lastConfidence < 0.3 and last.confidence == gating.lastConfidence and last.gated is True
    assert result.jobs.gated == 1
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"slm": {"minConfidence": 0}}))
    open_document(client, "def sub(a, b):\n    return\n", uri="file:///work/other.py")
    items = (await inline(client, 1, 10, uri="file:///work/other.py")).items
    assert items and items[0].insert_text
    gating = (await client.protocol.send_request_async("slm/status", {})).gating
    assert (gating.minConfidence, gating.lastGated, gating.gated) == (0.0, False, 1) and 0 < gating.lastConfidence < 0.3
    assert not client.messages  # nothing to complain about


async def test_selected_completion_info_is_extended(start_server: StartServer) -> None:
    client = await start_server()
    source = "def add(a, b):\n    ret\n"
    open_document(client, source)
    await wait_settled(client)
    popup = types.SelectedCompletionInfo(
        range=types.Range(start=types.Position(line=1, character=4), end=types.Position(line=1, character=7)),
        text="return",
    )
    result = await inline(client, 1, 7, selected=popup)
    assert len(result.items) == 1
    item = result.items[0]
    assert str(item.insert_text).startswith("return")
    assert len(str(item.insert_text)) > len("return")
    assert item.range == popup.range
    namespace = _run(source.replace("ret\n", "\n"), str(item.insert_text), 1, 4)
    assert namespace["add"](2, 3) == 5, item.insert_text


async def test_incremental_changes_with_utf16_positions(start_server: StartServer) -> None:
    client = await start_server()
    open_document(client, 'note = "😀 日本"\n')
    await wait_settled(client)

    def change(line: int, start: int, end: int, text: str, version: int) -> None:
        span = types.Range(start=types.Position(line=line, character=start), end=types.Position(line=line, character=end))
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
                content_changes=[types.TextDocumentContentChangePartial(range=span, text=text)],
            )
        )

    # The emoji is 2 UTF-16 units: "日本" starts at unit 11, the closing quote at 13.
    change(0, 11, 13, "世界", 2)  # replace 日本 with 世界
    change(0, 14, 14, "\n\ndef add(a, b):\n    return", 3)  # append after the closing quote
    change(1, 0, 0, 'msg = note + "✓"', 4)  # fill the empty line 1
    expected = 'note = "😀 世界"\nmsg = note + "✓"\ndef add(a, b):\n    return'
    namespace = _run(expected, "", 0, 0)
    assert namespace["msg"] == "😀 世界✓"
    result = await inline(client, 3, 10)
    assert len(result.items) == 1
    namespace = _run(expected, str(result.items[0].insert_text), 3, 10)
    assert namespace["add"](4, 5) == 9
    # The range is reported in UTF-16 units on a line holding an astral character.
    change(1, 16, 16, "  # 😀", 5)
    result = await inline(client, 1, 22)
    for item in result.items:
        assert item.range is not None and item.range.start == types.Position(line=1, character=22)


async def test_unknown_document_and_bad_positions_are_errors(start_server: StartServer) -> None:
    client = await start_server()
    open_document(client, "def add(a, b):\n    return\n")
    await wait_settled(client)
    with pytest.raises(JsonRpcException, match="not open"):
        await inline(client, 0, 0, uri="file:///work/never-opened.py")
    with pytest.raises(JsonRpcException, match="past the end"):
        await inline(client, 40, 0)
    # Still serving after every error.
    result = await inline(client, 1, 10)
    assert len(result.items) == 1


def test_malformed_requests_get_errors_and_the_server_keeps_serving(embedded_model: Path, clean_env: dict[str, str]) -> None:
    """Negative positions and wrong types cannot be sent by a typed client: use raw frames."""
    server = RawServer([*SERVER_COMMAND, "--model", str(embedded_model)], clean_env)
    try:
        server.request("initialize", {"capabilities": {}, "processId": None, "initializationOptions": UNTIMED})
        server.notify("initialized", {})
        server.notify("textDocument/didOpen", {
            "textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": "def add(a, b):\n    return\n"}
        })
        bad_params = [
            {"textDocument": {"uri": URI}, "position": {"line": -1, "character": 0}, "context": {"triggerKind": 1}},
            {"textDocument": {"uri": URI}, "position": {"line": 0, "character": -5}, "context": {"triggerKind": 1}},
            {"textDocument": {"uri": URI}, "position": {"line": "one", "character": 0}, "context": {"triggerKind": 1}},
            {"textDocument": {"uri": URI}},
        ]
        for params in bad_params:
            response = server.request("textDocument/inlineCompletion", params)
            assert "error" in response, response
            assert response["error"]["message"]
        good = {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 10}, "context": {"triggerKind": 1}}
        deadline = time.monotonic() + 60
        while not (items := server.request("textDocument/inlineCompletion", good)["result"]["items"]):
            assert time.monotonic() < deadline, "no completion after malformed requests"
            time.sleep(0.2)
        assert items[0]["insertText"]
        assert server.close() == 0
    finally:
        server.process.kill()


@pytest.mark.parametrize("problem", ["missing", "empty", "text"])
async def test_bad_model_reports_once_and_keeps_serving(start_server: StartServer, tmp_path: Path, problem: str) -> None:
    model = tmp_path / "model.gguf"
    if problem == "empty":
        model.write_bytes(b"")
    elif problem == "text":
        model.write_text("this is not a model\n")
    client = await start_server(model=str(model))
    open_document(client, "def add(a, b):\n    return\n")
    settled = await wait_settled(client)
    assert settled["state"] == "failed"
    assert str(model) in settled["error"]
    for _ in range(3):
        assert not (await inline(client, 1, 10)).items
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1 and str(model) in errors[0].message


async def test_invalid_initialization_options_are_reported(start_server: StartServer) -> None:
    client = await start_server(options={"nCtx": "big"})
    await wait_settled(client)
    assert any("nCtx" in m.message for m in client.messages)
    assert (await status(client))["state"] == "ready"  # loaded with the defaults
    open_document(client, "def add(a, b):\n    return\n")
    await inline(client, 1, 10)  # answered (with the default time budgets the text may be cut)


FIZZBUZZ = 'def fizzbuzz(n):\n    """Return "Fizz", "Buzz", "FizzBuzz" or the number."""\n    if n % 15 == 0:\n        return "FizzBuzz"\n'
LONG = {"maxTokensMulti": 1500}  # a generation that takes far longer than the test's cancel delay


async def test_cancel_request_stops_the_generation(start_server: StartServer) -> None:
    client = await start_server(options=LONG)
    open_document(client, FIZZBUZZ)
    await wait_settled(client)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        position=types.Position(line=4, character=0),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    )
    pending = client.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="long-one")
    await asyncio.sleep(0.5)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="long-one"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wrap_future(pending)
    # The generation itself stopped early (it would run for 1500 tokens otherwise) ...
    deadline = asyncio.get_running_loop().time() + 20
    while not getattr(last := (await status(client))["last"], "stopReason", None):
        assert asyncio.get_running_loop().time() < deadline, "the cancelled generation never ended"
        await asyncio.sleep(0.1)
    assert last.stopReason == "cancelled" and last.generated_tokens < 1500
    # ... and the worker is free for the next request.
    open_document(client, "def add(a, b):\n    return\n", uri="file:///work/other.py")
    result = await inline(client, 1, 10, uri="file:///work/other.py")
    assert len(result.items) == 1
    assert (await status(client))["last"].stopReason == "stop"


async def test_newer_request_supersedes_older_one(start_server: StartServer) -> None:
    client = await start_server(options=LONG)
    open_document(client, FIZZBUZZ)
    await wait_settled(client)
    first = asyncio.ensure_future(inline(client, 4, 0))
    await asyncio.sleep(0.5)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="def add(a, b):\n    return\n")],
        )
    )
    second = await inline(client, 1, 10)
    assert not (await first).items  # superseded: no stale suggestion
    assert len(second.items) == 1


def test_tcp_transport(embedded_model: Path, clean_env: dict[str, str]) -> None:
    import socket
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*SERVER_COMMAND, "--tcp", f"127.0.0.1:{port}", "--model", str(embedded_model)],
        env=clean_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "server never listened"
                time.sleep(0.1)
        with connection:
            body = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}'
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            reply = b""
            while b"inlineCompletionProvider" not in reply:
                chunk = connection.recv(65536)
                assert chunk, "connection closed before the initialize result"
                reply += chunk
    finally:
        process.kill()
        process.wait()


async def test_burst_of_requests_leaves_one_generation(start_server: StartServer) -> None:
    """Ten requests back to back (an editor without debounce): only the last one is answered."""
    client = await start_server(options=LONG)
    open_document(client, FIZZBUZZ)
    await wait_settled(client)
    burst = [asyncio.ensure_future(inline(client, 4, 0)) for _ in range(9)]
    await asyncio.sleep(0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="def add(a, b):\n    return\n")],
        )
    )
    last = await inline(client, 1, 10)
    results = await asyncio.gather(*burst)
    assert all(not r.items for r in results)
    assert len(last.items) == 1


@pytest.mark.parametrize("enabled", [True, False])
async def test_completion_fallback_is_switchable(start_server: StartServer, enabled: bool) -> None:
    client = await start_server(options={"completionFallback": enabled})
    source = "def add(a, b):\n    return\n"
    open_document(client, source)
    await wait_settled(client)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=1, character=10))
    )
    assert isinstance(result, types.CompletionList)
    if not enabled:
        assert result.items == [] or not result.items
        return
    assert len(result.items) == 1
    edit = result.items[0].text_edit
    assert isinstance(edit, types.TextEdit) and edit.range.start == types.Position(line=1, character=10)
    assert _run(source, edit.new_text, 1, 10)["add"](2, 3) == 5


async def test_why_excluded_request(start_server: StartServer) -> None:
    client = await start_server()
    await wait_settled(client)
    answer = await client.protocol.send_request_async("slm/whyExcluded", {"uri": "file:///work/.env"})
    assert answer.excluded is True and ".env" in answer.rule
    answer = await client.protocol.send_request_async("slm/whyExcluded", {"uri": "file:///work/app.py"})
    assert answer.excluded is False
