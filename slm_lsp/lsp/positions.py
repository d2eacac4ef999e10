"""Convert between LSP positions (line, character in UTF-16/8/32 units) and text offsets.

LSP counts characters in the negotiated encoding (UTF-16 by default, so an emoji is two
units) and ends lines only at ``\\n``, ``\\r\\n`` or ``\\r``. The pipeline works on Python
string offsets (code points); this module is the one place that translates, and it
reports out-of-range positions instead of guessing.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from lsprotocol import types

_LINE_BREAK = re.compile(r"\r\n|\n|\r")


class PositionError(ValueError):
    """A position that does not exist in the document."""


def negotiated_encoding(ls: Any) -> str:
    """The position encoding agreed in ``initialize`` (UTF-16 when none was), as the
    ``encoding`` argument of :func:`offset_at` and :func:`position_at` takes it."""
    return str(ls.workspace.position_encoding or types.PositionEncodingKind.Utf16).lower()


def line_starts(text: str) -> list[int]:
    """Offsets where each line starts; a trailing line break opens one more (empty) line."""
    return [0, *(m.end() for m in _LINE_BREAK.finditer(text))]


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8", errors="surrogatepass"))
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    return 1


def _line_text(text: str, starts: list[int], line: int) -> str:
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    return _LINE_BREAK.sub("", text[starts[line] : end])


def offset_at(text: str, line: int, character: int, *, encoding: str = "utf-16", clamp: bool = False) -> int:
    """Offset of (line, character) in ``text``.

    A line past the end is always an error. A character past the end of its line is an
    error, or — with ``clamp``, as LSP specifies for editors — the end of the line. A
    character in the middle of a surrogate pair/UTF-8 sequence is an error.
    """
    if line < 0 or character < 0:
        raise PositionError(f"negative position (line {line}, character {character})")
    starts = line_starts(text)
    if line >= len(starts):
        raise PositionError(f"line {line} is past the end of the document ({len(starts)} lines)")
    content = _line_text(text, starts, line)
    units = 0
    for index, char in enumerate(content):
        if units == character:
            return starts[line] + index
        units += _units(char, encoding)
        if units > character:
            raise PositionError(f"character {character} on line {line} splits a character")
    if units == character or clamp:
        return starts[line] + len(content)
    raise PositionError(f"character {character} is past the end of line {line} ({units} characters)")


def position_at(text: str, offset: int, *, encoding: str = "utf-16") -> tuple[int, int]:
    """(line, character) of ``offset`` in ``text``, the inverse of offset_at."""
    if not 0 <= offset <= len(text):
        raise PositionError(f"offset {offset} is outside the document")
    starts = line_starts(text)
    line = bisect.bisect_right(starts, offset) - 1
    return line, sum(_units(c, encoding) for c in text[starts[line] : offset])
