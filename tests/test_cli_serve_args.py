"""`slm-lsp serve` with the arguments language clients add to the server command.

vscode-languageclient appends `--stdio` for its default transport and `--clientProcessId=N`
for node servers; other transports (`--pipe=…`, `--socket=…`, `--node-ipc`) cannot work for
this server and must be refused with a sentence that names `--stdio`, not an argparse dump.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.conftest import SERVER_COMMAND
from tests.raw_lsp import RawServer
from tests.tiny_models import counting_model_path

URI = "file:///work/example.py"
UNTIMED = {"maxPromptSeconds": 0, "maxGenerationSeconds": 0, "adaptiveBudgets": False}
# The counting model's random weights doubt every token: with the shipped minConfidence no item would come.
SHOWN = {**UNTIMED, "minConfidence": 0}


def _sleeper() -> subprocess.Popen[bytes]:
    """A stand-in client process whose pid the server watches."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


def test_stdio_and_client_process_id_are_accepted_and_the_server_completes(clean_env: dict[str, str]) -> None:
    client = _sleeper()
    server = RawServer(
        [*SERVER_COMMAND, "--stdio", f"--clientProcessId={client.pid}", "--model", str(counting_model_path()), "--threads", "1"],
        clean_env,
    )
    try:
        init = server.request("initialize", {"capabilities": {}, "processId": None, "initializationOptions": SHOWN})
        assert "inlineCompletionProvider" in init["result"]["capabilities"], init
        server.notify("initialized", {})
        server.notify("textDocument/didOpen", {
            "textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": "def add(a, b):\n    return \n"}
        })
        params = {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 11}, "context": {"triggerKind": 1}}
        deadline = time.monotonic() + 120
        while True:
            response = server.request("textDocument/inlineCompletion", params)
            assert "error" not in response, response
            if response["result"]["items"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)  # the model is still loading: the server answers empty meanwhile
        assert response["result"]["items"], response
        assert response["result"]["items"][0]["insertText"]
        assert server.close() == 0
    finally:
        client.kill()
        client.wait()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.mark.parametrize("flag", ["--pipe=/tmp/slm-lsp.sock", "--socket=5007", "--node-ipc"])
def test_other_transports_are_refused_with_a_sentence_naming_stdio(flag: str, clean_env: dict[str, str]) -> None:
    result = subprocess.run(
        [*SERVER_COMMAND, flag, "--model", str(counting_model_path())],
        capture_output=True, text=True, timeout=120, env=clean_env, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result
    assert "--stdio" in result.stderr and flag.split("=")[0] in result.stderr, result.stderr
    assert "usage:" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""


def test_a_dead_client_process_id_makes_the_server_exit(clean_env: dict[str, str]) -> None:
    """The client dies without closing the server's stdin: the server notices the pid is gone."""
    client = _sleeper()
    server = RawServer(
        [*SERVER_COMMAND, "--stdio", f"--clientProcessId={client.pid}", "--model", str(counting_model_path()), "--threads", "1"],
        clean_env,
    )
    try:
        # Once initialize is answered the server is past argument handling and watching the pid.
        server.request("initialize", {"capabilities": {}, "processId": None, "initializationOptions": UNTIMED})
        assert server.process.poll() is None
        client.kill()
        client.wait()
        assert server.process.wait(timeout=60) == 1  # stdin stays open: only the pid watch can end it
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
