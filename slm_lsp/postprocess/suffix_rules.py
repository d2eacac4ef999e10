"""Rules against duplicating the document: what the completion repeats of the suffix is cut.

Small models, and models without fill-in-the-middle that never saw the suffix, happily
write the text that already follows the cursor: the auto-closed ``)`` of the same line,
or the next line of code. Inserted, that would appear twice.
"""

from __future__ import annotations

from slm_lsp.postprocess.cursor import AUTO_CLOSED, CursorContext

_PUNCTUATION = AUTO_CLOSED | {":"}


def trim_suffix_overlap(text: str, cursor: CursorContext) -> str:
    """Remove the end of ``text`` that repeats the start of the rest of the cursor line.

    ``foo(|)`` + ``a, b)`` gives ``a, b``; ``if (x|) {`` + ``> 0) {`` gives ``> 0``.
    A partial overlap is only removed when it is punctuation (brackets, quotes, ``;``,
    ``:``, ``,``): an identifier that merely ends like the suffix begins is left alone.
    """
    rest = cursor.line_after.strip()
    if not rest:
        return text
    body = text.rstrip(" \t")
    for size in range(min(len(rest), len(body)), 0, -1):
        piece = rest[:size]
        if body.endswith(piece) and (size == len(rest) or all(c in _PUNCTUATION or c.isspace() for c in piece)):
            return body[:-size]
    return text



def cut_at_suffix_repeat(text: str, cursor: CursorContext) -> str:
    """Stop before the first generated line that repeats the first line of the suffix.

    The first non-blank line below the cursor must match exactly, indentation included
    (a ``}`` one level deeper closes something else). Only that line: the same statement
    further down is often a sibling branch's (``return 0`` in both ``if n == 0:`` and
    ``if n == 1:``), and cutting there loses correct code. When the cursor line itself goes
    on after the cursor, a generated line equal to that rest is the same kind of repeat
    (``{|}`` + ``\\n  x();\\n}``), and the cut keeps the line break so the rest of the
    cursor line moves onto its own line.
    """
    lines = (cursor.line_before + text).split("\n")
    target = cursor.next_line.rstrip() if cursor.next_line is not None else None
    rest = cursor.line_after.strip()
    first = 0 if cursor.blank_before and cursor.blank_after else 1
    for index in range(first, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        if rest and index > 0 and line.strip() == rest:
            kept = "\n".join(lines[:index]) + "\n" + line[: len(line) - len(line.lstrip())]
            return kept[len(cursor.line_before) :]
        if line.rstrip() == target:
            return "\n".join(lines[:index])[len(cursor.line_before) :]
    return text
