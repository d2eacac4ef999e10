"""Suffix ranking in the pipeline: which candidate line is shown, its confidence, when it runs.

The engine is a real tiny model (tokenizer, FIM facts, prompt building) whose ``generate``,
``alternatives`` and ``score`` answer scripted lines and log-probabilities, so the choice
the pipeline makes can be checked against known scores. The mechanics of those three calls
in llama.cpp are tests/test_suffix_candidates.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from slm_lsp.config.settings import DETERMINISTIC, Settings, SettingsError
from slm_lsp.engine.candidates import Branch
from slm_lsp.engine.local_engine import Engine, Generation, Timings
from slm_lsp.pipeline import CompletionRequest, Pipeline
from tests.tiny_models import tiny_model_path

CURSOR = "█"
DOCUMENT = "def scaled(xs, factor):\n    n = █\n    return n * factor\n"
OWN = -0.05  # log p of every candidate token but an alternative's first (the runner-up)
RUNNER_UP = -2.0  # exp(-2) = 0.14: below the default minConfidence on its own


@pytest.fixture(scope="module")
def tiny() -> Iterator[Engine]:
    engine = Engine.load(tiny_model_path("nofim"), n_ctx=2048, n_threads=1)
    yield engine
    engine.close()


class Scripted:
    """A prefix-only engine whose greedy line, alternatives and suffix scores are given.

    ``suffix`` maps a candidate line to the log-probability of every scored token of the
    code below after it. Every scored continuation is recorded as text (canary checks).
    """

    def __init__(self, engine: Engine, greedy: str, alternatives: Sequence[str], suffix: dict[str, float]) -> None:
        self._engine = engine
        self.greedy, self.lines, self.suffix = greedy, list(alternatives), suffix
        self.asked_alternatives = 0
        self.scored: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    @property
    def max_candidates(self) -> int:
        return 8

    def _line(self, line: str, first: float, reason: str = "stop") -> Generation:
        text = " " + line  # the space before the cursor is left out of the prompt and written back
        tokens = self._engine.tokenize(text)
        ends = [len(self._engine.detokenize(tokens[: i + 1])) for i in range(len(tokens))]
        logprobs = [OWN] * len(tokens)
        logprobs[self._branch(tokens)] = first
        return Generation(text, reason, Timings(generated_tokens=len(tokens)), tuple(logprobs), tuple(ends),
                          stop_sequence="\n" if reason == "stop" else "", tokens=tuple(tokens))

    def _branch(self, tokens: Sequence[int]) -> int:
        """The first visible token, where the engine branches."""
        return next(i for i in range(len(tokens)) if self._engine.detokenize(list(tokens[: i + 1])).strip())

    def generate(self, ids: Sequence[int], *, branches: int = 0, **_: Any) -> Generation:
        greedy = self._line(self.greedy, OWN)
        if branches:
            at = self._branch(greedy.tokens)
            options = tuple((self._engine.tokenize(" " + line)[at], RUNNER_UP) for line in self.lines[:branches])
            greedy.branch = Branch(at, options)
        return greedy

    def alternatives(self, ids: Sequence[int], greedy: Generation, **_: Any) -> list[Generation]:
        self.asked_alternatives += 1
        return [self._line(text, RUNNER_UP) for text in self.lines]

    def score(self, ids: Sequence[int], continuations: Sequence[Sequence[int]], known: Sequence[int]) -> list[list[float]]:
        rows = []
        for continuation, skip in zip(continuations, known, strict=True):
            text = self._engine.detokenize(list(continuation))
            self.scored.append(text)
            line = max((c for c in [self.greedy, *self.lines] if text.lstrip().startswith(c)), key=len)
            own = len(self._engine.tokenize(" " + line))
            rows.append([OWN if i < own else self.suffix[line] for i in range(skip, len(continuation))])
        return rows


def _complete(engine: Scripted, document: str = DOCUMENT, **settings: Any) -> Any:
    pipeline = Pipeline(engine, Settings().replace({**DETERMINISTIC, **settings}))  # type: ignore[arg-type]
    offset = document.index(CURSOR)
    text = document.replace(CURSOR, "")
    return pipeline.complete(CompletionRequest(text=text, offset=offset, uri="file:///ranked/scaled.py", language="python"))


def test_the_line_that_best_leads_into_the_code_below_is_shown(tiny: Engine) -> None:
    engine = Scripted(tiny, "0", ["len(xs)", "sum(xs)", "0"], {"0": -3.0, "len(xs)": -0.2, "sum(xs)": -1.0})
    result = _complete(engine)
    assert result.insert_text == "len(xs)"
    assert result.timings["candidates"] == 3  # the repeated "0" was scored once
    assert result.timings["ranking_ms"] > 0
    # Its runner-up first token (p 0.14) no longer decides: the clear win below does.
    assert not result.gated and result.confidence == pytest.approx(math.exp(OWN), rel=1e-3)


def test_a_narrow_win_is_as_doubtful_as_the_choice(tiny: Engine) -> None:
    # The alternative's code below scores just enough better to beat its runner-up first
    # token: won by ~0.35 nats, a two-way posterior of ~0.59 is the least certain part of it.
    below = DOCUMENT[DOCUMENT.index(CURSOR) + 1 :]
    scored = min(16, len(tiny.tokenize(below)))
    own = {line: len(tiny.tokenize(" " + line)) * OWN for line in ("len(xs)", "len(x)")}
    lead = OWN - RUNNER_UP + own["len(xs)"] - own["len(x)"] + 0.35  # what the suffix must make up
    engine = Scripted(tiny, "len(xs)", ["len(x)"], {"len(xs)": -1.0, "len(x)": -1.0 + lead / scored})
    result = _complete(engine)
    assert result.insert_text == "len(x)"
    assert result.confidence == pytest.approx(1 / (1 + math.exp(-0.35)), rel=1e-3)


def test_the_greedy_line_stays_when_it_leads_best(tiny: Engine) -> None:
    engine = Scripted(tiny, "len(xs)", ["sum(xs)", "0"], {"0": -3.0, "len(xs)": -0.2, "sum(xs)": -1.0})
    result = _complete(engine)
    assert result.insert_text == "len(xs)" and result.confidence == pytest.approx(math.exp(OWN), rel=1e-3)
    assert result.timings["candidates"] == 3


@pytest.mark.parametrize(
    ("document", "settings"),
    [
        pytest.param(DOCUMENT, {"suffix_candidates": 1}, id="turned-off"),
        pytest.param("def scaled(xs, factor):\n    n = █", {}, id="nothing-below"),
        pytest.param("def scaled(xs, factor):\n    n = █\n\n\n", {}, id="only-blank-lines-below"),
    ],
)
def test_no_ranking_without_code_below_or_when_turned_off(tiny: Engine, document: str, settings: dict[str, Any]) -> None:
    engine = Scripted(tiny, "0", ["len(xs)"], {"0": -3.0, "len(xs)": -0.2})
    result = _complete(engine, document, **settings)
    assert result.insert_text == "0" and engine.asked_alternatives == 0 and engine.scored == []
    assert result.timings["candidates"] == 0 and result.timings["ranking_ms"] == 0


def test_a_fim_model_reads_the_suffix_itself_and_is_not_ranked() -> None:
    fim = Engine.load(tiny_model_path("deepseek-coder"), n_ctx=2048, n_threads=1)
    try:
        engine = Scripted(fim, "0", ["len(xs)"], {"0": -3.0, "len(xs)": -0.2})
        assert _complete(engine).insert_text == "0" and engine.asked_alternatives == 0
    finally:
        fim.close()


def test_secrets_below_the_cursor_are_redacted_before_they_are_scored(tiny: Engine) -> None:
    canary = "sk-live-9fQ2xR7mV4kL8pZ3wT6yB1nC5dH0jE"
    document = f'def scaled(xs, factor):\n    n = █\n    token = "{canary}"\n    return n * factor\n'
    engine = Scripted(tiny, "0", ["len(xs)"], {"0": -3.0, "len(xs)": -0.2})
    _complete(engine, document)
    assert engine.scored and all(canary not in text and canary[:12] not in text for text in engine.scored)
    assert any("<redacted" in text for text in engine.scored)


@pytest.mark.parametrize("value", [0, 9, 2.5, True, "4"])
def test_suffix_candidates_must_be_a_count_from_one_to_eight(value: object) -> None:
    with pytest.raises(SettingsError, match="suffixCandidates"):
        Settings().replace({"suffix_candidates": value})
