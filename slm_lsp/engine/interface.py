"""What the pipeline needs from a model runner, as a Protocol both backends satisfy.

The pipeline builds the exact prompt token ids itself (FIM layout, budgets measured with
the model's tokenizer), so a backend must tokenize with the model's own vocabulary and
then turn token ids into text. Where that text comes from — llama.cpp in this process or
an OpenAI-compatible server — is the backend's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from slm_lsp.engine.local_engine import Generation, Speed
from slm_lsp.prompt.fim import FimFormat


class CompletionEngine(Protocol):
    """A tokenizer plus greedy generation from token ids."""

    fim: FimFormat
    speed: Speed  # measured decode speed, for adaptive budgets (None until known)

    @property
    def name(self) -> str:
        """The model's name, shown in status and results."""
        ...

    @property
    def n_ctx(self) -> int:
        """Tokens the prompt plus the generation may take."""
        ...

    def tokenize(self, text: str) -> list[int]:
        """Plain text to ids: no BOS, special-token texts stay ordinary text."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def detokenize(self, ids: Sequence[int]) -> str: ...

    def generate(
        self,
        ids: Sequence[int],
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        cancelled: Callable[[], bool] = lambda: False,
        prompt_deadline: float | None = None,
        generation_seconds: float | None = None,
        on_text: Callable[[str], None] | None = None,
        keep_prompt: Callable[[], bool] = lambda: False,
    ) -> Generation:
        """Greedy-decode up to ``max_tokens`` after ``ids``, cut at the first stop sequence;
        while ``keep_prompt()`` holds, a cancelled request still finishes its prompt."""
        ...

    def close(self) -> None:
        """Free what the engine holds (a llama.cpp context, a fallback model)."""
        ...
