"""The LSP 3.18 inline edit: insertText and a range on the cursor line."""

from __future__ import annotations

import pytest

from slm_lsp.postprocess import CompletionMode, InlineEdit, postprocess, to_inline_edit


def apply(document: str, edit: InlineEdit) -> str:
    return document[: edit.start] + edit.insert_text + document[edit.end :]


def test_plain_insertion_at_the_cursor() -> None:
    document = "total = \n"
    cursor = len("total = ")
    edit = to_inline_edit("sum(xs)", "", start=cursor, end=cursor)
    assert edit == InlineEdit("sum(xs)", cursor, cursor)
    assert apply(document, edit) == "total = sum(xs)\n"


@pytest.mark.parametrize(
    ("language", "document", "raw", "expected_text", "expected_document"),
    [
        ("python", "print(█)\n", "'hi')", "'hi')", "print('hi')\n"),
        ("javascript", "console.log(█);\n", "x);", "x);", "console.log(x);\n"),
        ("go", 'fmt.Println("█")\n', 'hi")', 'hi")', 'fmt.Println("hi")\n'),
        ("rust", "let v = vec![█];\n", "1, 2];", "1, 2];", "let v = vec![1, 2];\n"),
        ("javascript", "if (ok) {█}\n", "\n  run();\n}", "\n  run();\n}", "if (ok) {\n  run();\n}\n"),
    ],
)
def test_auto_closed_text_right_of_the_cursor_is_replaced(
    language: str, document: str, raw: str, expected_text: str, expected_document: str
) -> None:
    """The edit covers the auto-closed rest of the line, so the result has it exactly once."""
    prefix, suffix = document.split("█")
    line_after = suffix.split("\n", 1)[0]
    mode = CompletionMode.MULTI if raw.startswith("\n") else CompletionMode.SINGLE
    completion = postprocess(raw, prefix, suffix, language, mode)
    edit = to_inline_edit(completion, line_after, start=len(prefix), end=len(prefix))
    assert edit is not None
    assert edit.insert_text == expected_text
    assert edit.start == len(prefix) and edit.end == len(prefix) + len(line_after.rstrip())
    assert apply(prefix + suffix, edit) == expected_document


def test_other_text_right_of_the_cursor_is_never_rewritten() -> None:
    edit = to_inline_edit("x, ", "y)", start=4, end=4)
    assert edit == InlineEdit("x, ", 4, 4)


def test_trailing_whitespace_after_the_closers_is_kept_out_of_the_range() -> None:
    edit = to_inline_edit("a", ")   ", start=4, end=4)
    assert edit == InlineEdit("a)", 4, 5)


def test_selected_completion_item_is_extended() -> None:
    # "pri|" with the popup item "print" selected over range [0, 3): the inline edit must
    # start with the item's text and replace the same range (and here the auto-closed ")").
    document = "pri)\n"
    edit = to_inline_edit('("hi"', ")", start=0, end=3, lead="print")
    assert edit == InlineEdit('print("hi")', 0, 4)
    assert apply(document, edit) == 'print("hi")\n'


def test_nothing_to_offer() -> None:
    assert to_inline_edit("", ")", start=1, end=1) is None


def test_range_must_stay_on_the_cursor_line() -> None:
    with pytest.raises(ValueError, match="end of the cursor's line"):
        to_inline_edit("x", ")\nmore", start=0, end=0)
