"""Loop detection shared by completions and code actions.

Small models, greedy decoding in particular, fall into loops: the same call nested again
(``foo(foo(foo(``), the same word again (``"Fizz", "Fizz", "Fizz", …``), the same line or
sentence again (``The first line …``, ``The second line …``). Completions cut such output
after generation (``postprocess`` rule 5); actions watch the growing text with
``RepetitionGuard`` and stop the generation at the first loop, so the user gets a short
answer after a second instead of the token budget's worth of one word after fifteen.

Code is held to a stricter bar than prose: ``0, 0, 0, 0`` is a literal someone types, so a
unit inside a code line must repeat 8 times; in prose 4 copies of a unit with a word in it
are already a loop.
"""

from __future__ import annotations

import re

# A unit of 2+ characters repeated 8+ times in a row inside one line of code.
_CODE_LOOP = re.compile(r"(.{2,}?)\1{7,}")
# In prose: a unit of 3+ characters holding a word (letters of any script), 4+ copies in a
# row ("Fizz", "Fizz", …); a unit of symbols only, 16+ copies ("✤✤✤…"; rulers like "-----" have
# no letter and are left alone below 16).
_PROSE_LOOP = re.compile(r"(.{3,}?)\1{3,}")
_SYMBOL_LOOP = re.compile(r"([^\s\w\-=_*#|.~]+?)\1{15,}")
_WORD = re.compile(r"[^\W\d_]{2}")
MAX_LOOP_SCAN = 400  # characters searched for a loop at once (the regexes are quadratic)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(\[])|\n+")
_MIN_UNIT = 12  # shorter lines or sentences ("Returns:", "}") may repeat legitimately
_ORDINALS = re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+)\b")


def code_loop_in_line(line: str) -> bool:
    """Whether one line of code holds a stuck loop (a unit with a letter or digit, 8+ times)."""
    loop = _CODE_LOOP.search(line[:MAX_LOOP_SCAN])
    return bool(loop and any(char.isalnum() for char in loop.group(1)))


def prose_loop_from(text: str, start: int = 0) -> int | None:
    """Offset of the first repeated copy of a unit looping in ``text[start:]``, else None.

    The first copy is kept: ``return "Fizz", "Fizz", "Fizz", "Fizz",`` is cut after the
    first ``"Fizz",``.
    """
    symbols = _SYMBOL_LOOP.search(text, start)
    if symbols is not None:
        return symbols.start() + len(symbols.group(1))
    for match in _PROSE_LOOP.finditer(text, start):
        if _WORD.search(match.group(1)):
            # The match may begin mid-word (``zz", "Fi`` of ``"Buzz", "Fizz", …``): cut at the
            # next space inside the loop, so the kept copy ends on a word.
            cut = match.start() + len(match.group(1))
            space = next((i for i in range(cut, match.end()) if text[i - 1].isspace()), cut)
            return space
    return None


def repeated_sentence_from(text: str) -> int | None:
    """Offset where ``text`` starts repeating an earlier line or sentence, else None.

    Ordinals and numbers count as the same word, so "The first line …" and "The second
    line …" are one sentence said twice.
    """
    seen: set[str] = set()
    position = 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match is not None else len(text)
        unit = text[position:end]
        key = _normalise(unit)
        if match is None:
            # The last unit is still growing: only a complete repetition counts.
            complete = unit.rstrip().endswith((".", "!", "?"))
            return position if key in seen and len(key) >= _MIN_UNIT and complete else None
        if len(key) >= _MIN_UNIT:
            if key in seen:
                return position
            seen.add(key)
        position = match.end()
    return None


def prose_repeats_from(text: str) -> int | None:
    """Where prose starts looping, by either rule (the earlier offset), else None."""
    offsets = [offset for offset in (repeated_sentence_from(text), prose_loop_from(text)) if offset is not None]
    return min(offsets) if offsets else None


def _normalise(unit: str) -> str:
    return " ".join(_ORDINALS.sub("#", unit.lower()).split())


class RepetitionGuard:
    """Feed it the text so far; ``tripped`` turns true once the text loops.

    Cheap on every token: the in-line rule scans only the last ``MAX_LOOP_SCAN`` characters,
    and the sentence rule runs only when a line or sentence may have ended.
    """

    def __init__(self) -> None:
        self.tripped = False
        self._checked = 0

    def feed(self, text: str) -> None:
        if self.tripped or len(text) <= self._checked:
            return
        self._checked = len(text)
        if prose_loop_from(text, max(0, len(text) - MAX_LOOP_SCAN)) is not None:
            self.tripped = True
        elif re.search(r"[.!?\n]\s*\S?$", text[-3:]) and repeated_sentence_from(text) is not None:
            self.tripped = True


_BLOCK_LINES = 6  # longest block of lines watched for repetition
_BLOCK_COPIES = 3  # a block said this many times in a row is a loop


def code_lines_loop_from(text: str, original: str = "") -> int | None:
    """Offset where code starts looping, else None: a line stuck in an in-line loop, or a block
    of 1-6 complete lines repeated 3 times in a row that ``original`` (the code being
    rewritten) does not repeat itself. The first copy is kept."""
    lines = text.splitlines(keepends=True)
    complete = lines if text.endswith("\n") else lines[:-1]
    offset = 0
    for index, line in enumerate(complete):
        cut = _loop_ending_at(complete, index, original)
        if cut is not None:
            return offset if cut == index else sum(len(line) for line in complete[:cut])
        offset += len(line)
    return None


def _loop_ending_at(lines: list[str], index: int, original: str) -> int | None:
    """The index of the first repeated line when ``lines[index]`` completes a loop, else None.

    Only loops that end at ``index`` are looked for, so a caller that feeds lines one by one
    pays a constant cost per line."""
    if code_loop_in_line(lines[index]):
        return index
    for size in range(1, _BLOCK_LINES + 1):
        start = index + 1 - size * _BLOCK_COPIES
        if start < 0:
            break
        block = lines[start : start + size]
        if sum(len(line.strip()) for line in block) < 8:
            continue  # closers and blank lines repeat legitimately
        if all(lines[start + k * size : start + (k + 1) * size] == block for k in range(1, _BLOCK_COPIES)):
            if "".join(block * _BLOCK_COPIES) not in original:
                return start + size
    return None


class CodeRepetitionGuard:
    """``RepetitionGuard`` for generated code: ``tripped`` once a complete line ends a loop
    (see ``code_lines_loop_from``); each line is checked once, when it is complete."""

    def __init__(self, original: str = "") -> None:
        self.tripped = False
        self._original = original
        self._checked = 0

    def feed(self, text: str) -> None:
        if self.tripped or text.count("\n") <= self._checked:
            return
        complete = text.splitlines(keepends=True)
        if not text.endswith("\n"):
            complete = complete[:-1]
        for index in range(self._checked, len(complete)):
            if _loop_ending_at(complete, index, self._original) is not None:
                self.tripped = True
                return
        self._checked = len(complete)
