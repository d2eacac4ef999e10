"""The ``openai`` backend against a real completions server on 127.0.0.1.

tests/completion_server.py serves POST /v1/completions with llama-cpp-python over the same
tiny model the local engine loads, so a completion through the remote must equal the
local one (greedy), byte for byte. The server records every request: the tests check the
prompt ids are exactly the local engine's, that no excluded or secret text is in them,
and that the API key travels in the Authorization header only.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from slm_lsp.config.settings import DETERMINISTIC, Settings
from slm_lsp.context import ContextEngine
from slm_lsp.engine.local_engine import Engine
from slm_lsp.engine.remote_engine import RemoteEngine
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.privacy import PrivacyGate
from tests.completion_server import CompletionServer
from tests.conftest import SERVER_COMMAND
from tests.test_privacy_end_to_end import CANARIES, workspace  # noqa: F401 - the canary workspace fixture
from tests.test_server import UNTIMED, open_document, status, wait_settled
from tests.tiny_models import counting_model_path, tiny_model_path

# StarCoder2 layout: FIM and repository tokens, the richest prompt. (The tiny qwen2.5-coder
# and deepseek-coder models echo the FIM-middle token first: the local engine stops at it,
# a server renders it as no text and goes on, so both answers are empty — equal, but
# proving nothing.)
VOCAB = "starcoder"
SOURCES = [
    ("def add(a, b):\n    return\n", 1, 10),
    ("import os\n\n\ndef read(path):\n    with open(path) as f:\n        \n", 5, 8),
    ("class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        \n", 5, 8),
]
API_KEY = "sk-CANARYapikey7Hq2Zp9Lw4Xv"


def _settings(**remote: Any) -> Settings:
    return Settings().replace({**DETERMINISTIC, "nCtx": 2048, **remote})


def _request(text: str, line: int, character: int, uri: str | None = None) -> CompletionRequest:
    lines = text.split("\n")
    offset = sum(len(part) + 1 for part in lines[:line]) + character
    return CompletionRequest(text=text, offset=offset, uri=uri, language="python")


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture(scope="module")
def model() -> Path:
    return tiny_model_path(VOCAB)


@pytest.fixture(scope="module")
def engine(model: Path) -> Iterator[Engine]:
    engine = Engine.load(model, n_ctx=2048, n_threads=1)
    yield engine
    engine.close()


@pytest.fixture
def local(engine: Engine) -> Pipeline:
    """A fresh local pipeline (empty result cache) over the shared engine."""
    return Pipeline(engine, _settings())


@pytest.fixture(scope="module")
def served(model: Path) -> Iterator[CompletionServer]:
    with CompletionServer(model) as server:
        yield server


def _remote(model: Path, notices: list[str], context: ContextEngine | None = None, **remote: Any) -> Pipeline:
    # The test server decodes twice when asked for logprobs (see completion_server): on a busy
    # machine that can pass the default 5 s, and a retry would be a second request.
    settings = _settings(backend="openai", **{"remoteTimeoutSeconds": 60, **remote})
    return Pipeline(RemoteEngine(model, settings, notices.append), settings, context)


@pytest.mark.parametrize("vocab", ["starcoder", "qwen2"])  # FIM with repository tokens; prefix-only
def test_remote_completion_equals_local(vocab: str) -> None:
    model = tiny_model_path(vocab)
    engine = Engine.load(model, n_ctx=2048, n_threads=1)
    local = Pipeline(engine, _settings())
    local_prompts: list[list[int]] = []

    def capture(ids, **kwargs):  # type: ignore[no-untyped-def]
        local_prompts.append(list(ids))
        return Engine.generate(engine, ids, **kwargs)

    engine.generate = capture  # type: ignore[method-assign]
    notices: list[str] = []
    with CompletionServer(model) as served:
        remote = _remote(model, notices, remoteUrl=served.url)
        try:
            for text, line, character in SOURCES:
                expected = local.complete(_request(text, line, character))
                got = remote.complete(_request(text, line, character))
                assert got.raw == expected.raw and got.raw, (text, got.raw, expected.raw)
                assert (got.insert_text, got.start, got.end) == (expected.insert_text, expected.start, expected.end)
        finally:
            engine.close()
    # The server evaluated exactly the token ids the local engine did, FIM tokens included.
    assert [request["body"]["prompt"] for request in served.requests] == local_prompts
    body = served.requests[0]["body"]
    assert body["temperature"] == 0 and body["stream"] is False and body["stop"] and body["max_tokens"] > 0
    assert all(request["path"] == "/v1/completions" for request in served.requests)
    assert notices == [] and remote.engine.status()["state"] == "remote"  # type: ignore[attr-defined]
    remote.engine.close()


@pytest.mark.parametrize("returns_logprobs", [True, False])
def test_remote_confidence_gates_like_local_when_the_server_returns_logprobs(returns_logprobs: bool) -> None:
    """The shipped minConfidence on a random-weight model whose text never repeats (every token
    p ~ 0.013): with the server's logprobs the remote suggestion is scored and withheld as the
    local one is; from a server without them no confidence is known and nothing is gated."""
    model = counting_model_path()
    request = _request("def add(a, b):\n    return\n", 1, 10)
    engine = Engine.load(model, n_ctx=2048, n_threads=1)
    try:
        shown = Pipeline(engine, _settings(minConfidence=0)).complete(request)  # what would be shown
        local = Pipeline(engine, Settings().replace({**DETERMINISTIC, "nCtx": 2048, "minConfidence": 0.3})).complete(request)
    finally:
        engine.close()
    assert shown.completion and local.gated and local.confidence is not None
    notices: list[str] = []
    with CompletionServer(model, logprobs=returns_logprobs) as served:
        remote = _remote(model, notices, remoteUrl=served.url, minConfidence=0.3)
        got = remote.complete(request)
        remote.engine.close()
    assert served.requests[0]["body"]["logprobs"] == 1 and notices == []
    assert got.raw == shown.raw
    if returns_logprobs:
        assert got.gated and got.completion == ""
        assert got.confidence == pytest.approx(local.confidence, rel=1e-3)
    else:
        assert not got.gated and got.confidence is None and got.completion == shown.completion


def test_text_prompts_render_special_tokens(model: Path, served: CompletionServer) -> None:
    notices: list[str] = []
    remote = _remote(model, notices, remoteUrl=served.url + "/v1", remotePrompt="text", remoteModel="tiny")
    served.requests.clear()
    result = remote.complete(_request(*SOURCES[0]))
    assert notices == [] and result.raw
    (request,) = served.requests
    assert request["path"] == "/v1/completions"  # a base URL ending in /v1 is not doubled
    prompt = request["body"]["prompt"]
    engine = remote.engine
    texts = engine.facts.token_text  # type: ignore[attr-defined]
    assert isinstance(prompt, str) and prompt.startswith(texts[engine.fim.pre]) and prompt.endswith(texts[engine.fim.mid])
    assert request["body"]["model"] == "tiny"


def test_remote_down_falls_back_to_the_local_model_and_says_so_once(model: Path, local: Pipeline) -> None:
    notices: list[str] = []
    url = _closed_port_url()
    remote = _remote(model, notices, remoteUrl=url)
    for text, line, character in SOURCES[:2]:
        got = remote.complete(_request(text, line, character))
        assert got.raw and got.raw == local.complete(_request(text, line, character)).raw
    assert len(notices) == 1
    assert url in notices[0] and "local model" in notices[0]
    state = remote.engine.status()  # type: ignore[attr-defined]
    assert state["state"] == "fallback" and state["localLoaded"] and state["error"]


def test_timeout_retries_once_then_falls_back(model: Path, local: Pipeline) -> None:
    notices: list[str] = []
    with CompletionServer(model, hang=True) as hanging:
        remote = _remote(model, notices, remoteUrl=hanging.url, remoteTimeoutSeconds=0.2)
        got = remote.complete(_request(*SOURCES[0]))
        assert len(hanging.requests) == 2  # the first attempt and one retry
    assert got.raw and got.raw == local.complete(_request(*SOURCES[0])).raw
    assert len(notices) == 1 and "no answer within 0.2 s" in notices[0]


def test_excluded_and_secret_text_never_reaches_the_remote(
    model: Path, workspace: Path, served: CompletionServer, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLM_TEST_REMOTE_KEY", API_KEY)
    gate = PrivacyGate([workspace])
    context = ContextEngine([workspace], gate)
    context.start_indexing()
    assert context.wait_until_indexed(60)
    notices: list[str] = []
    remote = _remote(model, notices, context, remoteUrl=served.url, remoteApiKeyEnv="SLM_TEST_REMOTE_KEY")
    served.requests.clear()
    main = workspace / "main.py"
    text = main.read_text()
    with caplog.at_level(logging.DEBUG):
        for offset in (len(text), text.index("password") + 12, text.index("upload(") + 7):
            remote.complete(CompletionRequest(text=text, offset=offset, uri=main.as_uri(), language="python"))
        for excluded in (workspace / ".env", workspace / "secrets" / "vault.py"):
            result = remote.complete(CompletionRequest(text=excluded.read_text(), offset=6, uri=excluded.as_uri()))
            assert result.stop_reason == "excluded"
    context.shutdown()
    assert notices == [] and len(served.requests) == 3  # the excluded files never produced a request
    vocab = remote.engine._llm  # type: ignore[attr-defined]
    prompts = [vocab.detokenize(r["body"]["prompt"], special=True).decode("utf-8", "replace") for r in served.requests]
    assert any("def upload" in prompt for prompt in prompts)  # cross-file context did flow
    assert all("<redacted:" in prompt for prompt in prompts)
    bodies = [json.dumps(r["body"]) for r in served.requests]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for name, canary in {**CANARIES, "api key": API_KEY}.items():
        for sent in [*prompts, *bodies]:
            assert canary not in sent, f"{name} canary reached the remote"
        assert canary not in logged, f"{name} canary reached the log"
    assert all(r["headers"]["Authorization"] == f"Bearer {API_KEY}" for r in served.requests)


def test_missing_api_key_variable_is_named_and_falls_back(model: Path, served: CompletionServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLM_TEST_UNSET_KEY", raising=False)
    notices: list[str] = []
    remote = _remote(model, notices, remoteUrl=served.url, remoteApiKeyEnv="SLM_TEST_UNSET_KEY")
    served.requests.clear()
    assert remote.complete(_request(*SOURCES[0])).raw
    assert served.requests == [] and len(notices) == 1 and "SLM_TEST_UNSET_KEY" in notices[0]


# -- through the language server ------------------------------------------------------------


async def _start(env: dict[str, str], model: Path, options: dict[str, Any]) -> LanguageClient:
    client = await ClientServerConfig(server_command=[*SERVER_COMMAND, "--model", str(model)], server_env=env).start()
    await client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options={**UNTIMED, **options}))
    return client


async def _complete(client: LanguageClient) -> types.InlineCompletionList:
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri="file:///work/example.py"),
        position=types.Position(line=1, character=10),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    ))
    assert isinstance(result, types.InlineCompletionList)
    return result


async def test_server_reports_an_unreachable_remote_once(model: Path, clean_env: dict[str, str]) -> None:
    url = _closed_port_url()
    client = await _start(clean_env, model, {"backend": "openai", "remoteUrl": url})
    try:
        open_document(client, SOURCES[0][0])
        assert (await wait_settled(client))["state"] == "ready"
        assert (await status(client)) and (await _status_backend(client))["state"] == "remote"
        for _ in range(2):
            await _complete(client)
        backend = await _status_backend(client)
        assert backend["state"] == "fallback" and backend["localLoaded"] and backend["url"] == url
        assert (await status(client))["last"].stopReason != "unavailable"  # the local model answered
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert len(warnings) == 1 and url in warnings[0], client.messages
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_server_completes_through_the_remote(model: Path, served: CompletionServer,
                                                   clean_env: dict[str, str]) -> None:
    client = await _start(clean_env, model, {"backend": "openai", "remoteUrl": served.url})
    try:
        open_document(client, SOURCES[0][0])
        assert (await wait_settled(client))["state"] == "ready"
        served.requests.clear()
        await _complete(client)
        assert len(served.requests) == 1
        backend = await _status_backend(client)
        assert backend == {"name": "openai", "url": served.url, "state": "remote", "error": None, "localLoaded": False}
        assert not client.messages
    finally:
        await client.shutdown_session()
        await client.stop()


async def _status_backend(client: LanguageClient) -> dict[str, Any]:
    result = await client.protocol.send_request_async("slm/status", {})
    backend = result.backend
    return {key: getattr(backend, key) for key in backend._fields} if hasattr(backend, "_fields") else dict(backend)
