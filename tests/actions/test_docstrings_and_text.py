"""Documentation edits in every supported language, output shaping, and the explanation store."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tree_sitter_language_pack import get_parser

from slm_lsp.actions import docstrings
from slm_lsp.actions.store import PREFIX, ExplanationStore
from slm_lsp.actions.text import (
    clean_explanation,
    progress_line,
    summary_sentence,
)
from slm_lsp.postprocess.repetition import RepetitionGuard
from slm_lsp.postprocess.repetition import repeated_sentence_from as repeated_from

HOSTILE = 'Returns "quoted" */ text with \\ backslashes, """triple""" quotes, <tags> & ümlauts — and ' + "long " * 20


def parse_errors(text: str, grammar: str) -> int:
    tree = get_parser(grammar).parse(text.encode())  # type: ignore[arg-type]
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        count += node.is_error or node.is_missing
        stack.extend(node.children)
    return count


# (languageId, grammar, source, text at the cursor, what the edited file must contain)
CASES = [
    ("python", "python", "@cache\ndef f(a):\n    return a\n", "return a", '@cache\ndef f(a):\n    """Returns'),
    ("python", "python", "class C:\n    def m(self): return 1\n", "return 1", '    def m(self):\n        """Returns'),
    ("python", "python", "def g():\n\t'''old'''\n\tpass\n", "pass", 'def g():\n\t"""Returns'),
    ("javascript", "javascript", "export function f(a) {\n  return a;\n}\n", "return a", "/**\n * Returns"),
    ("javascript", "javascript", "const g = (x) => x * 2;\n", "x * 2", "/**\n * Returns"),
    ("typescript", "typescript", "class K {\n  m(): number { return 1; }\n}\n", "return 1", "  /**\n   * Returns"),
    ("typescriptreact", "tsx", "export const App = () => <div/>;\n", "div", "/**\n * Returns"),
    ("java", "java", "class C {\n  @Override\n  public int m() { return 1; }\n}\n", "return 1", "  /**\n   * Returns"),
    ("c", "c", "static int add(int a, int b) { return a + b; }\n", "a + b", "/**\n * Returns"),
    ("cpp", "cpp", "template <typename T>\nT mx(T a, T b) { return a; }\n", "return a", "/**\n * Returns"),
    ("csharp", "csharp", "class C {\n    int M() { return 1; }\n}\n", "return 1", "    /// <summary>\n    /// Returns"),
    ("go", "go", "package m\n\n// old\nfunc Max(a, b int) int { return a }\n", "return a", "// Max returns"),
    ("rust", "rust", "#[inline]\npub fn add(a: i32) -> i32 { a }\n", "{ a }", "/// Returns"),
    ("ruby", "ruby", "def f(a)\n  a\nend\n", "  a\n", "# Returns"),
    ("php", "php", "<?php\nfunction f($a) { return $a; }\n", "return", "/**\n * Returns"),
    ("kotlin", "kotlin", "fun f(a: Int): Int { return a }\n", "return", "/**\n * Returns"),
    ("swift", "swift", "func f(a: Int) -> Int { return a }\n", "return", "/**\n * Returns"),
    ("scala", "scala", "object O {\n  def f(a: Int): Int = a\n}\n", "Int = a", "  /**\n   * Returns"),
    ("lua", "lua", "local function f(a) return a end\n", "return", "--- Returns"),
    ("shellscript", "bash", "greet() {\n  echo hi\n}\n", "echo", "# Returns"),
]


@pytest.mark.parametrize(("language", "grammar", "source", "cursor", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_documentation_edit_keeps_the_file_parsing(language: str, grammar: str, source: str, cursor: str,
                                                   expected: str) -> None:
    assert parse_errors(source, grammar) == 0
    at = source.index(cursor)
    target = docstrings.find_target(source, language, at, at)
    assert target is not None
    edit = docstrings.build_edit(source, language, target, HOSTILE)
    assert parse_errors(edit.result, grammar) == 0, edit.result
    assert expected in edit.result, edit.result
    assert edit.result == source[: edit.start] + edit.new_text + source[edit.end :]
    assert max(len(line.expandtabs()) for line in edit.new_text.splitlines()) <= 100
    # Documenting again replaces the comment instead of stacking a second one.
    again = docstrings.find_target(edit.result, language, edit.result.index(cursor), edit.result.index(cursor))
    assert again is not None and again.existing is not None
    second = docstrings.build_edit(edit.result, language, again, "Does something else.")
    assert "oes something else." in second.result and "long long" not in second.result
    assert parse_errors(second.result, grammar) == 0, second.result


def test_python_one_line_body_is_split() -> None:
    source = "def f(x): return x\n"
    target = docstrings.find_target(source, "python", 12, 12)
    assert target is not None
    edit = docstrings.build_edit(source, "python", target, "Returns x.")
    assert edit.result == 'def f(x):\n    """Returns x."""\n    return x\n'


def test_no_target_outside_definitions_and_in_unsupported_languages() -> None:
    assert docstrings.find_target("x = 1\ny = 2\n", "python", 3, 3) is None
    assert docstrings.find_target("a: 1\n", "yaml", 0, 0) is None
    assert not docstrings.supports("markdown")


def test_a_broken_file_is_not_made_worse() -> None:
    source = "def f(a):\n    return a +\n\ndef g():\n    pass\n"
    at = source.index("pass")
    target = docstrings.find_target(source, "python", at, at)
    assert target is not None
    edit = docstrings.build_edit(source, "python", target, "Does nothing.")
    assert parse_errors(edit.result, "python") <= parse_errors(source, "python")


# -- text ------------------------------------------------------------------------------------------


def test_loops_are_detected_and_cut() -> None:
    looping = ("This code returns the number of lines in the file.\n\n"
               "The first line of the code returns the first value.\n\n"
               "The second line of the code returns the second value.\n\nThe third")
    assert repeated_from(looping) == looping.index("The second")
    assert clean_explanation(looping) == ("This code returns the number of lines in the file.\n\n"
                                          "The first line of the code returns the first value.")
    guard = RepetitionGuard()
    for end in range(1, len(looping) + 1):
        guard.feed(looping[:end])
        if guard.tripped:
            break
    assert guard.tripped and end < len(looping)
    assert repeated_from("One sentence here. Another different sentence.") is None


def test_summary_sentences() -> None:
    assert summary_sentence(" will return the sum of all the numbers in a list.\nMore") == \
        "Returns the sum of all the numbers in a list."
    assert summary_sentence("This function computes x. And more.") == "Computes x."
    assert summary_sentence("The `area` method returns w*h") == "Returns w*h."
    assert summary_sentence("```\n") == ""


def test_progress_lines_are_short_single_lines() -> None:
    text = "word " * 200 + "\nlast   words"
    line = progress_line(text)
    assert len(line) <= 160 and "\n" not in line and line.startswith("…") and line.endswith("last words")
    assert progress_line("short\ntext") == "short text"


# -- the explanation store -------------------------------------------------------------------------


def test_store_is_private_and_cleaned_up(tmp_path: Path) -> None:
    store = ExplanationStore(tmp_path)
    path = store.write("explain-a/b c", "# hi\n")
    assert path.parent.name.startswith(f"{PREFIX}{os.getpid()}-") and path.name == "001-explain-a-b-c.md"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.write("x", "y").name == "002-x.md"
    store.cleanup()
    assert not path.parent.exists()


def test_store_removes_directories_of_dead_servers(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    orphan = tmp_path / f"{PREFIX}{dead.stdout.strip()}-abc"
    orphan.mkdir()
    (orphan / "001-old.md").write_text("old")
    alive = tmp_path / f"{PREFIX}{os.getppid()}-def"
    alive.mkdir()
    store = ExplanationStore(tmp_path)
    store.write("new", "new")
    assert not orphan.exists() and alive.exists()
    store.cleanup()
