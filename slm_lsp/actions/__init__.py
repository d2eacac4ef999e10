"""Code actions: explain a selection, write a docstring, suggest a fix, edit a selection with an instruction.

``register_actions(server)`` adds ``textDocument/codeAction`` and the commands behind the
actions to the language server; ``slm_lsp.actions.cli`` runs the explanation and the edit headlessly.
"""

from __future__ import annotations

from typing import Any

EXPLAIN_COMMAND = "slm.explainSelection"
DOCSTRING_COMMAND = "slm.writeDocstring"
FIX_COMMAND = "slm.fixDiagnostic"
EDIT_COMMAND = "slm.editSelection"  # {uri, range, instruction, version?} -> a proposal
APPLY_EDIT_COMMAND = "slm.applyEdit"  # {proposal} -> applied through workspace/applyEdit


def register_actions(server: Any) -> None:
    """Register the code-action provider and its commands on a pygls ``LanguageServer``."""
    from slm_lsp.actions.lsp import register

    register(server)


__all__ = ["APPLY_EDIT_COMMAND", "DOCSTRING_COMMAND", "EDIT_COMMAND", "EXPLAIN_COMMAND", "FIX_COMMAND", "register_actions"]
