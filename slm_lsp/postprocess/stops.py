"""Text stop sequences: where the engine stops generating, before post-processing runs.

They save generation time; correctness comes from post-processing, which cuts more
precisely with the document in hand. Single-line completions stop at the first newline.
Multi-line completions stop at two blank lines, at a Markdown code fence (small models
that were trained on chat data close code blocks), and where the language starts a new
top-level definition after a blank line: one completion adds to one definition. When code
already follows the cursor's block (a rejoin target, see ``rejoin``), a multi-line
completion also stops where the model writes that code's first line; the engine reports
which stop ended generation, and that one means "the gap is filled".
"""

from __future__ import annotations

from slm_lsp.postprocess.cursor import CursorContext
from slm_lsp.postprocess.languages import rules_for
from slm_lsp.postprocess.mode import CompletionMode
from slm_lsp.postprocess.rejoin import rejoin_stops, rejoin_target

_MULTI_LINE_STOPS = ("\n\n\n", "\n```")


def stop_sequences(language: str | None, mode: CompletionMode, *, prefix: str = "", suffix: str = "") -> list[str]:
    """The stop sequences for ``mode`` in ``language`` (an LSP languageId, or None) at the
    cursor between ``prefix`` and ``suffix``."""
    if mode == CompletionMode.SINGLE:
        return ["\n"]
    rules = rules_for(language)
    target = rejoin_target(CursorContext.of(prefix, suffix), rules, fill=mode == CompletionMode.FILL)
    own = rejoin_stops(target) if target is not None else []
    return [*own, *_MULTI_LINE_STOPS, *rules.top_level_stops]
