"""Fixtures for the privacy-gate tests: an isolated git environment, trees and canaries.

Every test that touches git runs with HOME, XDG_CONFIG_HOME and the git config files
pointed into tmp_path, so neither the developer's ~/.gitconfig nor their global excludes
file can change a decision (or be changed).
"""

from __future__ import annotations

import os
import secrets
import shutil
import string
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment where git sees only files under tmp_path/home."""
    home = tmp_path / "home"
    (home / ".config" / "git").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


def git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    assert GIT is not None
    done = subprocess.run([GIT, *args], cwd=cwd, input=input, capture_output=True, check=False)
    if done.returncode not in (0, 1):
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def git_ignored(repo: Path, relative: list[str]) -> dict[str, bool]:
    """git's own answer for each path: ``git check-ignore --no-index -v -n --stdin -z``."""
    if not relative:
        return {}
    out = git(repo, "check-ignore", "--no-index", "-v", "-n", "--stdin", "-z",
              input=b"".join(os.fsencode(r) + b"\0" for r in relative))
    fields = out.split(b"\0")
    answers: dict[str, bool] = {}
    for i in range(0, len(fields) - 3, 4):
        source, _line, pattern, path = fields[i : i + 4]
        answers[os.fsdecode(path)] = bool(source) and not pattern.startswith(b"!")
    assert len(answers) == len(relative), "git check-ignore did not answer for every path"
    return answers


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_canary() -> Callable[[str], str]:
    """Fresh secret-shaped canaries, random per test so no fixture text can contain them."""

    def make(kind: str = "aws") -> str:
        alnum = string.ascii_letters + string.digits
        rand = lambda n, alphabet=alnum: "".join(secrets.choice(alphabet) for _ in range(n))
        while True:
            if kind == "aws":
                value = "AKIA" + rand(16, string.ascii_uppercase + string.digits)
            elif kind == "github":
                value = "ghp_" + rand(36)
            elif kind == "password":
                value = "Pw" + rand(14) + "9!"
            elif kind == "hex":
                value = rand(40, "0123456789abcdef")
            else:
                raise ValueError(kind)
            if any(c.isdigit() for c in value) and any(c.isupper() for c in value[4:] or "X"):
                return value

    return make


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of every logger at DEBUG."""
    caplog.set_level(1)
    yield caplog


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """All captured records, formatted, plus their raw arguments."""
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_text:
            parts.append(record.exc_text)
    return "\n".join(parts)
