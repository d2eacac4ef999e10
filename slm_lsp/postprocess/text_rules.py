"""Rules that need only the text: leading blank lines, one line, repetition, whitespace."""

from __future__ import annotations

from slm_lsp.postprocess.cursor import CursorContext, code_part
from slm_lsp.postprocess.languages import LanguageRules
from slm_lsp.postprocess.repetition import code_loop_in_line

_MAX_PERIOD = 4  # longest block of lines recognised as repeating


def drop_leading_blank_lines(text: str, cursor: CursorContext) -> str:
    """On a blank cursor line, start the completion at its first non-blank line.

    Models often begin with a newline; inserted as is, that would leave an empty line
    above the code. Indentation the developer already typed is not repeated.
    """
    if not cursor.blank_before:
        return text
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if not first:
        return text
    rest = "\n".join(lines[first:])
    typed = cursor.line_before
    return rest[len(typed) :] if typed and rest.startswith(typed) else rest


def first_line(text: str) -> str:
    """A single-line completion ends at its first newline."""
    return text.split("\n", 1)[0]


def cut_repetition(text: str, cursor: CursorContext) -> str:
    """Cut where the output starts repeating itself: a block of lines, or a unit within a line.

    A line (or a block of up to four lines) that immediately repeats the one before is
    cut, keeping the first copy; lines of only punctuation (``}``) or short ones do not
    count, as nested blocks close with identical lines. A line holding a stuck loop is
    dropped with everything after it.
    """
    lines = (cursor.line_before + text).split("\n")
    for index, line in enumerate(lines):
        if code_loop_in_line(line):
            return "\n".join(lines[:index])[len(cursor.line_before) :]
        for period in range(1, _MAX_PERIOD + 1):
            block = lines[index : index + period]
            if index >= period and block == lines[index - period : index] and any(_significant(b) for b in block):
                return "\n".join(lines[:index])[len(cursor.line_before) :]
    return text


def _significant(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 4 and any(char.isalnum() for char in stripped)


def tidy_whitespace(text: str, cursor: CursorContext) -> str:
    """Strip trailing whitespace, but keep a final line break when text follows the cursor.

    When the cursor line continues after the completion (``{|}``), a multi-line
    completion must end with a newline and indentation so that the rest of the line
    (``}``) lands on its own line; anywhere else trailing whitespace is noise.
    """
    lines = [line.rstrip() for line in text.split("\n")]
    if cursor.blank_after or len(lines) == 1:
        return "\n".join(lines).rstrip()
    last = text.split("\n")[-1]
    while len(lines) > 1 and not lines[-1] and not lines[-2]:
        lines.pop()
    if not lines[-1]:
        lines[-1] = last if not last.strip() else ""
    return "\n".join(lines)


def drop_trailing_comments(text: str, cursor: CursorContext, rules: LanguageRules) -> str:
    """Drop comment-only lines (and blank ones) at the end of a completion that has code.

    Models like to trail off into commented-out code or notes after the statement that
    was asked for (``return result`` then ``# print(result)``). A completion that is
    only comments is kept: the developer may be writing one.
    """
    lines = (cursor.line_before + text).split("\n")
    keep = len(lines)
    while keep > 1 and not code_part(lines[keep - 1], rules):
        keep -= 1
    trailing = lines[keep:]
    if not code_part(lines[keep - 1], rules) or all(not line.strip() for line in trailing):
        return text  # only comments, or only blank lines (those are tidy_whitespace's)
    return "\n".join(lines[:keep])[len(cursor.line_before) :]


def drop_unfinished_line(text: str) -> str:
    """Drop the last line of a multi-line completion that the token budget cut short.

    When generation stopped at its token limit the last line is most likely unfinished
    (``return string[:begin``) or opens a block whose body never came; the lines before it
    were finished by the model itself.
    """
    head, newline, _ = text.rpartition("\n")
    return head if newline and head.strip() else text
