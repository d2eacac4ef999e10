"""The definitions a file provides, found by walking its tree-sitter tree.

Only what another file can refer to is collected: top-level functions, types, constants and
macros, and the methods/nested types of top-level classes (one level down). Each symbol is
stored already rendered (see ``snippets``) so that assembling a prompt never re-reads or
re-parses the defining file. The per-language tables below say which node types define
something, which wrap a definition (decorators, ``export``, ``template<>``), which only scope
further definitions (namespaces, include guards, ``extern "C"``), and which comments or
attributes travel with a definition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from slm_lsp.context.snippets import BRACES, PYTHON, Rendered, Style, body_of, render
from slm_lsp.context.syntax import ParsedText

MAX_SYMBOLS_PER_FILE = 400
_LEADING_LINES = 8
_UNRENDERED = Rendered("", "")


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition: where it is in its file and how it is shown to the model."""

    name: str
    kind: str  # function, method, class, type, variable, macro, impl
    container: str | None  # enclosing class/impl/receiver type, None at top level
    start: int  # character offsets of the definition in its file
    end: int
    snippet: str
    signature: str
    public: bool  # visible to other modules (Go capitalised, Python no leading underscore...)


@dataclass(frozen=True)
class _Spec:
    defs: dict[str, str]
    containers: frozenset[str]
    wrappers: frozenset[str]
    scopes: frozenset[str]
    leading: frozenset[str]
    style: Style


_C_DEFS = {
    "function_definition": "function", "declaration": "function", "field_declaration": "function",
    "struct_specifier": "type", "union_specifier": "type", "enum_specifier": "type", "type_definition": "type",
    "preproc_def": "macro", "preproc_function_def": "macro",
}
_C_SCOPES = frozenset({"preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "linkage_specification"})
_JS_DEFS = {
    "function_declaration": "function", "generator_function_declaration": "function", "class_declaration": "class",
    "lexical_declaration": "variable", "variable_declaration": "variable", "method_definition": "function",
}
_TS_DEFS = {
    **_JS_DEFS, "abstract_class_declaration": "class", "interface_declaration": "type",
    "type_alias_declaration": "type", "enum_declaration": "type", "function_signature": "function",
    "method_signature": "function", "abstract_method_signature": "function",
}
_JS_COMMON = {"wrappers": frozenset({"export_statement", "ambient_declaration", "expression_statement"}),
              "leading": frozenset({"comment"}), "style": BRACES}

_SPECS: dict[str, _Spec] = {
    "python": _Spec(
        defs={"function_definition": "function", "class_definition": "class", "assignment": "variable",
              "expression_statement": "variable"},
        containers=frozenset({"class_definition"}),
        wrappers=frozenset({"decorated_definition"}),
        scopes=frozenset({"if_statement", "try_statement", "else_clause", "elif_clause", "except_clause",
                          "finally_clause", "block"}),
        leading=frozenset({"comment"}),
        style=PYTHON,
    ),
    "javascript": _Spec(defs=_JS_DEFS, containers=frozenset({"class_declaration"}),
                        scopes=frozenset(), **_JS_COMMON),  # type: ignore[arg-type]
    "typescript": _Spec(defs=_TS_DEFS, containers=frozenset({"class_declaration", "abstract_class_declaration"}),
                        scopes=frozenset({"internal_module", "module"}), **_JS_COMMON),  # type: ignore[arg-type]
    "go": _Spec(
        defs={"function_declaration": "function", "method_declaration": "method", "type_declaration": "type",
              "const_declaration": "variable", "var_declaration": "variable"},
        containers=frozenset(), wrappers=frozenset(), scopes=frozenset(),
        leading=frozenset({"comment"}), style=BRACES,
    ),
    "rust": _Spec(
        defs={"function_item": "function", "function_signature_item": "function", "struct_item": "type",
              "enum_item": "type", "union_item": "type", "trait_item": "type", "type_item": "type",
              "const_item": "variable", "static_item": "variable", "impl_item": "impl", "macro_definition": "macro"},
        containers=frozenset({"impl_item", "trait_item"}), wrappers=frozenset(), scopes=frozenset({"mod_item"}),
        leading=frozenset({"line_comment", "block_comment", "attribute_item"}), style=BRACES,
    ),
    "java": _Spec(
        defs={"class_declaration": "class", "interface_declaration": "type", "enum_declaration": "type",
              "record_declaration": "class", "annotation_type_declaration": "type", "method_declaration": "function",
              "constructor_declaration": "function", "field_declaration": "variable"},
        containers=frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration"}),
        wrappers=frozenset(), scopes=frozenset(),
        leading=frozenset({"line_comment", "block_comment"}), style=BRACES,
    ),
    "c": _Spec(defs=_C_DEFS, containers=frozenset(), wrappers=frozenset(), scopes=_C_SCOPES,
               leading=frozenset({"comment"}), style=BRACES),
    "cpp": _Spec(
        defs={**_C_DEFS, "class_specifier": "class", "alias_declaration": "type", "concept_definition": "type"},
        containers=frozenset({"class_specifier", "struct_specifier"}),
        wrappers=frozenset({"template_declaration"}),
        scopes=_C_SCOPES | {"namespace_definition"},
        leading=frozenset({"comment"}), style=BRACES,
    ),
}
_SPECS["tsx"] = _SPECS["typescript"]

_FUNCTION_DECLARATOR_PATH = ("declarator",)
_NAME_TYPES = frozenset({"identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name",
                         "property_identifier", "private_property_identifier", "namespace_identifier"})


def extract_symbols(parsed: ParsedText, limit: int = MAX_SYMBOLS_PER_FILE) -> list[Symbol]:
    """The definitions of ``parsed`` other files can use, in source order, at most ``limit``."""
    spec = _SPECS.get(parsed.grammar)
    if spec is None:
        return []
    found: list[Symbol] = []
    _collect(parsed, spec, parsed.root, None, 0, found, limit, rendering=True)
    return found


def defined_names(parsed: ParsedText) -> set[str]:
    """The names ``parsed`` defines (without rendering snippets: cheap enough per request)."""
    spec = _SPECS.get(parsed.grammar)
    if spec is None:
        return set()
    found: list[Symbol] = []
    _collect(parsed, spec, parsed.root, None, 0, found, MAX_SYMBOLS_PER_FILE, rendering=False)
    return {symbol.name for symbol in found}


def _collect(parsed: ParsedText, spec: _Spec, parent: Node, container: str | None, depth: int,
             found: list[Symbol], limit: int, *, rendering: bool) -> None:
    children = parent.named_children
    for index, child in enumerate(children):
        if len(found) >= limit:
            return
        node = _unwrap(child, spec)
        if node is None:
            continue
        if node.type in spec.scopes and not (node.type == "mod_item" and node.child_by_field_name("body") is None):
            _collect(parsed, spec, node.child_by_field_name("body") or node, container, depth, found, limit,
                     rendering=rendering)
            continue
        kind = spec.defs.get(node.type)
        if kind is None or (depth > 0 and kind == "variable"):
            continue
        if node.type == "preproc_def" and node.child_by_field_name("value") is None:
            continue  # include guards and feature flags define nothing worth showing
        names = list(_names(parsed, node))
        if not names:
            continue
        is_container = node.type in spec.containers or (kind in ("class", "type") and body_of(node) is not None)
        rendered = (render(parsed, _leading_start(parsed, spec, children, index), node, child, spec.style,
                           is_container) if rendering else _UNRENDERED)
        own_kind = "method" if depth > 0 and kind == "function" else kind
        for name, scope in names:
            found.append(Symbol(
                name=name, kind=own_kind, container=scope or container, start=parsed.start(child),
                end=parsed.end(child), snippet=rendered.snippet, signature=rendered.signature,
                public=_is_public(parsed.grammar, name, child, parsed),
            ))
        if node.type in spec.containers and depth == 0:
            body = body_of(node)
            if body is not None:
                _collect(parsed, spec, body, names[0][0], depth + 1, found, limit, rendering=rendering)


def _unwrap(node: Node, spec: _Spec) -> Node | None:
    """The definition inside decorators/export/template wrappers, or the node itself."""
    for _ in range(4):
        if node.type not in spec.wrappers:
            return node
        inner = node.child_by_field_name("definition") or node.child_by_field_name("declaration")
        if inner is None:
            inner = next((c for c in node.named_children
                          if c.type in spec.defs or c.type in spec.scopes or c.type in spec.wrappers), None)
        if inner is None:
            return None
        node = inner
    return node


def _leading_start(parsed: ParsedText, spec: _Spec, siblings: list[Node], index: int) -> int:
    """Where the comments/attributes directly above ``siblings[index]`` begin."""
    start_node = siblings[index]
    first_row = start_node.start_point.row
    for previous in reversed(siblings[:index]):
        if previous.type not in spec.leading or previous.end_point.row < start_node.start_point.row - 1:
            break
        if first_row - previous.start_point.row > _LEADING_LINES:
            break
        start_node = previous
    return parsed.start(start_node)


def _names(parsed: ParsedText, node: Node) -> Iterator[tuple[str, str | None]]:
    """(name, container override) pairs a definition node introduces."""
    kind = node.type
    if kind in ("assignment", "expression_statement"):
        target = node if kind == "assignment" else node.named_children[0] if node.named_child_count else None
        if target is not None and target.type == "assignment":
            left = target.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                yield parsed.node_text(left), None
    elif kind in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            if name is not None and name.type == "identifier":
                yield parsed.node_text(name), None
    elif kind in ("type_declaration", "const_declaration", "var_declaration"):
        for spec in node.named_children:
            for name in spec.children_by_field_name("name"):
                if name.is_named:
                    yield parsed.node_text(name), None
    elif kind == "method_declaration" and parsed.grammar == "go":
        name = node.child_by_field_name("name")
        if name is not None:
            yield parsed.node_text(name), _go_receiver(parsed, node)
    elif kind == "impl_item":
        target = node.child_by_field_name("type")
        if target is not None:
            yield _base_type_name(parsed, target), None
    elif kind in ("function_definition", "declaration", "field_declaration") and parsed.grammar in ("c", "cpp"):
        yield from _c_function_name(parsed, node)
    elif kind == "type_definition":
        for declarator in node.children_by_field_name("declarator"):
            name = _innermost_name(declarator)
            if name is not None:
                yield parsed.node_text(name), None
    elif kind in ("struct_specifier", "union_specifier", "enum_specifier", "class_specifier"):
        name = node.child_by_field_name("name")
        if name is not None and node.child_by_field_name("body") is not None:
            yield parsed.node_text(name), None
    elif kind == "field_declaration":  # Java
        for declarator in node.children_by_field_name("declarator"):
            name = declarator.child_by_field_name("name")
            if name is not None:
                yield parsed.node_text(name), None
    else:
        name = node.child_by_field_name("name")
        if name is not None:
            yield parsed.node_text(name), None


def _c_function_name(parsed: ParsedText, node: Node) -> Iterator[tuple[str, str | None]]:
    """The function a C/C++ definition or prototype declares (a plain variable declares none)."""
    declarator = node.child_by_field_name("declarator")
    for _ in range(6):
        if declarator is None:
            return
        if declarator.type == "function_declarator":
            break
        declarator = declarator.child_by_field_name("declarator")
    else:
        return
    assert declarator is not None
    target = declarator.child_by_field_name("declarator")
    if target is None:
        return
    if target.type == "qualified_identifier":
        scope = target.child_by_field_name("scope")
        name = _innermost_name(target)
        if name is not None:
            yield parsed.node_text(name), parsed.node_text(scope) if scope is not None else None
    elif target.type in _NAME_TYPES:
        yield parsed.node_text(target), None


def _innermost_name(node: Node) -> Node | None:
    """Follow ``declarator``/``name`` fields down to the identifier a declarator binds."""
    for _ in range(8):
        if node.type in _NAME_TYPES:
            return node
        inner = node.child_by_field_name("declarator") or node.child_by_field_name("name")
        if inner is None:
            return None
        node = inner
    return None


def _go_receiver(parsed: ParsedText, node: Node) -> str | None:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return None
    for parameter in receiver.named_children:
        kind = parameter.child_by_field_name("type")
        if kind is not None:
            return _base_type_name(parsed, kind)
    return None


def _base_type_name(parsed: ParsedText, node: Node) -> str:
    """``Foo`` for ``*Foo``, ``Foo<T>``, ``Foo[T]`` or ``a::Foo``."""
    text = parsed.node_text(node).lstrip("*&").strip()
    for separator in ("<", "["):
        text = text.split(separator, 1)[0]
    return text.rsplit("::", 1)[-1].rsplit(".", 1)[-1].strip()


def _is_public(grammar: str, name: str, node: Node, parsed: ParsedText) -> bool:
    if grammar == "go":
        return name[:1].isupper()
    if grammar == "python":
        return not name.startswith("_")
    if grammar == "rust":
        return any(child.type == "visibility_modifier" for child in node.children)
    return True
