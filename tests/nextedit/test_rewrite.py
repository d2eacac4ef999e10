"""A rewritten region diffed into minimal range edits (``slm_lsp.nextedit.rewrite``)."""

from __future__ import annotations

import pytest

from slm_lsp.nextedit.rewrite import RangeEdit, range_edits

CASES = [
    # (old region, new region, offset, the edits as (start, end, text))
    ("a = 1\n", "a = 1\n", 0, []),
    ("count = 1\n", "total = 1\n", 0, [(0, 5, "total")]),  # one word of one line
    ("x(count)\ny(count)\n", "x(total)\ny(total)\n", 10, [(12, 17, "total"), (21, 26, "total")]),  # per line
    ("a\nb\nc\nd\ne\n", "a\nB\nc\nd\nE\n", 0, [(2, 3, "B"), (8, 9, "E")]),  # separate runs: separate edits
    ("a\nc\n", "a\nb\nc\n", 0, [(2, 2, "b\n")]),  # an inserted line: an empty range
    ("a\nb\nc\n", "a\nc\n", 0, [(2, 4, "")]),  # a deleted line
    ("f(a, b)", "f(a, b, c)", 100, [(106, 106, ", c")]),  # no trailing newline, an insertion mid-line
    ("", "new\n", 5, [(5, 5, "new\n")]),  # an empty region
    ("old\n", "", 0, [(0, 4, "")]),  # everything deleted
    ("x\nx\nx\n", "x\ny\nx\n", 0, [(2, 3, "y")]),  # a replaced line, not an insert and a delete
    ("a\nb\nc\n", "a\nb2\nb3\nc\n", 0, [(3, 3, "2\nb3")]),  # one line became two: one edit
    ("é = 1\n", "é = 2\n", 0, [(4, 5, "2")]),  # string offsets, not bytes
    ("    if a:\n        b()\n", "    if a:\n        b()\n        c()\n", 0, [(22, 22, "        c()\n")]),
]


@pytest.mark.parametrize(("old", "new", "offset", "expected"), CASES)
def test_range_edits(old: str, new: str, offset: int, expected: list[tuple[int, int, str]]) -> None:
    edits = range_edits(old, new, offset)
    assert edits == [RangeEdit(*e) for e in expected]
    document = "." * offset + old
    for edit in reversed(edits):  # applied to the document, the edits give the new region
        document = document[:edit.start] + edit.text + document[edit.end:]
    assert document == "." * offset + new
