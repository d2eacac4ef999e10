"""Prefetch (warming the prompt before the first key) and the suggestion after an accept.

In-process tests check the privacy rules of the new path with canaries; the server tests
drive the real server over stdio with the embedded model, as an editor would.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from slm_lsp.config.settings import Settings
from slm_lsp.context import ContextEngine
from slm_lsp.engine.local_engine import Engine
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.privacy import PrivacyGate
from tests.test_privacy_end_to_end import (  # noqa: F401 - fixture
    CANARIES,
    DETERMINISTIC,
    capturing_pipeline,
    workspace,
)
from tests.test_server import (  # noqa: F401
    URI,
    StartServer,
    inline,
    open_document,
    start_server,
    wait_settled,
)
from tests.tiny_models import tiny_model_path


def test_prefetch_never_evaluates_an_excluded_file_nor_a_canary(workspace: Path, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    pipeline, prompts = capturing_pipeline(workspace, "warm")
    main = workspace / "main.py"
    text = main.read_text()
    with caplog.at_level(logging.DEBUG):
        warm = pipeline.prefetch(CompletionRequest(text=text, offset=len(text), uri=main.as_uri(), language="python"))
        outcomes = [
            pipeline.prefetch(CompletionRequest(text=path.read_text(), offset=3, uri=path.as_uri()))["outcome"]
            for path in (workspace / ".env", workspace / "secrets" / "vault.py")
        ]
    pipeline.context.shutdown()
    assert warm["outcome"] == "warm" and pipeline.engine.cached_tokens == warm["prompt_tokens"]
    assert outcomes == ["excluded", "excluded"]
    assert len(prompts) == 1  # the excluded files never reached the model
    assert "<redacted:" in prompts[0]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for name, canary in CANARIES.items():
        assert canary not in prompts[0], f"{name} canary reached a prefetched prompt"
        assert canary not in logged, f"{name} canary reached the log"


def test_a_prefetched_prompt_is_what_the_request_then_reuses() -> None:
    engine = Engine.load(tiny_model_path("qwen2.5-coder"), n_ctx=2048, n_threads=1)
    pipeline = Pipeline(engine, Settings().replace(DETERMINISTIC), ContextEngine([], PrivacyGate()))
    text = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return "
    request = CompletionRequest(text=text, offset=len(text), uri="file:///tmp/typing_prefetch.py", language="python")
    warm = pipeline.prefetch(request)
    assert warm["outcome"] == "warm" and warm["evaluated_tokens"] == warm["prompt_tokens"]
    result = pipeline.complete(request)
    assert result.timings["evaluated_tokens"] == 1  # only the last token, for its logits
    assert result.timings["reused_tokens"] == warm["prompt_tokens"] - 1


async def _cache(client: LanguageClient) -> dict[str, Any]:
    result = await client.protocol.send_request_async("slm/status", {})
    cache = result.cache
    return {"warmTokens": cache.warmTokens, "lastPrefetch": _plain(cache.lastPrefetch), "last": _plain(result.last)}


def _plain(value: Any) -> dict[str, Any]:
    """pygls hands custom results over as named tuples; empty objects may come as None."""
    return dict(value._asdict()) if value else {}


async def _until(client: LanguageClient, check: Any, timeout: float = 120.0) -> dict[str, Any]:
    """Poll slm/status until ``check(cache)`` holds (a generous bound, not a speed target)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        cache = await _cache(client)
        if check(cache):
            return cache
        assert asyncio.get_running_loop().time() < deadline, f"never reached: {cache}"
        await asyncio.sleep(0.05)


SOURCE = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return \n"


async def test_open_and_slm_prefetch_warm_the_prompt(start_server: StartServer) -> None:  # noqa: F811
    client = await start_server()
    await wait_settled(client)
    open_document(client, SOURCE)
    opened = await _until(client, lambda c: c["lastPrefetch"].get("reason") == "open")
    assert opened["lastPrefetch"]["outcome"] == "warm" and opened["warmTokens"] > 0
    client.protocol.notify("slm/prefetch", {"textDocument": {"uri": URI}, "position": {"line": 5, "character": 11}})
    warmed = await _until(client, lambda c: c["lastPrefetch"].get("reason") == "client")
    assert warmed["lastPrefetch"]["outcome"] == "warm"
    assert warmed["warmTokens"] == warmed["lastPrefetch"]["prompt_tokens"]
    await inline(client, 5, 11)
    served = await _cache(client)
    assert served["last"]["evaluated_tokens"] == 1, served  # the request found its prompt warm


async def test_prefetch_of_an_excluded_file_evaluates_nothing(start_server: StartServer) -> None:  # noqa: F811
    client = await start_server()
    await wait_settled(client)
    env = "file:///work/.env"
    open_document(client, f"TOKEN={CANARIES['env']}\n", uri=env, language="dotenv")
    opened = await _until(client, lambda c: c["lastPrefetch"].get("reason") == "open")
    client.protocol.notify("slm/prefetch", {"textDocument": {"uri": env}, "position": {"line": 0, "character": 6}})
    asked = await _until(client, lambda c: c["lastPrefetch"].get("reason") == "client")
    assert opened["lastPrefetch"]["outcome"] == asked["lastPrefetch"]["outcome"] == "excluded"
    assert asked["warmTokens"] == 0  # nothing was ever evaluated


async def test_a_typing_pause_warms_the_prompt_at_the_edit(start_server: StartServer) -> None:  # noqa: F811
    client = await start_server()
    await wait_settled(client)
    open_document(client, SOURCE)
    await _until(client, lambda c: c["lastPrefetch"].get("reason") == "open")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=5, character=11), end=types.Position(line=5, character=11)),
            text="a")],
    ))
    paused = await _until(client, lambda c: c["lastPrefetch"].get("reason") == "pause")
    assert paused["lastPrefetch"]["outcome"] == "warm"
    await inline(client, 5, 12)
    assert (await _cache(client))["last"]["evaluated_tokens"] == 1


@pytest.mark.parametrize("edit_first", [True, False])
async def test_accept_computes_the_next_suggestion_at_once(start_server: StartServer, edit_first: bool) -> None:  # noqa: F811
    client = await start_server()
    await wait_settled(client)
    open_document(client, SOURCE)
    shown = await inline(client, 5, 11)
    assert len(shown.items) == 1
    item = shown.items[0]
    assert item.command is not None and item.command.command == "slm.acceptedCompletion"
    accept = item.command.arguments[0]
    text = str(item.insert_text)
    assert accept == {"uri": URI, "line": 5, "character": 11, "text": text}
    lines = SOURCE.split("\n")
    lines[5] = lines[5][:11] + text + lines[5][11:]
    change = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="\n".join(lines))],
    )
    if edit_first:
        client.text_document_did_change(change)
    command = asyncio.ensure_future(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=item.command.command, arguments=item.command.arguments)))
    if not edit_first:
        await asyncio.sleep(0.05)  # the command arrives first; the edit follows
        client.text_document_did_change(change)
    await command
    assert "\n" not in text  # a single-line suggestion: the next position is on the same line
    await inline(client, 5, 11 + len(text))
    served = await _cache(client)
    assert served["last"]["stopReason"] == "cache", served  # the next suggestion was already computed
