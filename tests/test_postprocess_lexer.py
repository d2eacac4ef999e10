"""The lexer behind the bracket and indentation rules, per language."""

from __future__ import annotations

import pytest

from slm_lsp.postprocess.languages import rules_for
from slm_lsp.postprocess.lexer import line_starts_in_code, scan, unmatched_closers


@pytest.mark.parametrize(
    ("language", "prefix", "open_brackets", "in_literal"),
    [
        ("python", "x = foo(a, [1, 2", "([", False),
        ("python", "s = ')' + f(", "(", False),
        ("python", 'x = """(\n[\n', "", True),  # inside a docstring
        ("python", "x = 1  # (", "", True),  # inside a comment
        ("python", "s = 'it", "", True),
        ("javascript", "const r = s.replace(/[(]/g, x(", "((", False),  # regex literal
        ("javascript", "const t = `${a} (", "", True),  # template literal
        ("javascript", "/* ( */ f(", "(", False),
        ("go", "x := `raw (\n", "", True),
        ("go", "r := '(' + f(", "(", False),
        ("rust", "fn f<'a>(x: &'a str) -> &'a str {", "{", False),  # lifetimes are not chars
        ("rust", 'let s = r#"(")"#; g(', "(", False),
        ("rust", "let c = '{'; h(", "(", False),
    ],
)
def test_scan_reports_open_brackets_and_literals(language, prefix, open_brackets, in_literal) -> None:
    state = scan(prefix, rules_for(language))
    assert "".join(b.char for b in state.open) == open_brackets
    assert state.in_literal == in_literal


def test_unmatched_closers_are_what_the_suffix_closes() -> None:
    assert unmatched_closers("a, b) + [c])\n}", rules_for("javascript")) == [")", ")", "}"]
    assert unmatched_closers("')' )", rules_for("python")) == [")"]


def test_line_starts_inside_brackets_and_strings_are_not_code() -> None:
    text = 'x = f(\n    1,\n)\ny = """\ntext\n"""\nz = 1'
    assert line_starts_in_code(text, rules_for("python")) == [True, False, False, True, False, False, True]
