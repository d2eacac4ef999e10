"""Single-line or multi-line: decided from the syntax at the cursor, before generating.

The mode sets the generation budget and the stop sequences, so it must be right before
the model runs: a multi-line completion in the middle of a line is never wanted, and a
single line where the developer is about to write a block body wastes the request.
Multi-line is chosen where whole statements go and more than one is likely wanted: on a
blank line at the start of an empty block or at the end of a block, and at the end of a
line that opens a block. A blank line between two statements of a block, where the code
below already exists, is FILL: lines up to that code (see ``rejoin``). Everything else is
single-line: the middle of a line, inside a string or comment, inside a call's arguments
or a collection literal (lexically open ``(``/``[``, or a ``{`` that tree-sitter says is
an object/struct/initializer literal).
"""

from __future__ import annotations

from enum import StrEnum

from slm_lsp.postprocess.cursor import CursorContext, indent_width, opens_block
from slm_lsp.postprocess.languages import LanguageRules, rules_for
from slm_lsp.postprocess.lexer import scan
from slm_lsp.postprocess.syntax import container_of_brace, window


class CompletionMode(StrEnum):
    """How much to generate: the rest of one line, a block of lines, or the lines that fill
    a gap up to code that already follows (ending where the model reaches that code)."""

    SINGLE = "single"
    MULTI = "multi"
    FILL = "fill"

    @property
    def lines(self) -> bool:
        """Whether the completion may span several lines (a deadline then keeps whole lines)."""
        return self is not CompletionMode.SINGLE


# Node types (or parts of them) of the construct a ``{`` opens when statements go inside.
_BLOCK_CONTAINERS = ("block", "body", "declaration_list", "compound_statement", "switch", "select", "match")


def decide_mode(prefix: str, suffix: str, language: str | None) -> CompletionMode:
    """Choose single- or multi-line completion for a cursor between ``prefix`` and ``suffix``."""
    rules = rules_for(language)
    cursor = CursorContext.of(prefix, suffix)
    if not cursor.only_closers_after:
        return CompletionMode.SINGLE
    if rules.lexed and _inside_expression(prefix, suffix, rules):
        return CompletionMode.SINGLE
    if not cursor.blank_before:
        return CompletionMode.MULTI if opens_block(cursor.line_before, rules) else CompletionMode.SINGLE
    return CompletionMode.MULTI if _block_wants_more(cursor, rules) else CompletionMode.FILL


def _inside_expression(prefix: str, suffix: str, rules: LanguageRules) -> bool:
    """The cursor is in a string/comment, or inside brackets that do not open a block."""
    region = window(prefix, suffix, rules)
    state = scan(region.before, rules)
    if state.in_literal:
        return True
    if not state.open:
        return False
    innermost = state.open[-1]
    if innermost.char != "{" or rules.indentation_blocks:
        return True
    container = container_of_brace(region.before + region.after, innermost.offset, rules.grammar or "")
    return container is not None and not any(part in container for part in _BLOCK_CONTAINERS)


def _block_wants_more(cursor: CursorContext, rules: LanguageRules) -> bool:
    """On a blank line: at the start of an empty block, or after the last statement of a block."""
    previous, following = cursor.previous_line, cursor.next_line
    if previous is None or following is None:
        return True
    if opens_block(previous, rules):
        # The block is empty when what follows is not indented under the opener.
        return indent_width(following) <= indent_width(previous)
    # The developer's own indentation on the blank line says which block they are in;
    # without it (column 0), the block of the line above.
    level = indent_width(cursor.line_before) if cursor.line_before else indent_width(previous)
    return indent_width(following) < level
