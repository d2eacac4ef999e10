"""Parsing with tree-sitter: per-thread parsers, incremental re-parses, byte/char offsets.

tree-sitter works in UTF-8 byte offsets while everything else in slm-lsp uses Python string
offsets (code points), so every parse carries an ``OffsetMap`` to translate. Parsers are not
thread-safe, and the indexer thread and the request worker both parse, so each thread gets its
own parser per grammar. Re-parsing the document being edited reuses its previous tree (an edit
computed from the common prefix and suffix of the two texts), which keeps a keystroke in a
large file to a millisecond or two instead of a full parse.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from tree_sitter import Node, Tree

from slm_lsp.treesitter import parser_for

_COMPARE_BLOCK = 4096
_BLOCK = 4096  # characters between OffsetMap checkpoints


class OffsetMap:
    """Translates between character offsets in a str and byte offsets in its UTF-8 encoding.

    ASCII text (the common case) needs no table. Otherwise a checkpoint every ``_BLOCK``
    characters is computed on first use (one pass of C-speed encoding), and a conversion
    encodes or decodes at most one block.
    """

    def __init__(self, text: str, data: bytes) -> None:
        self._ascii = len(text) == len(data)
        self._text = text
        self._data = data
        self._chars: list[int] = []
        self._bytes: list[int] = []

    def _checkpoints(self) -> None:
        if not self._chars:
            position = 0
            for char in range(0, len(self._text) + 1, _BLOCK):
                self._chars.append(char)
                self._bytes.append(position)
                position += len(self._text[char : char + _BLOCK].encode("utf-8", "surrogatepass"))

    def char(self, byte: int) -> int:
        """The character offset where UTF-8 byte offset ``byte`` falls."""
        if self._ascii:
            return byte
        self._checkpoints()
        block = bisect.bisect_right(self._bytes, byte) - 1
        start = self._bytes[block]
        return self._chars[block] + len(self._data[start:byte].decode("utf-8", "ignore"))

    def byte(self, char: int) -> int:
        """The UTF-8 byte offset of character offset ``char``."""
        if self._ascii:
            return char
        self._checkpoints()
        block = min(char // _BLOCK, len(self._chars) - 1)
        start = self._chars[block]
        return self._bytes[block] + len(self._text[start:char].encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class ParsedText:
    """One text, its encoding and its syntax tree."""

    text: str
    data: bytes
    tree: Tree
    grammar: str
    offsets: OffsetMap

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def node_text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def start(self, node: Node) -> int:
        """Character offset where ``node`` starts."""
        return self.offsets.char(node.start_byte)

    def end(self, node: Node) -> int:
        """Character offset where ``node`` ends."""
        return self.offsets.char(node.end_byte)


def parse(text: str, grammar: str, previous: ParsedText | None = None) -> ParsedText | None:
    """Parse ``text``; reuse ``previous`` (same grammar) incrementally. None without a grammar."""
    parser = parser_for(grammar)
    if parser is None:
        return None
    data = text.encode("utf-8", "surrogatepass")
    offsets = OffsetMap(text, data)
    old_tree = None
    if previous is not None and previous.grammar == grammar:
        if previous.text == text:
            return previous
        old_tree = _edited_copy(previous, text, data, offsets)
    tree = parser.parse(data, old_tree) if old_tree is not None else parser.parse(data)
    return ParsedText(text, data, tree, grammar, offsets)


def _edited_copy(previous: ParsedText, text: str, data: bytes, new_offsets: OffsetMap) -> Tree:
    """A copy of the previous tree with the single edit that turns its text into ``text``."""
    old = previous.text
    start = common_prefix_length(old, text)
    tail = common_suffix_length(old, text, start)
    old_end, new_end = len(old) - tail, len(text) - tail
    start_byte = previous.offsets.byte(start)
    old_end_byte = previous.offsets.byte(old_end)
    new_end_byte = new_offsets.byte(new_end)
    tree = previous.tree.copy()
    tree.edit(
        start_byte=start_byte,
        old_end_byte=old_end_byte,
        new_end_byte=new_end_byte,
        start_point=_point(old, previous.data, start, start_byte),
        old_end_point=_point(old, previous.data, old_end, old_end_byte),
        new_end_point=_point(text, data, new_end, new_end_byte),
    )
    return tree


def _point(text: str, data: bytes, char: int, byte: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) for a position known in both units."""
    row = text.count("\n", 0, char)
    line_start_byte = data.rfind(b"\n", 0, byte) + 1
    return row, byte - line_start_byte


def common_prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix: whole blocks compared in C, then bisection in one block."""
    limit = min(len(a), len(b))
    position = 0
    while position < limit and a[position : position + _COMPARE_BLOCK] == b[position : position + _COMPARE_BLOCK]:
        position += _COMPARE_BLOCK
    if position >= limit:
        return limit
    low, high = position, min(position + _COMPARE_BLOCK, limit)  # a[:low] == b[:low]; they differ before high
    while high - low > 1:
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    return low if a[low] != b[low] else high


def common_suffix_length(a: str, b: str, prefix: int) -> int:
    """Length of the longest common suffix that does not overlap a common prefix of ``prefix``."""
    limit = min(len(a), len(b)) - prefix
    length = 0
    while length < limit:
        step = min(_COMPARE_BLOCK, limit - length)
        if a[len(a) - length - step : len(a) - length] != b[len(b) - length - step : len(b) - length]:
            break
        length += step
    else:
        return limit
    low, high = length, min(length + _COMPARE_BLOCK, limit)  # suffixes of ``low`` agree, of ``high`` do not
    while high - low > 1:
        middle = (low + high) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle
    return high if a[len(a) - high] == b[len(b) - high] else low
