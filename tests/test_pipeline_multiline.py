"""Block completion through the real pipeline and the embedded Gemma 3 270M (prefix-only).

On a blank line between statements the model does not see the code below; the pipeline
stops it where it writes that code's first line and inserts what came before: a whole
block, never the code below again, and a document that still parses.
"""

from __future__ import annotations

import ast

import pytest

from slm_lsp.config.settings import DETERMINISTIC, Settings
from slm_lsp.engine.local_engine import Engine
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.postprocess.syntax import syntax_errors

DOCUMENTS = [
    pytest.param(
        "python",
        'def fizzbuzz(n):\n    for i in range(1, n + 1):\n        if i % 15 == 0:\n            print("FizzBuzz")\n█\n'
        '        elif i % 5 == 0:\n            print("Buzz")\n        else:\n            print(i)\n',
        "        elif i % 5 == 0:",
        id="python-elif-branch",
    ),
    pytest.param(
        "python",
        "def largest(values):\n    best = values[0]\n    for v in values:\n█\n    return best\n",
        "    return best",
        id="python-loop-body",
    ),
    pytest.param(
        "javascript",
        "function sum(values) {\n  let total = 0;\n█\n  return total;\n}\n",
        "  return total;",
        id="javascript-loop",
    ),
]


@pytest.fixture(scope="module")
def gemma(embedded_model) -> Pipeline:  # type: ignore[no-untyped-def]
    engine = Engine.load(embedded_model, n_ctx=2048, n_threads=2)
    return Pipeline(engine, Settings().replace(DETERMINISTIC))


@pytest.mark.parametrize(("language", "document", "below"), DOCUMENTS)
def test_a_gap_is_filled_with_a_block_up_to_the_code_below(gemma: Pipeline, language: str, document: str, below: str) -> None:
    offset = document.index("█")
    text = document.replace("█", "")
    result = gemma.complete(CompletionRequest(text=text, offset=offset, uri=f"file:///gap/{language}", language=language))
    lines = result.insert_text.split("\n")
    assert result.stop_reason == "stop" and result.stop_sequence == "\n" + below + "\n"  # it reached the code below
    assert len(lines) >= 2  # a block, not one line
    assert below.strip() not in result.insert_text  # the code below is not repeated
    filled = text[:offset] + result.insert_text + text[offset:]
    if language == "python":
        ast.parse(filled)
    else:
        assert syntax_errors(filled, "javascript") == []


def test_a_gap_gets_the_single_line_budget(embedded_model) -> None:  # type: ignore[no-untyped-def]
    # What a gap keeps is one statement or the lines up to the code below, which the model
    # reaches within a few dozen tokens when it does: the block budget would only add latency.
    engine = Engine.load(embedded_model, n_ctx=2048, n_threads=2)
    pipeline = Pipeline(engine, Settings().replace({**DETERMINISTIC, "max_tokens_single": 6, "max_tokens_multi": 64}))
    text = "def average(numbers):\n    total = 0\n\n    return total / len(numbers)\n"
    result = pipeline.complete(CompletionRequest(text=text, offset=text.index("\n\n") + 1, language="python"))
    assert 0 < result.timings["generated_tokens"] <= 6
