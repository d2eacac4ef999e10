""""Edit selection with an instruction" in the real VS Code workbench (code-server, Chromium
through Playwright; tests/editors/workbench/session.py's harness, test_vscode_real.py's fixtures), the way a user does it:
select a method, Ctrl+. and pick the action, type the instruction into the input box, read the
proposal in the diff view, then Discard (the diff closes, the file stays as it was) and, asked
again, Apply (the diff closes, the file holds the rewrite). The extension and `slm-lsp serve` are the shipped ones; only the
model's words are scripted (tests/actions/serve_scripted.py, as in tests/editors/test_nvim_edit.py),
so the applied text can be checked exactly — a small model's rewrite differs by build and machine.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.actions.test_edit import REWRITE, SOURCE
from tests.editors import test_vscode_real
from tests.editors.workbench.browser import Workbench, dom_text
from tests.editors.workbench.session import artifacts_dir, make_workspace, quiet_user_settings, workbench_session
from tests.tiny_models import tiny_model_path

pytestmark = pytest.mark.embedded

playwright_api = test_vscode_real.playwright_api  # the harness's fixtures, used here by name
code_server_ready = test_vscode_real.code_server_ready
vsix = test_vscode_real.vsix

REPO = Path(__file__).resolve().parents[2]
SCRIPTED = REPO / "tests" / "actions" / "serve_scripted.py"
INSTRUCTION = "handle the empty case"
WITH_GUARD = SOURCE.replace("values):\n", "values):\n        if not values:\n            return 0.0\n")
EDIT_TITLE = "Edit selection with an instruction"


def _wait(what: str, check: Any, timeout: float, detail: Any = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}: {detail()}")


def _ask_for_the_edit(bench: Workbench) -> None:
    """Select the method (lines 5-9), open the code action menu with Ctrl+., pick the action,
    and type the instruction into the input box the extension shows."""
    page = bench.page
    page.click(".editor-instance .monaco-editor .view-lines")
    page.keyboard.press("Control+Home")
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    for _ in range(5):
        page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Control+.")
    row = page.wait_for_selector(f".action-widget .monaco-list-row:has-text('{EDIT_TITLE}')", timeout=30_000)
    row.click()
    box = page.wait_for_selector(".quick-input-widget .quick-input-box input", state="visible", timeout=20_000)
    assert "slm-lsp: edit selection" in dom_text(page.inner_text(".quick-input-widget")), page.inner_text(".quick-input-widget")
    bench.type_like_a_person(INSTRUCTION, gap_ms=40)
    assert box.input_value() == INSTRUCTION
    page.keyboard.press("Enter")


def _diff_view(bench: Workbench) -> Any:
    return bench.page.query_selector(".editor-group-container.active .monaco-diff-editor")


def _answer(bench: Workbench, button: str) -> None:
    toast = bench.page.wait_for_selector(
        ".notifications-toasts .notification-toast:has-text('apply the proposed edit?')", timeout=20_000)
    toast.query_selector(f".monaco-button:has-text('{button}')").click()


def test_edit_selection_asks_shows_a_diff_and_applies_in_the_workbench(
    code_server_ready: None, playwright_api: object, vsix: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    artifacts = artifacts_dir(tmp_path)
    workspace = make_workspace(tmp_path, {"stats.py": SOURCE})
    script = tmp_path / "script.txt"
    script.write_text(REWRITE + "```")
    env = {**clean_env, "SLM_TEST_SCRIPT": str(script), "SLM_TEST_PROMPTS": str(tmp_path / "prompts.txt"),
           "PYTHONPATH": str(REPO)}
    with workbench_session(
        playwright_api, vsix, tmp_path, env, workspace,
        machine={"slmLsp.server.command": [sys.executable, str(SCRIPTED), "serve", "--threads", "1",
                                           "--model", str(tiny_model_path("nofim"))]},
        user=quiet_user_settings(inline_suggest=False), save_log_to=artifacts / "slm-lsp-output.log",
    ) as session:
        code, bench, page = session.code, session.bench, session.page
        bench.open_file("stats.py")
        assert bench.wait_status_icon("sparkle", timeout=120), code.output_channel_log()[-3000:]

        # First ask: the diff view shows the proposal beside the file; Discard leaves it alone.
        _ask_for_the_edit(bench)
        diff = _wait("the diff view", lambda: _diff_view(bench), 60, lambda: code.output_channel_log()[-3000:])
        _wait("the proposed lines", lambda: "if not values:" in dom_text(diff.inner_text()), 20)
        time.sleep(0.5)
        page.screenshot(path=str(artifacts / "edit-diff-view.png"))
        labels = bench.editor_tab_labels()
        assert any("proposed edit" in label and "stats.py" in label for label in labels), labels
        _answer(bench, "Discard")
        _wait("the diff view to close", lambda: not any("proposed edit" in label for label in bench.editor_tab_labels()), 20,
              bench.editor_tab_labels)
        bench.open_file("stats.py")
        page.keyboard.press("Control+S")  # a changed buffer would be written now
        time.sleep(1)
        assert (workspace / "stats.py").read_text() == SOURCE

        # Second ask: Apply changes the document; saving writes exactly the rewrite.
        bench.open_file("stats.py")
        _ask_for_the_edit(bench)
        _wait("the diff view", lambda: _diff_view(bench), 60, lambda: code.output_channel_log()[-3000:])
        _answer(bench, "Apply")
        log = _wait("the applied edit", lambda: (text := code.output_channel_log()).count(
            "Received response 'workspace/executeCommand") >= 3 and text, 30, lambda: code.output_channel_log()[-3000:])
        _wait("the diff view to close", lambda: not any("proposed edit" in label for label in bench.editor_tab_labels()), 20,
              bench.editor_tab_labels)
        bench.open_file("stats.py")
        page.keyboard.press("Control+S")
        _wait("the saved rewrite", lambda: (workspace / "stats.py").read_text() == WITH_GUARD, 20,
              lambda: (workspace / "stats.py").read_text())
        page.screenshot(path=str(artifacts / "edit-applied.png"))
        # What the extension sent: the command with the typed instruction, twice, then one apply.
        sent = re.findall(r"Sending request 'workspace/executeCommand - \(\d+\)'\.\nParams: \{\n\s*\"command\": \"([\w.]+)\"", log)
        assert sent == ["slm.editSelection", "slm.editSelection", "slm.applyEdit"], sent
        assert log.count(f'"instruction": "{INSTRUCTION}"') == 2, log[-3000:]
        assert re.search(r"Received response 'workspace/executeCommand - \(\d+\)' in \d+ms\.\nResult: \{\n\s*\"applied\": true", log)
