"""The prefix and suffix around the cursor: as much as fits the token budget, cut cleanly.

Lines are counted outward from the cursor with the model's tokenizer until the budget runs
out. The cut then moves to the farthest statement/definition boundary inside that span
(checked line by line with tree-sitter: a child of a block-like node starting the line for the
prefix, ending it for the suffix), so the model sees whole statements, not half a call;
if that would waste more than ``slack`` of the budget (one huge statement, a parse error, no
grammar) it stays at the line boundary. Finally the exact pieces are counted again and trimmed
until they fit, so the budget holds whatever the tokenizer does at line joins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from slm_lsp.context.syntax import ParsedText
from slm_lsp.context.tokens import Count

MAX_CHARS_PER_TOKEN = 32  # no text longer than budget * this is ever counted whole
_BLOCKS = frozenset({
    "module", "block", "program", "source_file", "translation_unit", "statement_block", "class_body",
    "switch_body", "statement_list", "declaration_list", "field_declaration_list", "compound_statement",
    "class_static_block", "enum_body", "interface_body", "constructor_body", "switch_block",
    "switch_block_statement_group", "annotation_type_body", "enum_body_declarations", "match_block",
    "async_block", "unsafe_block", "const_block", "try_block", "gen_block", "preproc_ifdef", "preproc_if",
    "preproc_else", "preproc_elif", "ERROR",
})
_BLOCK_NAME = re.compile(r"(^|_)(block|body|program|chunk|source_file|compilation_unit|statements?|"
                         r"statement_list|compound_statement|declaration_list)$")


@dataclass(frozen=True)
class Window:
    """Where the prefix starts and the suffix ends, their texts and exact token counts."""

    start: int
    end: int
    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int


def cut_window(text: str, cursor: int, parsed: ParsedText | None, count: Count, *,
               prefix_budget: int, suffix_budget: int, slack: float) -> Window:
    """Cut ``text`` around ``cursor`` so the prefix fits ``prefix_budget`` tokens and the suffix
    ``suffix_budget``; budget one side leaves unused goes to the other."""
    prefix_lines = _lines_before(text, cursor, prefix_budget, count)
    if prefix_lines.reached_edge:
        suffix_budget += prefix_budget - prefix_lines.tokens
    suffix_lines = _lines_after(text, cursor, suffix_budget, count)
    if suffix_lines.reached_edge and not prefix_lines.reached_edge:
        prefix_budget += suffix_budget - suffix_lines.tokens
        prefix_lines = _lines_before(text, cursor, prefix_budget, count)
    start, end = prefix_lines.far, suffix_lines.far
    if parsed is not None:
        start = _choose(prefix_lines, lambda offset: starts_statement(parsed, offset), slack * prefix_budget)
        end = _choose(suffix_lines, lambda offset: ends_statement(parsed, offset), slack * suffix_budget)
    prefix, prefix_tokens = _fit_prefix(text, start, cursor, prefix_budget, count)
    suffix, suffix_tokens = _fit_suffix(text, cursor, end, suffix_budget, count)
    return Window(cursor - len(prefix), cursor + len(suffix), prefix, suffix, prefix_tokens, suffix_tokens)


@dataclass(frozen=True)
class _Lines:
    """Line boundaries reached from the cursor: offsets with the estimated tokens up to each."""

    offsets: list[int]  # nearest the cursor first
    costs: list[int]  # tokens between the cursor and offsets[i]
    reached_edge: bool  # the start (end) of the text fits

    @property
    def far(self) -> int:
        return self.offsets[-1]

    @property
    def tokens(self) -> int:
        return self.costs[-1]


def _lines_before(text: str, cursor: int, budget: int, count: Count) -> _Lines:
    limit = budget * MAX_CHARS_PER_TOKEN
    line_start = text.rfind("\n", 0, cursor) + 1
    partial = text[line_start:cursor]
    used = count(partial) if len(partial) <= limit else budget + 1
    if used > budget:  # the cursor's line alone is too long: it will be cut by characters
        return _Lines([line_start], [budget], False)
    offsets, costs = [line_start], [used]
    while line_start > 0:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        line = text[previous:line_start]
        cost = count(line) if len(line) <= limit else budget + 1
        if used + cost > budget:
            break
        used += cost
        line_start = previous
        offsets.append(line_start)
        costs.append(used)
    return _Lines(offsets, costs, line_start == 0)


def _lines_after(text: str, cursor: int, budget: int, count: Count) -> _Lines:
    limit = budget * MAX_CHARS_PER_TOKEN
    newline = text.find("\n", cursor)
    line_end = len(text) if newline < 0 else newline + 1
    partial = text[cursor:line_end]
    used = count(partial) if len(partial) <= limit else budget + 1
    if used > budget:  # the rest of the cursor's line is too long: it will be cut by characters
        return _Lines([line_end], [budget], False)
    offsets, costs = [line_end], [used]
    while line_end < len(text):
        newline = text.find("\n", line_end)
        following = len(text) if newline < 0 else newline + 1
        line = text[line_end:following]
        cost = count(line) if len(line) <= limit else budget + 1
        if used + cost > budget:
            break
        used += cost
        line_end = following
        offsets.append(line_end)
        costs.append(used)
    return _Lines(offsets, costs, line_end == len(text))


def _choose(lines: _Lines, is_boundary: Callable[[int], bool], slack: float) -> int:
    """The farthest statement boundary within reach, unless it gives up more than ``slack`` tokens."""
    for offset, cost in zip(reversed(lines.offsets), reversed(lines.costs), strict=True):
        if lines.tokens - cost > slack:
            break
        if is_boundary(offset):
            return offset
    return lines.far


def _fit_prefix(text: str, start: int, cursor: int, budget: int, count: Count) -> tuple[str, int]:
    """The exact prefix from ``start``, trimmed line by line (then by characters) until it fits."""
    while True:
        piece = text[start:cursor]
        tokens = count(piece)
        if tokens <= budget:
            return piece, tokens
        newline = text.find("\n", start, cursor)
        if newline < 0:
            break
        start = newline + 1
    return _chars_within(text[start:cursor], budget, count, from_end=True)


def _fit_suffix(text: str, cursor: int, end: int, budget: int, count: Count) -> tuple[str, int]:
    """The exact suffix up to ``end``, trimmed line by line (then by characters) until it fits."""
    while True:
        piece = text[cursor:end]
        tokens = count(piece)
        if tokens <= budget:
            return piece, tokens
        newline = text.rfind("\n", cursor, end - 1)
        if newline < 0:
            break
        end = newline + 1
    return _chars_within(text[cursor:end], budget, count, from_end=False)


def _chars_within(piece: str, budget: int, count: Count, *, from_end: bool) -> tuple[str, int]:
    """The longest end (or start) of a single line within ``budget`` tokens, by bisection."""
    limit = budget * MAX_CHARS_PER_TOKEN
    piece = (piece[-limit:] if limit else "") if from_end else piece[:limit]
    low, high, best = 0, len(piece), 0
    while low < high:
        middle = (low + high + 1) // 2
        tokens = count(piece[-middle:] if from_end else piece[:middle])
        if tokens <= budget:
            low, best = middle, tokens
        else:
            high = middle - 1
    if low == 0:
        return "", 0
    return (piece[-low:] if from_end else piece[:low]), best


def starts_statement(parsed: ParsedText, offset: int) -> bool:
    """Whether the line starting at ``offset`` begins a statement or definition.

    True when the first token of the line starts a named node whose parent is block-like (a
    module, a block, a class body...): a cut there never falls inside an argument list, a
    string or an expression. Blank lines are not boundaries.
    """
    text = parsed.text
    if offset == 0:
        return True
    first = offset
    while first < len(text) and text[first] in " \t":
        first += 1
    if first >= len(text) or text[first] in "\r\n":
        return False
    byte = parsed.offsets.byte(first)
    node = parsed.root.descendant_for_byte_range(byte, byte)
    while node is not None and node.start_byte == byte:
        parent = node.parent
        if parent is None or (node.is_named and _is_block(parent.type)):
            return True
        node = parent
    return False


def ends_statement(parsed: ParsedText, offset: int) -> bool:
    """Whether the line ending at ``offset`` (just after its line break) ends a statement.

    True when the line's last token ends a named node whose parent is block-like, so a cut
    there never separates ``}`` from ``else`` or a call from its remaining arguments.
    """
    text = parsed.text
    if offset >= len(text):
        return True
    last = offset - 1
    while last >= 0 and text[last] in " \t\r\n":
        if text[last] == "\n" and last != offset - 1:
            return False  # a blank line
        last -= 1
    if last < 0:
        return False
    byte = parsed.offsets.byte(last + 1)
    node = parsed.root.descendant_for_byte_range(byte - 1, byte)
    while node is not None and node.end_byte == byte:
        parent = node.parent
        if parent is None or (node.is_named and _is_block(parent.type)):
            return True
        node = parent
    return False


def _is_block(kind: str) -> bool:
    return kind in _BLOCKS or _BLOCK_NAME.search(kind) is not None
