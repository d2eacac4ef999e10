"""The suffix extract in the prompt of a prefix-only model (setting ``suffixExtract``), on tiny real-tokenizer
models through the whole pipeline: it reaches the prompt of a model without FIM tokens, never a FIM model's
(which reads the suffix in its own slot), and never carries a secret or an excluded file's text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from slm_lsp.config.settings import DETERMINISTIC, Settings
from slm_lsp.engine.local_engine import Engine
from slm_lsp.pipeline import CompletionRequest, Pipeline
from tests.test_privacy_end_to_end import CANARIES, capturing_pipeline, workspace  # noqa: F401  (fixture)
from tests.tiny_models import tiny_model_path

DOCUMENT = "def area(w, h):\n    \n    return result\n\nprint(area(2, 3))\n"
CURSOR = DOCUMENT.index("    \n") + 4


def _prompts(vocab: str, extract: bool) -> list[str]:
    """The prompt texts the engine received for one completion at CURSOR."""
    engine = Engine.load(tiny_model_path(vocab), n_ctx=1024, n_threads=1)
    prompts: list[str] = []
    real = engine.generate

    def capture(ids, **kwargs):  # type: ignore[no-untyped-def]
        prompts.append(engine.detokenize(ids))
        return real(ids, **kwargs)

    engine.generate = capture  # type: ignore[method-assign]
    pipeline = Pipeline(engine, Settings().replace({**DETERMINISTIC, "suffixExtract": extract}))
    pipeline.complete(CompletionRequest(text=DOCUMENT, offset=CURSOR, language="python"))
    return prompts


def test_prefix_only_model_reads_the_lines_below_the_cursor_when_asked() -> None:
    (with_extract,) = _prompts("nofim", True)
    (without,) = _prompts("nofim", False)
    assert "return result" not in without  # today's prompt: the suffix is invisible
    head = with_extract[: with_extract.index("def area")]
    assert "# Code below the cursor:" in head and "#     return result" in head and "# print(area(2, 3))" in head
    assert with_extract.endswith(without[without.index("def area"):])  # the prefix itself is unchanged


def test_fim_model_prompt_does_not_change() -> None:
    assert _prompts("qwen2.5-coder", True) == _prompts("qwen2.5-coder", False)


def test_setting_must_be_a_boolean() -> None:
    with pytest.raises(Exception, match="suffixExtract"):
        Settings().replace({"suffixExtract": "yes"})


def test_no_canary_reaches_a_prefix_only_prompt_through_the_extract(
    workspace: Path, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:
    pipeline, prompts = capturing_pipeline(workspace, "generate", vocab="nofim")
    pipeline.settings = pipeline.settings.replace({"suffixExtract": True})
    main = workspace / "main.py"
    text = main.read_text()
    cursor = text.index("password") - 1  # on the empty line above the password: only the extract shows it
    with caplog.at_level(logging.DEBUG):
        pipeline.complete(CompletionRequest(text=text, offset=cursor, uri=main.as_uri(), language="python"))
    pipeline.context.shutdown()
    assert len(prompts) == 1 and "# Code below the cursor:" in prompts[0] and "<redacted:" in prompts[0]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for name, canary in CANARIES.items():
        assert canary not in prompts[0], f"{name} canary reached a prompt"
        assert canary not in logged, f"{name} canary reached the log"


def test_extract_is_off_by_default() -> None:
    assert Settings().suffix_extract is False
