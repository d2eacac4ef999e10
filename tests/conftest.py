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


SWEEP_ANSWER = "def area(total):\n    return total * 3\n\n"  # a window rewritten, then its block's newline
FILE_SEP = 151664  # Qwen2.5's <|file_sep|>


@pytest.fixture(scope="session")
def sweep_like_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2.5-vocabulary model named like Sweep's GGUF whose greedy answer, after a
    Sweep prompt (it ends with a newline), is ``SWEEP_ANSWER`` and then ``<|file_sep|>``: weights made
    with ``build_tiny_model(successors=...)``, since what a trained model writes is not
    available here. Everything else about it — loading, prompt evaluation, decoding — is real."""
    from slm_lsp.engine.local_engine import Engine
    from tests.tiny_models import build_tiny_model, tiny_model_path

    tokenizer = Engine.load(tiny_model_path("qwen2.5-coder"), n_ctx=256, n_threads=1)
    try:
        last = tokenizer.tokenize("updated/area.py\n")[-1]  # the prompt's last token: the newline
        chain = [last, *tokenizer.tokenize(SWEEP_ANSWER), FILE_SEP]
    finally:
        tokenizer.close()
    assert len(set(chain)) == len(chain), "the scripted answer needs distinct tokens"
    path = tmp_path_factory.mktemp("models") / "tiny-sweep-next-edit.gguf"
    return build_tiny_model("qwen2.5-coder", path, tied_output=False, name="tiny sweep next-edit",
                            successors=dict(zip(chain, chain[1:])))
