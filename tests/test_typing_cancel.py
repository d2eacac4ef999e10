"""Typing faster than the model evaluates a batch: every cancelled request must leave a
longer cached prompt, and a request whose successor extends it finishes its prompt.

The keys are simulated at the engine: each request is cancelled from inside llama.cpp's
abort callback part-way through a batch, exactly where a keystroke would land when one
batch takes longer than the gap between keys. Counting the callback's polls (not time)
places the cancel, so the test means the same on a loaded machine.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import llama_cpp
import pytest

from slm_lsp.config.settings import Settings
from slm_lsp.engine.local_engine import MAX_UBATCH, Engine
from slm_lsp.lsp.service import CANCEL_GRACE_SECONDS, CompletionService, ModelState, Ticket, extends
from slm_lsp.pipeline import CompletionRequest
from tests.tiny_models import tiny_model_path

N_BATCH = 2 * MAX_UBATCH  # two ubatches per batch: an abort in the second keeps the first


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(tiny_model_path("deepseek-coder"), n_ctx=2048, n_threads=1, n_batch=N_BATCH)


def _pos_max(engine: Engine) -> int:
    return int(llama_cpp.llama_memory_seq_pos_max(llama_cpp.llama_get_memory(engine._ctx), 0))


def _counting(limit: int | None) -> tuple[Callable[[], bool], list[int]]:
    """A ``cancelled`` check that turns true on its ``limit``-th call (never if None)."""
    calls = [0]

    def cancelled() -> bool:
        calls[0] += 1
        return limit is not None and calls[0] >= limit

    return cancelled, calls


def _polls_per_ubatch(engine: Engine) -> int:
    """How often the abort check is consulted while one full ubatch is evaluated."""
    counts = []
    for n in (MAX_UBATCH, 2 * MAX_UBATCH):
        engine._sequence.clear()
        cancelled, calls = _counting(None)
        engine.warm(list(range(1000, 1000 + n)), cancelled=cancelled)
        counts.append(calls[0])
    assert counts[1] > counts[0] > 1, counts
    return counts[1] - counts[0]


def test_each_key_faster_than_a_batch_grows_the_cached_prompt(engine: Engine) -> None:
    """Every key cancels its request half-way through the second ubatch of a batch. The
    cached prompt must grow on every key (before, the aborted batch was dropped whole and
    every key restarted from the same point) and match what llama.cpp holds."""
    polls = _polls_per_ubatch(engine)
    engine._sequence.clear()
    document = list(range(2000, 3000))
    cached = [0]
    for key in range(1, 6):
        prompt = document[: 900 + key]  # one token typed per key
        cancelled, _ = _counting(1 + polls + polls // 2)  # past the first ubatch, inside the second
        result = engine.generate(prompt, max_tokens=2, cancelled=cancelled)
        held = engine.cached_tokens
        assert engine._sequence.tokens == prompt[:held]
        assert _pos_max(engine) == held - 1  # the mirror is what llama.cpp holds
        if result.stop_reason != "cancelled":  # the rest fitted before the cancel: the prompt is complete
            assert held == len(prompt)
            break
        assert held > cached[-1], f"key {key}: cached prompt did not grow ({cached})"
        cached.append(held)
    assert len(cached) >= 3, cached  # at least two keys were cancelled mid-batch and still made progress


def test_a_cancelled_request_whose_successor_extends_it_finishes_its_prompt(engine: Engine) -> None:
    engine._sequence.clear()
    prompt = list(range(3000, 3900))
    cancelled, _ = _counting(3)  # cancelled inside the first batch
    result = engine.generate(prompt, max_tokens=4, cancelled=cancelled, keep_prompt=lambda: True)
    assert result.stop_reason == "cancelled"
    assert result.timings.generated_tokens == 0  # a stale suggestion is not decoded
    assert engine._sequence.tokens == prompt
    nxt = engine.generate(prompt + [42], max_tokens=2)
    assert nxt.timings.evaluated_tokens == 1


def test_decoding_stops_within_one_step_even_when_the_prompt_is_kept(engine: Engine) -> None:
    engine._sequence.clear()
    prompt = list(range(4000, 4100))
    steps = [0]

    def cancel_after_first_token(text: str) -> None:
        steps[0] += 1

    result = engine.generate(
        prompt, max_tokens=32, cancelled=lambda: steps[0] >= 1, keep_prompt=lambda: True, on_text=cancel_after_first_token
    )
    assert result.stop_reason == "cancelled"
    assert result.timings.generated_tokens == 1
    assert engine._sequence.tokens == prompt


def test_a_prefetch_yields_within_one_ubatch_and_keeps_the_finished_ones(engine: Engine) -> None:
    polls = _polls_per_ubatch(engine)
    engine._sequence.clear()
    prompt = list(range(5000, 5900))
    cancelled, calls = _counting(1 + polls + polls // 2)
    timings = engine.warm(prompt, cancelled=cancelled)
    assert calls[0] == 1 + polls + polls // 2  # stopped at the first poll that saw the real request
    assert engine.cached_tokens == MAX_UBATCH == timings.evaluated_tokens
    assert _pos_max(engine) == MAX_UBATCH - 1
    resumed = engine.generate(prompt, max_tokens=2)
    assert resumed.timings.reused_tokens == MAX_UBATCH


def test_which_successor_lets_a_cancelled_prompt_finish() -> None:
    """The supersede rule of the service: a newer request that edits near or after the old
    cursor reuses the old prompt (finish it); one elsewhere in the file does not (abort)."""
    text = "x = 1\n" * 100 + "for pattern in pat"
    old = CompletionRequest(text, len(text), "file:///a.py")
    typed = CompletionRequest(text + "t", len(text) + 1, "file:///a.py")
    backspace = CompletionRequest(text[:-1], len(text) - 1, "file:///a.py")
    far = CompletionRequest("y = 2\n" + text, 3, "file:///a.py")
    assert extends(old, typed) and extends(old, backspace)
    assert not extends(old, far)
    assert not extends(old, CompletionRequest(text + "t", len(text) + 1, "file:///b.py"))

    service = CompletionService(Settings())
    try:
        ticket = Ticket(service, "file:///a.py", old)
        service._requests["file:///a.py"] = old
        assert not ticket.keep_prompt()  # not cancelled at all
        ticket.cancel()
        assert ticket.keep_prompt()  # just cancelled: the next keystroke's request usually follows
        assert ticket.stopped_at is not None
        ticket.stopped_at -= CANCEL_GRACE_SECONDS * 2
        assert not ticket.keep_prompt()  # nobody followed: give the model back
        service._requests["file:///a.py"] = typed
        assert ticket.keep_prompt()
        service._requests["file:///a.py"] = far
        assert not ticket.keep_prompt()
    finally:
        service.shutdown()


class _SlowPrefetch:
    """A pipeline whose prefetch takes ``steps`` polls of its cancel check unless told to yield."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.started = threading.Event()

    def prefetch(self, request: CompletionRequest, cancelled: Callable[[], bool]) -> dict[str, object]:
        self.started.set()
        for _ in range(self.steps):
            if cancelled():
                return {"outcome": "yielded"}
            time.sleep(0.005)
        return {"outcome": "warm"}


@pytest.mark.parametrize(("successor", "outcome"), [("typed", "warm"), ("far", "yielded"), ("other file", "yielded"),
                                                    ("action", "yielded")])
def test_a_prefetch_finishes_for_a_request_that_types_on_from_its_cursor(successor: str, outcome: str) -> None:
    """Typing on from where the cursor rested needs the very prompt being warmed: the
    prefetch finishes it instead of throwing its current ubatch away. Anything else (a
    far edit, another file, a code action) makes it yield at once."""
    text = "x = 1\n" * 100 + "for pattern in pat"
    rested = CompletionRequest(text, len(text), "file:///a.py")
    successors = {
        "typed": CompletionRequest(text + "t", len(text) + 1, "file:///a.py"),
        "far": CompletionRequest("y = 2\n" + text, 3, "file:///a.py"),
        "other file": CompletionRequest(text, len(text), "file:///b.py"),
        "action": None,
    }
    service = CompletionService(Settings())
    pipeline = _SlowPrefetch(steps=60)  # 0.3 s when nobody interrupts it
    service._pipeline = pipeline  # type: ignore[assignment]
    service.state = ModelState.READY
    try:
        service.prefetch(rested, "client")
        assert pipeline.started.wait(5)
        request = successors[successor]
        key = request.uri if request is not None else "action"
        asyncio.run(service.run(lambda _pipeline, _ticket: None, str(key), request))
        assert service.last_prefetch["outcome"] == outcome
    finally:
        service.shutdown()
