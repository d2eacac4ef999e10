"""Fixtures shared by the next-edit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from slm_lsp.engine.local_engine import Engine
from tests.tiny_models import build_tiny_model, tiny_model_path

ANSWER = "def area(total):\n    return total * 3\n\n"  # a window rewritten, then its block's newline
FILE_SEP = 151664  # Qwen2.5's <|file_sep|>


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A git work tree whose ``private/`` directory is git-ignored (so the gate excludes it)."""
    root = tmp_path / "repo"
    (root / "private").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("private/\n")
    return root


@pytest.fixture(scope="session")
def sweep_like_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2.5-vocabulary model named like Sweep's GGUF whose greedy answer, after a
    Sweep prompt (it ends with a newline), is ``ANSWER`` and then ``<|file_sep|>``: weights made
    with ``build_tiny_model(successors=...)``, since what a trained model writes is not
    available here. Everything else about it — loading, prompt evaluation, decoding — is real."""
    tokenizer = Engine.load(tiny_model_path("qwen2.5-coder"), n_ctx=256, n_threads=1)
    try:
        last = tokenizer.tokenize("updated/area.py\n")[-1]  # the prompt's last token: the newline
        chain = [last, *tokenizer.tokenize(ANSWER), FILE_SEP]
    finally:
        tokenizer.close()
    assert len(set(chain)) == len(chain), "the scripted answer needs distinct tokens"
    path = tmp_path_factory.mktemp("models") / "tiny-sweep-next-edit.gguf"
    return build_tiny_model("qwen2.5-coder", path, tied_output=False, name="tiny sweep next-edit",
                            successors=dict(zip(chain, chain[1:])))
