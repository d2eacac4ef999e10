"""Answers without a model call (cache, typed-ahead) and time budgets, on real models."""

from __future__ import annotations

import dataclasses

import pytest

from slm_lsp.config.settings import DETERMINISTIC, Settings
from slm_lsp.engine.local_engine import Engine
from slm_lsp.pipeline import CompletionRequest, Pipeline


@pytest.fixture(scope="module")
def gemma(embedded_model) -> Pipeline:  # type: ignore[no-untyped-def]
    engine = Engine.load(embedded_model, n_ctx=2048, n_threads=2)
    return Pipeline(engine, Settings().replace(DETERMINISTIC))


def test_repeated_prompt_is_answered_from_the_cache(gemma: Pipeline) -> None:
    request = CompletionRequest(text="def add(a, b):\n    return\n", offset=25, uri="file:///a.py")
    first = gemma.complete(request)
    again = gemma.complete(dataclasses.replace(request, uri="file:///b.py"))
    assert first.stop_reason in ("stop", "end") and again.stop_reason == "cache"
    assert again.insert_text == first.insert_text == " a + b"


def test_typing_the_suggestion_reuses_it(gemma: Pipeline) -> None:
    text = "def add(a, b):\n    return\n"
    shown = gemma.complete(CompletionRequest(text=text, offset=25, uri="file:///typed.py")).insert_text
    assert len(shown) > 2
    typed = text[:25] + shown[:2] + text[25:]
    follow = gemma.complete(CompletionRequest(text=typed, offset=27, uri="file:///typed.py"))
    assert follow.stop_reason == "typed-ahead" and follow.insert_text == shown[2:]
    # Typing something else asks the model again.
    other = text[:25] + " x" + text[25:]
    assert gemma.complete(CompletionRequest(text=other, offset=27, uri="file:///typed.py")).stop_reason != "typed-ahead"


def test_generation_budget_keeps_only_whole_lines(gemma: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that advances 0.1 s per reading makes the budget end after ~25 tokens on any machine."""
    ticks = iter(range(1_000_000))
    monkeypatch.setattr("slm_lsp.engine.local_engine.time.monotonic", lambda: next(ticks) / 10)
    text = 'def fizzbuzz(n):\n    """FizzBuzz."""\n    if n % 15 == 0:\n        return "FizzBuzz"\n'
    pipeline = Pipeline(gemma.engine, Settings().replace({**DETERMINISTIC, "maxGenerationSeconds": 2.5, "maxTokensMulti": 1000}))
    result = pipeline.complete(CompletionRequest(text=text, offset=len(text)))
    assert result.stop_reason == "deadline"
    assert "\n" in result.raw and not result.raw.endswith("\n")
    assert result.completion == result.raw[: result.raw.rfind("\n")].rstrip()


def test_prompt_budget_stops_and_the_next_request_continues(gemma: Pipeline) -> None:
    text = "".join(f"value_{i} = {i} * 2\n" for i in range(300)) + "total = value_1"
    pipeline = Pipeline(gemma.engine, Settings().replace({**DETERMINISTIC, "maxPromptSeconds": 0.05, "maxGenerationSeconds": 5}))
    gemma.engine._sequence.clear()
    first = pipeline.complete(CompletionRequest(text=text, offset=len(text)))
    assert first.stop_reason == "deadline" and first.completion == ""
    cached_after_first = len(gemma.engine._sequence.tokens)
    assert cached_after_first > 0  # the evaluated part stays in the KV cache
    second = pipeline.complete(CompletionRequest(text=text, offset=len(text)))
    assert second.timings["reused_tokens"] >= cached_after_first - 1
    assert len(gemma.engine._sequence.tokens) > cached_after_first or second.stop_reason != "deadline"


def test_adaptive_budget_follows_measured_decode_speed(gemma: Pipeline) -> None:
    pipeline = Pipeline(gemma.engine, Settings().replace({"latencyTargetMs": 100, "maxTokensSingle": 48}))
    gemma.engine.speed.decode_tps = 100.0
    assert pipeline._max_tokens(multiline=False) == 10
    gemma.engine.speed.decode_tps = 10_000.0
    assert pipeline._max_tokens(multiline=False) == 48
