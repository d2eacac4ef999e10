"""A model's rewritten region, diffed against the current text into minimal range edits.

Next-edit models (Zeta, Sweep) answer with the whole region rewritten, not with an edit.
An editor needs edits: the smallest ranges of the current text to replace, so that a
proposal highlights what changes and leaves the rest alone. The region is compared line
by line first (``difflib``, no junk heuristics: code repeats lines on purpose), then each
changed run of lines is trimmed to the characters that differ at either end — the same
two steps as Zed's ``compute_edits`` (crates/edit_prediction/src/zeta1.rs) — and a run that
keeps its number of lines is split per line, so a rename on two lines is two edits. Pure
functions on strings; offsets are string indices of the current document.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from slm_lsp.context.syntax import common_prefix_length, common_suffix_length


@dataclass(frozen=True)
class RangeEdit:
    """Replace ``[start, end)`` of the current text by ``text``."""

    start: int
    end: int
    text: str


def range_edits(old: str, new: str, offset: int = 0) -> list[RangeEdit]:
    """The edits turning ``old`` (the region as it is, at ``offset`` in the document) into
    ``new``, in document order; empty when they are equal."""
    if old == new:
        return []
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_starts = _starts(old_lines)
    new_starts = _starts(new_lines)
    edits: list[RangeEdit] = []
    for a0, a1, b0, b1 in _changed_runs(old_lines, new_lines):
        if a1 - a0 == b1 - b0:  # as many lines as before: line by line, so each line's change is its own edit
            pairs = [(a0 + i, a0 + i + 1, b0 + i, b0 + i + 1) for i in range(a1 - a0)]
        else:
            pairs = [(a0, a1, b0, b1)]
        for c0, c1, d0, d1 in pairs:
            start, end = old_starts[c0], old_starts[c1]
            before, after = old[start:end], new[new_starts[d0]:new_starts[d1]]
            if before == after:
                continue
            head = common_prefix_length(before, after)
            tail = common_suffix_length(before, after, head)
            edits.append(RangeEdit(offset + start + head, offset + end - tail, after[head:len(after) - tail]))
    return edits


def _changed_runs(old_lines: list[str], new_lines: list[str]) -> list[tuple[int, int, int, int]]:
    """Line ranges that differ, ``(old start, old end, new start, new end)``; two runs apart by
    a single unchanged line are one run (``x x x`` → ``x y x`` is a replaced line, not an
    insertion and a deletion around an ``x``)."""
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    runs: list[tuple[int, int, int, int]] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if runs and a0 - runs[-1][1] <= 1 and b0 - runs[-1][3] <= 1:
            runs[-1] = (runs[-1][0], a1, runs[-1][2], b1)
        else:
            runs.append((a0, a1, b0, b1))
    return runs


def _starts(lines: list[str]) -> list[int]:
    """Offsets where each line starts, plus the total length (one entry past the last line)."""
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts
