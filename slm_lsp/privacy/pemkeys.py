"""Private-key blocks: PEM/OpenSSH/PGP (``-----BEGIN ... PRIVATE KEY-----``) and PuTTY.

A block is redacted from its BEGIN line through its END line. It may also be cut:
- BEGIN without END (the text, or a prompt window, ends inside the key): redacted to the
  end of the text;
- END without BEGIN (a window starts inside the key): the key material before it is
  redacted back to where it starts.
Keys embedded in strings (``"-----BEGIN PRIVATE KEY-----\\nMIIE...\\n-----END..."`` in
JSON, or concatenated line by line in JS) are handled: ``\\n`` escapes, quotes, ``+`` and
commas count as part of the block.

A BEGIN marker that is *not* followed by key material is code that handles PEM
(``HEADER = "-----BEGIN RSA PRIVATE KEY-----"``) and is left alone, unless nothing follows
it at all (a cut window), in which case it is redacted to be safe.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

Span = tuple[int, int, str]

_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PUTTY = re.compile(r"Private-Lines:[ \t]{0,8}[0-9]{1,4}")
_PUTTY_END = re.compile(r"Private-MAC:[^\n]{0,200}")
_MAX_BLOCK = 1 << 16
_HEADERS = re.compile(r"(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset):[^\n\\]{0,200}")
_NOISE = re.compile(r"\\[nrt]|[\s\"'`+,;]")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _material(body: str) -> str:
    if ":" in body:
        body = _HEADERS.sub("", body)
    return _NOISE.sub("", body)


def _is_key_material(body: str, *, minimum: int = 16) -> bool:
    stripped = _material(body)
    if len(stripped) < minimum:
        return False
    inside = sum(1 for c in stripped if c in _BASE64)
    return inside >= 0.9 * len(stripped)


_LINE_BREAK = re.compile(r"\r?\n|\\r\\n|\\n")
_LINE_NOISE = re.compile(r"[\s\"'`+,;]|\\[rt]")


def _material_start(text: str, floor: int, stop: int) -> int | None:
    """Where the key material ending at ``stop`` starts (an END line without BEGIN).

    Walks back line by line (real newlines or ``\\n`` escapes) while each line is key
    material: a run of 16+ base64 characters, a PEM header, or blank. The first line of the
    text may be a shorter run (the window started inside it). None if no material.
    """
    breaks = [m.end() for m in _LINE_BREAK.finditer(text, floor, stop)]
    starts = [floor, *breaks]
    material = 0
    first_kept: int | None = None
    for index in range(len(starts) - 1, -1, -1):
        line_start = starts[index]
        line_end = stop if index == len(starts) - 1 else breaks[index] - 1
        line = _LINE_NOISE.sub("", text[line_start:line_end]).rstrip("\\")
        at_text_start = line_start == 0
        if not line or _HEADERS.fullmatch(line):
            first_kept = line_start if line else first_kept
            continue
        if all(c in _BASE64 for c in line) and (len(line) >= 16 or at_text_start):
            material += len(line)
            first_kept = line_start
            continue
        break
    if first_kept is None or material < 16:
        return None
    while first_kept < stop and text[first_kept] in " \t\"'`+,;":
        first_kept += 1
    return first_kept


def find_private_keys(text: str) -> Iterator[Span]:
    ends = list(_END.finditer(text))
    end_starts = [e.start() for e in ends]
    used: set[int] = set()
    covered = 0  # end of the last block redacted (len(text) once a cut key runs to the end)
    for begin in _BEGIN.finditer(text):
        if begin.start() < covered:
            continue
        index = bisect.bisect_left(end_starts, begin.end())
        has_end = index < len(ends) and end_starts[index] - begin.end() <= _MAX_BLOCK
        if has_end:
            end = ends[index]
            if _is_key_material(text[begin.end() : end.start()]):
                used.add(index)
                covered = end.end()
                yield begin.start(), end.end(), "private-key"
            continue  # otherwise BEGIN ... END around code: PEM-handling code, not a key
        following = text[begin.end() : begin.end() + 256]
        if following.lstrip(" \t\r\n\\nr\"'`+,;").startswith("-"):
            continue  # another marker follows at once: no key material here
        material = _material(following)[:64]
        reaches_end = begin.end() + len(following) >= len(text)
        if all(c in _BASE64 for c in material) and (len(material) >= 16 or reaches_end):
            covered = len(text)  # a key cut short (or a window ending at its BEGIN line)
            yield begin.start(), len(text), "private-key"
            break
    previous_end = 0
    for index, end in enumerate(ends):
        if index in used or end.start() < covered and covered == len(text):
            previous_end = end.end()
            continue
        floor = max(previous_end, end.start() - _MAX_BLOCK)
        previous_end = end.end()
        start = _material_start(text, floor, end.start())
        if start is not None:
            yield start, end.end(), "private-key"
    for putty in _PUTTY.finditer(text):
        closing = _PUTTY_END.search(text, putty.end(), min(len(text), putty.end() + _MAX_BLOCK))
        yield putty.end(), closing.end() if closing else len(text), "private-key"
