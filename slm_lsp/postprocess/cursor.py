"""The lines around the cursor, read once per request and shared by every rule."""

from __future__ import annotations

from dataclasses import dataclass

from slm_lsp.postprocess.languages import LanguageRules

_LOOKAROUND_LINES = 200  # how far to look for the neighbouring non-blank lines
# Text an editor inserts right of the cursor by itself (auto-closing) or that only ends a
# statement: the cursor counts as at the end of the line when only these follow it.
AUTO_CLOSED = frozenset(")]}\"'`;,")
_COMMENT_STARTS = ("#", "//", "/*")


@dataclass(frozen=True)
class CursorContext:
    """The cursor line split at the cursor, and the nearest non-blank lines around it."""

    line_before: str
    line_after: str
    previous_line: str | None  # last non-blank line above the cursor line
    next_line: str | None  # first non-blank line below the cursor line

    @classmethod
    def of(cls, prefix: str, suffix: str) -> CursorContext:
        """Read the context of a cursor between ``prefix`` and ``suffix``."""
        head, _, line_before = prefix.rpartition("\n")
        line_after, _, tail = suffix.partition("\n")
        above = head.rsplit("\n", _LOOKAROUND_LINES) if "\n" in prefix else []
        below = tail.split("\n", _LOOKAROUND_LINES) if "\n" in suffix else []
        previous = next((line for line in reversed(above) if line.strip()), None)
        following = next((line for line in below if line.strip()), None)
        return cls(line_before, line_after, previous, following)

    @property
    def blank_before(self) -> bool:
        """Nothing but indentation left of the cursor."""
        return not self.line_before.strip()

    @property
    def blank_after(self) -> bool:
        """Nothing but whitespace right of the cursor."""
        return not self.line_after.strip()

    @property
    def only_closers_after(self) -> bool:
        """Right of the cursor there is at most auto-closed brackets, quotes and ``;``/``,``."""
        return all(char in AUTO_CLOSED or char.isspace() for char in self.line_after)


def indent_width(line: str) -> int:
    """Width of the leading whitespace, tabs counted as 4 columns."""
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def code_part(line: str, rules: LanguageRules) -> str:
    """The line without its comments, right-stripped (comment markers inside strings are text)."""
    if not rules.lexed:
        return line.rstrip()
    pieces: list[str] = []
    position = 0
    for match in rules.lexer.finditer(line):
        if match.lastgroup == "literal" and match.group().startswith(_COMMENT_STARTS):
            pieces.append(line[position : match.start()])
            position = match.end()
    pieces.append(line[position:])
    return "".join(pieces).rstrip()


def opens_block(line: str, rules: LanguageRules) -> bool:
    """Whether ``line`` ends by opening a block (``if x:`` in Python, ``{`` in C-like languages)."""
    return bool(rules.block_opener) and code_part(line, rules).endswith(rules.block_opener)
