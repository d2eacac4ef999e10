"""How a definition from another file is shown to the model: signature first, short body.

A model completing a call needs the callee's signature and a hint of what it does, not its
whole body; a model completing ``obj.`` needs a class's fields and method signatures. So
small definitions are shown whole, long functions as their header plus the first few whole
statements, and long classes/structs as a skeleton (header, short members whole, the
headers of long ones). Elided parts are marked with a line the language reads as harmless
(``...`` in Python, ``// ...`` elsewhere), and braces are closed so the snippet still looks
like code.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from slm_lsp.context.syntax import ParsedText

MAX_LINES = 16
MAX_CHARS = 1000
BODY_LINES = 6
DOC_LINES = 3
_BODY_FIELDS = ("body", "type", "value", "definition", "declaration")
_BODY_CARRIERS = frozenset({"type_spec", "variable_declarator", "const_spec", "var_spec"})
_BODY_TYPES = frozenset({"field_declaration_list", "enum_variant_list", "enumerator_list",
                         "class_body", "interface_body", "enum_body", "declaration_list", "object_type",
                         "statement_block", "block", "compound_statement"})


@dataclass(frozen=True)
class Rendered:
    """A definition as shown in a prompt, and its one-line fallback when space is short."""

    snippet: str
    signature: str


@dataclass(frozen=True)
class Style:
    """Per-language rendering: how elided code is marked and whether blocks use braces."""

    elision: str  # a line standing for removed code, e.g. "..." or "// ..."
    braces: bool


PYTHON = Style("...", braces=False)
BRACES = Style("// ...", braces=True)


def body_of(node: Node, depth: int = 0) -> Node | None:
    """The node holding a definition's members or statements (``{...}`` or an indented block)."""
    if depth > 3:
        return None
    for field in _BODY_FIELDS:
        child = node.child_by_field_name(field)
        if child is None:
            continue
        if field == "body" or child.type in _BODY_TYPES:
            return child
        inner = body_of(child, depth + 1)
        if inner is not None:
            return inner
    for child in node.named_children:
        if child.type in _BODY_TYPES:
            return child
        if child.type in _BODY_CARRIERS:
            return body_of(child, depth + 1)
    return None


def render(parsed: ParsedText, start: int, node: Node, outer: Node, style: Style, container: bool) -> Rendered:
    """Render the definition ``node`` (wrapped in ``outer``, preceded by comments from ``start``)."""
    text = parsed.text
    line_start = _line_start(text, start)
    end = _end_of_statement(text, parsed.end(outer))
    full = text[line_start:end]
    body = body_of(node)
    header_end = parsed.start(body) if body is not None else end
    opening = 1 if style.braces and text[header_end : header_end + 1] == "{" else 0
    header = text[line_start : header_end + opening].rstrip()
    signature = _signature(text[_line_start(text, parsed.start(outer)) : header_end], style, body is not None)
    if body is not None and style.braces:
        tail = text[parsed.end(body) : parsed.end(outer)].strip()
        signature += f" {tail}" if tail.strip(";,") else ""
    signature = _dedent(signature)
    if full.count("\n") < MAX_LINES and len(full) <= MAX_CHARS:
        return Rendered(_dedent(full), signature)
    if body is None:
        return Rendered(_dedent(_clip(full, style, _indent_of(full))), signature)
    member_indent = _indent_at(text, _first_member_start(parsed, body))
    members, truncated = (_skeleton if container else _leading_statements)(parsed, body, style)
    lines = [header, *members]
    if truncated:
        lines.append(member_indent + style.elision)
    if style.braces:
        closing = text[text.rfind("\n", 0, end - 1) + 1 : end].strip()
        if closing.startswith("}"):
            lines.append(_indent_of(full) + closing)
    return Rendered(_dedent(_clip("\n".join(lines) + "\n", style, member_indent)), signature)


def _signature(header: str, style: Style, has_body: bool) -> str:
    """The header alone, completed so it reads as a declaration."""
    header = header.rstrip()
    if not has_body:
        first = header.split("\n", 1)[0]
        return first if first == header else first + " " + style.elision
    if not style.braces:
        return header + " ..."
    return header + (" ... }" if header.endswith("{") else " { ... }")


def _skeleton(parsed: ParsedText, body: Node, style: Style) -> tuple[list[str], bool]:
    """The members of a container: short ones whole, long ones as their header; and whether cut short."""
    lines: list[str] = []
    for member in body.named_children:
        if "comment" in member.type:
            continue
        text = _lines_of(parsed, member)
        member_lines = text.rstrip("\n").split("\n")
        if not style.braces and _is_docstring(parsed, member):
            piece = _docstring(member_lines)
        elif len(member_lines) <= 2:
            piece = member_lines
        else:
            inner = body_of(member)
            if inner is None:
                piece = [member_lines[0] + " " + style.elision]
            else:
                head = parsed.text[_line_start(parsed.text, parsed.start(member)) : parsed.start(inner)]
                piece = _signature(head, style, True).split("\n")
        if len(lines) + len(piece) > MAX_LINES - 3:
            return lines, True
        lines += piece
    return lines, False


def _leading_statements(parsed: ParsedText, body: Node, style: Style) -> tuple[list[str], bool]:
    """The first whole statements of a function body (docstring shortened); and whether cut short."""
    lines: list[str] = []
    for index, statement in enumerate(body.named_children):
        statement_lines = _lines_of(parsed, statement).rstrip("\n").split("\n")
        if index == 0 and not style.braces and _is_docstring(parsed, statement):
            piece = _docstring(statement_lines)
        else:
            piece = statement_lines
        if len(lines) + len(piece) > BODY_LINES:
            return lines, True
        lines += piece
    return lines, False


def _is_docstring(parsed: ParsedText, node: Node) -> bool:
    """A Python string statement (a docstring when it comes first in a body)."""
    if node.type == "expression_statement" and node.named_child_count == 1:
        node = node.named_children[0]
    return node.type == "string"


def _docstring(lines: list[str]) -> list[str]:
    """A docstring cut to DOC_LINES lines and closed again so the snippet stays valid Python."""
    if len(lines) <= DOC_LINES:
        return lines
    stripped = lines[0].lstrip()
    quote = next((q for q in ('"""', "'''") if q in stripped), stripped[-1:] or '"')
    return [*lines[: DOC_LINES - 1], _indent_of(lines[0]) + quote]


def _lines_of(parsed: ParsedText, node: Node) -> str:
    """The whole lines a node occupies (from its line's start), with its indentation."""
    text = parsed.text
    return text[_line_start(text, parsed.start(node)) : _end_of_statement(text, parsed.end(node))]


def _line_start(text: str, offset: int) -> int:
    """The start of ``offset``'s line when only indentation precedes it there, else ``offset``."""
    start = text.rfind("\n", 0, offset) + 1
    return start if text[start:offset].strip(" \t") == "" else offset


def _end_of_statement(text: str, end: int) -> int:
    """Extend ``end`` over a trailing ``;``/``,`` and the line break, so a snippet ends a line."""
    newline = text.find("\n", end)
    line_end = len(text) if newline < 0 else newline
    if text[end:line_end].strip(" \t;,") == "":
        return line_end + (1 if newline >= 0 else 0)
    return end


def _first_member_start(parsed: ParsedText, body: Node) -> int:
    for child in body.named_children:
        return parsed.start(child)
    return parsed.start(body)


def _indent_at(text: str, offset: int) -> str:
    """The indentation of the line holding ``offset``."""
    return _indent_of(text[text.rfind("\n", 0, offset) + 1 : offset])


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _dedent(text: str) -> str:
    """Remove the first line's indentation from every line (a method shown outside its class)."""
    indent = _indent_of(text)
    if not indent:
        return text
    return "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" \t") for line in text.split("\n"))


def _clip(text: str, style: Style, indent: str) -> str:
    """Hard caps on lines and characters, cutting at a line end and marking the cut."""
    lines = text.split("\n")
    if len(lines) <= MAX_LINES + 1 and len(text) <= MAX_CHARS:
        return text
    kept: list[str] = []
    size = 0
    for line in lines[:MAX_LINES]:
        if size + len(line) + 1 > MAX_CHARS - len(indent) - len(style.elision) - 1:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) + "\n" + indent + style.elision + "\n"
