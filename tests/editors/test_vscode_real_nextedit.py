"""Next-edit suggestions in the real VS Code workbench (code-server, Chromium through
Playwright; tests/editors/workbench/session.py's harness, test_vscode_real.py's fixtures): rename a parameter by
typing, pause, and the proposal is drawn at the next use; Tab jumps there, Tab again
applies it through a WorkspaceEdit, and the saved file holds the rename. Ghost text is
switched off here, so Tab can only reach the next edit (with ghost text shown, Tab takes
the ghost text — the keybinding's `when` says `!inlineSuggestionVisible`)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.editors import test_vscode_real
from tests.editors.workbench.session import (
    Session,
    artifacts_dir,
    installed_server_command,
    make_workspace,
    quiet_user_settings,
    wait_for_output,
    workbench_session,
)

pytestmark = pytest.mark.embedded

playwright_api = test_vscode_real.playwright_api  # the harness's fixtures, used here by name
code_server_ready = test_vscode_real.code_server_ready
vsix = test_vscode_real.vsix

SOURCE = "def area(count):\n    double = count * 2  # count\n    return count + double\n"


PROPOSAL_ANSWERED = "Received response 'textDocument/copilotInlineEdit"


def _wait_for_the_proposal(session: Session, timeout: float, screenshot: Path) -> None:
    """The server answered the next-edit request and the workbench drew its decoration."""
    log = wait_for_output(session.code, PROPOSAL_ANSWERED, timeout, poll=0.3)
    assert PROPOSAL_ANSWERED in log, log[-3000:]
    time.sleep(0.5)
    session.page.screenshot(path=str(screenshot))
    assert session.page.locator(".view-lines span[class*='ced-']").count() >= 1, "no decoration drawn for the proposal"


def _tab_tab_and_save(session: Session, saved_file: Path, holds: str, jumped_screenshot: Path | None = None) -> str:
    """Tab jumps to the proposal, Tab again applies it, Ctrl+S saves; the saved text once it
    ``holds`` the applied edit (or after 20 s, for the caller's assertion)."""
    page = session.page
    page.keyboard.press("Tab")
    time.sleep(0.3)
    if jumped_screenshot is not None:
        page.screenshot(path=str(jumped_screenshot))
    page.keyboard.press("Tab")
    time.sleep(0.3)
    page.keyboard.press("Control+S")
    deadline = time.monotonic() + 20
    while holds not in (saved := saved_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return saved


def test_rename_then_tab_tab_applies_the_next_edit_in_the_workbench(
    code_server_ready: None, playwright_api: object, vsix: Path, embedded_model: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    artifacts = artifacts_dir(tmp_path)
    workspace = make_workspace(tmp_path, {"area.py": SOURCE})
    with workbench_session(
        playwright_api, vsix, tmp_path, clean_env, workspace,
        machine={"slmLsp.server.command": [str(installed_server_command()), "serve"], "slmLsp.model": str(embedded_model)},
        user=quiet_user_settings(inline_suggest=False), save_log_to=artifacts / "slm-lsp-output.log",
    ) as session:
        code, bench, page = session.code, session.bench, session.page
        bench.open_file("area.py")
        wait_for_output(code, "'initialize", 90)
        time.sleep(2)
        page.keyboard.press("Control+Home")
        for _ in range(len("def area(")):
            page.keyboard.press("ArrowRight")
        for _ in range(len("count")):
            page.keyboard.press("Shift+ArrowRight")
        bench.type_like_a_person("total")
        _wait_for_the_proposal(session, 30, artifacts / "next-edit-shown.png")
        saved = _tab_tab_and_save(session, workspace / "area.py", "double = total * 2", artifacts / "next-edit-jumped.png")
        page.screenshot(path=str(artifacts / "next-edit-applied.png"))
        assert saved.splitlines()[:2] == ["def area(total):", "    double = total * 2  # count"], saved
        # The edit's command reached the server (VS Code runs it through the language client).
        log = wait_for_output(code, '"command": "slm.acceptedNextEdit"', 20, poll=0.3)
        assert "Sending request 'workspace/executeCommand" in log and '"command": "slm.acceptedNextEdit"' in log, log[-3000:]


def test_a_next_edit_models_proposal_is_applied_in_the_workbench(
    code_server_ready: None, playwright_api: object, vsix: Path, sweep_like_model: Path, clean_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """A literal with no twin changed (2 -> 3): edit propagation has nothing, so what is drawn
    is the model predictor's proposal — the tiny Sweep-like model's scripted rewrite
    (tests/conftest.py ``SWEEP_ANSWER``) diffed into edits, the one on the cursor's line first."""
    artifacts = artifacts_dir(tmp_path)
    workspace = make_workspace(tmp_path, {"area.py": "def area(count):\n    return count * 2\n"})
    with workbench_session(
        playwright_api, vsix, tmp_path, clean_env, workspace,
        machine={"slmLsp.server.command": [str(installed_server_command()), "serve", "--threads", "1"],
                 "slmLsp.model": str(sweep_like_model)},
        user=quiet_user_settings(inline_suggest=False), save_log_to=artifacts / "slm-lsp-output.log",
    ) as session:
        code, bench, page = session.code, session.bench, session.page
        bench.open_file("area.py")
        wait_for_output(code, '"state": "ready"', 90)  # the model predictor runs once the model is loaded
        time.sleep(1)
        page.keyboard.press("Control+Home")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("End")
        page.keyboard.press("Shift+ArrowLeft")
        bench.type_like_a_person("3")
        _wait_for_the_proposal(session, 60, artifacts / "model-edit-shown.png")
        saved = _tab_tab_and_save(session, workspace / "area.py", "total * 3")
        page.screenshot(path=str(artifacts / "model-edit-applied.png"))
        assert saved == "def area(count):\n    return total * 3\n", saved
