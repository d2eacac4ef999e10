"""Fixtures shared by the next-edit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A git work tree whose ``private/`` directory is git-ignored (so the gate excludes it)."""
    root = tmp_path / "repo"
    (root / "private").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("private/\n")
    return root
