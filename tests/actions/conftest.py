"""Fixtures for the code-action tests: servers over stdio with tiny or embedded models."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import make_test_lsp_client

from tests.tiny_models import build_tiny_model, tiny_model_path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# llama.cpp's thread pool spins: on a busy 2-core machine one thread is many times faster.
SERVER_COMMAND = [sys.executable, str(HERE / "serve_with_actions.py"), "serve", "--threads", "1"]

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

StartServer = Callable[..., Awaitable[LanguageClient]]


@pytest.fixture(scope="session")
def chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2-vocabulary model whose GGUF carries a ChatML chat template."""
    path = tmp_path_factory.mktemp("chat-model") / "tiny-qwen2-chat.gguf"
    return build_tiny_model("qwen2", path, extra_metadata={"tokenizer.chat_template": CHATML})


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def capabilities(*, show_document: bool = True, apply_edit: bool = True, progress: bool = True) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(
            work_done_progress=progress,
            show_document=types.ShowDocumentClientCapabilities(support=show_document),
        ),
        workspace=types.WorkspaceClientCapabilities(apply_edit=apply_edit),
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
    )


def _client_factory() -> LanguageClient:
    client = make_test_lsp_client()
    converter = client.protocol._converter

    # lsprotocol 2025.0.0 structures any code action that carries a ``command`` as a Command
    # (its hook tests only for the key); a Command's ``command`` is a string, a CodeAction's an object.
    def code_action_or_command(value: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(value.get("command"), str):
            return converter.structure(value, types.Command)
        return converter.structure(value, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], code_action_or_command)  # noqa: UP007 - the exact key lsprotocol registered
    client.applied_edits = []  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    return client


@pytest.fixture
def server_env(clean_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The server's environment: a private TMPDIR, so the tests can see its temporary files."""
    tmp = tmp_path / "server-tmp"
    tmp.mkdir()
    return {**clean_env, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO) + os.pathsep + clean_env.get("PYTHONPATH", "")}


@pytest_asyncio.fixture
async def start_server(server_env: dict[str, str], workspace: Path) -> AsyncIterator[StartServer]:
    """Start servers on demand (tiny deepseek-coder model by default); all are stopped after the test."""
    clients: list[LanguageClient] = []

    async def start(model: Path | str | None = None, *, caps: types.ClientCapabilities | None = None,
                    options: dict[str, Any] | None = None) -> LanguageClient:
        model = model or tiny_model_path("nofim")
        config = ClientServerConfig(server_command=[*SERVER_COMMAND, "--model", str(model)], server_env=server_env,
                                    client_factory=_client_factory)
        client = await config.start()
        clients.append(client)
        client.init_result = await client.initialize_session(types.InitializeParams(  # type: ignore[attr-defined]
            capabilities=caps or capabilities(), initialization_options=options,
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        ))
        await wait_ready(client)
        return client

    yield start
    for client in clients:
        if client._server is not None and client._server.returncode is None:
            try:
                await asyncio.wait_for(client.shutdown_session(), timeout=20)
            except Exception:  # noqa: BLE001, S110 - a test may have shut it down already
                pass
        await client.stop()


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("slm/status", {})


async def wait_ready(client: LanguageClient, timeout: float = 120.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (state := (await status(client)).state) not in ("ready", "failed"):
        assert asyncio.get_running_loop().time() < deadline, "model never loaded"
        await asyncio.sleep(0.05)
    assert state == "ready", (await status(client)).error
