"""Definitions are shown as signatures plus short bodies, and long ones are elided cleanly."""

from __future__ import annotations

import ast

from slm_lsp.context.imports import extract_facts
from slm_lsp.context.symbols import Symbol, extract_symbols
from slm_lsp.context.syntax import parse


def symbols(text: str, grammar: str) -> dict[str, Symbol]:
    parsed = parse(text, grammar)
    assert parsed is not None
    return {(f"{s.container}." if s.container else "") + s.name: s for s in extract_symbols(parsed)}


LONG_FUNCTION = (
    "def summarise(records, *, limit=10):\n"
    '    """Summarise records.\n\n    Goes on for a while,\n    and then some more.\n    """\n'
    + "".join(f"    step_{i} = records[{i}]\n" for i in range(30))
    + "    return step_0\n"
)

LONG_CLASS = (
    "class Repository:\n"
    '    """Stores things."""\n\n'
    "    table = 'items'\n\n"
    + "".join(
        f"    def method_{i}(self, key: str) -> int:\n        value = self.lookup(key)\n        return value + {i}\n\n"
        for i in range(8)
    )
)


def test_a_long_function_keeps_its_signature_and_first_statements() -> None:
    found = symbols(LONG_FUNCTION, "python")["summarise"]
    assert found.snippet.startswith("def summarise(records, *, limit=10):\n")
    assert '    """Summarise records.\n' in found.snippet and "step_0" in found.snippet
    assert "step_29" not in found.snippet and found.snippet.rstrip().endswith("...")
    ast.parse(found.snippet)  # the docstring was closed again: still valid Python
    assert found.signature == "def summarise(records, *, limit=10): ..."


def test_a_long_class_becomes_a_skeleton_of_member_signatures() -> None:
    found = symbols(LONG_CLASS, "python")
    skeleton = found["Repository"].snippet
    assert "    def method_0(self, key: str) -> int: ..." in skeleton
    assert "table = 'items'" in skeleton and "lookup" not in skeleton
    ast.parse(skeleton)
    method = found["Repository.method_3"]
    assert method.kind == "method" and method.snippet.startswith("def method_3(self, key: str) -> int:\n")


def test_brace_languages_close_what_they_open() -> None:
    go = "type Big struct {\n" + "".join(f"\tField{i} int\n" for i in range(40)) + "}\n"
    snippet = symbols(go, "go")["Big"].snippet
    assert snippet.startswith("type Big struct {\n\tField0 int\n") and snippet.rstrip().endswith("}")
    assert "\t// ...\n" in snippet and "Field39" not in snippet

    methods = "".join(f"  int step{i}(int x) {{\n    return x + {i};\n  }}\n" for i in range(10))
    cpp = "class Engine {\n public:\n" + methods + "};\n"
    found = symbols(cpp, "cpp")
    assert "  int step0(int x) { ... }\n" in found["Engine"].snippet
    assert found["Engine"].snippet.rstrip().endswith("};")
    assert found["Engine.step4"].kind == "method"


def test_leading_doc_comments_and_attributes_travel_with_a_definition() -> None:
    rust = "use std::fmt;\n\n/// A point.\n/// In 2D.\n#[derive(Debug)]\npub struct Point {\n    x: f64,\n}\n"
    assert symbols(rust, "rust")["Point"].snippet.startswith("/// A point.\n/// In 2D.\n#[derive(Debug)]\n")
    java = "/** Docs. */\n@Deprecated\npublic class Old {\n}\n"
    assert symbols(java, "java")["Old"].snippet.startswith("/** Docs. */\n@Deprecated\npublic class Old")


def test_names_kinds_and_containers_across_languages() -> None:
    ts = symbols("export const a = 1, b = () => 2;\nexport default function main() {}\n"
                 "declare function ext(x: string): void;\nnamespace NS { export function inner() {} }\n", "typescript")
    assert {"a", "b", "main", "ext", "inner"} <= set(ts)
    go = symbols("package p\nfunc (s *Store) Get(k string) int { return 0 }\nconst A, B = 1, 2\n", "go")
    assert go["Store.Get"].kind == "method" and {"A", "B"} <= set(go)
    c = symbols("#ifndef X_H\n#define X_H\nint add(int a, int b);\nint counter;\n#define LIMIT 3\n#endif\n", "c")
    assert set(c) == {"add", "LIMIT"}  # guards and variables are not definitions worth showing
    cpp = symbols("namespace n {\ntemplate <class T> class Box { T v; };\n}\n"
                  "double Box::get() const { return 0; }\n", "cpp")
    assert "Box" in cpp and "Box.get" in cpp


def test_imports_are_read_per_language() -> None:
    source = "from .a import b as c\nimport x.y\ntry:\n    import z\nexcept ImportError:\n    pass\n"
    python = extract_facts(parse(source, "python"))  # type: ignore[arg-type]
    assert [(i.module, i.level, i.names, i.alias) for i in python.imports] == [
        ("a", 1, (("b", "c"),), None), ("x.y", 0, (), "x.y"), ("z", 0, (), "z")]
    rust = extract_facts(parse("use crate::a::{b::C, D as E, f::*};\nmod g;\n", "rust"))  # type: ignore[arg-type]
    assert [(i.module, i.names, i.wildcard, i.mod_decl) for i in rust.imports] == [
        ("crate::a::b", (("C", "C"),), False, False), ("crate::a", (("D", "E"),), False, False),
        ("crate::a::f", (), True, False), ("g", (), False, True)]
    java = extract_facts(parse("package p.q;\nimport static a.B.c;\nimport d.*;\n", "java"))  # type: ignore[arg-type]
    assert java.package == "p.q"
    assert [(i.module, i.names, i.static, i.wildcard) for i in java.imports] == [
        ("a.B", (("c", "c"),), True, False), ("d", (), False, True)]
    js = extract_facts(parse("import D, {x as y} from './m';\nimport * as ns from '../n';\nexport * from './o';\n"
                             "const {p} = require('./q');\nexport default D;\n", "javascript"))  # type: ignore[arg-type]
    assert [(i.module, i.names, i.alias, i.wildcard) for i in js.imports] == [
        ("./m", (("default", "D"), ("x", "y")), None, False), ("../n", (), "ns", False), ("./o", (), None, True),
        ("./q", (("p", "p"),), None, False)]
    assert js.default_export == "D"
    c = extract_facts(parse('#include "a/b.h"\n#include <sys/c.h>\n', "c"))  # type: ignore[arg-type]
    assert [(i.module, i.system) for i in c.imports] == [("a/b.h", False), ("sys/c.h", True)]
