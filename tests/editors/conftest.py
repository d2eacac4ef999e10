"""Shared helpers for the editor-client tests (VS Code extension, Neovim plugin).

These tests drive real client code. A missing client (node, npm packages, nvim) skips
them with the reason and the command that installs it; with SLM_LSP_REQUIRE_EDITORS=1
(set by .ci/run) a missing client fails instead, so CI cannot pass without running them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VSCODE_DIR = REPO / "editors" / "vscode"
NVIM_DIR = REPO / "editors" / "nvim"


def required() -> bool:
    return os.environ.get("SLM_LSP_REQUIRE_EDITORS", "") not in ("", "0", "false", "no")


def missing(reason: str) -> None:
    """Skip (or, when the editor tests are required, fail) because a client is absent."""
    if required():
        pytest.fail(f"{reason} (SLM_LSP_REQUIRE_EDITORS is set, so this is an error)", pytrace=False)
    pytest.skip(reason)
