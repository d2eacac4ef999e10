"""One real-workbench session for a test: a workspace, code-server with the extension, a browser page.

Why: every real-VS-Code test sets these up the same way (quiet user settings, the .vsix installed,
the workbench opened on the workspace folder, the extension's log saved as an artifact, code-server
stopped even when the test fails), so the tests keep only the settings and steps that are theirs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.editors.workbench.browser import Workbench, launch
from tests.editors.workbench.codeserver import CodeServer

VIEWPORT = {"width": 1280, "height": 800}

# User settings that keep the workbench from popping up anything the test did not ask for
# (tips, word suggestions, update checks) and from changing saved files behind the test's back.
QUIET_USER_SETTINGS: dict[str, Any] = {
    "slmLsp.trace.server": "verbose",  # the LSP traffic in the log: the tests read requests and responses there
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoUpdate": False,
    "extensions.autoCheckUpdates": False,
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
    "files.insertFinalNewline": False,
    "files.trimTrailingWhitespace": False,
    "workbench.tips.enabled": False,
}


def quiet_user_settings(*, inline_suggest: bool) -> dict[str, Any]:
    """QUIET_USER_SETTINGS with ghost text on or off: each test says which, since Tab means
    "accept the ghost text" while one is shown and "go to the next edit" otherwise."""
    return {**QUIET_USER_SETTINGS, "editor.inlineSuggest.enabled": inline_suggest}


def artifacts_dir(tmp_path: Path) -> Path:
    """Where screenshots and logs go: $SLM_LSP_ARTIFACTS/vscode-real in CI, else under tmp_path."""
    base = os.environ.get("SLM_LSP_ARTIFACTS")
    path = Path(base) / "vscode-real" if base else tmp_path / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_workspace(tmp_path: Path, files: dict[str, str], git: bool = True) -> Path:
    """A project folder holding ``files`` (name -> text), a git repository unless ``git`` is False."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    if git:
        subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    for name, text in files.items():
        (workspace / name).write_text(text)
    return workspace


def installed_server_command() -> Path:
    """The `slm-lsp` script of the running Python, the one `pip install -e .` put beside it."""
    command = Path(sys.executable).parent / "slm-lsp"
    assert command.is_file(), f"{command} missing: pip install -e . first"
    return command


def wait_for_output(code: CodeServer, needle: str, timeout: float, poll: float = 0.5) -> str:
    """The extension's log once it holds ``needle`` or ``timeout`` seconds are over; the caller
    asserts (or, when only waiting for the server to settle, does not)."""
    deadline = time.monotonic() + timeout
    while needle not in (log := code.output_channel_log()) and time.monotonic() < deadline:
        time.sleep(poll)
    return log


@dataclass
class Session:
    """The running code-server, the browser and the workbench page on the workspace."""

    code: CodeServer
    browser: Any
    page: Any
    bench: Workbench

    def close_browser(self) -> None:
        """Close the browser now (a test that checks what happens after a user leaves); closing twice is harmless."""
        if self.browser is not None:
            self.browser.close()
            self.browser = None


@contextmanager
def workbench_session(
    playwright_api: Any, vsix: Path, tmp_path: Path, env: dict[str, str], workspace: Path, *,
    machine: dict[str, Any], user: dict[str, Any], init_script: str | None = None, save_log_to: Path | None = None,
) -> Iterator[Session]:
    """code-server under tmp_path with ``machine``/``user`` settings and the .vsix, the workbench
    open on ``workspace`` and ready. On the way out, whatever happened: the browser is closed, the
    extension's log is written to ``save_log_to`` (when given) and code-server is stopped."""
    code = CodeServer(tmp_path / "code-server", env)
    code.write_settings(machine=machine, user=user)
    code.install_extension(vsix)
    browser = None
    session = None
    try:
        code.start(workspace)
        browser = launch(playwright_api)
        page = browser.new_page(viewport=VIEWPORT)
        if init_script is not None:
            page.add_init_script(init_script)
        page.goto(f"{code.url}/?folder={workspace}")
        session = Session(code, browser, page, Workbench(page))
        session.bench.wait_ready()
        yield session
    finally:
        if session is not None:
            session.close_browser()
        elif browser is not None:
            browser.close()
        if save_log_to is not None:
            save_log_to.write_text(code.output_channel_log())
        code.stop()
