"""The offline guarantee: with the local backend the server opens no network connection.

The server runs as a subprocess under ``unshare -rn`` (a user and network namespace with
no interfaces at all, not even loopback) when the kernel allows it, and always with a
socket guard (tests/netguard/sitecustomize.py on PYTHONPATH) that logs every connect or
sendto to a non-AF_UNIX address. The test completes through LSP and then requires an
empty log: the namespace proves the server works with no network, the guard that it never
even tried. With ``backend = "openai"`` the guard shows the only address contacted is the
configured remoteUrl.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.completion_server import CompletionServer
from tests.conftest import SERVER_COMMAND
from tests.test_server import UNTIMED, inline, open_document, wait_settled
from tests.tiny_models import tiny_model_path

GUARD_DIR = Path(__file__).resolve().parent / "netguard"
PROBE = "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=5)\nexcept OSError:\n    print('offline')\n"


def _namespace_prefix() -> list[str]:
    """``unshare -rn`` if it works here and really leaves no route out, else nothing."""
    if shutil.which("unshare") is None:
        return []
    probe = subprocess.run(["unshare", "-rn", sys.executable, "-c", PROBE], check=False, capture_output=True, text=True, timeout=60)
    return ["unshare", "-rn"] if probe.returncode == 0 and probe.stdout.strip() == "offline" else []


Start = Callable[..., Awaitable[LanguageClient]]


@pytest_asyncio.fixture
async def start_guarded(clean_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Start]:
    clients: list[LanguageClient] = []

    async def start(prefix: list[str], options: dict[str, Any], allow: str = "") -> LanguageClient:
        env = {**clean_env, "SLM_NET_LOG": str(tmp_path / "connections.log"), "SLM_NET_ALLOW": allow,
               "PYTHONPATH": str(GUARD_DIR)}
        command = [*prefix, *SERVER_COMMAND, "--model", str(tiny_model_path("qwen2.5-coder"))]
        client = await ClientServerConfig(server_command=command, server_env=env).start()
        clients.append(client)
        await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options={**UNTIMED, "nThreads": 1, **options}))
        return client

    yield start
    for client in clients:
        await client.shutdown_session()
        await client.stop()


def _connections(tmp_path: Path) -> list[str]:
    log = tmp_path / "connections.log"
    return log.read_text().split() if log.exists() else []


async def test_the_local_backend_never_touches_the_network(start_guarded: Start, tmp_path: Path) -> None:
    prefix = _namespace_prefix()
    if not prefix:
        print("unshare -rn is not available here: relying on the socket guard alone")
    client = await start_guarded(prefix, {})
    open_document(client, "def add(a, b):\n    return\n")
    assert (await wait_settled(client))["state"] == "ready"
    await inline(client, 1, 10)
    answer = await client.protocol.send_request_async("slm/whyExcluded", {"uri": "file:///work/example.py"})
    assert answer.excluded is False
    last = (await client.protocol.send_request_async("slm/status", {})).last
    assert last.stopReason in ("end", "stop", "length")  # the model ran
    assert _connections(tmp_path) == []


async def test_the_openai_backend_contacts_only_the_remote_url(start_guarded: Start, tmp_path: Path) -> None:
    with CompletionServer(tiny_model_path("qwen2.5-coder")) as served:
        address = served.url.removeprefix("http://")
        client = await start_guarded([], {"backend": "openai", "remoteUrl": served.url}, allow=address)
        open_document(client, "def add(a, b):\n    return\n")
        assert (await wait_settled(client))["state"] == "ready"
        await inline(client, 1, 10)
        assert len(served.requests) == 1
        connections = _connections(tmp_path)
        assert connections and set(connections) == {address}
        assert not client.messages  # no fallback: the remote answered
