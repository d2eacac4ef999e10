"""Next-edit suggestions in the real VS Code workbench (code-server, Chromium through
Playwright; the harness is tests/editors/test_vscode_real.py's): rename a parameter by
typing, pause, and the proposal is drawn at the next use; Tab jumps there, Tab again
applies it through a WorkspaceEdit, and the saved file holds the rename. Ghost text is
switched off here, so Tab can only reach the next edit (with ghost text shown, Tab takes
the ghost text — the keybinding's `when` says `!inlineSuggestionVisible`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.editors import test_vscode_real
from tests.editors.test_vscode_real import _artifacts
from tests.editors.workbench.browser import Workbench, launch
from tests.editors.workbench.codeserver import CodeServer

pytestmark = pytest.mark.embedded

playwright_api = test_vscode_real.playwright_api  # the harness's fixtures, used here by name
code_server_ready = test_vscode_real.code_server_ready
vsix = test_vscode_real.vsix

SOURCE = "def area(count):\n    double = count * 2  # count\n    return count + double\n"


def test_rename_then_tab_tab_applies_the_next_edit_in_the_workbench(
    code_server_ready: None, playwright_api: object, vsix: Path, embedded_model: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    artifacts = _artifacts(tmp_path)
    workspace = tmp_path / "project"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    (workspace / "area.py").write_text(SOURCE)
    server_command = Path(sys.executable).parent / "slm-lsp"
    code = CodeServer(tmp_path / "code-server", clean_env)
    code.write_settings(
        machine={"slmLsp.server.command": [str(server_command), "serve"], "slmLsp.model": str(embedded_model)},
        user={
            "slmLsp.trace.server": "verbose",
            "workbench.startupEditor": "none",
            "security.workspace.trust.enabled": False,
            "telemetry.telemetryLevel": "off",
            "extensions.autoUpdate": False,
            "extensions.autoCheckUpdates": False,
            "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
            "editor.suggestOnTriggerCharacters": False,
            "editor.wordBasedSuggestions": "off",
            "editor.inlineSuggest.enabled": False,
            "files.insertFinalNewline": False,
            "files.trimTrailingWhitespace": False,
            "workbench.tips.enabled": False,
        },
    )
    code.install_extension(vsix)
    code.start(workspace)
    browser = None
    try:
        browser = launch(playwright_api)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{code.url}/?folder={workspace}")
        bench = Workbench(page)
        bench.wait_ready()
        bench.open_file("area.py")
        deadline = time.monotonic() + 90
        while "'initialize" not in code.output_channel_log() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
        page.keyboard.press("Control+Home")
        for _ in range(len("def area(")):
            page.keyboard.press("ArrowRight")
        for _ in range(len("count")):
            page.keyboard.press("Shift+ArrowRight")
        bench.type_like_a_person("total")
        deadline = time.monotonic() + 30
        while "Received response 'textDocument/copilotInlineEdit" not in (log := code.output_channel_log()) \
                and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "Received response 'textDocument/copilotInlineEdit" in log, log[-3000:]
        time.sleep(0.5)
        page.screenshot(path=str(artifacts / "next-edit-shown.png"))
        struck = page.locator(".view-lines span[class*='ced-']").count()
        assert struck >= 1, "no decoration drawn for the proposal"
        page.keyboard.press("Tab")
        time.sleep(0.3)
        page.screenshot(path=str(artifacts / "next-edit-jumped.png"))
        page.keyboard.press("Tab")
        time.sleep(0.3)
        page.keyboard.press("Control+S")
        deadline = time.monotonic() + 20
        while "double = total * 2" not in (saved := (workspace / "area.py").read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        page.screenshot(path=str(artifacts / "next-edit-applied.png"))
        assert saved.splitlines()[:2] == ["def area(total):", "    double = total * 2  # count"], saved
        # The edit's command reached the server (VS Code runs it through the language client).
        deadline = time.monotonic() + 20
        while '"command": "slm.acceptedNextEdit"' not in (log := code.output_channel_log()) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "Sending request 'workspace/executeCommand" in log and '"command": "slm.acceptedNextEdit"' in log, log[-3000:]
    finally:
        if browser is not None:
            browser.close()
        (artifacts / "slm-lsp-output.log").write_text(code.output_channel_log())
        code.stop()


def test_a_next_edit_models_proposal_is_applied_in_the_workbench(
    code_server_ready: None, playwright_api: object, vsix: Path, sweep_like_model: Path, clean_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """A literal with no twin changed (2 -> 3): edit propagation has nothing, so what is drawn
    is the model predictor's proposal — the tiny Sweep-like model's scripted rewrite
    (tests/conftest.py ``SWEEP_ANSWER``) diffed into edits, the one on the cursor's line first."""
    artifacts = _artifacts(tmp_path)
    workspace = tmp_path / "project"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    (workspace / "area.py").write_text("def area(count):\n    return count * 2\n")
    server_command = Path(sys.executable).parent / "slm-lsp"
    code = CodeServer(tmp_path / "code-server", clean_env)
    code.write_settings(
        machine={"slmLsp.server.command": [str(server_command), "serve", "--threads", "1"],
                 "slmLsp.model": str(sweep_like_model)},
        user={
            "slmLsp.trace.server": "verbose",
            "workbench.startupEditor": "none",
            "security.workspace.trust.enabled": False,
            "telemetry.telemetryLevel": "off",
            "extensions.autoUpdate": False,
            "extensions.autoCheckUpdates": False,
            "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
            "editor.suggestOnTriggerCharacters": False,
            "editor.wordBasedSuggestions": "off",
            "editor.inlineSuggest.enabled": False,
            "files.insertFinalNewline": False,
            "files.trimTrailingWhitespace": False,
            "workbench.tips.enabled": False,
        },
    )
    code.install_extension(vsix)
    code.start(workspace)
    browser = None
    try:
        browser = launch(playwright_api)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{code.url}/?folder={workspace}")
        bench = Workbench(page)
        bench.wait_ready()
        bench.open_file("area.py")
        deadline = time.monotonic() + 90  # the model predictor runs once the model is loaded
        while '"state": "ready"' not in code.output_channel_log() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1)
        page.keyboard.press("Control+Home")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("End")
        page.keyboard.press("Shift+ArrowLeft")
        bench.type_like_a_person("3")
        deadline = time.monotonic() + 60
        while "Received response 'textDocument/copilotInlineEdit" not in (log := code.output_channel_log()) \
                and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "Received response 'textDocument/copilotInlineEdit" in log, log[-3000:]
        time.sleep(0.5)
        page.screenshot(path=str(artifacts / "model-edit-shown.png"))
        assert page.locator(".view-lines span[class*='ced-']").count() >= 1, "no decoration drawn for the proposal"
        page.keyboard.press("Tab")
        time.sleep(0.3)
        page.keyboard.press("Tab")
        time.sleep(0.3)
        page.keyboard.press("Control+S")
        deadline = time.monotonic() + 20
        while "total * 3" not in (saved := (workspace / "area.py").read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        page.screenshot(path=str(artifacts / "model-edit-applied.png"))
        assert saved == "def area(count):\n    return total * 3\n", saved
    finally:
        if browser is not None:
            browser.close()
        (artifacts / "slm-lsp-output.log").write_text(code.output_channel_log())
        code.stop()
