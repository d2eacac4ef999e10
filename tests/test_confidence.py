"""Confidence of a kept suggestion (slm_lsp.postprocess.confidence) on constructed token
log-probabilities, and the gate through a real pipeline on real models.

The unit cases build a generation token by token (text pieces with chosen probabilities)
and check that only the tokens whose text survives post-processing count: a doubtful
token cut away by a stop sequence, the single-line cut, typed whitespace or tidied
whitespace must not lower the score, a doubtful kept one must.
"""

from __future__ import annotations

import math
from itertools import accumulate

import pytest

from slm_lsp.config.settings import DETERMINISTIC, Settings, SettingsError
from slm_lsp.engine.local_engine import Engine, Generation, Timings
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.postprocess import CompletionMode, postprocess
from slm_lsp.postprocess.confidence import gated, kept_confidence, kept_tokens, rest_confidence
from tests.tiny_models import counting_model_path


def _generation(*pieces: tuple[str, float]) -> tuple[str, list[float], list[int]]:
    """Text, log-probabilities and token end offsets of a generation given (text, probability) per token."""
    texts = [text for text, _ in pieces]
    return "".join(texts), [math.log(p) for _, p in pieces], list(accumulate(len(t) for t in texts))


def test_lowest_kept_token_decides() -> None:
    text, lps, ends = _generation((" a", 0.9), (" +", 0.4), (" b", 0.8))
    assert kept_confidence(text, text, lps, ends) == pytest.approx(0.4)


def test_tokens_cut_by_post_processing_do_not_count() -> None:
    # The model went on past the line with a doubtful tail; single-line keeps " a + b".
    text, lps, ends = _generation((" a", 0.9), (" +", 0.7), (" b", 0.8), ("\n", 0.6), ("    print", 0.01))
    kept = postprocess(text, "def f(a, b):\n    return", "\n", "python", CompletionMode.SINGLE)
    assert kept == " a + b"
    assert kept_confidence(text, kept, lps, ends) == pytest.approx(0.7)
    # The same tail kept (whole text) is judged by its doubtful token.
    assert kept_confidence(text, text, lps, ends) == pytest.approx(0.01)


def test_token_reaching_past_a_stop_cut_counts_for_its_kept_part() -> None:
    # The engine cut "x)\n..." at the stop "\n": the token "x)\n" ends beyond the text.
    pieces = [("foo(", 0.9), ("x)\n", 0.35)]
    full, lps, ends = _generation(*pieces)
    text = full[: full.index("\n")]
    assert kept_confidence(text, text, lps, ends) == pytest.approx(0.35)


def test_typed_whitespace_and_dropped_leading_tokens_do_not_count() -> None:
    # The user had typed the space; the pipeline drops it from the output before post-processing.
    text, lps, ends = _generation((" ", 0.05), ("value", 0.8))
    assert kept_confidence(text, "value", lps, ends, start=1) == pytest.approx(0.8)


def test_text_tidied_inside_is_aligned_character_by_character() -> None:
    # CRLF normalised and trailing spaces removed: not a substring, still derived from the output.
    text, lps, ends = _generation(("if x:", 0.9), ("  \r\n", 0.02), ("    y", 0.6))
    kept = "if x:\n    y"
    assert kept not in text
    assert kept_confidence(text, kept, lps, ends) == pytest.approx(0.02)  # the newline token is kept
    text2, lps2, ends2 = _generation(("if x:", 0.9), ("\n", 0.7), ("    y", 0.6), ("   ", 0.01))
    assert kept_confidence(text2, "if x:\n    y", lps2, ends2) == pytest.approx(0.6)  # tidied trailing spaces are not


def test_nothing_known_or_nothing_kept() -> None:
    text, lps, ends = _generation(("a", 0.5))
    assert kept_confidence(text, "", lps, ends) is None
    assert kept_confidence(text, "a", [], []) is None  # a backend without logprobs
    with pytest.raises(ValueError):
        kept_confidence(text, "a", lps, [])


def test_text_not_derived_from_the_output_is_judged_by_every_token() -> None:
    text, lps, ends = _generation(("ab", 0.9), ("cd", 0.2))
    assert kept_confidence(text, "zz", lps, ends) == pytest.approx(0.2)


def test_the_rest_of_a_typed_ahead_suggestion_is_judged_on_the_tokens_not_typed() -> None:
    text, lps, ends = _generation((" total", 0.1), (" +", 0.9), (" value", 0.6))
    tokens = kept_tokens(text, "total + value", lps, ends, start=1)  # the typed space was dropped
    assert [end for _, end in tokens] == [5, 7, 13]  # ends in the kept text
    assert rest_confidence(tokens, 0) == pytest.approx(0.1) == kept_confidence(text, "total + value", lps, ends, start=1)
    assert rest_confidence(tokens, 3) == pytest.approx(0.1)  # "tot": the doubtful token is not typed in full
    assert rest_confidence(tokens, 5) == pytest.approx(0.6)  # "total" typed: it no longer counts
    assert rest_confidence(tokens, 7) == pytest.approx(0.6)
    assert rest_confidence(tokens, 12) == pytest.approx(0.6)  # inside the last token: it still counts
    assert rest_confidence((), 3) is None  # no log-probabilities: unknown, never gated


def test_a_rest_is_never_judged_less_sure_than_the_whole() -> None:
    text, lps, ends = _generation(("x = ", 0.8), ("f(", 0.3), ("y", 0.05), (")\nz", 0.4))
    kept = "x = f(y)"
    tokens = kept_tokens(text, kept, lps, ends)
    whole = rest_confidence(tokens, 0)
    assert [end for _, end in tokens] == [4, 6, 7, 8]  # the cut token ends where the kept text does
    for typed in range(len(kept)):
        assert rest_confidence(tokens, typed) >= whole  # type: ignore[operator]


@pytest.mark.parametrize(
    ("confidence", "threshold", "withheld"),
    [(0.29, 0.3, True), (0.3, 0.3, False), (0.0, 0.0, False), (None, 0.9, False), (0.99, 1.0, True)],
)
def test_gate(confidence: float | None, threshold: float, withheld: bool) -> None:
    assert gated(confidence, threshold) is withheld


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.3", True, None, float("nan")])
def test_min_confidence_setting_is_validated(bad: object) -> None:
    with pytest.raises(SettingsError, match="'minConfidence' must be a probability between 0 and 1"):
        Settings().replace({"minConfidence": bad})


def test_min_confidence_setting_accepts_probabilities() -> None:
    assert Settings().min_confidence == 0.3
    assert Settings().replace({"minConfidence": 0}).min_confidence == 0.0
    assert Settings().replace({"min-confidence": 1}).min_confidence == 1.0


# ------------------------------------------------------------------ real models through the pipeline

TEXT = "def add(a, b):\n    return\n"
CURSOR = len("def add(a, b):\n    return")


@pytest.fixture(scope="module")
def tiny() -> Engine:
    """Random weights that never repeat themselves (so no loop guard empties the suggestion)."""
    engine = Engine.load(counting_model_path(), n_ctx=1024, n_threads=1)
    yield engine  # type: ignore[misc]
    engine.close()


def _pipeline(engine: Engine, threshold: float) -> Pipeline:
    return Pipeline(engine, Settings().replace({**DETERMINISTIC, "minConfidence": threshold}))


def test_engine_returns_one_logprob_per_generated_token(tiny: Engine) -> None:
    ids = tiny.tokenize(TEXT[:CURSOR])
    generation = tiny.generate(ids, max_tokens=12)
    assert len(generation.logprobs) == len(generation.token_ends) == generation.timings.generated_tokens > 0
    assert all(lp <= 0.0 for lp in generation.logprobs)
    assert list(generation.token_ends) == sorted(generation.token_ends)
    # The ends are those of the detokenized prefixes: the last one is the whole text (no stop here).
    if generation.stop_reason == "length":
        assert generation.token_ends[-1] == len(generation.text)


def test_random_weights_are_gated_and_counted_as_such(tiny: Engine) -> None:
    """A random-weight model doubts every token (here p ~ 0.013): the default gate withholds it;
    at 0 the same suggestion is shown with the same confidence."""
    request = CompletionRequest(text=TEXT, offset=CURSOR, uri="file:///gate.py", language="python")
    open_gate = _pipeline(tiny, 0.0).complete(request)
    assert open_gate.completion and not open_gate.gated
    assert open_gate.confidence is not None and 0.0 < open_gate.confidence < 0.3
    closed = _pipeline(tiny, 0.3).complete(request)
    assert closed.gated and closed.completion == "" and closed.insert_text == ""
    assert closed.confidence == pytest.approx(open_gate.confidence)
    assert closed.as_dict()["gated"] is True and closed.as_dict()["confidence"] == round(open_gate.confidence, 4)
    # A threshold just at the confidence shows it.
    exact = _pipeline(tiny, open_gate.confidence).complete(request)
    assert exact.completion == open_gate.completion and not exact.gated


def test_embedded_model_confident_line_passes_the_default_gate(embedded_model) -> None:  # type: ignore[no-untyped-def]
    engine = Engine.load(embedded_model, n_ctx=1024, n_threads=2)
    try:
        pipeline = Pipeline(engine, Settings().replace(DETERMINISTIC))
        result = pipeline.complete(CompletionRequest(text=TEXT, offset=CURSOR, uri="file:///add.py", language="python"))
        assert result.completion.strip() == "a + b" and not result.gated
        assert result.confidence is not None and result.confidence >= 0.3
        # The cached answer keeps its confidence; typing the suggestion keeps it too.
        again = pipeline.complete(CompletionRequest(text=TEXT, offset=CURSOR, uri="file:///other.py", language="python"))
        assert again.stop_reason == "cache" and again.confidence == pytest.approx(result.confidence)
        typed = TEXT[:CURSOR] + " a" + TEXT[CURSOR:]
        follow = pipeline.complete(CompletionRequest(text=typed, offset=CURSOR + 2, uri="file:///add.py", language="python"))
        assert follow.stop_reason == "typed-ahead" and follow.confidence == pytest.approx(result.confidence)
        assert result.timings["confidence_ms"] >= 0.0
    finally:
        engine.close()


class Scripted:
    """The tiny engine answering a fixed generation with chosen token probabilities; counts calls."""

    def __init__(self, engine: Engine, *pieces: tuple[str, float]) -> None:
        self._engine = engine
        self.text, self.logprobs, self.ends = _generation(*pieces)
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    def generate(self, ids: object, **_: object) -> Generation:
        self.calls += 1
        return Generation(self.text, "end", Timings(generated_tokens=len(self.ends)), tuple(self.logprobs), tuple(self.ends))


def _typing(engine: Scripted, typed: str) -> tuple[object, object]:
    """The suggestion at the cursor, then the answer once ``typed`` more characters are in."""
    pipeline = Pipeline(engine, Settings().replace({**DETERMINISTIC, "suffixCandidates": 1}))  # type: ignore[arg-type]
    first = pipeline.complete(CompletionRequest(text=TEXT, offset=CURSOR, uri="file:///add.py", language="python"))
    text = TEXT[:CURSOR] + typed + TEXT[CURSOR:]
    then = pipeline.complete(CompletionRequest(text=text, offset=CURSOR + len(typed), uri="file:///add.py", language="python"))
    return first, then


def test_typing_a_withheld_suggestions_doubtful_start_shows_the_rest_without_a_model_call(tiny: Engine) -> None:
    engine = Scripted(tiny, (" a", 0.1), (" +", 0.9), (" b", 0.8))
    first, then = _typing(engine, " a")
    assert first.gated and first.completion == "" and first.confidence == pytest.approx(0.1)  # type: ignore[attr-defined]
    assert then.stop_reason == "typed-ahead" and then.completion == " + b" and engine.calls == 1  # type: ignore[attr-defined]
    assert then.confidence == pytest.approx(0.8) and not then.gated  # type: ignore[attr-defined]


def test_a_rest_still_in_doubt_asks_the_model_again(tiny: Engine) -> None:
    engine = Scripted(tiny, (" a", 0.9), (" +", 0.1), (" b", 0.8))
    first, then = _typing(engine, " a")
    assert first.gated and then.stop_reason != "typed-ahead" and engine.calls == 2  # type: ignore[attr-defined]


def test_a_shown_suggestion_typed_ahead_keeps_at_least_its_confidence(tiny: Engine) -> None:
    engine = Scripted(tiny, (" a", 0.5), (" +", 0.9), (" b", 0.8))
    first, then = _typing(engine, " a")
    assert not first.gated and then.stop_reason == "typed-ahead" and engine.calls == 1  # type: ignore[attr-defined]
    assert then.confidence == pytest.approx(0.8)  # type: ignore[attr-defined]


def test_a_withheld_secret_is_never_remembered_for_typing_ahead(tiny: Engine) -> None:
    canary = "sk-live-9fQ2xR7mV4kL8pZ3wT6yB1nC5dH0jE"
    engine = Scripted(tiny, (' "', 0.1), (canary[:10], 0.9), (canary[10:] + '"', 0.9))
    first, then = _typing(engine, ' "')
    assert first.completion == "" and engine.calls == 2  # dropped by the output scan, not remembered
    assert canary not in str(then.as_dict()) and canary[:10] not in then.completion  # type: ignore[attr-defined]
