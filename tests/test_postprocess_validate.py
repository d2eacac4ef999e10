"""Syntax validation with tree-sitter: shorter cuts instead of new syntax errors; speed."""

from __future__ import annotations

import time

import pytest

from slm_lsp.postprocess import CompletionMode, postprocess
from slm_lsp.postprocess.languages import rules_for
from slm_lsp.postprocess.syntax import MAX_WINDOW_CHARS, window
from slm_lsp.postprocess.validate import shorter_cuts, validate

SINGLE, MULTI = CompletionMode.SINGLE, CompletionMode.MULTI


def run(language: str, document: str, raw: str, mode: CompletionMode = SINGLE) -> str:
    prefix, suffix = document.split("█")
    return postprocess(raw, prefix, suffix, language, mode)


def validated(language: str, document: str, text: str) -> str:
    """``validate`` alone, without the text rules in front of it."""
    prefix, suffix = document.split("█")
    rules = rules_for(language)
    return validate(text, window(prefix, suffix, rules), rules.grammar)


@pytest.mark.parametrize(
    ("language", "document", "raw", "expected"),
    [
        # token-wise cuts within the line
        ("python", "x = █\n", "value other", "value"),
        ("javascript", "const total = █;\n", "a + b c", "a + b"),
        ("go", "func f() {\n\tx := █\n\tuse(x)\n}\n", "a + b c", "a + b"),
        ("rust", "fn f() {\n    let x = █;\n}\n", "a + b c", "a + b"),
        # an unclosed call is an error the document did not have at that place
        ("python", "x = █\n", "foo(a, b", "foo"),
    ],
)
def test_a_shorter_valid_cut_replaces_an_invalid_line(language, document, raw, expected) -> None:
    assert validated(language, document, raw) == expected
    assert run(language, document, raw) == expected


@pytest.mark.parametrize(
    ("language", "document", "raw", "expected"),
    [
        ("python", "def f(xs):\n    █\n", "total = sum(xs)\n    if total > 10\n        return 1", "total = sum(xs)"),
        ("javascript", "function f(xs) {\n  █\n}\n", "const n = xs.length;\n  const m = n +* ;", "const n = xs.length;"),
        ("go", "func f(xs []int) int {\n\t█\n}\n", "n := len(xs)\n\treturn n n", "n := len(xs)"),
        ("rust", "fn f(xs: &[i32]) -> usize {\n    █\n}\n", "let n = xs.len();\n    n n", "let n = xs.len();"),
    ],
)
def test_line_cuts_are_tried_before_token_cuts(language, document, raw, expected) -> None:
    assert run(language, document, raw, MULTI) == expected


@pytest.mark.parametrize(
    ("language", "document", "raw"),
    [
        ("python", "def f(xs):\n    █\n", "return [x * 2 for x in xs if x > 0]"),
        ("javascript", "const ys = xs.map((x) => █);\n", "x * 2"),
        ("go", "func f() {\n\t█\n}\n", 'fmt.Println("hello, world")'),
        ("rust", "fn main() {\n    █\n}\n", 'println!("{}", 1 + 2);'),
    ],
)
def test_valid_completions_are_untouched(language, document, raw) -> None:
    assert validated(language, document, raw) == raw


def test_errors_the_document_already_had_are_not_held_against_the_completion() -> None:
    # A broken function above and an unfinished expression below do not block "1".
    document = "def broken(:\n    pass\n\ndef f():\n    y = (1 +\n    return █\n"
    assert validated("python", document, "1") == "1"
    assert validated("python", "def f():\n    return █\n\nx = = 2\n", "a + b") == "a + b"


def test_a_completion_with_no_valid_cut_is_left_alone() -> None:
    # Validation only shortens towards a valid text; it does not hide what it cannot fix.
    assert validated("python", "x = █\n", "+ +") == "+ +"


def test_shorter_cuts_are_longest_first_lines_then_tokens() -> None:
    assert list(shorter_cuts("a = 1\nb = foo(c, d")) == ["a = 1", "a =", "a"]
    assert list(shorter_cuts("\n    return x")) == ["\n    return"]


def test_the_window_stops_at_top_level_lines() -> None:
    prefix = "import os\n\ndef f(x):\n    y = 1\n    "
    suffix = "\n    return y\n\ndef g():\n    pass\n"
    region = window(prefix, suffix, rules_for("python"))
    assert region.before == "def f(x):\n    y = 1\n    "
    assert region.after == "\n    return y\n\n"


def _big_python_file(functions: int) -> str:
    body = "".join(
        f"def function_{i}(values):\n    total = 0\n    for v in values:\n        total += v * {i}\n    return total\n\n\n"
        for i in range(functions)
    )
    return body


def test_big_documents_are_parsed_only_around_the_cursor() -> None:
    # The cursor sits in the middle of a 7,000-line file inside one long function.
    head = _big_python_file(500)
    long_function = "def long(values):\n" + "".join(f"    v{i} = values[{i}]\n" for i in range(2000))
    prefix = head + long_function + "    result = "
    suffix = "\n    return result\n\n\n" + _big_python_file(500)
    region = window(prefix, suffix, rules_for("python"))
    assert len(region.before) <= MAX_WINDOW_CHARS and len(region.after) < 100
    assert postprocess("v1 + v2 + v3", prefix, suffix, "python", SINGLE) == "v1 + v2 + v3"
    assert postprocess("v1 + v2 v3", prefix, suffix, "python", SINGLE) == "v1 + v2"


@pytest.mark.parametrize("language", ["python", "javascript", "go", "rust"])
def test_postprocess_takes_a_few_milliseconds(language: str) -> None:
    snippets = {
        "python": ("def f(xs):\n    █\n    return total\n", "total = sum(x * 2 for x in xs)\n    return total"),
        "javascript": ("function f(xs) {\n  █\n}\n", "const total = xs.reduce((a, b) => a + b, 0);\n  return total;\n}"),
        "go": ("func f(xs []int) int {\n\t█\n}\n", "total := 0\n\tfor _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total\n}"),
        "rust": ("fn f(xs: &[i32]) -> i32 {\n    █\n}\n", "let total: i32 = xs.iter().sum();\n    total\n}"),
    }
    document, raw = snippets[language]
    prefix, suffix = document.split("█")
    # A realistic file around it: 150 functions before and after.
    filler = _big_python_file(150) if language == "python" else ""
    prefix, suffix = filler + prefix, suffix + filler
    postprocess(raw, prefix, suffix, language, MULTI)  # warm-up: grammar loading
    runs = 20
    started = time.perf_counter()
    for _ in range(runs):
        postprocess(raw, prefix, suffix, language, MULTI)
    per_call = (time.perf_counter() - started) / runs
    # A few ms on an idle machine; generous for a loaded CI runner.
    assert per_call < 0.025, f"{per_call * 1000:.1f} ms per call"
