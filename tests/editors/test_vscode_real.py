"""The VS Code extension in the real VS Code workbench (code-server 4.139.1, Code 1.139.1).

The .vsix built with `npm run package` is installed with code-server's --install-extension;
the extension launches `slm-lsp serve` itself, exactly as shipped (no wrapper around the
server command; only its path is set, in Machine settings, where code-server reads
machine-scoped settings). Debian's Chromium, through Playwright, types like a person.
Model: the embedded Gemma 3 270M (greedy, so `return ` after `def add(a, b):` gets a real,
repeatable suggestion). Pieces missing outside CI skip with the reason; SLM_LSP_REQUIRE_EDITORS=1
(.ci/run) installs code-server (cached by version) and fails on anything missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.conftest import VSCODE_DIR, missing, required
from tests.editors.workbench import install
from tests.editors.workbench.browser import STATUS_RECORDER, chromium_path
from tests.editors.workbench.codeserver import GRACE_SECONDS
from tests.editors.workbench.session import (
    artifacts_dir,
    installed_server_command,
    make_workspace,
    quiet_user_settings,
    workbench_session,
)

pytestmark = pytest.mark.embedded

ADD_PY = "def add(a, b):\n"
TYPED = "    return "


def _session_processes(sid: int, needle: str) -> dict[int, str]:
    """Processes of session ``sid`` (code-server and everything it started) whose command line holds ``needle``."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and needle in cmdline and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(scope="module")
def playwright_api() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright; the browser is Debian's chromium)")
    if chromium_path() is None:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="module")
def code_server_ready() -> None:
    if shutil.which("npm") is None:
        missing("npm is not installed (apt-get install npm)")
    if not install.installed():
        if not required():
            pytest.skip(f"code-server {install.CODE_SERVER_VERSION} is not installed; "
                        "`python -m tests.editors.workbench.install` installs it (about 4 minutes)")
        install.install()


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`npm run package`, as the extension's README says; the .vsix lands in editors/vscode."""
    if not (VSCODE_DIR / "node_modules" / "@vscode" / "vsce").is_dir():
        missing("editors/vscode has no node_modules: run `npm ci` in editors/vscode")
    result = subprocess.run(["npm", "run", "package"], cwd=VSCODE_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    built = VSCODE_DIR / "slm-lsp.vsix"
    target = tmp_path_factory.mktemp("vsix") / "slm-lsp.vsix"
    shutil.move(built, target)
    return target


def test_the_extension_works_in_the_real_workbench(
    code_server_ready: None, playwright_api: object, vsix: Path, embedded_model: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    artifacts = artifacts_dir(tmp_path)
    workspace = make_workspace(tmp_path, {"add.py": ADD_PY, ".env": "API_URL=http://localhost\n"})
    with workbench_session(
        playwright_api, vsix, tmp_path, clean_env, workspace,
        # `--log-level info` so the server writes routine lines to stderr: they must show as [info].
        machine={"slmLsp.server.command": [str(installed_server_command()), "serve", "--log-level", "info"],
                 "slmLsp.model": str(embedded_model)},
        user=quiet_user_settings(inline_suggest=True),
        init_script=STATUS_RECORDER, save_log_to=artifacts / "slm-lsp-output.log",
    ) as session:
        code, bench, page = session.code, session.bench, session.page
        assert code.process is not None
        sid = code.process.pid

        # The server starts from the extension's own launch, without `--stdio` appended.
        deadline = time.monotonic() + 90
        while not (servers := _session_processes(sid, "slm-lsp serve")) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert servers, f"the extension started no slm-lsp serve:\n{code.output_channel_log()[-3000:]}"
        assert all("--stdio" not in line for line in servers.values()), servers

        # Ghost text from typing (the automatic trigger), keys at human intervals, once the
        # status item says the model is ready (a request during the load is answered empty).
        bench.open_file("add.py")
        assert bench.wait_status_icon("sparkle", timeout=120), bench.status_history()
        page.keyboard.press("Control+End")
        bench.type_like_a_person(TYPED)
        ghost = bench.wait_ghost_text(timeout=90)
        page.screenshot(path=str(artifacts / "ghost-text.png"))
        assert ghost.strip(), f"no ghost text after typing; log:\n{code.output_channel_log()[-3000:]}"

        # Tab accepts; the saved file holds the suggestion; the item's command reaches the server.
        page.keyboard.press("Tab")
        time.sleep(0.5)
        page.screenshot(path=str(artifacts / "after-tab.png"))
        page.keyboard.press("Control+S")
        expected = ADD_PY + TYPED + ghost.strip().splitlines()[0].strip()
        deadline = time.monotonic() + 20
        while not (saved := (workspace / "add.py").read_text()).startswith(expected) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert saved.startswith(expected), (saved, ghost)
        accepted = re.compile(
            r"Sending request 'workspace/executeCommand - \((\d+)\)'\.\nParams: \{\n\s*\"command\": \"slm\.acceptedCompletion\"")
        deadline = time.monotonic() + 20
        while not (sent := accepted.search(log := code.output_channel_log())) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert sent, log[-3000:]
        while f"Received response 'workspace/executeCommand - ({sent.group(1)})'" not in log and time.monotonic() < deadline:
            time.sleep(0.5)
            log = code.output_channel_log()
        assert f"Received response 'workspace/executeCommand - ({sent.group(1)})'" in log, log[-3000:]
        # Server log lines keep their level: what the server said at info shows as [info], never [error].
        assert re.search(r"\[info\] slm_lsp[.\w]*: ", log), log[-3000:]
        assert not re.search(r"\[error\] slm_lsp[.\w]*: ", log), log[-3000:]

        # The status item showed loading (spinning), then a latency.
        history = bench.status_history()
        assert any(entry["spinning"] for entry in history), history
        assert any(re.search(r"\b\d+ ?ms\b", entry["text"]) and not entry["spinning"] for entry in history), history

        # "Why is this file excluded?" answers for add.py.
        bench.command("slm-lsp: Why Is This File Excluded?")
        page.wait_for_selector(".notifications-toasts .notification-list-item-message", timeout=30_000)
        assert "add.py is not excluded" in bench.notifications(), bench.notifications()

        # "Explain selection": select the function, run it from the palette; its result opens beside.
        tabs_before = len(bench.editor_tab_labels())
        page.click(".editor-instance .monaco-editor .view-lines")
        page.keyboard.press("Control+A")
        bench.command("slm-lsp: Explain Selection")
        deadline = time.monotonic() + 120
        while len(bench.editor_tab_labels()) <= tabs_before and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1)
        page.screenshot(path=str(artifacts / "explain.png"))
        labels = bench.editor_tab_labels()
        assert len(labels) > tabs_before, (labels, bench.notifications(), code.output_channel_log()[-3000:])
        shown = bench.active_editor_text()
        assert len(shown.strip()) > 20, shown

        # A .env file open in the editor gets no suggestion, even on the manual trigger.
        bench.open_file(".env")
        page.keyboard.press("Control+End")
        bench.type_like_a_person("\nAPI_KEY=")
        bench.command("Trigger Inline Suggestion")
        assert bench.wait_ghost_text(timeout=5) == ""
        page.screenshot(path=str(artifacts / "env-no-suggestion.png"))

        # Closing the browser leaves no slm-lsp process once the grace time is over.
        session.close_browser()
        deadline = time.monotonic() + GRACE_SECONDS + 30
        while (left := _session_processes(sid, "slm-lsp serve")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not left, f"slm-lsp still running after the browser closed: {left}"


EXITS_AT_ONCE = "import sys; print('slm-lsp: model file /nowhere/m.gguf is missing', file=sys.stderr); sys.exit(2)"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["/nonexistent/bin/slm-lsp", "serve"], "was not found"),
        ([sys.executable, "-c", EXITS_AT_ONCE], "exited at once: slm-lsp: model file /nowhere/m.gguf is missing"),
    ],
    ids=["not-found", "exits-at-once"],
)
def test_a_server_command_that_cannot_start_gets_a_notification_with_the_fix(
    code_server_ready: None, playwright_api: object, vsix: Path, clean_env: dict[str, str], tmp_path: Path,
    command: list[str], expected: str,
) -> None:
    workspace = make_workspace(tmp_path, {"add.py": ADD_PY}, git=False)
    with workbench_session(
        playwright_api, vsix, tmp_path, clean_env, workspace,
        machine={"slmLsp.server.command": command}, user={"workbench.startupEditor": "none"},
    ) as session:
        bench = session.bench
        deadline = time.monotonic() + 60
        while expected not in (shown := bench.notifications()) and time.monotonic() < deadline:
            time.sleep(0.5)
        session.page.screenshot(path=str(artifacts_dir(tmp_path) / f"start-failure-{command[0].rsplit('/', 1)[-1]}.png"))
        assert expected in shown, (shown, session.code.output_channel_log()[-2000:])
        assert "slmLsp.server.command" in shown and "Machine settings" in shown, shown
