"""Shape a completion as an LSP 3.18 inline completion edit (``insertText`` + ``range``).

LSP 3.18 ``InlineCompletionItem``: ``insertText`` replaces ``range``, and the range must
start and end on the cursor's line. Two things make the range more than the cursor:

* ``selectedCompletionInfo``: when the editor's suggestion popup has an item selected, the
  inline completion must extend that item, so the edit replaces the item's range and its
  text starts with the item's text (``lead``);
* auto-closed brackets: after typing ``foo(`` the editor shows ``foo(|)``. Post-processing
  never repeats that ``)`` (it is in the suffix), so inserting at the cursor is already
  correct, but clients render and accept an edit better when it covers the rest of the
  line: the edit then replaces ``)`` with ``a, b)``. Done only when everything right of
  the cursor is auto-closable characters, so no other text is ever rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from slm_lsp.postprocess.cursor import AUTO_CLOSED


@dataclass(frozen=True)
class InlineEdit:
    """Replace document offsets ``[start, end)`` (on one line) with ``insert_text``."""

    insert_text: str
    start: int
    end: int


def to_inline_edit(completion: str, line_after: str, *, start: int, end: int, lead: str = "") -> InlineEdit | None:
    """The edit that inserts ``completion`` (``postprocess`` output) at the cursor.

    ``start``/``end`` are document offsets of the range already being replaced: the
    cursor (``start == end``) or the selected popup item's range. ``lead`` is the text the
    edit must start with (the selected item's text, else ""). ``line_after`` is the
    document text from ``end`` to the end of its line. Returns None when there is
    nothing to offer.
    """
    if "\n" in line_after:
        raise ValueError("line_after must not extend past the end of the cursor's line")
    if not completion:
        return None
    closers = line_after.rstrip()
    if closers and all(char in AUTO_CLOSED or char.isspace() for char in closers):
        return InlineEdit(lead + completion + closers, start, end + len(closers))
    return InlineEdit(lead + completion, start, end)
