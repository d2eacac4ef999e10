"""Shared fixtures: the embedded model assembled once per test session into a temp cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVER_COMMAND = [sys.executable, "-m", "slm_lsp", "serve"]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache directory, so tests never depend on (or touch) the user's cache."""
    return tmp_path_factory.mktemp("slm-lsp-cache")


@pytest.fixture(scope="session")
def embedded_model(model_cache: Path) -> Path:
    """The embedded Gemma 3 270M model, assembled from its PyPI chunks and sha256-checked."""
    from slm_lsp.models.source import ensure_embedded_model

    return ensure_embedded_model(target_dir=model_cache)


@pytest.fixture
def clean_env(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for subprocesses: no SLM_LSP_MODEL, the test cache as the model cache, and
    no user config file (the developer's own config.toml must not change test results)."""
    monkeypatch.delenv("SLM_LSP_MODEL", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "SLM_LSP_MODEL"}
    env["SLM_LSP_CACHE_DIR"] = str(model_cache)
    env["SLM_LSP_CONFIG_DIR"] = str(model_cache / "no-user-config")
    return env
