"""Holes cut from a workspace's own files, for ``slm-lsp eval --workspace``.

A hole is a span of a file that the model is asked to write back, with the cursor where a
user would be when the suggestion appears:

- ``rest``: the rest of a line, from the end of one of its tokens;
- ``line``: a whole line, from its indentation (the editor indents for the user);
- ``block``: the body of a block (a function, loop or branch), from its first statement
  (after a docstring) to the end of its last, after the header line was typed;
- ``args``: a call's arguments, between the parentheses.

Positions come from tree-sitter, so lines inside comments and strings are not asked for,
and every kind means the same thing in every language. Sampling is deterministic: the
files are taken in path order, every candidate of every kind is listed in document order,
and ``random.Random(seed)`` chooses among them, an equal share per kind. A hole whose line
holds a secret-shaped string is never chosen (the model is shown that string redacted,
and a hole's text may be printed with ``--show``).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from slm_lsp.context.syntax import ParsedText, parse
from slm_lsp.privacy import Finding

KINDS: tuple[str, ...] = ("rest", "line", "block", "args")

_BLOCKS = frozenset({"block", "statement_block", "compound_statement", "constructor_body"})
_ARGUMENTS = frozenset({"argument_list", "arguments"})
_QUIET = ("comment", "string", "heredoc", "template")  # node types whose lines are not code to complete
_MAX_LINE = 160  # characters of a line (or of arguments) worth asking for
_MAX_BLOCK_LINES = 12
_MAX_BLOCK_CHARS = 700
_MIN_CHARS = 3


@dataclass(frozen=True)
class SourceFile:
    """One admitted workspace file: its path, the name shown in reports, its text and language."""

    path: Path
    relative: str
    text: str
    language: str  # LSP language id
    grammar: str  # tree-sitter grammar
    findings: tuple[Finding, ...] = ()  # secret-shaped spans (from the gate's redactor)


@dataclass(frozen=True)
class Hole:
    """The span ``[start, end)`` of ``file`` to be written back, with the cursor at ``start``."""

    file: SourceFile
    kind: str
    start: int
    end: int

    @property
    def id(self) -> str:
        """A stable name for pairing runs: path, kind and position (no file content)."""
        return hashlib.sha256(f"{self.file.relative}\0{self.kind}\0{self.start}\0{self.end}".encode()).hexdigest()[:12]

    @property
    def truth(self) -> str:
        return self.file.text[self.start : self.end]

    @property
    def document(self) -> str:
        """The file as the model sees it: the hole removed, the cursor at ``start``."""
        return self.file.text[: self.start] + self.file.text[self.end :]

    @property
    def line(self) -> int:
        """0-based line of the cursor."""
        return self.file.text.count("\n", 0, self.start)

    @property
    def column(self) -> int:
        return self.start - (self.file.text.rfind("\n", 0, self.start) + 1)

    @property
    def rest_of_line(self) -> str:
        """The truth up to its first line break: what a one-line suggestion should be."""
        return self.truth.split("\n", 1)[0]


def sample_holes(files: Iterable[SourceFile], *, n: int, seed: int, kinds: Sequence[str] = KINDS) -> list[Hole]:
    """``n`` holes (fewer if the files hold fewer), an equal share per kind, in file and position order.

    A kind with too few candidates leaves its share to the others, so ``n`` is reached when
    the workspace allows it.
    """
    ordered = sorted(files, key=lambda file: file.relative)
    pools = {kind: [] for kind in kinds}  # type: dict[str, list[Hole]]
    for file in ordered:
        for hole in candidates(file, kinds):
            pools[hole.kind].append(hole)
    rng = random.Random(seed)
    for kind in kinds:
        rng.shuffle(pools[kind])
    chosen: list[Hole] = []
    while len(chosen) < n and any(pools.values()):
        for kind in kinds:  # round robin: equal shares while every kind has candidates
            if pools[kind] and len(chosen) < n:
                chosen.append(pools[kind].pop())
    return sorted(chosen, key=lambda hole: (hole.file.relative, hole.start, hole.kind))


def candidates(file: SourceFile, kinds: Sequence[str] = KINDS) -> Iterator[Hole]:
    """Every hole of the given kinds in ``file``, in document order per kind."""
    parsed = parse(file.text, file.grammar)
    if parsed is None or (parsed.root.has_error and _error_share(parsed) > 0.2):
        return
    lines = list(_code_lines(parsed))
    wanted = set(kinds)
    found: list[Hole] = []
    if "line" in wanted:
        found.extend(Hole(file, "line", start, end) for start, end in lines)
    if "rest" in wanted:
        found.extend(_rest_holes(file, parsed, lines))
    if "block" in wanted or "args" in wanted:
        for node in _walk(parsed.root):
            if "block" in wanted and node.type in _BLOCKS:
                found.extend(_block_hole(file, parsed, node))
            elif "args" in wanted and node.type in _ARGUMENTS:
                found.extend(_args_hole(file, parsed, node))
    for hole in found:
        if hole.truth.strip() and not _touches_secret(hole):
            yield hole


def _code_lines(parsed: ParsedText) -> Iterator[tuple[int, int]]:
    """(start after indentation, end before trailing space) of lines that are code, not
    comments, strings or lone brackets."""
    text = parsed.text
    offset = 0
    for row, line in enumerate(text.split("\n")):
        begin = offset
        offset += len(line) + 1
        body = line.strip()
        if len(body) < _MIN_CHARS or len(body) > _MAX_LINE or not any(c.isalnum() for c in body):
            continue
        indent = len(line) - len(line.lstrip())
        node = parsed.root.descendant_for_point_range((row, _byte_column(line, indent)), (row, _byte_column(line, indent)))
        if node is None or _quiet(node):
            continue
        yield begin + indent, begin + len(line.rstrip())


def _rest_holes(file: SourceFile, parsed: ParsedText, lines: list[tuple[int, int]]) -> Iterator[Hole]:
    """For every code line, holes from the end of each token that leaves code after it."""
    text = parsed.text
    leaves = _leaves_by_row(parsed.root)
    for start, end in lines:
        for leaf in leaves.get(text.count("\n", 0, start), ()):
            cursor = parsed.end(leaf)
            if start < cursor and end - cursor >= _MIN_CHARS and text[cursor:end].strip() and not _quiet(leaf):
                yield Hole(file, "rest", cursor, end)


def _block_hole(file: SourceFile, parsed: ParsedText, node: Node) -> Iterator[Hole]:
    statements = [child for child in node.named_children if child.type != "comment"]
    while statements and _is_docstring(statements[0]):
        statements.pop(0)  # the user wrote the docstring; the code after it is the block to write
    if not statements or node.parent is None:
        return
    start, end = parsed.start(statements[0]), parsed.end(statements[-1])
    text = parsed.text
    if statements[0].start_point[0] <= node.parent.start_point[0]:
        return  # body on the header's line: no block to write
    if text[text.rfind("\n", 0, start) + 1 : start].strip():
        return  # the first statement does not start its line
    body = text[start:end]
    if body.count("\n") + 1 > _MAX_BLOCK_LINES or len(body) > _MAX_BLOCK_CHARS:
        return
    yield Hole(file, "block", start, end)


def _args_hole(file: SourceFile, parsed: ParsedText, node: Node) -> Iterator[Hole]:
    inner = parsed.node_text(node)
    if not (inner.startswith("(") and inner.endswith(")")) or "\n" in inner or len(inner) > _MAX_LINE:
        return
    start, end = parsed.start(node) + 1, parsed.end(node) - 1
    if end - start >= 1:
        yield Hole(file, "args", start, end)


def _is_docstring(node: Node) -> bool:
    """A statement that is only a string literal (Python docstrings, JS directive prologues)."""
    if node.type in ("string", "concatenated_string"):
        return True
    named = node.named_children
    return node.type == "expression_statement" and len(named) == 1 and "string" in named[0].type


def _touches_secret(hole: Hole) -> bool:
    """Whether a secret-shaped span overlaps the hole's lines."""
    text = hole.file.text
    first = text.rfind("\n", 0, hole.start) + 1
    last = text.find("\n", hole.end)
    last = len(text) if last < 0 else last
    return any(finding.start < last and finding.end > first for finding in hole.file.findings)


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _leaves_by_row(root: Node) -> dict[int, list[Node]]:
    """The leaf tokens that start and end on one row, by row, in document order."""
    rows: dict[int, list[Node]] = {}
    for node in _walk(root):
        if node.child_count == 0 and node.end_byte > node.start_byte and node.start_point[0] == node.end_point[0]:
            rows.setdefault(node.start_point[0], []).append(node)
    return rows


def _quiet(node: Node | None) -> bool:
    while node is not None:
        if any(word in node.type for word in _QUIET):
            return True
        node = node.parent
    return False


def _error_share(parsed: ParsedText) -> float:
    """The share of the file's bytes inside ERROR nodes (a file in another dialect, a template)."""
    errors = sum(node.end_byte - node.start_byte for node in _walk(parsed.root) if node.type == "ERROR")
    return errors / max(1, len(parsed.data))


def _byte_column(line: str, column: int) -> int:
    return len(line[:column].encode("utf-8", "surrogatepass"))


