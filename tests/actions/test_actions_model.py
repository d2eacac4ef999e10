"""``actionsModel``: a catalog name resolves to the pulled file; a model without a chat template is used with a warning."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from slm_lsp.actions.model import ActionsModel
from slm_lsp.config.settings import Settings
from tests.tiny_models import tiny_model_path

CATALOG = """schema = 1

[[model]]
name = "tiny-instruct"
description = "tiny chat model"
repository = "example/tiny-instruct"
revision = "{revision}"
file = "tiny-qwen2-chat.gguf"
quantization = "F16"
size_bytes = 1
size_exact = false
architecture = "qwen2"
fim_family = "qwen2.5-coder"
license = "mit"
ram_gb = 1
cores = 1
role = "actions"
"""


def _load(value: str, caplog: pytest.LogCaptureFixture) -> tuple[str, list[str]]:
    model = ActionsModel()
    with caplog.at_level(logging.WARNING, logger="slm_lsp.actions.model"):
        try:
            engine = model.engine_for(Settings().replace({"actions_model": value, "n_threads": 1}), completion_engine=None)
            return engine.name, [record.getMessage() for record in caplog.records]
        finally:
            model.close()


def test_a_catalog_name_of_role_actions_loads_the_pulled_file(
        chat_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG.format(revision="ab" * 20))
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(chat_model, cache / "tiny-qwen2-chat.gguf")  # as `slm-lsp models pull tiny-instruct` leaves it
    monkeypatch.setenv("SLM_LSP_CATALOG", str(catalog))
    monkeypatch.setenv("SLM_LSP_CACHE_DIR", str(cache))
    name, warnings = _load("tiny-instruct", caplog)
    assert name == "tiny-qwen2" and warnings == []


def test_a_model_without_a_chat_template_is_used_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    name, warnings = _load(str(tiny_model_path("nofim")), caplog)
    assert name == "tiny-nofim"
    assert len(warnings) == 1 and "has no chat template" in warnings[0] and "role 'actions'" in warnings[0]
