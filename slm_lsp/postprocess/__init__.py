"""Post-processing: from raw model output to the edit a developer would accept.

The pipeline calls, around generation::

    mode = decide_mode(prefix, suffix, language)        # before: budget and stops
    stops = stop_sequences(language, mode)
    ...                                                  # engine generates ``raw``
    text = postprocess(raw, prefix, suffix, language, mode)
    edit = to_inline_edit(text, line_after, start=..., end=..., lead=...)

Languages are LSP languageIds; unknown ones get the text-only rules. Each module holds
one rule or one piece of shared reading (cursor lines, lexer, tree-sitter window).
"""

from slm_lsp.postprocess.inline import InlineEdit, to_inline_edit
from slm_lsp.postprocess.mode import CompletionMode, decide_mode
from slm_lsp.postprocess.process import postprocess
from slm_lsp.postprocess.stops import stop_sequences

__all__ = ["CompletionMode", "InlineEdit", "decide_mode", "postprocess", "stop_sequences", "to_inline_edit"]
