"""Text metrics: exact match and edit similarity (1 - normalised Levenshtein distance).

Both compare whitespace-normalised texts: line endings become ``\\n``, trailing
whitespace is removed from every line, and blank lines at the start and end are dropped.
Leading indentation is kept: in Python it is meaning, and a completion indented wrongly
is wrong. Inner whitespace is kept too (``a+b`` and ``a + b`` differ), so exact match stays
the strict metric it is meant to be; edit similarity gives partial credit.
"""

from __future__ import annotations


def normalise(text: str) -> str:
    """``text`` with line endings unified, trailing spaces and surrounding blank lines removed."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def exact_match(completion: str, reference: str) -> bool:
    """Whether the two texts are equal after ``normalise``."""
    return normalise(completion) == normalise(reference)


def edit_similarity(completion: str, reference: str) -> float:
    """1 - Levenshtein distance / length of the longer text, on normalised texts (1.0 if both empty)."""
    a, b = normalise(completion), normalise(reference)
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein(a, b) / longest


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each).

    Bit-parallel (Myers 1999, in Hyyrö's formulation for edit distance), with Python's
    unbounded integers as the bit vectors: O(len(a) * len(b) / word size), fast enough to
    score multi-line completions of a thousand characters without a C extension.
    """
    if len(a) < len(b):
        a, b = b, a
    size = len(b)
    if size == 0:
        return len(a)
    mask = (1 << size) - 1
    top = 1 << (size - 1)
    peq: dict[str, int] = {}
    for index, char in enumerate(b):
        peq[char] = peq.get(char, 0) | (1 << index)
    positive, negative, distance = mask, 0, size
    for char in a:
        equal = peq.get(char, 0)
        vertical = equal | negative
        horizontal = (((equal & positive) + positive) ^ positive) | equal
        h_positive = negative | (~(horizontal | positive) & mask)
        h_negative = positive & horizontal
        if h_positive & top:
            distance += 1
        elif h_negative & top:
            distance -= 1
        h_positive = ((h_positive << 1) | 1) & mask
        h_negative = (h_negative << 1) & mask
        positive = h_negative | (~(vertical | h_positive) & mask)
        negative = h_positive & vertical
    return distance
