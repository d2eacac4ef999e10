"""tree-sitter for post-processing: parse the region around the cursor, count syntax errors.

Validation parses ``prefix + completion + suffix`` several times per request, so only a
window around the cursor is parsed: from the last top-level line (column 0) before the
cursor to the next one after it, capped in size. A window that starts and ends at
top-level boundaries parses like the whole file would around the cursor, and a parse of a
few hundred lines takes about a millisecond. Errors are compared between the document
without the completion and with it, so errors elsewhere in the window (a cap that cut a
construct in half, code the user is still writing) cancel out.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from slm_lsp.postprocess.languages import LanguageRules
from slm_lsp.treesitter import parser_for

MAX_WINDOW_CHARS = 12_000  # on each side of the cursor
_NOT_A_START = (")", "]", "}", "{")


@dataclass(frozen=True)
class Window:
    """The part of the document around the cursor that is parsed: ``before`` + cursor + ``after``."""

    before: str
    after: str


def window(prefix: str, suffix: str, rules: LanguageRules) -> Window:
    """Cut the document at top-level lines around the cursor (at most MAX_WINDOW_CHARS a side)."""
    return Window(_window_before(prefix, rules), _window_after(suffix, rules))


def _is_top_level(line: str, rules: LanguageRules) -> bool:
    """A line at column 0 that starts a construct (not a closer or a continuation keyword)."""
    if not line or line[0].isspace() or line.startswith(_NOT_A_START):
        return False
    word = line.split(None, 1)[0].rstrip(":")
    return word not in rules.continuation_keywords


def _window_before(prefix: str, rules: LanguageRules) -> str:
    """From the start of the last top-level line before the cursor (its own line included)."""
    start = max(0, len(prefix) - MAX_WINDOW_CHARS)
    line_end = len(prefix)
    while line_end >= start:
        line_start = prefix.rfind("\n", 0, line_end) + 1
        if line_start < start:
            break
        if _is_top_level(prefix[line_start:line_end], rules):
            return prefix[line_start:]
        if line_start == 0:
            return prefix
        line_end = line_start - 1
    newline = prefix.find("\n", start)
    return prefix[newline + 1 :] if newline >= 0 else prefix[start:]


def _window_after(suffix: str, rules: LanguageRules) -> str:
    """Up to the next top-level line after the cursor's line."""
    newline = suffix.find("\n")
    while 0 <= newline < MAX_WINDOW_CHARS:
        line_start = newline + 1
        line_end = suffix.find("\n", line_start)
        if _is_top_level(suffix[line_start : line_end if line_end >= 0 else len(suffix)], rules):
            return suffix[:line_start]
        newline = line_end
    if len(suffix) <= MAX_WINDOW_CHARS:
        return suffix
    cut = suffix.rfind("\n", 0, MAX_WINDOW_CHARS)
    return suffix[: cut + 1] if cut >= 0 else suffix[:MAX_WINDOW_CHARS]


def syntax_errors(text: str, grammar: str) -> list[tuple[int, int]] | None:
    """UTF-8 byte spans of the ERROR and MISSING nodes in the parse of ``text``; None without a parser."""
    parser = parser_for(grammar)
    if parser is None:
        return None
    root = parser.parse(text.encode("utf-8", "surrogatepass")).root_node
    if not root.has_error:
        return []
    spans: list[tuple[int, int]] = []
    pending: list[Node] = [root]
    while pending:
        node = pending.pop()
        if node.is_error or node.is_missing:
            spans.append((node.start_byte, node.end_byte))
        if node.has_error:
            pending.extend(node.children)
    return spans


def container_of_brace(text: str, offset: int, grammar: str) -> str | None:
    """The node type that a ``{`` at character ``offset`` of ``text`` opens, e.g. ``statement_block``.

    Tells a block (where whole statements go) from an object, struct or initializer
    literal (where one entry goes). None when there is no parser or the brace is inside
    an error node, which happens while the block is still being written.
    """
    parser = parser_for(grammar)
    if parser is None:
        return None
    data = text.encode("utf-8", "surrogatepass")
    byte = len(text[:offset].encode("utf-8", "surrogatepass"))
    node = parser.parse(data).root_node.descendant_for_byte_range(byte, byte + 1)
    if node is None or node.type != "{" or node.parent is None or node.parent.type == "ERROR":
        return None
    return node.parent.type
