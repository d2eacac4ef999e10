"""Stop when the completion's indentation leaves the block the cursor is in.

A completion belongs to one block: once a generated line is indented less than the
block, the model has moved on to code that follows it (the rest of the function, the
next function), which the document either already has or the developer did not ask for.
"""

from __future__ import annotations

from slm_lsp.postprocess.cursor import CursorContext, indent_width, opens_block
from slm_lsp.postprocess.languages import LanguageRules
from slm_lsp.postprocess.lexer import CLOSERS, line_starts_in_code


def cut_at_dedent(text: str, cursor: CursorContext, rules: LanguageRules) -> str:
    """Keep the lines of ``text`` up to the first one indented less than the cursor's block.

    The block's indentation is that of the cursor line once completed; when the cursor
    line ends by opening a block (``def f(x):|``), the completion is that block's body and
    must be indented deeper. Lines inside brackets or multi-line strings are exempt, as
    are lines starting with a closing bracket in brace languages (the bracket rule decides
    about those) and Python's ``else``/``elif``/``except``/``finally`` lines at the level of
    the statement they continue.
    """
    lines = (cursor.line_before + text).split("\n")
    if len(lines) == 1:
        return text
    anchor = next((line for line in lines if line.strip()), None)
    if anchor is None:
        return text
    level = indent_width(anchor)
    body_only = not cursor.blank_before and opens_block(lines[0], rules)
    in_code = line_starts_in_code("\n".join(lines), rules) if rules.lexed else [True] * len(lines)
    for index in range(1, len(lines)):
        line = lines[index]
        if not line.strip() or not in_code[index]:
            continue
        width = indent_width(line)
        if width > level or (width == level and not body_only):
            continue
        stripped = line.lstrip()
        if not rules.indentation_blocks and stripped[:1] in CLOSERS:
            continue
        if body_only and width == level and stripped.split(None, 1)[0].rstrip(":") in rules.continuation_keywords:
            continue
        return "\n".join(lines[:index])[len(cursor.line_before) :]
    return text


def drop_bodyless_opener(text: str, cursor: CursorContext, rules: LanguageRules) -> str:
    """Drop a last line that opens a block (``if x:``) whose body neither the completion nor
    the document below supplies.

    A token limit or a cut (repetition, dedent) can leave a completion ending at an opener,
    which is a syntax error in Python that tree-sitter does not flag at the end of a
    window. The body is in the document when its next line is indented deeper than the
    opener (the gap ends just before an existing block body).
    """
    lines = (cursor.line_before + text.rstrip()).split("\n")
    if len(lines) < 2 or not rules.indentation_blocks or not opens_block(lines[-1], rules):
        return text
    following = cursor.next_line if cursor.blank_after else None
    if following is not None and indent_width(following) > indent_width(lines[-1]):
        return text
    return "\n".join(lines[:-1]).rstrip()[len(cursor.line_before) :]
