"""``textDocument/copilotInlineEdit`` over the wire, with the real server: the advertisement,
the request and result shape Copilot's clients use, stale versions, and an excluded file
whose edits never reach the history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SERVER_COMMAND
from tests.raw_lsp import RawServer

METHOD = "textDocument/copilotInlineEdit"
CANARY = "CANARYrenamed9H4jL1mN6pS2tW"
SOURCE = "def area(count):\n    double = count * 2  # count\n    return count + double\n\n\ndef other(count):\n    return count\n"


@pytest.fixture
def server(workspace: Path, embedded_model: Path, clean_env: dict[str, str]) -> Iterator[tuple[RawServer, dict[str, Any]]]:
    raw = RawServer([*SERVER_COMMAND, "--model", str(embedded_model)], clean_env)
    try:
        answer = raw.request("initialize", {"capabilities": {}, "processId": None, "rootUri": workspace.as_uri()})
        raw.notify("initialized", {})
        yield raw, answer
        assert raw.close() == 0
    finally:
        if raw.process.poll() is None:
            raw.process.kill()
            raw.process.wait(timeout=10)


def _open(raw: RawServer, uri: str, text: str) -> None:
    raw.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})


def _rename(raw: RawServer, uri: str, line: int, start: int, end: int, text: str, version: int) -> None:
    """The editor replaces a word: one incremental change."""
    change = {"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}, "text": text}
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})


def _ask(raw: RawServer, uri: str, version: int, line: int, character: int) -> dict[str, Any]:
    return raw.request(METHOD, {"textDocument": {"uri": uri, "version": version},
                                "position": {"line": line, "character": character}})


def test_advertised_under_experimental(server: tuple[RawServer, dict[str, Any]]) -> None:
    _, answer = server
    assert answer["result"]["capabilities"]["experimental"]["copilotInlineEdit"] == {"predictors": ["propagation"]}


def test_request_and_result_have_copilots_shape(server: tuple[RawServer, dict[str, Any]], workspace: Path) -> None:
    raw, _ = server
    uri = (workspace / "area.py").as_uri()
    _open(raw, uri, SOURCE)
    _rename(raw, uri, 0, 9, 14, "total", version=2)
    response = _ask(raw, uri, 2, 0, 14)
    assert set(response["result"]) == {"edits"}
    edits = response["result"]["edits"]
    accepted = {"title": "Accepted next edit", "command": "slm.acceptedNextEdit", "arguments": [{"uri": uri}]}
    assert edits == [
        {"text": "total", "textDocument": {"uri": uri, "version": 2},
         "range": {"start": {"line": 1, "character": 13}, "end": {"line": 1, "character": 18}}, "command": accepted},
        {"text": "total", "textDocument": {"uri": uri, "version": 2},
         "range": {"start": {"line": 2, "character": 11}, "end": {"line": 2, "character": 16}}, "command": accepted},
    ]  # nearest first; not the comment, not other()'s parameter


def test_the_accept_command_is_advertised_and_counted(server: tuple[RawServer, dict[str, Any]], workspace: Path) -> None:
    raw, answer = server
    assert "slm.acceptedNextEdit" in answer["result"]["capabilities"]["executeCommandProvider"]["commands"]
    uri = (workspace / "area.py").as_uri()
    _open(raw, uri, SOURCE)
    _rename(raw, uri, 0, 9, 14, "total", version=2)
    command = _ask(raw, uri, 2, 0, 14)["result"]["edits"][0]["command"]
    assert _ask(raw, uri, 1, 0, 14)["result"] == {"edits": []}  # stale: not counted as answered
    done = raw.request("workspace/executeCommand", {"command": command["command"], "arguments": command["arguments"]})
    assert "error" not in done, done
    bad = raw.request("workspace/executeCommand", {"command": command["command"], "arguments": []})
    assert bad["error"]["code"] == -32602 and "needs [{uri}]" in bad["error"]["message"]
    status = raw.request("slm/status", {})["result"]
    assert (status["nextEdit"]["answered"], status["nextEdit"]["accepted"]) == (1, 1)


def test_a_stale_version_gets_no_edits(server: tuple[RawServer, dict[str, Any]], workspace: Path) -> None:
    raw, _ = server
    uri = (workspace / "area.py").as_uri()
    _open(raw, uri, SOURCE)
    _rename(raw, uri, 0, 9, 14, "total", version=2)
    assert _ask(raw, uri, 1, 0, 14)["result"] == {"edits": []}
    assert _ask(raw, uri, 3, 0, 14)["result"] == {"edits": []}
    assert len(_ask(raw, uri, 2, 0, 14)["result"]["edits"]) == 2
    bad = raw.request(METHOD, {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}})
    assert bad["error"]["code"] == -32602  # no version: invalid params, answered


def test_an_excluded_files_edits_never_reach_the_history(server: tuple[RawServer, dict[str, Any]], workspace: Path) -> None:
    raw, _ = server
    secret_uri = (workspace / "private" / "vault.py").as_uri()
    user_uri = (workspace / "user.py").as_uri()
    _open(raw, secret_uri, SOURCE)
    _open(raw, user_uri, "from private.vault import area\n\narea(1)\n")
    _rename(raw, secret_uri, 0, 4, 8, CANARY, version=2)  # a top-level name: would reach open files
    _rename(raw, secret_uri, 0, 9 + len(CANARY) - 4, 14 + len(CANARY) - 4, "total", version=3)
    assert _ask(raw, secret_uri, 3, 0, 10)["result"] == {"edits": []}
    assert _ask(raw, user_uri, 1, 2, 0)["result"] == {"edits": []}
    status = raw.request("slm/status", {})["result"]
    assert status["nextEdit"] == {"documents": 1, "hunks": 0, "answered": 0, "accepted": 0,
                                  "modelRuns": 0, "modelProposals": 0, "modelFormat": None}  # only user.py, unedited
    assert CANARY not in str(status)
