"""Edit selection with an instruction: the core on a real tiny engine with scripted answers,
then the two commands over the real server (proposal, apply, stale version, privacy)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from slm_lsp.actions import core, edit
from slm_lsp.actions.privacy import make_gate
from slm_lsp.engine.local_engine import Engine
from slm_lsp.postprocess.repetition import CodeRepetitionGuard, code_lines_loop_from
from slm_lsp.privacy import GateError
from tests.actions.conftest import HERE, _client_factory, capabilities, wait_ready
from tests.actions.scripted import scripted_generate
from tests.actions.test_lsp_actions import actions, apply_text_edits, errors_in, execute, open_document, range_json, span
from tests.tiny_models import tiny_model_path

EDIT, APPLY = "slm.editSelection", "slm.applyEdit"
KEY = "AKIAZ7CANARY4KEYQ2XW"  # secret-shaped: the gate redacts it

SOURCE = '''import math


class Stats:
    def mean(self, values):
        total = 0
        for v in values:
            total += v
        return total / len(values)


def hypotenuse(a, b):
    return math.sqrt(a * a + b * b)
'''
MEAN = (SOURCE.index("    def mean"), SOURCE.index("\n\n\ndef hyp") + 1)
# What a model replies for "handle the empty case": the method without its class indentation.
REWRITE = '''def mean(self, values):
    if not values:
        return 0.0
    total = 0
    for v in values:
        total += v
    return total / len(values)
'''


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(tiny_model_path("nofim"), n_ctx=2048, n_threads=1)


def scripted(engine: Engine, answer: str | Callable[[], str]) -> tuple[Engine, list[str]]:
    prompts: list[str] = []
    engine.generate = scripted_generate(engine, answer if callable(answer) else lambda: answer, prompts)  # type: ignore[method-assign]
    return engine, prompts


def document(text: str = SOURCE, uri: str | None = None) -> core.Document:
    return core.Document(text, uri, "python", "stats.py")


# -- the loop guard --------------------------------------------------------------------------------


def test_code_loop_guard_finds_repeated_blocks_but_not_repeated_closers() -> None:
    looping = "def f(x):\n" + "    x = compute(x)\n    log(x)\n" * 3
    assert code_lines_loop_from(looping) == len("def f(x):\n    x = compute(x)\n    log(x)\n")
    assert code_lines_loop_from("a = 1\n" * 3) is None  # too short to be a loop
    assert code_lines_loop_from("if a:\n    pass\n}\n}\n}\n") is None
    assert code_lines_loop_from(looping, original=looping) is None  # the code itself repeats
    assert code_lines_loop_from("x = [" + "item, " * 9 + "]\n") == 0
    guard = CodeRepetitionGuard()
    guard.feed(looping[:-5])
    assert not guard.tripped
    guard.feed(looping)
    assert guard.tripped


# -- the core --------------------------------------------------------------------------------------


def test_rewrite_becomes_a_reindented_proposal_that_parses(engine: Engine) -> None:
    engine, prompts = scripted(engine, REWRITE + "```\nand some chatter")
    outcome = edit.edit_selection(engine, document(), MEAN[0] + 6, MEAN[1] - 3, "handle the empty case", make_gate([]))
    assert outcome.action == "edit" and outcome.parses is True and outcome.stop_reason == "stop"
    assert outcome.lines == (5, 9)
    assert outcome.edit is not None
    assert outcome.edit.new_text == "        if not values:\n            return 0.0\n"  # only the added lines
    assert outcome.edit.result == SOURCE.replace("values):\n", "values):\n        if not values:\n            return 0.0\n")
    assert errors_in(outcome.edit.result, "python") == 0
    prompt = prompts[0]
    assert "Instruction" not in prompt and "follow this instruction: handle the empty case" in prompt
    assert "```python\ndef mean(self, values):\n    total = 0" in prompt  # sent dedented
    diff = edit.unified_diff(outcome, SOURCE, "stats.py")
    assert diff.splitlines()[:3] == ["--- a/stats.py", "+++ b/stats.py", "@@ -5,4 +5,6 @@"]
    assert "+        if not values:\n" in diff and "import math" not in diff  # context from the selection only


def test_diff_applies_with_patch(engine: Engine, tmp_path: Path) -> None:
    engine, _ = scripted(engine, REWRITE.replace("total / len(values)", "total / max(1, len(values))") + "```")
    outcome = edit.edit_selection(engine, document(), *MEAN, "handle the empty case", make_gate([]))
    (tmp_path / "stats.py").write_text(SOURCE)
    (tmp_path / "p.diff").write_text(edit.unified_diff(outcome, SOURCE, "stats.py"))
    subprocess.run(["patch", "-p1", "-i", "p.diff"], cwd=tmp_path, check=True, capture_output=True)
    assert outcome.edit is not None and (tmp_path / "stats.py").read_text() == outcome.edit.result


def test_a_rewrite_that_does_not_parse_is_reported(engine: Engine) -> None:
    engine, _ = scripted(engine, "def mean(self, values:\n    return sum(values) / len(values\n```")
    outcome = edit.edit_selection(engine, document(), *MEAN, "shorten it", make_gate([]))
    assert outcome.parses is False and outcome.edit is not None
    assert errors_in(outcome.edit.result, "python") > 0


def test_a_chat_reply_gives_its_code_block() -> None:
    assert edit._rewrite_from("Sure:\n```python\nx = 1\n```\nDone.", "chat") == "x = 1\n"
    assert edit._rewrite_from("x = 1\n", "chat") == "x = 1\n"  # no fence at all: the reply is the code
    assert edit._rewrite_from("I cannot ``` do that", "chat") == ""
    assert edit._rewrite_from("x = 1\n", "completion") == "x = 1\n"


def test_a_looping_rewrite_stops_early_and_is_refused(engine: Engine) -> None:
    calls = []

    def answer() -> str:
        calls.append(1)
        return "def mean(self, values):\n" + "    total = total + values[0]\n" * 400

    engine, _ = scripted(engine, answer)
    streamed: list[str] = []
    with pytest.raises(core.ActionError, match="repeating"):
        edit.edit_selection(engine, document(), *MEAN, "simplify", make_gate([]), on_text=streamed.append)
    assert len(streamed[-1]) < 200  # stopped at the third copy, not at the token budget


def test_no_change_and_bad_instructions_are_clear_errors(engine: Engine) -> None:
    engine, prompts = scripted(engine, SOURCE[MEAN[0]:MEAN[1]] + "```")
    with pytest.raises(core.ActionError, match="no change"):
        edit.edit_selection(engine, document(), *MEAN, "do nothing", make_gate([]))
    for instruction, message in [("  ", "instruction is empty"), ("x" * 501, "too long")]:
        with pytest.raises(core.ActionError, match=message):
            edit.edit_selection(engine, document(), *MEAN, instruction, make_gate([]))
    with pytest.raises(core.ActionError, match="select the code"):
        edit.edit_selection(engine, document(), 1, 1, "add type hints", make_gate([]))
    assert len(prompts) == 1


def test_secrets_never_reach_the_prompt_or_the_proposal(engine: Engine, tmp_path: Path) -> None:
    text = SOURCE.replace("        total = 0\n", f'        total = 0\n        key = "{KEY}"\n')
    engine, prompts = scripted(engine, REWRITE + "```")
    start = text.index("    def mean")
    end = text.index("\n\n\ndef hyp") + 1
    with pytest.raises(core.ActionError, match="secret"):
        edit.edit_selection(engine, document(text), start, end, "handle the empty case", make_gate([]))
    with pytest.raises(core.ActionError, match="secret"):
        edit.edit_selection(engine, document(), *MEAN, f"use the key {KEY}", make_gate([]))
    assert not prompts
    # A secret outside the selection: the edit runs, and the secret is in no prompt and no diff.
    outside = SOURCE + f'\nTOKEN = "{KEY}"\n'
    outcome = edit.edit_selection(engine, document(outside), *MEAN, "handle the empty case", make_gate([]))
    assert KEY not in prompts[0] and KEY not in edit.unified_diff(outcome, outside, "stats.py")
    # The model writing a secret-shaped string: discarded.
    engine, _ = scripted(engine, REWRITE.replace("return 0.0", f'return "{KEY}"') + "```")
    with pytest.raises(core.ActionError, match="secret-shaped"):
        edit.edit_selection(engine, document(), *MEAN, "handle the empty case", make_gate([]))
    # An excluded file: the gate refuses before any prompt.
    (tmp_path / ".env").write_text(SOURCE)
    engine, prompts = scripted(engine, REWRITE + "```")
    with pytest.raises(GateError):
        edit.edit_selection(engine, document(uri=(tmp_path / ".env").as_uri()), *MEAN, "handle the empty case",
                            make_gate([tmp_path]))
    assert not prompts


# -- over the wire ---------------------------------------------------------------------------------


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.txt"
    path.write_text(REWRITE + "```")
    return path


@pytest.fixture
async def scripted_server(server_env: dict[str, str], workspace: Path, script: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    prompts = tmp_path / "prompts.txt"
    env = {**server_env, "SLM_TEST_SCRIPT": str(script), "SLM_TEST_PROMPTS": str(prompts)}
    config = ClientServerConfig(
        server_command=[sys.executable, str(HERE / "serve_scripted.py"), "serve", "--threads", "1",
                        "--model", str(tiny_model_path("nofim"))],
        server_env=env, client_factory=_client_factory)
    client = await config.start()
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(), workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")]))
    await wait_ready(client)
    client.prompts_file = prompts  # type: ignore[attr-defined]
    yield client
    try:
        await asyncio.wait_for(client.shutdown_session(), timeout=20)
    except Exception:  # noqa: BLE001, S110 - a test may have shut it down already
        pass
    await client.stop()


def recorded_prompts(client: LanguageClient) -> list[str]:
    path: Path = client.prompts_file  # type: ignore[attr-defined]
    return [p for p in path.read_text().split("\0") if p] if path.exists() else []


MEAN_RANGE = span(4, 0, 9, 0)


async def _offered(client: LanguageClient, uri: str, r: types.Range = MEAN_RANGE) -> dict[str, Any]:
    offered = [a for a in await actions(client, uri, r) if a.command and a.command.command == EDIT]
    assert len(offered) == 1 and offered[0].kind == "refactor.rewrite.slm"
    assert offered[0].title == "Edit selection with an instruction… (slm)"
    return dict(offered[0].command.arguments[0])


async def test_edit_proposes_then_applies(scripted_server: LanguageClient, workspace: Path) -> None:
    client = scripted_server
    uri = (workspace / "stats.py").as_uri()
    open_document(client, uri, SOURCE)
    argument = await _offered(client, uri)
    assert argument == {"uri": uri, "range": range_json(MEAN_RANGE), "version": 1}
    assert not [a for a in await actions(client, uri, span(5, 3, 5, 3)) if a.command and a.command.command == EDIT]

    proposal = await execute(client, EDIT, {**argument, "instruction": "handle the empty case"})
    assert proposal["parses"] is True and proposal["version"] == 1 and proposal["uri"] == uri
    assert proposal["newText"] == "        if not values:\n            return 0.0\n"
    assert proposal["range"] == range_json(span(5, 0, 5, 0))
    assert proposal["diff"].startswith("--- a/stats.py\n+++ b/stats.py\n@@ -5,4 +5,6 @@")
    assert not client.applied_edits  # type: ignore[attr-defined] # nothing applied before the user accepts
    tokens = [t for t in client.progress_reports if str(t).startswith("slm-action-")]
    assert tokens and client.progress_reports[tokens[0]][-1].message == "done"

    result = await execute(client, APPLY, {"proposal": proposal})
    assert result == {"applied": True}
    changes = client.applied_edits[0].edit.changes[uri]  # type: ignore[attr-defined]
    assert apply_text_edits(SOURCE, list(changes)) == SOURCE.replace(
        "values):\n", "values):\n        if not values:\n            return 0.0\n")
    again = await execute(client, APPLY, {"proposal": proposal})  # used up
    assert again["applied"] is False and again["error"] == "unknown proposal"
    forged = await execute(client, APPLY, {"proposal": {**proposal, "id": "0" * 32, "newText": "rm -rf"}})
    assert forged["applied"] is False and len(client.applied_edits) == 1  # type: ignore[attr-defined]


async def test_a_changed_file_is_not_edited(scripted_server: LanguageClient, workspace: Path) -> None:
    client = scripted_server
    uri = (workspace / "stats.py").as_uri()
    open_document(client, uri, SOURCE)
    argument = await _offered(client, uri)
    proposal = await execute(client, EDIT, {**argument, "instruction": "handle the empty case"})
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(range=span(0, 0, 0, 0), text="# edited\n")]))
    result = await execute(client, APPLY, {"proposal": proposal})
    assert result == {"applied": False, "error": "the file changed; ask again"}
    assert any("the file changed; ask again" in m.message for m in client.messages)
    stale = await execute(client, EDIT, {**argument, "instruction": "handle the empty case"})  # version 1 < 2
    assert stale["error"] == "the file changed; ask again"
    assert not client.applied_edits  # type: ignore[attr-defined]


async def test_a_broken_rewrite_is_offered_with_parses_false(scripted_server: LanguageClient, workspace: Path,
                                                              script: Path) -> None:
    client = scripted_server
    script.write_text("def mean(self, values:\n    return sum(values\n```")
    uri = (workspace / "stats.py").as_uri()
    open_document(client, uri, SOURCE)
    proposal = await execute(client, EDIT, {**await _offered(client, uri), "instruction": "shorten"})
    assert proposal["parses"] is False
    tokens = [t for t in client.progress_reports if str(t).startswith("slm-action-")]
    assert client.progress_reports[tokens[-1]][-1].message == "done: the rewrite does not parse"


async def test_privacy_excluded_file_and_secret_selection(scripted_server: LanguageClient, workspace: Path) -> None:
    client = scripted_server
    secret = SOURCE.replace("        total = 0\n", f'        total = 0\n        key = "{KEY}"\n')
    env = (workspace / ".env").as_uri()
    open_document(client, env, secret)
    assert await actions(client, env, span(4, 0, 10, 0)) == []
    with pytest.raises(JsonRpcException, match="excluded"):
        await execute(client, EDIT, {"uri": env, "range": range_json(span(4, 0, 10, 0)), "instruction": "x"})
    uri = (workspace / "stats.py").as_uri()
    open_document(client, uri, secret)
    result = await execute(client, EDIT, {"uri": uri, "range": range_json(span(4, 0, 10, 0)),
                                          "instruction": "handle the empty case", "version": 1})
    assert "secret" in result["error"] and "id" not in result
    assert any("secret-shaped" in m.message for m in client.messages)
    with pytest.raises(JsonRpcException, match="instruction"):
        await execute(client, EDIT, {"uri": uri, "range": range_json(MEAN_RANGE)})
    assert all(KEY not in prompt for prompt in recorded_prompts(client))
    assert all(KEY not in m.message for m in client.messages)
    assert not [p for p in recorded_prompts(client) if "handle the empty case" in p]


async def test_a_real_tiny_model_gets_an_answer_not_a_hang(start_server: Any, workspace: Path) -> None:
    client = await start_server()
    uri = (workspace / "stats.py").as_uri()
    open_document(client, uri, SOURCE)
    result = await execute(client, EDIT, {"uri": uri, "range": range_json(MEAN_RANGE), "instruction": "add type hints"})
    # Random weights write nonsense: either a proposal (whose parse is reported) or a clear error.
    assert ("error" in result) != ("id" in result), result
    if "id" in result:
        assert isinstance(result["parses"], bool)
    else:
        assert any(m.message.startswith("slm-lsp: ") for m in client.messages)


# -- the command line ------------------------------------------------------------------------------


def run_cli(argv: list[str], answer: str, monkeypatch: pytest.MonkeyPatch) -> int:
    import argparse

    from slm_lsp.actions.cli import add_edit_arguments
    from slm_lsp.config.settings import Settings

    real_load = Engine.load.__func__  # type: ignore[attr-defined]

    def load(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        loaded = real_load(cls, *args, **kwargs)
        loaded.generate = scripted_generate(loaded, lambda: answer, [])
        return loaded

    monkeypatch.setattr(Engine, "load", classmethod(load))
    parser = argparse.ArgumentParser(prog="slm-lsp")
    add_edit_arguments(parser.add_subparsers(dest="command").add_parser("edit"))
    args = parser.parse_args(["edit", *argv])
    return int(args.run(args, Settings().replace({"model": str(tiny_model_path("nofim")), "n_threads": 1})))


def test_cli_prints_a_diff_and_applies_only_what_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "stats.py"
    path.write_text(SOURCE)
    argv = [str(path), "--lines", "5-9", "--instruction", "handle the empty case"]
    assert run_cli(argv, REWRITE + "```", monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- a/stats.py\n+++ b/stats.py\n@@ -5,4 +5,6 @@") and path.read_text() == SOURCE
    assert run_cli([*argv, "--apply"], REWRITE + "```", monkeypatch) == 0
    assert "if not values:\n            return 0.0" in path.read_text()
    path.write_text(SOURCE)
    assert run_cli([*argv, "--apply"], "def mean(self, values:\n```", monkeypatch) == 1
    assert "does not parse; not applied" in capsys.readouterr().err and path.read_text() == SOURCE
    secret = tmp_path / ".env"
    secret.write_text(f"KEY={KEY}\n")
    assert run_cli([str(secret), "--lines", "1", "--instruction", "x"], REWRITE, monkeypatch) == 1
    captured = capsys.readouterr()
    assert "excluded" in captured.err and KEY not in captured.out + captured.err
