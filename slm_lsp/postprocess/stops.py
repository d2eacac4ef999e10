"""Text stop sequences: where the engine stops generating, before post-processing runs.

They save generation time; correctness comes from post-processing, which cuts more
precisely with the document in hand. Single-line completions stop at the first newline.
Multi-line completions stop at two blank lines, at a Markdown code fence (small models
that were trained on chat data close code blocks), and where the language starts a new
top-level definition after a blank line: one completion adds to one definition.
"""

from __future__ import annotations

from slm_lsp.postprocess.languages import rules_for
from slm_lsp.postprocess.mode import CompletionMode

_MULTI_LINE_STOPS = ("\n\n\n", "\n```")


def stop_sequences(language: str | None, mode: CompletionMode) -> list[str]:
    """The stop sequences for ``mode`` in ``language`` (an LSP languageId, or None)."""
    if mode == CompletionMode.SINGLE:
        return ["\n"]
    return [*_MULTI_LINE_STOPS, *rules_for(language).top_level_stops]
