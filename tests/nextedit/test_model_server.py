"""The model predictor over the wire: the real server, a real llama.cpp model, Copilot's request.

The model is ``sweep_like_model`` (tests/conftest.py): a tiny one around the real Qwen2.5 vocabulary,
named like Sweep's GGUF so the server picks the Sweep format by itself, whose greedy answer is
scripted (``tests.conftest.SWEEP_ANSWER``); the prompt, the engine on the model worker thread, the stop at
``<|file_sep|>``, the diff and the LSP result are real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SERVER_COMMAND
from tests.raw_lsp import RawServer

METHOD = "textDocument/copilotInlineEdit"
SOURCE = "def area(count):\n    return count * 2\n"


def _server(model: Path, env: dict[str, str], workspace: Path, options: dict[str, Any]) -> RawServer:
    raw = RawServer([*SERVER_COMMAND, "--model", str(model), "--threads", "1"], env)
    raw.request("initialize", {"capabilities": {}, "processId": None, "rootUri": workspace.as_uri(),
                               "initializationOptions": options})
    raw.notify("initialized", {})
    return raw


@pytest.fixture
def server(sweep_like_model: Path, clean_env: dict[str, str], workspace: Path) -> Iterator[RawServer]:
    raw = _server(sweep_like_model, clean_env, workspace, {})
    try:
        yield raw
        assert raw.close() == 0
    finally:
        if raw.process.poll() is None:
            raw.process.kill()
            raw.process.wait(timeout=10)


def _rename(raw: RawServer, uri: str) -> None:
    raw.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": SOURCE}})
    change = {"range": {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 14}}, "text": "total"}
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]})


def _ready(raw: RawServer) -> dict[str, Any]:
    for _ in range(600):
        status = raw.request("slm/status", {})["result"]
        if status["state"] not in ("loading", "not loaded"):
            return status
        time.sleep(0.1)
    raise AssertionError("the model did not load")


def test_the_model_proposals_follow_propagation(server: RawServer, workspace: Path) -> None:
    uri = (workspace / "area.py").as_uri()
    assert _ready(server)["state"] == "ready"
    _rename(server, uri)
    response = server.request(METHOD, {"textDocument": {"uri": uri, "version": 2}, "position": {"line": 0, "character": 14}})
    edits = [(e["range"]["start"]["line"], e["range"]["start"]["character"], e["range"]["end"]["line"],
              e["range"]["end"]["character"], e["text"]) for e in response["result"]["edits"]]
    assert edits == [
        (1, 11, 1, 16, "total"),  # edit propagation: the parameter's other use
        (1, 11, 1, 20, "total * 3"),  # the model's rewrite of line 2, trimmed to what differs
    ]
    status = server.request("slm/status", {})["result"]
    assert status["nextEdit"]["modelRuns"] == 1 and status["nextEdit"]["modelProposals"] == 1
    assert status["nextEdit"]["modelFormat"] == "sweep"  # recognised by its GGUF's file name
    assert status["jobs"]["peakRunning"] == 1  # the model ran on the one worker thread


def test_propagation_only_when_the_setting_says_so(sweep_like_model: Path, clean_env: dict[str, str],
                                                  workspace: Path) -> None:
    raw = _server(sweep_like_model, clean_env, workspace, {"nextEditPredictor": "propagation"})
    try:
        uri = (workspace / "area.py").as_uri()
        assert _ready(raw)["state"] == "ready"
        _rename(raw, uri)
        response = raw.request(METHOD, {"textDocument": {"uri": uri, "version": 2}, "position": {"line": 0, "character": 14}})
        assert [e["text"] for e in response["result"]["edits"]] == ["total"]
        next_edit = raw.request("slm/status", {})["result"]["nextEdit"]
        assert next_edit["modelRuns"] == 0 and next_edit["modelFormat"] is None
        assert raw.close() == 0
    finally:
        if raw.process.poll() is None:
            raw.process.kill()
            raw.process.wait(timeout=10)


@pytest.mark.parametrize(("file_name", "name", "expected"), [
    ("sweep-next-edit-1.5b.q8_0.v2.gguf", "Qwen2.5 Coder 1.5B", "sweep"),  # by its catalog entry
    ("zed-industries_zeta-Q4_K_M.gguf", "Qwen2.5 Coder 7B", "zeta"),
    ("qwen2.5-coder-0.5b-q8_0.gguf", "Qwen2.5 Coder 0.5B", None),  # a completion model
])
def test_the_catalog_entry_of_the_loaded_file_names_the_format(file_name: str, name: str, expected: str | None) -> None:
    from types import SimpleNamespace

    from slm_lsp.lsp.inline_edit import model_format

    engine = SimpleNamespace(name=name, info=SimpleNamespace(path=Path("/models") / file_name))
    assert model_format("auto", engine) == expected
    assert model_format("propagation", engine) is None
