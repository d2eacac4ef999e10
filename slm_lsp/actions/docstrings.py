"""Documentation comments in each language's style, inserted so that the file still parses.

Python gets a docstring as the first statement of the function or class body; JavaScript,
TypeScript, Java, C, C++, PHP, Kotlin, Swift and Scala a ``/** ... */`` block before the
definition (and before its decorators or ``export``); C# ``/// <summary>``; Go ``//`` lines
that start with the name; Rust ``///`` lines before the attributes; Ruby and shell ``#``;
Lua ``---``. An existing documentation comment or docstring is replaced. Every edit is
checked by re-parsing the edited file: it must not add a syntax error, and the definition
must still be there with the new documentation attached.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from tree_sitter import Node

from slm_lsp.actions.syntax import (
    Definition,
    Parsed,
    definitions_at,
    definitions_inside,
    parse,
)

BLOCK = "block"  # /** ... */
LINE = "line"  # a line-comment marker on every line
PYTHON = "python"
CSHARP = "csharp"

_STYLES: dict[str, tuple[str, str]] = {
    "python": (PYTHON, ""),
    **dict.fromkeys(["javascript", "typescript", "tsx", "java", "c", "cpp", "php", "kotlin", "swift", "scala"],
                    (BLOCK, "*")),
    "csharp": (CSHARP, "///"),
    "go": (LINE, "//"),
    "rust": (LINE, "///"),
    "ruby": (LINE, "#"),
    "bash": (LINE, "#"),
    "lua": (LINE, "---"),
}
_WIDTH = 88
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment", "multiline_comment"})


class DocstringError(ValueError):
    """No documentation edit can be made here (no definition, or the edit would not parse)."""


@dataclass(frozen=True)
class DocTarget:
    """Where a definition's documentation goes: ``text[start:end]`` is replaced."""

    definition: Definition
    grammar: str
    style: str
    marker: str
    start: int
    end: int
    indent: str
    inline_body: bool  # Python: the body is on the ``def`` line
    existing: str | None

    @property
    def name(self) -> str | None:
        return self.definition.name

    @property
    def noun(self) -> str:
        return self.definition.noun


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``new_text``; ``result`` is the whole edited text."""

    start: int
    end: int
    new_text: str
    result: str


def supports(language_id: str | None) -> bool:
    from slm_lsp.actions.syntax import grammar_for

    grammar = grammar_for(language_id)
    return grammar is not None and grammar in _STYLES


def find_target(text: str, language_id: str | None, start: int, end: int) -> DocTarget | None:
    """The definition to document for a selection or cursor at ``text[start:end]``.

    The innermost definition containing the range, else the first one inside the selection.
    """
    parsed = parse(text, language_id)
    if parsed is None or parsed.grammar not in _STYLES:
        return None
    found = definitions_at(parsed, start, end)
    if not found and end > start:
        found = definitions_inside(parsed, start, end)
    for definition in found:
        try:
            return _target(parsed, definition)
        except DocstringError:
            continue
    return None


def _target(parsed: Parsed, definition: Definition) -> DocTarget:
    style, marker = _STYLES[parsed.grammar]
    text = parsed.text
    if style == PYTHON:
        return _python_target(parsed, definition)
    first = definition.outer
    if parsed.grammar == "rust":  # attributes come after the doc comment
        while (previous := first.prev_named_sibling) is not None and previous.type == "attribute_item" \
                and _lines_apart(parsed, previous, first) <= 1:
            first = previous
    node_start, _ = parsed.span(first)
    line_start = text.rfind("\n", 0, node_start) + 1
    indent = text[line_start:node_start]
    if indent.strip():
        raise DocstringError("the definition shares its line with other code")
    insert_at = line_start
    existing_start, existing = _existing_comment(parsed, first, style, marker)
    if existing_start is not None:
        return DocTarget(definition, parsed.grammar, style, marker, text.rfind("\n", 0, existing_start) + 1,
                         line_start, indent, False, existing)
    return DocTarget(definition, parsed.grammar, style, marker, insert_at, insert_at, indent, False, None)


def _lines_apart(parsed: Parsed, upper: Node, lower: Node) -> int:
    return lower.start_point[0] - upper.end_point[0] + (1 if parsed.node_text(upper).endswith("\n") else 0)


def _existing_comment(parsed: Parsed, first: Node, style: str, marker: str) -> tuple[int | None, str | None]:
    """Start offset and text of the documentation comment directly above ``first``, if any."""
    doc_prefix = {BLOCK: "/**", CSHARP: "///"}.get(style, marker)
    start: int | None = None
    node = first
    while (previous := node.prev_named_sibling) is not None and previous.type in _COMMENT_TYPES:
        if _lines_apart(parsed, previous, node) > 1:
            break
        comment = parsed.node_text(previous)
        if not comment.startswith(doc_prefix) or (marker == "//" and comment.startswith("///")):
            break
        line_start = parsed.text.rfind("\n", 0, parsed.span(previous)[0]) + 1
        if parsed.text[line_start : parsed.span(previous)[0]].strip():
            break  # a trailing comment of the line above
        start = parsed.span(previous)[0]
        node = previous
        if style == BLOCK:
            break
    if start is None:
        return None, None
    return start, parsed.text[start : parsed.span(first)[0]]


def _python_target(parsed: Parsed, definition: Definition) -> DocTarget:
    text = parsed.text
    node = definition.node
    body = node.child_by_field_name("body")
    if body is None:
        raise DocstringError("this definition has no body")
    statements = [child for child in body.named_children if child.type != "comment"]
    first = statements[0] if statements else body
    def_start, _ = parsed.span(node)
    def_line_start = text.rfind("\n", 0, def_start) + 1
    def_indent = text[def_line_start:def_start]
    def_indent = def_indent if not def_indent.strip() else re.match(r"[ \t]*", def_indent).group(0)  # type: ignore[union-attr]
    first_start, first_end = parsed.span(first)
    if first.start_point[0] == node.start_point[0]:  # def f(): return 1
        colon = text.rfind(":", def_start, first_start)
        unit = "\t" if "\t" in def_indent else "    "
        return DocTarget(definition, "python", PYTHON, "", colon + 1, first_start, def_indent + unit, True, None)
    line_start = text.rfind("\n", 0, first_start) + 1
    indent = text[line_start:first_start]
    if indent.strip():
        raise DocstringError("cannot place a docstring in this body")
    if _is_docstring(first):
        return DocTarget(definition, "python", PYTHON, "", first_start, first_end, indent, False,
                         text[first_start:first_end])
    return DocTarget(definition, "python", PYTHON, "", line_start, line_start, indent, False, None)


def _is_docstring(node: Node) -> bool:
    """A string statement (tree-sitter-python puts a bare ``string`` in the block)."""
    if node.type in ("string", "concatenated_string"):
        return True
    return node.type == "expression_statement" and node.named_child_count == 1 and \
        node.named_children[0].type in ("string", "concatenated_string")


def render(target: DocTarget, summary: str) -> str:
    """The documentation text for ``summary`` in the target's style, indented, ready to insert."""
    summary = " ".join(summary.split())
    if not summary:
        raise DocstringError("empty summary")
    indent = target.indent
    if target.style == PYTHON:
        body = summary.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if body.endswith('"'):
            body += " "
        width = max(40, _WIDTH - len(indent.expandtabs()))
        if len(body) + 6 <= width:
            doc = f'"""{body}"""'
        else:
            lines = textwrap.wrap(body, width - 3, break_long_words=False, break_on_hyphens=False)
            doc = f'"""{lines[0]}\n' + "".join(f"{indent}{line}\n" for line in lines[1:]) + f'{indent}"""'
        if target.inline_body:
            return f"\n{indent}{doc}\n{indent}"
        if target.existing is not None:
            return doc
        return f"{indent}{doc}\n"
    width = max(40, _WIDTH - len(indent.expandtabs()) - 4)
    if target.style == BLOCK:
        body = summary.replace("*/", "*\\/")
        lines = textwrap.wrap(body, width, break_long_words=False, break_on_hyphens=False)
        comment = f"{indent}/**\n" + "".join(f"{indent} * {line}\n" for line in lines) + f"{indent} */\n"
    elif target.style == CSHARP:
        body = summary.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines = textwrap.wrap(body, width, break_long_words=False, break_on_hyphens=False)
        comment = f"{indent}/// <summary>\n" + "".join(f"{indent}/// {line}\n" for line in lines) \
            + f"{indent}/// </summary>\n"
    else:
        if target.grammar == "go" and target.name and not summary.startswith(target.name):
            summary = f"{target.name} {summary[0].lower()}{summary[1:]}"
        lines = textwrap.wrap(summary, width, break_long_words=False, break_on_hyphens=False)
        comment = "".join(f"{indent}{target.marker} {line}\n" for line in lines)
    return comment


def build_edit(text: str, language_id: str | None, target: DocTarget, summary: str) -> Edit:
    """The edit that documents ``target`` with ``summary``, verified by re-parsing."""
    new_text = render(target, summary)
    result = text[: target.start] + new_text + text[target.end :]
    _validate(text, result, language_id, target, new_text)
    return Edit(target.start, target.end, new_text, result)


def _validate(before: str, after: str, language_id: str | None, target: DocTarget, inserted: str) -> None:
    old = parse(before, language_id)
    new = parse(after, language_id)
    if old is None or new is None:
        raise DocstringError("no parser for this language")
    if new.error_count() > old.error_count():
        raise DocstringError("the documented file would not parse")
    shift = len(inserted) - (target.end - target.start)
    old_start, _ = old.span(target.definition.node)
    new_start = old_start + shift if old_start >= target.end else old_start
    again = [d for d in definitions_at(new, new_start, new_start)
             if d.node.type == target.definition.node.type and d.name == target.name
             and new.span(d.node)[0] == new_start]
    if not again:
        raise DocstringError("the definition is not where it was after the edit")
    definition = again[0]
    if target.style == PYTHON:
        body = definition.node.child_by_field_name("body")
        statements = [c for c in body.named_children if c.type != "comment"] if body is not None else []
        if not statements or not _is_docstring(statements[0]):
            raise DocstringError("the docstring is not the first statement of the body")
        return
    previous = _outer_start_node(new, definition).prev_named_sibling
    if previous is None or previous.type not in _COMMENT_TYPES:
        raise DocstringError("the comment is not attached to the definition")


def _outer_start_node(parsed: Parsed, definition: Definition) -> Node:
    first = definition.outer
    if parsed.grammar == "rust":
        while (previous := first.prev_named_sibling) is not None and previous.type == "attribute_item":
            first = previous
    return first
