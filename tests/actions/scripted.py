"""A real tiny engine whose ``generate`` streams a scripted answer instead of random tokens.

Tokenizer, context size and prompt building stay real; only the words are chosen by the
test, so the edit path (guard, re-parse, proposal, diff) can be checked against known
output. Every prompt is recorded as text, for the canary checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slm_lsp.engine.local_engine import Generation, Timings

CHUNK = 3  # characters per scripted "token"


def scripted_generate(engine: Any, script: Callable[[], str], prompts: list[str]) -> Callable[..., Generation]:
    """A ``generate`` for ``engine`` that answers ``script()`` a few characters per token."""

    def generate(ids: Sequence[int], *, max_tokens: int, stop: Sequence[str] = (),
                 cancelled: Callable[[], bool] = lambda: False, on_text: Callable[[str], None] | None = None,
                 **_: Any) -> Generation:
        prompts.append(engine.detokenize(list(ids)))
        answer, text, reason, count = script(), "", "end", 0
        for index in range(0, len(answer), CHUNK):
            if cancelled():
                reason = "cancelled"
                break
            if count == max_tokens:
                reason = "length"
                break
            text += answer[index : index + CHUNK]
            count += 1
            cut = min((text.find(s) for s in stop if s in text), default=-1)
            if cut >= 0:
                text, reason = text[:cut], "stop"
                break
            if on_text is not None:
                on_text(text)
        return Generation(text, reason, Timings(prompt_tokens=len(ids), generated_tokens=count))

    return generate
