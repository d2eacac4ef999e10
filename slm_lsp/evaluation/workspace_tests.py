"""``--test-cmd``: the user's tests run against a copy of the workspace with a completion in place.

The copy holds the files the privacy gate admits (nothing it excludes is copied: no
``.env``, no git-ignored file), in a private temporary directory removed at the end. The
command is ``MODULE [ARGS]``, run as ``python -m MODULE ARGS`` in the HumanEval
sandbox's isolation (``sandbox.run_program(guards=False)``: a forked child in its own
session and network namespace, with memory and file-size limits, a reduced environment
and a timeout), with the copy as working directory and first on ``sys.path``, and the
interpreter's site-packages after the standard library so the project's dependencies
import. The HumanEval guards (disabled ``os`` functions, no ``subprocess``) are off: a
real test suite needs them (``unittest.mock`` imports ``subprocess``), and the code under
test is the user's own with one suggestion in it. ``unittest`` and ``pytest`` both run
(add ``-p no:cacheprovider`` to keep pytest from writing its cache into the copy).

The command is run once on the unchanged copy first: if it fails there, no completion
can be judged by it, and the run says so instead of scoring every hole as failed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from slm_lsp.evaluation.sandbox import ExecResult, run_program
from slm_lsp.privacy import PrivacyGate

_DRIVER = r"""
import os, runpy, sys

sys.dont_write_bytecode = True  # a completion of the same size in the same second would load stale bytecode
sys.path.extend({site!r})
os.chdir({copy!r})
sys.path.insert(0, {copy!r})
sys.argv = {argv!r}
try:
    runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
except SystemExit as stop:
    if stop.code not in (None, 0):
        raise
"""


class SuiteCommandError(ValueError):
    """``--test-cmd`` cannot be used; the message says why."""


class SuiteCommand:
    """A private copy of the admitted workspace files and the command that tests them."""

    def __init__(self, command: str, root: Path, gate: PrivacyGate, *, timeout: float) -> None:
        words = shlex.split(command)
        if words[:2] in (["python", "-m"], ["python3", "-m"]):
            words = words[2:]
        if not words:
            raise SuiteCommandError("--test-cmd needs a module to run, e.g. 'unittest discover -s tests'")
        self.module, self.args = words[0], words[1:]
        self.root = root
        self.timeout = timeout
        self._directory = tempfile.TemporaryDirectory(prefix="slm-lsp-eval-tests-")
        self.copy = Path(self._directory.name) / root.name
        self.copied = _copy_admitted(root, self.copy, gate)

    def check(self) -> ExecResult:
        """Run the command on the unchanged copy."""
        return self._run()

    def run_with(self, relative: str, text: str) -> ExecResult:
        """Run the command with ``relative`` holding ``text``, then put the file back."""
        target = self.copy / relative
        original = target.read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        try:
            return self._run()
        finally:
            target.write_text(original, encoding="utf-8")

    def close(self) -> None:
        self._directory.cleanup()

    def _run(self) -> ExecResult:
        site = [entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))]
        source = _DRIVER.format(site=site, copy=str(self.copy), argv=[self.module, *self.args], module=self.module)
        return run_program(source, timeout=self.timeout, guards=False)


def _copy_admitted(root: Path, target: Path, gate: PrivacyGate) -> int:
    """Copy the files under ``root`` the gate admits (never .git or bytecode); returns how many."""
    copied = 0
    for folder, directories, names in os.walk(root):
        here = Path(folder)
        directories[:] = sorted(d for d in directories if d not in (".git", "__pycache__") and not gate.check_path(here / d).excluded)
        for name in sorted(names):
            source = here / name
            if source.is_symlink() or gate.check_path(source).excluded:
                continue
            destination = target / source.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            copied += 1
    return copied
