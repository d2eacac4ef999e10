"""Warm before the first key and after an accept, through the real server over stdio
(issue 16 items 2 and 3): ``slm/prefetch``, prefetch after ``didOpen`` and after a typing
pause, the ``slm.acceptedCompletion`` command, and what ``slm/status`` says the cache holds.

A tiny random-weight model keeps it fast; the checks are on what the server did (its
status), never on how long it took.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import SERVER_COMMAND
from tests.tiny_models import tiny_model_path

UNTIMED = {"maxPromptSeconds": 0, "maxGenerationSeconds": 0, "adaptiveBudgets": False}
SOURCE = "import math\n\n\ndef area(radius):\n    return math.pi * radius ** 2\n\n\ndef perimeter(radius):\n    return "
ENV_CANARY = "CANARYprefetchEnv5Rk2Wq8Zt"


@pytest_asyncio.fixture
async def client(tmp_path: Path, clean_env: dict[str, str]) -> AsyncIterator[LanguageClient]:
    command = [*SERVER_COMMAND, "--model", str(tiny_model_path("deepseek-coder"))]
    started = await ClientServerConfig(server_command=command, server_env=clean_env).start()
    started.initialized = await started.initialize_session(  # type: ignore[attr-defined]
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=tmp_path.as_uri(),
            initialization_options=UNTIMED,
        )
    )
    yield started
    await started.shutdown_session()
    await started.stop()


async def _status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("slm/status", {})


def _plain(value: Any) -> Any:
    """pygls hands unknown JSON objects back as named tuples: turn them into dicts."""
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    return value


async def _cache_until(client: LanguageClient, done: Any, timeout: float = 60.0) -> dict[str, Any]:
    """Poll slm/status until ``done(cache)`` holds (the server works in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await _status(client)
        cache = _plain(status.cache)
        cache = {"warmTokens": cache["warmTokens"], "prefetches": cache["prefetches"], "last": cache["lastPrefetch"]}
        if status.state == "ready" and done(cache):
            return cache
        assert asyncio.get_running_loop().time() < deadline, f"never happened: {cache}"
        await asyncio.sleep(0.05)


def _open(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
    )


def _end(text: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(line=len(lines) - 1, character=len(lines[-1]))


def _prefetch(client: LanguageClient, uri: str, position: types.Position) -> None:
    client.protocol.notify(
        "slm/prefetch", {"textDocument": {"uri": uri}, "position": {"line": position.line, "character": position.character}}
    )


async def test_open_warms_the_prompt_and_slm_prefetch_warms_the_cursor(client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "geometry.py").as_uri()
    _open(client, uri, SOURCE)
    opened = await _cache_until(client, lambda c: c["last"].get("reason") == "open")
    assert opened["last"]["outcome"] == "warm" and opened["warmTokens"] > 0
    _prefetch(client, uri, _end(SOURCE))
    warmed = await _cache_until(client, lambda c: c["last"].get("reason") == "client")
    assert warmed["last"]["outcome"] == "warm"
    assert warmed["warmTokens"] == warmed["last"]["prompt_tokens"]  # the whole prompt is cached
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=_end(SOURCE),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
    )
    assert result is not None
    last = (await _status(client)).last
    assert last.evaluated_tokens == 1  # only the last token: the prefetch evaluated the rest


async def test_excluded_file_is_never_prefetched(client: LanguageClient, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    text = f"TOKEN={ENV_CANARY}\nOTHER="
    env.write_text(text)
    _open(client, env.as_uri(), text, "dotenv")
    _prefetch(client, env.as_uri(), _end(text))
    before = await _cache_until(client, lambda c: c["last"].get("reason") == "client")
    assert before["warmTokens"] in (0, None)  # nothing of the file was evaluated
    assert before["last"]["outcome"] == "excluded" and ENV_CANARY not in str(before)
    # typing in it, then pausing, does not prefetch it either
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=env.as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(_end(text), _end(text)), text="x")],
        )
    )
    after = await _cache_until(client, lambda c: c["last"].get("reason") == "pause")
    assert after["last"]["outcome"] == "excluded" and after["prefetches"]["excluded"] > before["prefetches"]["excluded"]
    assert after["warmTokens"] in (0, None) and after["prefetches"].get("warm", 0) == 0


async def test_typing_pause_prefetches_at_the_end_of_the_last_edit(client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "geometry.py").as_uri()
    _open(client, uri, SOURCE)
    await _cache_until(client, lambda c: c["last"].get("reason") == "open")
    typed = "2 * math.pi"
    for version, char in enumerate(typed, start=2):
        position = _end(SOURCE + typed[: version - 2])
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(range=types.Range(position, position), text=char)],
            )
        )
    paused = await _cache_until(client, lambda c: c["last"].get("reason") == "pause")
    assert paused["prefetches"].get("pause", 0) == 0  # counted by outcome, not by reason
    assert paused["last"]["outcome"] == "warm"
    counts = paused["prefetches"]
    assert counts.get("warm", 0) == 2  # one after the open, one after the pause: not one per key


async def test_accept_command_computes_the_next_suggestion_at_once(client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "geometry.py").as_uri()
    _open(client, uri, SOURCE)
    await _cache_until(client, lambda c: c["last"].get("reason") == "open")
    capabilities = client.initialized.capabilities  # type: ignore[attr-defined]
    assert capabilities is not None and capabilities.execute_command_provider is not None
    assert "slm.acceptedCompletion" in capabilities.execute_command_provider.commands
    first = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=_end(SOURCE),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
    )
    assert isinstance(first, types.InlineCompletionList)
    command = first.items[0].command if first.items else None
    accepted = "2 * math.pi * radius"  # what the user accepted (the tiny model's own text is random)
    if command is not None:  # the command the editor runs on accept carries the item's start and text
        assert command.command == "slm.acceptedCompletion"
        argument = command.arguments[0]
        assert (argument["line"], argument["character"]) == (_end(SOURCE).line, _end(SOURCE).character)
    # the command arrives before the didChange that inserts the text (both orders happen)
    executed = client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="slm.acceptedCompletion",
            arguments=[{"uri": uri, "line": _end(SOURCE).line, "character": _end(SOURCE).character, "text": accepted}],
        )
    )
    await asyncio.sleep(0.05)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(_end(SOURCE), _end(SOURCE)), text=accepted)],
        )
    )
    await executed
    generated = (await _status(client)).jobs.generated
    after = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=_end(SOURCE + accepted),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
    )
    assert after is not None
    status = await _status(client)
    assert status.last.stopReason in ("cache", "typed-ahead")  # served from what the accept computed
    assert status.jobs.generated == generated  # no second generation
