"""Where a block of lines ends when code already follows it: at the first line below the cursor.

A prefix-only model does not see the text after the cursor, so when the developer opens a
line inside a block whose code continues below, the model writes its own version of what
follows. When that version reaches the document's next line (the same text, indentation
included), the lines before it are exactly what fills the gap, however many there are and
whatever their indentation: that line is the *target*. Generation stops there (a stop
sequence; the engine says which stop ended it), and post-processing keeps everything
before it. When the model never reaches it,
how much of its text belongs in the gap is unknown, and ``first_statement`` keeps only the
first statement (one line, with its block when it opens one).

The target is only used where it says something about this block: a line holding code
(not only closing brackets, which nested blocks repeat at many indentations) and, for a
block that is being completed at its end (``CompletionMode.MULTI``), an indented one; a
top-level line there is the next definition, which the ordinary stop sequences handle.
"""

from __future__ import annotations

from slm_lsp.postprocess.cursor import CursorContext, code_part, indent_width, opens_block
from slm_lsp.postprocess.languages import LanguageRules
from slm_lsp.postprocess.lexer import CLOSERS


def rejoin_target(cursor: CursorContext, rules: LanguageRules, *, fill: bool) -> str | None:
    """The line a multi-line completion at ``cursor`` should stop before, if any.

    ``fill`` says the cursor is between statements of a block (mode FILL), where even a
    top-level next line is the target: the gap ends there.
    """
    if not cursor.only_closers_after or cursor.next_line is None:
        return None
    target = cursor.next_line.rstrip()
    code = code_part(target, rules).strip() if rules.lexed else target.strip()
    if not code or all(char in CLOSERS or char in ";,)" for char in code):
        return None
    if not fill and indent_width(target) == 0:
        return None
    return target


def rejoin_stops(target: str) -> list[str]:
    """The stop sequence that ends generation when the model writes the target line in full."""
    return [target_stop(target)]


def target_stop(target: str) -> str:
    """The text that is the target line, written in full on a line of its own."""
    return "\n" + target + "\n"


def cut_at_target(text: str, cursor: CursorContext, target: str) -> str | None:
    """``text`` before its first line that is ``target``; None when no line is.

    A line is the target when its indentation is the same and its text differs at most in
    spacing (``total/len(xs)`` for ``total / len(xs)``: the model wrote the same code, in
    its own style). The completion's first line counts only when it starts its own line (a
    blank cursor line): otherwise it continues the cursor line, which is not the target.
    """
    lines = (cursor.line_before + text).split("\n")
    first = 0 if cursor.blank_before else 1
    for index in range(first, len(lines)):
        if _same_line(lines[index], target):
            return "\n".join(lines[:index])[len(cursor.line_before) :]
    return None


def _same_line(line: str, target: str) -> bool:
    indent = len(target) - len(target.lstrip())
    if line[:indent] != target[:indent] or line[indent : indent + 1].isspace():
        return False
    return "".join(line.split()) == "".join(target.split())


def first_statement(text: str, cursor: CursorContext, rules: LanguageRules) -> str:
    """The first line of code in ``text`` (with the comment lines above it), and the block it
    opens unless the code below is that block's body.

    What a completion that never reached the code below can safely offer: one statement,
    complete, rather than the model's guess at how many statements the gap holds. Only
    comments: the first line.
    """
    lines = (cursor.line_before + text).split("\n")
    start = next((i for i, line in enumerate(lines) if code_part(line, rules).strip()), None)
    if start is None:
        first = next((i for i, line in enumerate(lines) if line.strip()), 0)
        return "\n".join(lines[: first + 1])[len(cursor.line_before) :]
    head = lines[start]
    level = indent_width(head)
    below = cursor.next_line if cursor.blank_after else None
    if not opens_block(head, rules) or (below is not None and indent_width(below) > level):
        return "\n".join(lines[: start + 1])[len(cursor.line_before) :]
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or indent_width(lines[end]) > level):
        end += 1
    if not rules.indentation_blocks and end < len(lines) and lines[end].lstrip()[:1] in CLOSERS:
        end += 1  # the brace that closes it
    return "\n".join(lines[:end]).rstrip()[len(cursor.line_before) :]
