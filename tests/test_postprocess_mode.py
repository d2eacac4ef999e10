"""Single- vs multi-line mode from the syntax at the cursor, and the stop sequences per mode."""

from __future__ import annotations

import pytest

from slm_lsp.postprocess import CompletionMode, decide_mode, stop_sequences

SINGLE, MULTI, FILL = CompletionMode.SINGLE, CompletionMode.MULTI, CompletionMode.FILL

CASES = [
    # Python
    ("python", "x = foo(█)\n", SINGLE),  # inside a call
    ("python", "total = █ + 1\n", SINGLE),  # middle of a line
    ("python", "def f(x):█\n", MULTI),  # end of a line opening a block
    ("python", "def f(x):\n    █\n", MULTI),  # empty block
    ("python", "def f(x):\n█\n    return x\n", FILL),  # block start, but the body exists
    ("python", "def f():\n    a = 1\n    █\n    return a\n", FILL),  # between two statements
    ("python", "def f():\n    a = 1\n    █\n\n\ndef g():\n    pass\n", MULTI),  # end of a block
    ("python", "for x in xs:\n    for y in ys:\n        use(y)\n    █\n    done()\n", FILL),  # typed indentation
    ("python", "foo(\n    1,\n    █\n)\n", SINGLE),  # arguments over several lines
    ("python", "d = {\n    'a': 1,\n    █\n}\n", SINGLE),  # dict literal
    ("python", 's = "abc█"\n', SINGLE),  # string
    ("python", "x = 1  # todo █\n", SINGLE),  # comment
    ("python", 'def f():\n    """Docs █\n', SINGLE),  # docstring
    # JavaScript
    ("javascript", "function f() {\n  █\n}\n", MULTI),
    ("javascript", "if (x) {█}\n", MULTI),  # auto-closed brace after the opener
    ("javascript", "const o = {\n  a: 1,\n  █\n};\n", SINGLE),  # object literal
    ("javascript", "foo(█);\n", SINGLE),
    ("javascript", "const s = `a ${█}`;\n", SINGLE),  # template literal
    ("javascript", "items.forEach((item) => {\n  █\n});\n", MULTI),  # callback body is a block
    # Go
    ("go", "func f() {\n\t█\n}\n", MULTI),
    ("go", "func f() {\n\tx := T{\n\t\t█\n\t}\n}\n", SINGLE),  # composite literal
    ("go", "func f() {\n\tfmt.Println(█)\n}\n", SINGLE),
    ("go", "func f(x int) {\n\tswitch x {\n\t█\n\t}\n}\n", MULTI),
    # Rust
    ("rust", "fn f() {\n    █\n}\n", MULTI),
    ("rust", "fn f() {\n    let p = Point {\n        █\n    };\n}\n", SINGLE),  # struct expression
    ("rust", "fn f(x: i32) {\n    match x {\n        █\n    }\n}\n", MULTI),
    ("rust", "impl S {\n    █\n}\n", MULTI),
    ("rust", "fn f() {\n    let v = vec![█];\n}\n", SINGLE),
    # Unknown language: lines only
    (None, "hello █", SINGLE),
    (None, "█", MULTI),
]


@pytest.mark.parametrize(("language", "document", "expected"), CASES, ids=[f"{c[0]}-{c[1]!r}" for c in CASES])
def test_mode_from_the_syntax_at_the_cursor(language: str | None, document: str, expected: CompletionMode) -> None:
    prefix, suffix = document.split("█")
    assert decide_mode(prefix, suffix, language) == expected


@pytest.mark.parametrize("language", ["python", "javascript", "typescript", "go", "rust", "java", "c", "cpp", None])
def test_single_line_stops_at_the_newline(language: str | None) -> None:
    assert stop_sequences(language, SINGLE) == ["\n"]


@pytest.mark.parametrize(
    ("language", "stop"),
    [("python", "\n\ndef "), ("javascript", "\n\nfunction "), ("go", "\n\nfunc "), ("rust", "\n\nfn ")],
)
def test_multi_line_stops_are_language_aware(language: str, stop: str) -> None:
    stops = stop_sequences(language, MULTI)
    assert stop in stops
    assert "\n\n\n" in stops
    assert "\n" not in stops


def test_other_languages_definitions_do_not_stop_python() -> None:
    stops = stop_sequences("python", MULTI)
    assert "\n\nfunc " not in stops and "\n\nfn " not in stops
    assert stop_sequences("plaintext", MULTI) == ["\n\n\n", "\n```"]


def test_mode_accepts_plain_strings() -> None:
    # The pipeline may pass "single"/"multi" strings: the enum compares equal to them.
    assert stop_sequences("python", "single") == ["\n"]  # type: ignore[arg-type]
    assert CompletionMode.MULTI == "multi"
