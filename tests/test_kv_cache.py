"""KV-cache reuse: the plan, and the cache contents after real edits in llama.cpp."""

from __future__ import annotations

import llama_cpp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slm_lsp.engine import Engine
from slm_lsp.kv_cache import plan_reuse
from tests.tiny_models import tiny_model_path

tokens = st.lists(st.integers(min_value=0, max_value=5), max_size=60)


@given(tokens, tokens.filter(bool), st.booleans(), st.integers(min_value=1, max_value=6))
def test_plan_rebuilds_the_new_prompt(old: list[int], new: list[int], can_shift: bool, min_chunk: int) -> None:
    plan = plan_reuse(old, new, can_shift=can_shift, min_chunk=min_chunk)
    assert plan.keep < len(new) and old[: plan.keep] == new[: plan.keep]
    if plan.tail_start < len(new):
        n_tail = len(new) - 1 - plan.tail_start
        assert n_tail >= min_chunk and can_shift
        source = plan.tail_start - plan.shift
        assert source >= plan.keep and source + n_tail <= len(old) - 1
        assert old[source : source + n_tail] == new[plan.tail_start : plan.tail_start + n_tail]
    assert 1 <= plan.evaluated(len(new)) <= len(new)


def test_one_token_edit_evaluates_only_the_edit_and_the_last_token() -> None:
    old = list(range(100, 400))
    new = old[:150] + [7] + old[150:]  # one token inserted in the middle
    plan = plan_reuse(old, new, can_shift=True)
    assert plan.evaluated(len(new)) == 2
    assert plan_reuse(old, new, can_shift=False).evaluated(len(new)) == len(new) - 150


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(tiny_model_path("deepseek-coder"), n_ctx=2048, n_threads=1)


def _cache_state(engine: Engine) -> tuple[int, int]:
    memory = llama_cpp.llama_get_memory(engine._ctx)
    return llama_cpp.llama_memory_seq_pos_max(memory, 0), llama_cpp.llama_memory_seq_pos_max(memory, 1)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 299), st.integers(0, 4), st.lists(st.integers(100, 30000), max_size=4)), min_size=1, max_size=6))
def test_cache_mirrors_the_prompt_after_any_edits(engine: Engine, edits: list[tuple[int, int, list[int]]]) -> None:
    prompt = list(range(1000, 1300))
    engine.generate(prompt, max_tokens=2)
    for at, removed, inserted in edits:
        at = min(at, len(prompt) - 1)
        prompt = prompt[:at] + inserted + prompt[at + removed :] or [5]
        generation = engine.generate(prompt, max_tokens=2)
        assert engine._sequence.tokens == prompt  # generated tokens are dropped, the prompt kept
        assert _cache_state(engine) == (len(prompt) - 1, -1)  # positions contiguous, scratch empty
        assert generation.timings.evaluated_tokens + generation.timings.reused_tokens == len(prompt)


def test_prefix_reuse_is_exact(engine: Engine) -> None:
    """Without a shifted tail, reuse must give exactly the cold result."""
    prompt = list(range(2000, 2400))
    engine._sequence.clear()
    cold = engine.generate(prompt + [42], max_tokens=8).text
    engine.generate(prompt + [43, 44], max_tokens=8)
    warm = engine.generate(prompt + [42], max_tokens=8)
    assert warm.timings.evaluated_tokens == 1
    assert warm.text == cold
