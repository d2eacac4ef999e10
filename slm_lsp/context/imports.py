"""What a file imports, read from its tree-sitter tree, before any resolution.

Each import becomes an ``ImportRef``: the module as written plus the names it binds locally.
Resolving a module to workspace files is ``resolve``'s job; keeping the two apart lets the
index store imports once per file and resolve them lazily against the index as it is when a
request comes in (the imported file may be indexed later than the importer).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from slm_lsp.context.syntax import ParsedText

_MAX_DEPTH = 3  # imports nested in if/try blocks (Python) or include guards (C) still count


@dataclass(frozen=True, slots=True)
class ImportRef:
    """One imported module and the names it binds in the importing file.

    ``names`` holds (name in the module, local name); it is empty when the module itself is
    bound (to ``alias``, used as a qualifier: ``alias.Thing``, ``alias::Thing``). ``wildcard``
    means every public name of the module becomes visible unqualified (``from m import *``,
    Go's dot import, ``use m::*``, ``import p.*;``, a C ``#include``).
    """

    module: str
    names: tuple[tuple[str, str], ...] = ()
    alias: str | None = None
    level: int = 0  # Python relative-import dots
    wildcard: bool = False
    static: bool = False  # Java ``import static``
    mod_decl: bool = False  # Rust ``mod name;``
    system: bool = False  # C/C++ ``#include <...>``


@dataclass(frozen=True)
class FileFacts:
    """What resolution needs to know about a file besides its definitions."""

    imports: tuple[ImportRef, ...]
    package: str | None  # Go package name, Java package
    default_export: str | None  # JS/TS ``export default Name``


def extract_facts(parsed: ParsedText) -> FileFacts:
    """Imports, declared package and default export of a parsed file."""
    reader = _READERS.get(parsed.grammar)
    if reader is None:
        return FileFacts((), None, None)
    imports: list[ImportRef] = []
    package: str | None = None
    default_export: str | None = None
    for node in _statements(parsed.root, 0):
        if node.type in ("package_clause", "package_declaration"):
            name = next((c for c in node.named_children if c.type != "comment"), None)
            package = parsed.node_text(name) if name is not None else None
        elif node.type == "export_statement" and any(child.type == "default" for child in node.children):
            default_export = _default_export(parsed, node) or default_export
        imports.extend(reader(parsed, node))
    return FileFacts(tuple(imports), package, default_export)


def _default_export(parsed: ParsedText, node: Node) -> str | None:
    """The name ``export default`` gives: ``export default Name;`` or ``export default class Name``."""
    value = node.child_by_field_name("value")
    if value is not None:
        return parsed.node_text(value) if value.type == "identifier" else None
    declaration = node.child_by_field_name("declaration")
    name = declaration.child_by_field_name("name") if declaration is not None else None
    return parsed.node_text(name) if name is not None else None


def _statements(parent: Node, depth: int) -> Iterator[Node]:
    """Top-level statements, looking inside if/try/guard blocks where imports also live."""
    for node in parent.named_children:
        yield node
        if depth < _MAX_DEPTH and node.type in _NESTING:
            yield from _statements(node, depth + 1)


_NESTING = frozenset({"if_statement", "try_statement", "block", "else_clause", "except_clause", "elif_clause",
                      "preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "linkage_specification",
                      "declaration_list", "namespace_definition"})


def _python(parsed: ParsedText, node: Node) -> Iterator[ImportRef]:
    if node.type == "import_statement":
        for item in node.children_by_field_name("name"):
            if item.type == "aliased_import":
                dotted_node = item.child_by_field_name("name")
                alias = item.child_by_field_name("alias")
                if dotted_node is not None and alias is not None:
                    yield ImportRef(parsed.node_text(dotted_node), alias=parsed.node_text(alias))
            else:
                dotted = parsed.node_text(item)
                yield ImportRef(dotted, alias=dotted)
    elif node.type == "import_from_statement":
        module_node = node.child_by_field_name("module_name")
        if module_node is None:
            return
        level, module = 0, parsed.node_text(module_node)
        if module_node.type == "relative_import":
            level = len(module) - len(module.lstrip("."))
            module = module[level:]
        if any(child.type == "wildcard_import" for child in node.named_children):
            yield ImportRef(module, level=level, wildcard=True)
            return
        names = []
        for item in node.children_by_field_name("name"):
            if item.type == "aliased_import":
                name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                if name is not None and alias is not None:
                    names.append((parsed.node_text(name), parsed.node_text(alias)))
            else:
                text = parsed.node_text(item)
                names.append((text, text))
        if names:
            yield ImportRef(module, names=tuple(names), level=level)


def _js(parsed: ParsedText, node: Node) -> Iterator[ImportRef]:
    if node.type in ("import_statement", "export_statement"):
        source = node.child_by_field_name("source")
        if source is None:
            return
        module = parsed.node_text(source).strip("'\"`")
        if node.type == "export_statement":
            clause = next((c for c in node.named_children if c.type == "export_clause"), None)
            if clause is None:
                yield ImportRef(module, wildcard=True)
            else:
                yield ImportRef(module, names=tuple(_specifiers(parsed, clause)))
            return
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            return
        names: list[tuple[str, str]] = []
        alias = None
        for part in clause.named_children:
            if part.type == "identifier":
                names.append(("default", parsed.node_text(part)))
            elif part.type == "named_imports":
                names.extend(_specifiers(parsed, part))
            elif part.type == "namespace_import":
                identifier = next((c for c in part.named_children if c.type == "identifier"), None)
                alias = parsed.node_text(identifier) if identifier is not None else None
        if names:
            yield ImportRef(module, names=tuple(names))
        if alias:
            yield ImportRef(module, alias=alias)
    elif node.type in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            yield from _require(parsed, declarator)


def _specifiers(parsed: ParsedText, clause: Node) -> Iterator[tuple[str, str]]:
    for specifier in clause.named_children:
        name, alias = specifier.child_by_field_name("name"), specifier.child_by_field_name("alias")
        if name is not None:
            text = parsed.node_text(name)
            yield text, parsed.node_text(alias) if alias is not None else text


def _require(parsed: ParsedText, declarator: Node) -> Iterator[ImportRef]:
    """``const x = require('./m')`` and ``const {a, b: c} = require('./m')``."""
    value = declarator.child_by_field_name("value")
    target = declarator.child_by_field_name("name")
    if value is None or target is None or value.type != "call_expression":
        return
    function = value.child_by_field_name("function")
    arguments = value.child_by_field_name("arguments")
    if function is None or parsed.node_text(function) != "require" or arguments is None:
        return
    argument = next((c for c in arguments.named_children if c.type == "string"), None)
    if argument is None:
        return
    module = parsed.node_text(argument).strip("'\"`")
    if target.type == "identifier":
        yield ImportRef(module, alias=parsed.node_text(target))
    elif target.type == "object_pattern":
        names = []
        for item in target.named_children:
            if item.type == "shorthand_property_identifier_pattern":
                text = parsed.node_text(item)
                names.append((text, text))
            elif item.type == "pair_pattern":
                key, value_node = item.child_by_field_name("key"), item.child_by_field_name("value")
                if key is not None and value_node is not None:
                    names.append((parsed.node_text(key), parsed.node_text(value_node)))
        if names:
            yield ImportRef(module, names=tuple(names))


def _go(parsed: ParsedText, node: Node) -> Iterator[ImportRef]:
    if node.type != "import_declaration":
        return
    specs = [c for c in node.named_children if c.type == "import_spec"]
    for group in (c for c in node.named_children if c.type == "import_spec_list"):
        specs.extend(c for c in group.named_children if c.type == "import_spec")
    for spec in specs:
        path = spec.child_by_field_name("path")
        if path is None:
            continue
        module = parsed.node_text(path).strip('"`')
        name = spec.child_by_field_name("name")
        local = parsed.node_text(name) if name is not None else None
        if local == ".":
            yield ImportRef(module, wildcard=True)
        elif local != "_":
            yield ImportRef(module, alias=local or module.rsplit("/", 1)[-1])


def _rust(parsed: ParsedText, node: Node) -> Iterator[ImportRef]:
    if node.type == "mod_item" and node.child_by_field_name("body") is None:
        name = node.child_by_field_name("name")
        if name is not None:
            text = parsed.node_text(name)
            yield ImportRef(text, alias=text, mod_decl=True)
    elif node.type == "use_declaration":
        argument = node.child_by_field_name("argument")
        if argument is not None:
            yield from _use_tree(parsed, argument, "")


def _use_tree(parsed: ParsedText, node: Node, prefix: str) -> Iterator[ImportRef]:
    """Flatten ``a::{b::C, D as E, f::*}`` into one ImportRef per imported path."""
    def join(tail: str) -> str:
        return f"{prefix}::{tail}" if prefix else tail

    if node.type in ("scoped_identifier", "identifier", "crate", "self", "super"):
        path = join(parsed.node_text(node))
        module, _, name = path.rpartition("::")
        if name == "self":
            yield ImportRef(module, alias=module.rsplit("::", 1)[-1])
        elif module:
            yield ImportRef(module, names=((name, name),))
        else:
            yield ImportRef(name, alias=name)
    elif node.type == "use_as_clause":
        path_node, alias = node.child_by_field_name("path"), node.child_by_field_name("alias")
        if path_node is not None and alias is not None:
            module, _, name = join(parsed.node_text(path_node)).rpartition("::")
            yield ImportRef(module, names=((name, parsed.node_text(alias)),)) if module else ImportRef(
                name, alias=parsed.node_text(alias))
    elif node.type == "use_wildcard":
        inner = next(iter(node.named_children), None)
        if inner is not None:
            yield ImportRef(join(parsed.node_text(inner)), wildcard=True)
    elif node.type == "scoped_use_list":
        path_node, items = node.child_by_field_name("path"), node.child_by_field_name("list")
        inner_prefix = join(parsed.node_text(path_node)) if path_node is not None else prefix
        if items is not None:
            for item in items.named_children:
                yield from _use_tree(parsed, item, inner_prefix)
    elif node.type == "use_list":
        for item in node.named_children:
            yield from _use_tree(parsed, item, prefix)


def _java(parsed: ParsedText, node: Node) -> Iterator[ImportRef]:
    if node.type != "import_declaration":
        return
    target = next((c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None)
    if target is None:
        return
    path = parsed.node_text(target)
    static = any(child.type == "static" for child in node.children)
    if any(child.type == "asterisk" for child in node.named_children):
        yield ImportRef(path, wildcard=True, static=static)
        return
    module, _, name = path.rpartition(".")
    yield ImportRef(module, names=((name, name),), static=static)


def _c(parsed: ParsedText, node: Node) -> Iterator[ImportRef]:
    if node.type != "preproc_include":
        return
    path = node.child_by_field_name("path")
    if path is not None:
        text = parsed.node_text(path)
        yield ImportRef(text.strip('"<>'), wildcard=True, system=text.startswith("<"))


_READERS = {
    "python": _python, "javascript": _js, "typescript": _js, "tsx": _js, "go": _go, "rust": _rust,
    "java": _java, "c": _c, "cpp": _c,
}
