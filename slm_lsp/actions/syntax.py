"""tree-sitter facts the actions need: which definition a range is in, and whether text parses.

Grammars come from tree-sitter-language-pack, chosen by the editor's languageId. Parsers are
not thread-safe, so each thread keeps its own. tree-sitter counts UTF-8 bytes; everything
here takes and returns Python string offsets (code points).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tree_sitter import Node, Tree

from slm_lsp.treesitter import parser_for

_local = threading.local()

GRAMMARS: dict[str, str] = {
    "python": "python", "javascript": "javascript", "javascriptreact": "javascript",
    "typescript": "typescript", "typescriptreact": "tsx", "java": "java", "c": "c", "cpp": "cpp",
    "cuda-cpp": "cpp", "csharp": "csharp", "go": "go", "rust": "rust", "ruby": "ruby", "php": "php",
    "kotlin": "kotlin", "swift": "swift", "scala": "scala", "lua": "lua", "shellscript": "bash",
    "bash": "bash", "sh": "bash",
}  # fmt: skip

# Node types that are definitions a docstring/comment documents, per grammar.
DEFINITIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "class_definition"}),
    "javascript": frozenset({"function_declaration", "generator_function_declaration", "class_declaration",
                             "method_definition", "lexical_declaration", "variable_declaration"}),
    "typescript": frozenset({"function_declaration", "generator_function_declaration", "class_declaration",
                             "abstract_class_declaration", "method_definition", "interface_declaration",
                             "type_alias_declaration", "enum_declaration", "lexical_declaration",
                             "abstract_method_signature", "method_signature"}),
    "java": frozenset({"method_declaration", "constructor_declaration", "class_declaration",
                       "interface_declaration", "enum_declaration", "record_declaration"}),
    "c": frozenset({"function_definition", "struct_specifier", "union_specifier", "enum_specifier"}),
    "cpp": frozenset({"function_definition", "class_specifier", "struct_specifier"}),
    "csharp": frozenset({"method_declaration", "constructor_declaration", "class_declaration",
                         "interface_declaration", "struct_declaration", "record_declaration", "enum_declaration"}),
    "go": frozenset({"function_declaration", "method_declaration", "type_declaration"}),
    "rust": frozenset({"function_item", "struct_item", "enum_item", "trait_item", "impl_item", "mod_item",
                       "function_signature_item", "type_item"}),
    "ruby": frozenset({"method", "singleton_method", "class", "module"}),
    "php": frozenset({"function_definition", "method_declaration", "class_declaration", "interface_declaration",
                      "trait_declaration"}),
    "kotlin": frozenset({"function_declaration", "class_declaration", "object_declaration"}),
    "swift": frozenset({"function_declaration", "class_declaration", "protocol_declaration", "init_declaration"}),
    "scala": frozenset({"function_definition", "class_definition", "object_definition", "trait_definition"}),
    "lua": frozenset({"function_declaration"}),
    "bash": frozenset({"function_definition"}),
}
DEFINITIONS["tsx"] = DEFINITIONS["typescript"]

# Parents that belong to the definition they wrap (a comment goes before them).
WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration", "ambient_declaration"})
CLASS_TYPES = frozenset({"class_definition", "class_declaration", "abstract_class_declaration", "class_specifier",
                         "struct_specifier", "union_specifier", "enum_specifier", "struct_item", "class", "module", "object_definition",
                         "object_declaration", "interface_declaration", "trait_item", "trait_definition",
                         "struct_declaration", "record_declaration", "protocol_declaration", "impl_item",
                         "enum_item", "enum_declaration", "type_declaration", "type_item"})


def grammar_for(language_id: str | None) -> str | None:
    return GRAMMARS.get((language_id or "").lower())


class Parsed:
    """A parse of ``text`` with offset translation."""

    def __init__(self, text: str, grammar: str, tree: Tree, data: bytes) -> None:
        self.text = text
        self.grammar = grammar
        self.tree = tree
        self.data = data
        self._ascii = len(data) == len(text)

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def byte(self, offset: int) -> int:
        return offset if self._ascii else len(self.text[:offset].encode("utf-8", "surrogatepass"))

    def char(self, byte: int) -> int:
        return byte if self._ascii else len(self.data[:byte].decode("utf-8", "ignore"))

    def span(self, node: Node) -> tuple[int, int]:
        return self.char(node.start_byte), self.char(node.end_byte)

    def node_text(self, node: Node) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def error_count(self) -> int:
        return error_count(self.root)


_CACHED = 4


def parse(text: str, language_id: str | None = None, *, grammar: str | None = None) -> Parsed | None:
    """A parse of ``text`` (None without a grammar). The last few parses of this thread are
    reused: an editor asks for code actions on every cursor move over the same text."""
    grammar = grammar or grammar_for(language_id)
    parser = parser_for(grammar) if grammar else None
    if parser is None or grammar is None:
        return None
    cache: list[Parsed] = _local.__dict__.setdefault("parses", [])
    for parsed in cache:
        if parsed.grammar == grammar and (parsed.text is text or parsed.text == text):
            return parsed
    data = text.encode("utf-8", "surrogatepass")
    parsed = Parsed(text, grammar, parser.parse(data), data)
    cache.insert(0, parsed)
    del cache[_CACHED:]
    return parsed


def error_count(root: Node) -> int:
    """ERROR and MISSING nodes in the tree (0 for a file that parses cleanly)."""
    if not root.has_error:
        return 0
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error:
            stack.extend(node.children)
    return count


@dataclass(frozen=True)
class Definition:
    """A definition node, its outermost wrapper (decorators, ``export``), its kind and name."""

    node: Node
    outer: Node
    name: str | None
    is_class: bool

    @property
    def noun(self) -> str:
        return "class" if self.is_class else "function"


def definitions_at(parsed: Parsed, start: int, end: int) -> list[Definition]:
    """Definitions containing ``text[start:end]``, innermost first."""
    kinds = DEFINITIONS.get(parsed.grammar, frozenset())
    lo, hi = parsed.byte(start), parsed.byte(max(start, end))
    # An empty range at a node's first byte can resolve to the parent (tree-sitter-scala does):
    # at a cursor, ask for the character under it first.
    ranges = [(lo, lo + 1), (lo, hi)] if lo == hi and lo < len(parsed.data) else [(lo, hi)]
    for low, high in ranges:
        found = _definitions_from(parsed, parsed.root.descendant_for_byte_range(low, high), kinds)
        if found:
            return found
    return []


def _definitions_from(parsed: Parsed, node: Node | None, kinds: frozenset[str]) -> list[Definition]:
    found: list[Definition] = []
    while node is not None:
        if node.type in kinds and _is_definition(node):
            found.append(Definition(node, _outer(node), definition_name(parsed, node), node.type in CLASS_TYPES))
        node = node.parent
    return found


def definitions_inside(parsed: Parsed, start: int, end: int) -> list[Definition]:
    """Top-most definitions lying entirely within ``text[start:end]``, in order."""
    kinds = DEFINITIONS.get(parsed.grammar, frozenset())
    lo, hi = parsed.byte(start), parsed.byte(end)
    found: list[Definition] = []
    stack = [parsed.root]
    while stack:
        node = stack.pop()
        if node.end_byte <= lo or node.start_byte >= hi:
            continue
        if node.type in kinds and _is_definition(node) and lo <= node.start_byte and node.end_byte <= hi:
            found.append(Definition(node, _outer(node), definition_name(parsed, node), node.type in CLASS_TYPES))
            continue
        stack.extend(reversed(node.children))
    return found


def _is_definition(node: Node) -> bool:
    """A lexical declaration counts only when it binds a function (``const f = () => ...``)."""
    if node.type in ("lexical_declaration", "variable_declaration"):
        declarators = [c for c in node.named_children if c.type == "variable_declarator"]
        if len(declarators) != 1:
            return False
        value = declarators[0].child_by_field_name("value")
        return value is not None and value.type in ("arrow_function", "function_expression", "function", "class")
    if node.type in ("class_specifier", "struct_specifier", "union_specifier", "enum_specifier"):
        return node.child_by_field_name("body") is not None
    return True


def _outer(node: Node) -> Node:
    outer = node
    while outer.parent is not None and outer.parent.type in WRAPPERS:
        outer = outer.parent
    specifiers = ("class_specifier", "struct_specifier", "union_specifier", "enum_specifier")
    if outer.type in specifiers and outer.parent is not None and outer.parent.type in ("declaration", "type_definition"):
        outer = outer.parent
    return outer


def definition_name(parsed: Parsed, node: Node) -> str | None:
    name = node.child_by_field_name("name")
    if name is None and node.type in ("lexical_declaration", "variable_declaration"):
        declarator = next((c for c in node.named_children if c.type == "variable_declarator"), None)
        name = declarator.child_by_field_name("name") if declarator is not None else None
    if name is None and node.type == "type_declaration":
        spec = next((c for c in node.named_children if c.type in ("type_spec", "type_alias")), None)
        name = spec.child_by_field_name("name") if spec is not None else None
    if name is None and node.type == "impl_item":
        name = node.child_by_field_name("type")
    if name is None:
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in ("identifier", "field_identifier", "qualified_identifier",
                                                                  "destructor_name", "operator_name"):
            declarator = declarator.child_by_field_name("declarator")
        name = declarator
    if name is None:
        name = next((c for c in node.named_children if c.type in ("identifier", "simple_identifier", "type_identifier",
                                                                   "constant", "name", "word")), None)
    return parsed.node_text(name) if name is not None else None
