"""Canary secrets through the whole pipeline: nothing secret reaches the model or the log.

Every prompt the pipeline sends to llama.cpp is captured (token ids, detokenized) together
with every log record at DEBUG, for completions in a workspace full of canaries: a .env
file, a git-ignored directory, a symlink to a file outside the workspace, a hard-coded key
in an imported module, and a password typed into the open buffer itself.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest

from slm_lsp.config.settings import DETERMINISTIC, Settings
from slm_lsp.context import ContextEngine
from slm_lsp.engine.local_engine import Engine
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.privacy import PrivacyGate
from tests.tiny_models import tiny_model_path

CANARIES = {
    "env": "CANARYenv7Q2mX9vL4pR8sT1wZ6",
    "ignored": "CANARYignored3F8kD2nB7cV5xQ",
    "outside": "CANARYoutside9H4jL1mN6pS2tW",
    "key": "AKIAZ7CANARY4KEYQ2XW",
    "buffer": "CANARYbufferP4ss9Wq7Zt2Lx",
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "secrets").mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("secrets/\n")
    (root / ".env").write_text(f"TOKEN={CANARIES['env']}\n")
    (root / "secrets" / "vault.py").write_text(f'def vault_token():\n    return "{CANARIES["ignored"]}"\n')
    outside = tmp_path / "outside.py"
    outside.write_text(f'def outside_helper():\n    return "{CANARIES["outside"]}"\n')
    os.symlink(outside, root / "pkg" / "linked.py")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "cloud.py").write_text(
        f'AWS_ACCESS_KEY_ID = "{CANARIES["key"]}"\n\n\ndef upload(bucket, data):\n    """Upload data."""\n    return bucket, data\n'
    )
    (root / "main.py").write_text(
        "from pkg.cloud import upload\nfrom pkg.linked import outside_helper\nfrom secrets.vault import vault_token\n\n"
        f'password = "{CANARIES["buffer"]}"\nresult = upload(\n'
    )
    return root


def capturing_pipeline(workspace: Path, method: str, vocab: str = "qwen2.5-coder") -> tuple[Pipeline, list[str]]:
    """A pipeline over ``workspace`` (indexed, gated) whose engine records, as text and ids,
    every prompt passed to ``engine.<method>`` ("generate" or "warm"); ``vocab`` picks the tiny model."""
    engine = Engine.load(tiny_model_path(vocab), n_ctx=2048, n_threads=1)
    prompts: list[str] = []
    real = getattr(engine, method)

    def capture(ids, **kwargs):  # type: ignore[no-untyped-def]
        prompts.append(engine.detokenize(ids) + repr(list(ids)))
        return real(ids, **kwargs)

    setattr(engine, method, capture)
    gate = PrivacyGate([workspace])
    context = ContextEngine([workspace], gate)
    context.start_indexing()
    assert context.wait_until_indexed(60)
    return Pipeline(engine, Settings().replace(DETERMINISTIC), context), prompts


def test_no_canary_reaches_a_prompt_or_a_log(workspace: Path, caplog: pytest.LogCaptureFixture) -> None:
    pipeline, prompts = capturing_pipeline(workspace, "generate")
    main = workspace / "main.py"
    text = main.read_text()
    with caplog.at_level(logging.DEBUG):
        for offset in (len(text), text.index("password") + 12, text.index("upload(") + 7):
            pipeline.complete(CompletionRequest(text=text, offset=offset, uri=main.as_uri(), language="python"))
        excluded = pipeline.complete(CompletionRequest(
            text=(workspace / ".env").read_text(), offset=6, uri=(workspace / ".env").as_uri()))
        ignored = pipeline.complete(CompletionRequest(
            text=(workspace / "secrets" / "vault.py").read_text(), offset=10, uri=(workspace / "secrets" / "vault.py").as_uri()))
    pipeline.context.shutdown()
    assert len(prompts) == 3  # the excluded files never reached the model
    assert excluded.stop_reason == ignored.stop_reason == "excluded" and excluded.insert_text == ""
    assert any("def upload" in prompt for prompt in prompts)  # cross-file context did flow
    assert all("<redacted:" in prompt for prompt in prompts)  # the buffer's password was there, redacted
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for name, canary in CANARIES.items():
        for prompt in prompts:
            assert canary not in prompt, f"{name} canary reached a prompt"
        assert canary not in logged, f"{name} canary reached the log"
