"""The server keeps a document's prefix start while the user types (context/anchors.py):
the prompt then changes only at the cursor, so the KV cache is reused instead of the whole
prompt being evaluated again every few keystrokes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from slm_lsp.context import ContextEngine, ContextResult
from slm_lsp.context.anchors import EDITOR_HEADROOM
from slm_lsp.privacy import PrivacyGate
from tests.context.conftest import regex_count

BUDGET = 300
BODY = "".join(f"def function_{i}(value):\n    return value * {i} + offset_{i}\n\n" for i in range(80))
TYPED = "result = compute(alpha, beta, gamma) + other_value\n" * 6


def engine(root: Path, headroom: float | None) -> ContextEngine:
    return ContextEngine([root], PrivacyGate([root]), window_headroom=headroom)


def type_along(context: ContextEngine, uri: str, suffix: str = "") -> list[ContextResult]:
    """Type TYPED one character at a time at the end of BODY, assembling after each keystroke."""
    results = []
    for typed in range(1, len(TYPED) + 1):
        text = BODY + TYPED[:typed] + suffix
        offset = len(BODY) + typed
        results.append(context.assemble(uri, text, offset, "python", count_tokens=regex_count, budget_tokens=BUDGET))
        result = results[-1]
        assert text[result.prefix_start_offset : offset] == result.prefix.text  # the prefix is the cut text
        assert regex_count(result.prefix.text) + regex_count(result.suffix.text) <= BUDGET
    return results


@pytest.mark.parametrize("suffix", ["", "\n\ndef tail():\n    return 1\n" * 30])
def test_the_prefix_start_moves_rarely_while_typing(tmp_path: Path, suffix: str) -> None:
    uri = (tmp_path / "main.py").as_uri()
    fresh_starts = {r.prefix_start_offset for r in type_along(engine(tmp_path, None), uri, suffix)}
    anchored = type_along(engine(tmp_path, EDITOR_HEADROOM), uri, suffix)
    anchored_starts = [r.prefix_start_offset for r in anchored]
    moves = sum(1 for a, b in itertools.pairwise(anchored_starts) if a != b)
    assert len(fresh_starts) > 5  # without anchors the start creeps forward with each statement
    assert moves <= 3, anchored_starts
    assert anchored_starts == sorted(anchored_starts)  # it only ever moves forward
    # It still uses most of the room: never less than half the prefix the fresh cut would take.
    fresh = type_along(engine(tmp_path, None), uri, suffix)
    for kept, best in zip(anchored, fresh, strict=True):
        assert regex_count(kept.prefix.text) >= 0.5 * regex_count(best.prefix.text)
        assert kept.suffix.text == best.suffix.text


def test_an_edit_above_the_anchor_or_closing_the_document_resets_it(tmp_path: Path) -> None:
    context = engine(tmp_path, EDITOR_HEADROOM)
    uri = (tmp_path / "main.py").as_uri()
    start = type_along(context, uri)[-1].prefix_start_offset
    text = BODY + TYPED
    edited = text[:start] + "# a new comment line\n" + text[start:]  # the anchor's text moved
    after = context.assemble(uri, edited, len(edited), "python", count_tokens=regex_count, budget_tokens=BUDGET)
    assert edited[after.prefix_start_offset : len(edited)] == after.prefix.text
    context.document_closed(uri)
    assert context.anchors is not None and not context.anchors._anchors
