"""Alternatives and suffix scores on forks of the cached prompt (engine.candidates), in llama.cpp.

A tiny random-weight model with a real tokenizer: its words mean nothing, but what is checked
here does not depend on them — an alternative is exactly what greedy decoding gives after the
runner-up token, a score is exactly the log-probability the model assigns, and the prompt in
sequence 0 is left cached and untouched for the next keystroke.
"""

from __future__ import annotations

from collections.abc import Iterator

import llama_cpp
import pytest

from slm_lsp.engine.candidates import FIRST_SEQUENCE
from slm_lsp.engine.local_engine import MAX_CANDIDATES, Engine
from tests.tiny_models import tiny_model_path

PROMPT = "def add(a, b):\n    return"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = Engine.load(tiny_model_path("nofim"), n_ctx=1024, n_threads=1)
    yield engine
    engine.close()


def _positions(engine: Engine) -> list[int]:
    memory = llama_cpp.llama_get_memory(engine._ctx)
    return [llama_cpp.llama_memory_seq_pos_max(memory, s) for s in range(FIRST_SEQUENCE + MAX_CANDIDATES)]


def test_the_branch_holds_the_runners_up_at_the_first_visible_token(engine: Engine) -> None:
    ids = engine.tokenize(PROMPT)
    greedy = engine.generate(ids, max_tokens=8, branches=3)
    assert greedy.branch is not None and len(greedy.tokens) == len(greedy.logprobs) == greedy.timings.generated_tokens
    b = greedy.branch.index
    assert engine.detokenize(list(greedy.tokens[: b + 1])).strip() and not engine.detokenize(list(greedy.tokens[:b])).strip()
    options = greedy.branch.options
    assert len(options) == 3 and greedy.tokens[b] not in [token for token, _ in options]
    assert [lp for _, lp in options] == sorted((lp for _, lp in options), reverse=True)
    assert all(lp <= greedy.logprobs[b] + 1e-6 for _, lp in options)  # greedy took the most likely token
    assert engine.generate(ids, max_tokens=8).branch is None  # not asked for: nothing recorded


def test_an_alternative_is_greedy_decoding_after_its_runner_up(engine: Engine) -> None:
    ids = engine.tokenize(PROMPT)
    greedy = engine.generate(ids, max_tokens=6, branches=2)
    alternatives = engine.alternatives(ids, greedy, max_tokens=6)
    assert greedy.branch is not None and len(alternatives) == 2
    b = greedy.branch.index
    for alternative, (token, logprob) in zip(alternatives, greedy.branch.options):
        assert alternative.tokens[:b] == greedy.tokens[:b] and alternative.tokens[b] == token
        assert alternative.logprobs[b] == pytest.approx(logprob, abs=1e-4)
        # the same line decoded alone, from the prompt plus the forced tokens
        forced = [*ids, *alternative.tokens[: b + 1]]
        rest = engine.generate(forced, max_tokens=len(alternative.tokens) - b - 1, branches=1)
        assert alternative.tokens[b + 1 :] == rest.tokens
        assert alternative.text == engine.detokenize(list(alternative.tokens))
        assert alternative.stop_reason == "length" and len(alternative.token_ends) == len(alternative.tokens)


def test_scores_are_the_log_probabilities_greedy_decoding_saw(engine: Engine) -> None:
    ids = engine.tokenize(PROMPT)
    greedy = engine.generate(ids, max_tokens=6, branches=1)
    full, tail = engine.score(ids, [list(greedy.tokens), list(greedy.tokens)], known=[0, 4])
    assert full == pytest.approx(list(greedy.logprobs), abs=1e-3)
    assert tail == pytest.approx(list(greedy.logprobs[4:]), abs=1e-3)  # only what the caller lacks
    with pytest.raises(ValueError, match="cached"):
        engine.score([*ids, 7], [[1, 2]])


def test_the_prompt_stays_cached_and_the_forks_are_released(engine: Engine) -> None:
    ids = engine.tokenize(PROMPT)
    before = engine.generate(ids, max_tokens=6, branches=3)
    engine.alternatives(ids, before, max_tokens=6)
    engine.score(ids, [[5, 6, 7], [8, 9]])
    assert _positions(engine) == [len(ids) - 1] + [-1] * (MAX_CANDIDATES + 1)
    after = engine.generate(ids, max_tokens=6)
    assert after.timings.evaluated_tokens == 1  # the next keystroke reuses the prompt
    assert after.text == before.text


def test_a_cancelled_or_stale_request_gets_no_alternatives(engine: Engine) -> None:
    ids = engine.tokenize(PROMPT)
    greedy = engine.generate(ids, max_tokens=6, branches=2)
    assert engine.alternatives(ids, greedy, max_tokens=6, cancelled=lambda: True) == []
    assert _positions(engine)[FIRST_SEQUENCE:] == [-1] * MAX_CANDIDATES
    engine.generate(engine.tokenize(PROMPT + " a"), max_tokens=2)  # another prompt is cached now
    assert engine.alternatives(ids, greedy, max_tokens=6) == []


def test_alternatives_stop_like_generation(engine: Engine) -> None:
    ids = engine.tokenize(PROMPT)
    greedy = engine.generate(ids, max_tokens=12, branches=3)
    assert greedy.branch is not None
    b = greedy.branch.index
    for alternative in engine.alternatives(ids, greedy, max_tokens=12):
        later = alternative.text[alternative.token_ends[b] :].strip()
        if not later:
            continue  # nothing after the branch token to stop at
        stop = later[0]
        cut = next(a for a in engine.alternatives(ids, greedy, max_tokens=12, stop=[stop]) if a.tokens[b] == alternative.tokens[b])
        assert cut.stop_reason == "stop" and cut.stop_sequence == stop
        assert cut.text == alternative.text[: alternative.text.index(stop)]
        return
    pytest.skip("no alternative wrote anything after its branch token")
