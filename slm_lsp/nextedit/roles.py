"""Which tree-sitter node kinds play which syntactic role, per grammar.

Edit propagation matches a replaced text only where it plays the same role as where the
user changed it: a name (variable, function, type), a member (``obj.name``), a keyword
argument's name, a literal, or a call's argument list. Names also need scopes (nodes that
open one) and bindings (where a name is introduced: parameters, assignments and
declarations, definitions' names), so a renamed local is not proposed in another function.
Comments and strings are never matched because their contents hold no such nodes. A member
used through an object (``stop.set()``) only matches uses through the same object text:
``self._closing.set()`` is another object's method.

Kinds are those of tree-sitter-language-pack 0.13's grammars (checked by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

NAME, MEMBER, KEYWORD, LITERAL, ARGUMENTS = "name", "member", "keyword", "literal", "arguments"


@dataclass(frozen=True)
class Grammar:
    """The role tables of one grammar (or of a family sharing one: JavaScript, TypeScript, TSX)."""

    names: frozenset[str]  # identifier kinds in the NAME group
    members: frozenset[str]  # identifier kinds that are always member names
    literals: frozenset[str]
    arguments: frozenset[str]  # argument-list kinds (their parent is the call)
    scopes: frozenset[str]
    parameter_fields: tuple[str, ...]  # fields of a scope node that hold its parameters
    binders: dict[str, tuple[str, ...]]  # node kind -> fields whose names it binds
    definitions: frozenset[str]  # nodes whose ``name`` field is a binding in the enclosing scope
    classes: frozenset[str] = frozenset()  # a definition inside one of these is a member too
    methods: frozenset[str] = frozenset()  # definitions that are always members
    member_parents: dict[str, str] = field(default_factory=dict)  # parent kind -> field holding a member name
    receivers: dict[str, str] = field(default_factory=dict)  # member access kind -> field holding the object
    keyword_parents: dict[str, str] = field(default_factory=dict)  # parent kind -> field holding a keyword name
    callee_fields: tuple[str, ...] = ("function",)


# Subtrees a binding never reaches through: a name inside them is used, not bound.
NOT_BINDING_FIELDS = ("value", "type", "default_value", "return_type", "right", "body", "function", "object",
                      "arguments", "index", "operand")
STOP_KINDS = frozenset({"attribute", "subscript", "call", "member_expression", "call_expression", "field_expression",
                        "selector_expression", "index_expression", "subscript_expression"})

_JS = Grammar(
    names=frozenset({"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern",
                     "type_identifier"}),
    members=frozenset({"property_identifier", "private_property_identifier"}),
    literals=frozenset({"string", "number", "template_string", "true", "false", "regex"}),
    arguments=frozenset({"arguments"}),
    scopes=frozenset({"function_declaration", "function_expression", "function", "arrow_function",
                      "method_definition", "generator_function_declaration", "generator_function",
                      "statement_block", "for_statement", "for_in_statement", "catch_clause"}),
    parameter_fields=("parameters", "parameter"),
    binders={"variable_declarator": ("name",), "for_in_statement": ("left",), "catch_clause": ("parameter",),
             "import_specifier": ("name", "alias"), "namespace_import": (), "import_clause": ()},
    definitions=frozenset({"function_declaration", "class_declaration", "generator_function_declaration",
                           "interface_declaration", "type_alias_declaration", "enum_declaration", "class",
                           "abstract_class_declaration", "method_definition"}),
    classes=frozenset({"class_body"}),
    receivers={"member_expression": "object"},
    callee_fields=("function", "constructor"),
)

GRAMMARS: dict[str, Grammar] = {
    "python": Grammar(
        names=frozenset({"identifier"}),
        members=frozenset(),
        literals=frozenset({"string", "integer", "float", "true", "false"}),
        arguments=frozenset({"argument_list"}),
        scopes=frozenset({"function_definition", "lambda", "list_comprehension", "dictionary_comprehension",
                          "set_comprehension", "generator_expression"}),
        parameter_fields=("parameters",),
        binders={"assignment": ("left",), "augmented_assignment": ("left",), "for_statement": ("left",),
                 "for_in_clause": ("left",), "as_pattern": ("alias",), "named_expression": ("name",),
                 "global_statement": (), "import_from_statement": ("name",), "aliased_import": ("alias",),
                 "except_clause": ()},
        definitions=frozenset({"function_definition", "class_definition"}),
        classes=frozenset({"class_definition"}),
        member_parents={"attribute": "attribute"},
        receivers={"attribute": "object"},
        keyword_parents={"keyword_argument": "name"},
    ),
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "go": Grammar(
        names=frozenset({"identifier", "type_identifier", "package_identifier"}),
        members=frozenset({"field_identifier"}),
        literals=frozenset({"interpreted_string_literal", "raw_string_literal", "int_literal", "float_literal",
                            "rune_literal", "true", "false"}),
        arguments=frozenset({"argument_list"}),
        scopes=frozenset({"function_declaration", "method_declaration", "func_literal", "block", "for_statement",
                          "if_statement"}),
        parameter_fields=("parameters", "receiver"),
        binders={"short_var_declaration": ("left",), "var_spec": ("name",), "const_spec": ("name",),
                 "range_clause": ("left",)},
        definitions=frozenset({"function_declaration", "method_declaration", "type_spec"}),
        methods=frozenset({"method_declaration"}),
        receivers={"selector_expression": "operand"},
    ),
    "rust": Grammar(
        names=frozenset({"identifier", "type_identifier"}),
        members=frozenset({"field_identifier", "shorthand_field_identifier"}),
        literals=frozenset({"string_literal", "raw_string_literal", "integer_literal", "float_literal",
                            "char_literal", "boolean_literal"}),
        arguments=frozenset({"arguments"}),
        scopes=frozenset({"function_item", "closure_expression", "block", "for_expression", "match_arm"}),
        parameter_fields=("parameters",),
        binders={"let_declaration": ("pattern",), "for_expression": ("pattern",), "match_arm": ("pattern",),
                 "let_condition": ("pattern",)},
        definitions=frozenset({"function_item", "struct_item", "enum_item", "trait_item", "type_item",
                               "const_item", "static_item", "mod_item"}),
        classes=frozenset({"impl_item", "trait_item"}),
        receivers={"field_expression": "value"},
    ),
}


def grammar_roles(grammar: str | None) -> Grammar | None:
    """The role tables for ``grammar``, None for a grammar propagation does not know."""
    return GRAMMARS.get(grammar or "")
