"""Every post-processing rule, on real code in Python, JavaScript, Go and Rust.

Each case is a document with the cursor marked ``█``, the raw model output, and the text
that must be inserted. Cases go through the public ``postprocess`` so that they test the
rules as the pipeline runs them (in order, with validation last).
"""

from __future__ import annotations

import pytest

from slm_lsp.postprocess import CompletionMode, postprocess
from slm_lsp.postprocess.brackets import cut_at_unbalanced_closer
from slm_lsp.postprocess.cursor import CursorContext
from slm_lsp.postprocess.languages import LanguageRules, rules_for
from slm_lsp.postprocess.suffix_rules import trim_suffix_overlap
from slm_lsp.postprocess.syntax import Window, window

SINGLE, MULTI = CompletionMode.SINGLE, CompletionMode.MULTI


def run(language: str | None, document: str, raw: str, mode: CompletionMode) -> str:
    prefix, suffix = document.split("█")
    return postprocess(raw, prefix, suffix, language, mode)


def case(language: str | None, document: str, raw: str, expected: str, mode: CompletionMode = MULTI) -> object:
    return pytest.param(language, document, raw, mode, expected, id=f"{language}-{raw[:24]!r}")


def check(language: str | None, document: str, raw: str, mode: CompletionMode, expected: str) -> None:
    assert run(language, document, raw, mode) == expected


WHITESPACE_ONLY = [
    case("python", "def f():\n    █\n", "   \n  \n", ""),
    case("javascript", "function f() {\n  █\n}\n", "\n\n", ""),
    case("go", "func f() {\n\t█\n}\n", "\t\t", "", SINGLE),
    case("rust", "fn f() {\n    █\n}\n", " \n \n ", ""),
    case(None, "notes: █", "   ", "", SINGLE),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), WHITESPACE_ONLY)
def test_whitespace_only_output_offers_nothing(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


LEADING_BLANK_LINES = [
    # The developer typed the indentation; the model's newline and indentation are dropped.
    case("python", "def f(x):\n    █\n", "\n\n    return x * 2", "return x * 2"),
    case("javascript", "function f(x) {\n  █\n}\n", "\n  return x * 2;", "return x * 2;"),
    case("go", "func f(x int) int {\n\t█\n}\n", "\n\treturn x * 2", "return x * 2"),
    case("rust", "fn f(x: i32) -> i32 {\n    █\n}\n", "\n\n    x * 2", "x * 2"),
    # After code on the line, a leading newline is meaningful and stays.
    case("python", "def f(x):█\n", "\n    return x * 2", "\n    return x * 2"),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), LEADING_BLANK_LINES)
def test_leading_blank_lines_are_dropped_on_a_blank_line(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


SINGLE_LINE = [
    case("python", "total = █\n", "sum(xs)\nprint(total)", "sum(xs)", SINGLE),
    case("javascript", "const total = █\n", "xs.length;\nconsole.log(total);", "xs.length;", SINGLE),
    case("go", "\ttotal := █\n", "len(xs)\n\tfmt.Println(total)", "len(xs)", SINGLE),
    case("rust", "    let total = █\n", "xs.len();\n    println!(\"{}\", total);", "xs.len();", SINGLE),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), SINGLE_LINE)
def test_single_line_mode_keeps_the_first_line(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


SUFFIX_OVERLAP = [
    # Auto-closed brackets and quotes right of the cursor are not repeated.
    case("python", "print(█)\n", "'hello')", "'hello'", SINGLE),
    case("python", "def area(█):\n", "width, height):", "width, height", SINGLE),
    case("python", 'print("hel█")\n', 'lo", end="")', 'lo", end="', SINGLE),
    case("javascript", "console.log(█);\n", "total);", "total", SINGLE),
    case("javascript", "if (█) {\n", "x > 0) {", "x > 0", SINGLE),
    case("go", "\tfmt.Println(█)\n", '"hi")', '"hi"', SINGLE),
    case("rust", '    println!("{}", █);\n', "total);", "total", SINGLE),
    case("rust", "    let v = vec![█];\n", "1, 2, 3];", "1, 2, 3", SINGLE),
    # An identifier that merely ends like the suffix begins is not an overlap.
    case("python", "x = █value\n", "new_", "new_", SINGLE),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), SUFFIX_OVERLAP)
def test_text_duplicating_the_rest_of_the_line_is_removed(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


SUFFIX_REPEAT = [
    case("python", "def f(a, b):\n    █\n    return total\n", "total = a + b\n    return total\n", "total = a + b"),
    case(
        "javascript",
        "function f(a, b) {\n  █\n  return total;\n}\n",
        "const total = a + b;\n  return total;\n}",
        "const total = a + b;",
    ),
    case("go", "func f(a, b int) int {\n\t█\n\treturn total\n}\n", "total := a + b\n\treturn total\n}", "total := a + b"),
    case(
        "rust",
        "fn f(a: i32, b: i32) -> i32 {\n    █\n    total\n}\n",
        "let total = a + b;\n    total\n}",
        "let total = a + b;",
    ),
    # Only the first line below counts: the same statement in a sibling branch is not a repeat.
    case("python", "def f(n):\n    if n == 0:\n█\n    if n == 1:\n        return 0\n", "        return 0", "        return 0", SINGLE),
    # On a blank line, a first line that is the next line of the document is a repeat.
    case("python", "def f(x):\n█\n    return x\n", "    return x", "", SINGLE),
    # A deeper "}" closes something else and is not the suffix's "}".
    case(
        "javascript",
        "function f(xs) {\n  █\n}\n",
        "for (const x of xs) {\n    use(x);\n  }",
        "for (const x of xs) {\n    use(x);\n  }",
    ),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), SUFFIX_REPEAT)
def test_a_line_repeating_the_suffix_ends_the_completion(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


def test_block_continuing_on_the_cursor_line_keeps_its_line_break() -> None:
    # ``{|}``: the completion ends with a newline so that "}" moves onto its own line.
    assert run("javascript", "function f() {█}\n", "\n  return 1;\n}", MULTI) == "\n  return 1;\n"
    assert run("rust", "fn f() -> i32 {█}\n", "\n    1\n}\n", MULTI) == "\n    1\n"


DEDENT = [
    case("python", "def f(xs):\n    for x in xs:\n        █", "print(x)\n    return xs\n", "print(x)"),
    # The completion is the body of the block the cursor line opens.
    case("python", "def f(x):█\n", "\n    return x * 2\ndef g():\n    pass", "\n    return x * 2"),
    # ... and a continuation of the same statement stays.
    case("python", "if x > 0:█\n", "\n    y = 1\nelse:\n    y = 2\nprint(y)", "\n    y = 1\nelse:\n    y = 2"),
    # Lines inside brackets are exempt.
    case("python", "def f():\n    █", "return dict(\n  a=1,\n)", "return dict(\n  a=1,\n)"),
    case(
        "javascript",
        "class Stack {\n  push(x) {\n    █",
        "this.items.push(x);\n  }\n  pop() {\n    return this.items.pop();",
        "this.items.push(x);\n  }",
    ),
    case(
        "go",
        "func f(xs []int) {\n\tfor _, x := range xs {\n\t\t█",
        "fmt.Println(x)\n\t}\n}\n\nfunc main() {\n\tf(nil)\n}",
        "fmt.Println(x)\n\t}\n}",
    ),
    case(
        "rust",
        "impl Stack {\n    fn push(&mut self, x: i32) {\n        █\n    }\n}\n",
        "self.items.push(x);\n    fn pop(&mut self) -> Option<i32> {",
        "self.items.push(x);",
    ),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), DEDENT)
def test_indentation_leaving_the_block_ends_the_completion(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


BRACKETS = [
    case("python", "x = foo(█)\n", "bar(1)) + 2", "bar(1)", SINGLE),
    # Brackets inside strings are text.
    case("python", "print(█)\n", '")" + x) + 1', '")" + x', SINGLE),
    case("javascript", "const ys = xs.map((x) => █);\n", "x * 2) + 1;", "x * 2", SINGLE),
    # A regex literal's ")" is not a bracket.
    case("javascript", "const r = s.replace(█);\n", '/\\)/g, "")', '/\\)/g, ""', SINGLE),
    case("javascript", "function f(xs) {\n  if (xs.length) {\n    █\n  }\n  return xs;\n}\n", "xs.sort();\n  }", "xs.sort();"),
    case("go", "\tif len(█) > 0 {\n", "xs[0])", "xs[0]", SINGLE),
    case("rust", "    let n = vec![█];\n", "1, 2, 3]).len();", "1, 2, 3", SINGLE),
    # A Rust lifetime is not a character literal.
    case("rust", "fn first<'a>(x: &'a str) -> &'a str {\n    █\n}\n", "x\n}", "x"),
    # A closer the document still needs (it ends right after the cursor) is kept.
    case("javascript", "function f() {\n  return 1;\n█", "}\n", "}"),
    case("go", "func f() int {\n\treturn 1\n█", "}", "}"),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), BRACKETS)
def test_unbalanced_closing_brackets_end_the_completion(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


REPETITION = [
    case("python", "def f():\n    █\n", "x = compute()\n    x = compute()\n    x = compute()", "x = compute()"),
    case("javascript", "const s = █;\n", "foo(" * 12, "", SINGLE),
    case(
        "go",
        "func f() {\n\t█\n}\n",
        "count++\n\ttotal++\n\tcount++\n\ttotal++\n\tcount++",
        "count++\n\ttotal++",
    ),
    # Identical closing lines of nested blocks are not repetition.
    case(
        "rust",
        "fn main() {\n    if a {\n        if b {\n            █",
        "run();\n        }\n    }\n}",
        "run();\n        }\n    }\n}",
    ),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), REPETITION)
def test_repetitive_output_is_cut(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


def test_trailing_whitespace_is_removed() -> None:
    assert run("python", "def f():\n    █\n", "return 1   \n\n\n", MULTI) == "return 1"
    assert run("go", "\tx := █\n", "1   ", SINGLE) == "1"


def test_unknown_language_gets_the_text_rules_only() -> None:
    # No lexer: brackets are not judged, but the suffix overlap and repeat still apply.
    assert run(None, "see (█)\n", "the docs)", SINGLE) == "the docs"
    assert run("plaintext", "a\n█\nb\n", "first\nb\nc", MULTI) == "first"
    assert run("markdown", "- █\n", "item ) more", SINGLE) == "item ) more"


# The rules overlap on purpose (validation catches what a cut missed), so the two rules
# that most often back each other up are also tested on their own.


def _context(language: str, document: str) -> tuple[CursorContext, Window, LanguageRules]:
    prefix, suffix = document.split("█")
    rules = rules_for(language)
    return CursorContext.of(prefix, suffix), window(prefix, suffix, rules), rules


@pytest.mark.parametrize(
    ("language", "document", "raw", "expected"),
    [
        ("python", "print(█)\n", "x)", "x"),
        ("javascript", "console.log(█);\n", "x);", "x"),
        ("go", "\tfmt.Println(█)\n", "x)", "x"),
        ("rust", '    println!("{}", █);\n', "x);", "x"),
        ("rust", '    println!("{}", █);\n', "x + 1", "x + 1"),
    ],
)
def test_trim_suffix_overlap_alone(language, document, raw, expected) -> None:
    cursor, _, _ = _context(language, document)
    assert trim_suffix_overlap(raw, cursor) == expected


@pytest.mark.parametrize(
    ("language", "document", "raw", "expected"),
    [
        ("python", "x = foo(█)\n", "a, b)", "a, b"),
        ("python", "x = foo(█\n", "a, b)", "a, b)"),  # nothing closes "(" yet: the ")" is needed
        ("python", "x = [█]\n", "1, 2)", "1, 2"),  # mismatched
        ("javascript", "if (ok) {\n  █\n}\n", "run();\n}", "run();\n"),
        ("javascript", "if (ok) {\n  █", "run();\n}", "run();\n}"),
        ("go", "func f() {\n\t█\n}\n", "g()\n}", "g()\n"),
        ("rust", "fn f() {\n    █\n}\n", "g();\n}", "g();\n"),
        ("rust", "fn f() {\n    █\n}\n", 'let s = "}";', 'let s = "}";'),
    ],
)
def test_cut_at_unbalanced_closer_alone(language, document, raw, expected) -> None:
    _, region, rules = _context(language, document)
    assert cut_at_unbalanced_closer(raw, region, rules) == expected


TRAILING_COMMENTS = [
    case("python", "def f(xs):\n    █\n", "return xs\n\n    # print(xs)\n    # print(len(xs))", "return xs"),
    case("javascript", "function f(xs) {\n  █\n}\n", "return xs;\n  // console.log(xs);", "return xs;"),
    case("go", "func f(xs []int) []int {\n\t█\n}\n", "return xs\n\t// TODO: sort", "return xs"),
    case("rust", "fn f(xs: Vec<i32>) -> Vec<i32> {\n    █\n}\n", "xs\n    /* done */", "xs"),
    # A completion that is only a comment is what the developer is writing.
    case("python", "def f(xs):\n    █\n", "# sort the values first", "# sort the values first"),
]


@pytest.mark.parametrize(("language", "document", "raw", "mode", "expected"), TRAILING_COMMENTS)
def test_comment_lines_trailing_after_code_are_dropped(language, document, raw, mode, expected) -> None:
    check(language, document, raw, mode, expected)


@pytest.mark.parametrize(
    ("language", "document", "raw", "expected"),
    [
        # The last lines parse, but are most likely the first tokens of longer lines.
        ("python", "def f(s):\n    █\n", "n = len(s)\n    return s", "n = len(s)"),
        ("javascript", "function f(s) {\n  █\n}\n", "const n = s.length;\n  return s", "const n = s.length;"),
        ("go", "func f(s string) string {\n\t█\n}\n", "n := len(s)\n\treturn s", "n := len(s)"),
        ("rust", "fn f(s: &str) -> &str {\n    █\n}\n", "let n = s.len();\n    &s", "let n = s.len();"),
    ],
)
def test_a_multi_line_completion_cut_by_the_token_limit_loses_its_last_line(language, document, raw, expected) -> None:
    prefix, suffix = document.split("█")
    assert postprocess(raw, prefix, suffix, language, MULTI, truncated=True) == expected
    # When the model ended by itself, the same last line is its own ending and stays.
    assert postprocess(raw, prefix, suffix, language, MULTI) == raw
