"""KV-cache reuse: the plan, and the cache contents after real edits in llama.cpp."""

from __future__ import annotations

import llama_cpp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slm_lsp.engine.kv_cache import plan_reuse
from slm_lsp.engine.local_engine import Engine
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
        assert source >= plan.keep and source + n_tail <= len(old)
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
@given(
    st.lists(
        st.tuples(st.integers(0, 299), st.integers(0, 4), st.lists(st.integers(100, 30000), max_size=4), st.integers(0, 320)),
        min_size=1,
        max_size=6,
    )
)
def test_cache_mirrors_the_prompt_after_any_edits(engine: Engine, edits: list[tuple[int, int, list[int], int]]) -> None:
    """Each edit is first requested and cancelled once ``cancel_at`` tokens are cached
    (as when the next keystroke arrives), then requested again to completion."""
    prompt = list(range(1000, 1300))
    engine.generate(prompt, max_tokens=2)
    for at, removed, inserted, cancel_at in edits:
        at = min(at, len(prompt) - 1)
        prompt = prompt[:at] + inserted + prompt[at + removed :] or [5]
        engine.generate(prompt, max_tokens=2, cancelled=lambda: len(engine._sequence.tokens) >= cancel_at)
        memory = llama_cpp.llama_get_memory(engine._ctx)
        assert llama_cpp.llama_memory_seq_pos_max(memory, 0) == len(engine._sequence.tokens) - 1
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


def test_cancel_inside_a_prompt_batch_keeps_the_cache_consistent(engine: Engine) -> None:
    """The abort callback stops evaluation inside a batch; the batch is dropped from the
    cache and the mirror, and the next request continues from what was cached."""
    engine._sequence.clear()
    prompt = list(range(3000, 3900))  # 900 tokens: two batches of 512
    cold = engine.generate(prompt, max_tokens=4).text
    engine._sequence.clear()
    checks = 0

    def cancel_inside_second_batch() -> bool:
        nonlocal checks
        checks += 1
        return checks > 2  # before batch 1, inside batch 1 (once), before batch 2 → then inside batch 2

    stopped = engine.generate(prompt, max_tokens=4, cancelled=cancel_inside_second_batch)
    assert stopped.stop_reason == "cancelled"
    assert checks > 3  # the callback was consulted inside the second batch, not only between batches
    kept = list(engine._sequence.tokens)
    assert kept == prompt[: len(kept)]
    assert len(kept) < len(prompt)
    assert _cache_state(engine) == (len(kept) - 1, -1)
    resumed = engine.generate(prompt, max_tokens=4)
    assert resumed.timings.reused_tokens == len(kept)
    assert resumed.text == cold


def test_a_cancelled_edit_keeps_the_text_after_the_cursor_cached(engine: Engine) -> None:
    """Typing cancels requests mid-evaluation; the run after the edit must survive that,
    or every keystroke re-evaluates everything after the cursor."""
    engine._sequence.clear()
    prompt = list(range(4000, 4900))
    engine.generate(prompt, max_tokens=2)
    edited = prompt[:300] + list(range(5000, 5200)) + prompt[300:]
    checks = 0

    def cancel_inside_the_gap() -> bool:
        nonlocal checks
        checks += 1
        return checks > 1  # the check before the batch passes, the abort callback's first poll stops it

    stopped = engine.generate(edited, max_tokens=2, cancelled=cancel_inside_the_gap)
    assert stopped.stop_reason == "cancelled"
    assert engine._sequence.tokens == prompt[:-1]  # nothing of the gap, the run back in place (minus the last token)
    assert _cache_state(engine) == (len(prompt) - 2, -1)
    resumed = engine.generate(edited, max_tokens=2)
    assert resumed.timings.evaluated_tokens == 200 + 1  # the gap and the last token, not the 600 after the edit
    assert engine._sequence.tokens == edited
