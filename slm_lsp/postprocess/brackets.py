"""Stop at a closing bracket that nothing in the completion or the document needs.

The prefix leaves some brackets open at the cursor; the suffix closes some of them. The
completion may close only the ones the suffix does not, innermost first (a function's
``}`` when the file ends right after the cursor). Any other unmatched or mismatched
closing bracket ends the completion: it would duplicate the suffix's own closer
(``foo(|)`` + ``x))``) or unbalance the document.
"""

from __future__ import annotations

from slm_lsp.postprocess.languages import LanguageRules
from slm_lsp.postprocess.lexer import (
    CLOSERS,
    OPENERS,
    brackets,
    scan,
    unmatched_closers,
)
from slm_lsp.postprocess.syntax import Window


def cut_at_unbalanced_closer(text: str, region: Window, rules: LanguageRules) -> str:
    """``text`` up to its first closing bracket that is neither matched nor still needed."""
    state = scan(region.before, rules)
    if state.in_literal:
        return text  # the completion starts inside a string or comment: brackets are text
    needed = [bracket.char for bracket in state.open]
    for closer in unmatched_closers(region.after, rules):
        if not needed or needed[-1] != CLOSERS[closer]:
            break
        needed.pop()
    # Lexed together with the start of its line, so that what the completion opens is
    # read in context (a JS regex literal is only recognised after ``(``, ``=`` ...).
    context = region.before[region.before.rfind("\n") + 1 :]
    own: list[str] = []
    for bracket in brackets(context + text, rules):
        if bracket.offset < len(context):
            continue
        if bracket.char in OPENERS:
            own.append(bracket.char)
        elif own and own[-1] == CLOSERS[bracket.char]:
            own.pop()
        elif not own and needed and needed[-1] == CLOSERS[bracket.char]:
            needed.pop()
        else:
            return text[: bracket.offset - len(context)]
    return text
