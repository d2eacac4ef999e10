"""Syntax validation: prefer a shorter cut over a completion that breaks the document.

The window around the cursor is parsed without the completion and with it. The
completion adds a syntax error when the parse with it has an error node that touches the
inserted text, or one before or after it that the parse without it did not have at the
same place. Errors the document already had (code still being written elsewhere, or at
the cursor itself: ``x = |``) are therefore not held against a completion, while one that
fixes the statement at the cursor and breaks it differently (``x = a + b c``) is.

If the completion adds an error, shorter cuts are tried, longest first: whole lines,
then token by token within the first line. The first cut that adds no error wins. When
no cut helps (the model's first tokens are already wrong, or the cursor sits inside code
that does not parse anyway) the completion is left as it is: validation only ever
shortens, and never hides a completion the rules before it let through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from slm_lsp.postprocess.syntax import Window, syntax_errors

MAX_CUTS = 24  # parses per request beyond the first two; bounds the worst case
_TOKEN = re.compile(r"\w+|[^\w\s]")


def shorter_cuts(text: str) -> Iterator[str]:
    """Non-empty prefixes of ``text`` ending at a line end, then at a token end of its first line."""
    lines = text.split("\n")
    seen = {text}
    for count in range(len(lines) - 1, 0, -1):
        cut = "\n".join(lines[:count]).rstrip()
        if cut.strip() and cut not in seen:
            seen.add(cut)
            yield cut
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    head = "\n".join(lines[:first]) + "\n" if first else ""
    line = lines[first]
    for match in reversed(list(_TOKEN.finditer(line))):
        cut = head + line[: match.end()]
        if cut.strip() and cut not in seen:
            seen.add(cut)
            yield cut


def validate(text: str, region: Window, grammar: str | None) -> str:
    """``text``, or its longest cut that adds no syntax error to the window around the cursor."""
    if grammar is None or not text:
        return text
    baseline = syntax_errors(region.before + region.after, grammar)
    if baseline is None or _adds_no_error(text, region, grammar, set(baseline)):
        return text
    for attempt, cut in enumerate(shorter_cuts(text)):
        if attempt >= MAX_CUTS:
            break
        if _adds_no_error(cut, region, grammar, set(baseline)):
            return cut
    return text


def _adds_no_error(text: str, region: Window, grammar: str, baseline: set[tuple[int, int]]) -> bool:
    """Whether every error with ``text`` inserted is one the document had at the same place."""
    errors = syntax_errors(region.before + text + region.after, grammar)
    if errors is None:
        return True
    cursor = len(region.before.encode("utf-8", "surrogatepass"))
    size = len(text.encode("utf-8", "surrogatepass"))
    for start, end in errors:
        if end <= cursor and start < cursor:
            where = (start, end)  # in the prefix
        elif start > cursor + size or (start == cursor + size and end > start):
            where = (start - size, end - size)  # in the suffix, shifted back
        else:
            return False  # touches the completion (or is left open at its end)
        if where not in baseline:
            return False
    return True
