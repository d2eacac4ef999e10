"""A lexical reading of code: which brackets are open, and where strings and comments are.

This is deliberately not a parser. Post-processing has to reason about text that is
incomplete by nature (the prefix stops mid-statement, the completion may stop mid-line),
where a tree-sitter parse is full of error nodes. Brackets outside strings and comments
are robust to that, cheap (one regex pass in C) and enough to answer "does this closing
bracket belong to the completion, to the document, or to nobody?".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slm_lsp.postprocess.languages import LanguageRules

OPENERS: dict[str, str] = {"(": ")", "[": "]", "{": "}"}
CLOSERS: dict[str, str] = {")": "(", "]": "[", "}": "{"}
# Appended when scanning up to a cursor: no literal form ends at it, so a literal that
# is still open at the cursor extends over it, and one that closed before does not.
_SENTINEL = "\uffff"


@dataclass(frozen=True)
class Bracket:
    """One bracket character outside strings and comments, at an offset of the scanned text."""

    char: str
    offset: int


@dataclass(frozen=True)
class LexState:
    """The lexical situation at the end of a text (the cursor, when the text is the prefix)."""

    open: tuple[Bracket, ...]  # unclosed opening brackets, innermost last
    in_literal: bool  # the end of the text is inside a string or comment


def brackets(text: str, rules: LanguageRules) -> Iterator[Bracket]:
    """Bracket characters of ``text`` in order, skipping those inside strings and comments."""
    for match in rules.lexer.finditer(text):
        pre = match.groupdict().get("pre")
        if pre and pre in OPENERS:  # the bracket that introduced a JS regex literal
            yield Bracket(pre, match.start())
        elif match.lastgroup == "bracket":
            yield Bracket(match.group(), match.start())


def scan(text: str, rules: LanguageRules) -> LexState:
    """The brackets left open at the end of ``text`` and whether it ends inside a literal.

    Closing brackets without a matching opener (the text starts mid-construct) are ignored.
    """
    probe = text + _SENTINEL
    stack: list[Bracket] = []
    in_literal = False
    for match in rules.lexer.finditer(probe):
        if match.lastgroup == "literal" and match.end() > len(text) and not match.groupdict().get("pre"):
            in_literal = True
            break
        pre = match.groupdict().get("pre")
        if pre and pre in OPENERS:
            stack.append(Bracket(pre, match.start()))
        elif match.lastgroup == "bracket":
            char = match.group()
            if char in OPENERS:
                stack.append(Bracket(char, match.start()))
            elif stack and stack[-1].char == CLOSERS[char]:
                stack.pop()
    return LexState(tuple(stack), in_literal)


def unmatched_closers(text: str, rules: LanguageRules) -> list[str]:
    """Closing brackets in ``text`` that close something opened before it, in order.

    For the text after the cursor this is what the document already closes of the
    brackets the prefix left open.
    """
    depth: list[str] = []
    closers: list[str] = []
    for bracket in brackets(text, rules):
        if bracket.char in OPENERS:
            depth.append(bracket.char)
        elif depth:
            if depth[-1] == CLOSERS[bracket.char]:
                depth.pop()
        else:
            closers.append(bracket.char)
    return closers


def line_starts_in_code(text: str, rules: LanguageRules) -> list[bool]:
    """For each line of ``text``: does it start at bracket depth 0 and outside any literal?

    Lines that continue a bracketed expression or a multi-line string do not start a
    statement, so their indentation says nothing about blocks.
    """
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    result: list[bool] = []
    depth = 0
    line = 0
    for match in rules.lexer.finditer(text):
        while line < len(starts) and starts[line] <= match.start():
            result.append(depth == 0)
            line += 1
        if match.lastgroup == "literal":
            while line < len(starts) and starts[line] < match.end():
                result.append(False)  # starts inside a multi-line string or comment
                line += 1
            pre = match.groupdict().get("pre")
            if pre and pre in OPENERS:
                depth += 1
        elif match.group() in OPENERS:
            depth += 1
        else:
            depth = max(0, depth - 1)
    while line < len(starts):
        result.append(depth == 0)
        line += 1
    return result
