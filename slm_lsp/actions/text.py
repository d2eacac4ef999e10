"""Shaping model output: loop detection, clean explanations, one-sentence summaries, progress lines.

Small models, greedy decoding in particular, tend to fall into loops ("The first line ...",
"The second line ...", the same paragraph again). ``RepetitionGuard`` watches the growing
text and stops the generation at the first repeated line or sentence; the repeated part is
cut off the result.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(\[])|\n+")
_MIN_UNIT = 12


def repeated_from(text: str) -> int | None:
    """Offset where ``text`` starts repeating an earlier line or sentence, else None."""
    seen: set[str] = set()
    position = 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match is not None else len(text)
        unit = text[position:end]
        key = _normalise(unit)
        if match is None:
            # The last unit is still growing: only a complete repetition counts.
            return position if key in seen and len(key) >= _MIN_UNIT and text.endswith(unit) and _complete(unit) else None
        if len(key) >= _MIN_UNIT:
            if key in seen:
                return position
            seen.add(key)
        position = match.end()
    return None


def _normalise(unit: str) -> str:
    return " ".join(re.sub(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+)\b", "#",
                           unit.lower()).split())


def _complete(unit: str) -> bool:
    return unit.rstrip().endswith((".", "!", "?"))


class RepetitionGuard:
    """Feed it the text so far; ``tripped`` turns true once the text repeats itself."""

    def __init__(self) -> None:
        self.tripped = False
        self._checked = 0

    def feed(self, text: str) -> None:
        # Only re-check when a line or sentence may have ended (cheap on every token).
        if self.tripped or len(text) - self._checked < 1 or not re.search(r"[.!?\n]\s*\S?$", text[-3:]):
            return
        self._checked = len(text)
        if repeated_from(text) is not None:
            self.tripped = True


def clean_explanation(text: str) -> str:
    """Cut repetitions and dangling fragments; normalise blank lines."""
    cut = repeated_from(text)
    if cut is not None:
        text = text[:cut]
    text = text.replace("\r\n", "\n")
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if text.count("```") % 2:  # an unterminated code fence
        text = text[: text.rfind("```")].rstrip()
    if text and text[-1] not in ".!?:)`\"'" and "\n" not in text[-80:]:
        # A sentence cut by the token budget: end at the last complete one if there is one.
        last = max(text.rfind(". "), text.rfind(".\n"), text.rfind("? "), text.rfind("! "))
        if last > len(text) // 2:
            text = text[: last + 1]
        else:
            text += "…"
    return text


_LEADS = re.compile(
    r"^(?:(?:this|the|that)\s+(?:`?[\w.]+(?:\(\))?`?\s+)?(?:function|method|class|code|snippet|constructor|struct|type|module)"
    r"(?:\s+`[\w.]+(?:\(\))?`)?\s+|it\s+)", re.IGNORECASE)
_ES = ("s", "sh", "ch", "x", "z", "o")


def summary_sentence(text: str) -> str:
    """One documentation sentence from model output: "returns the sum." -> "Returns the sum."."""
    text = text.strip().strip("`\"' ")
    text = re.sub(r"^(?:summary|docstring|answer)\s*:\s*", "", text, flags=re.IGNORECASE)
    text = text.split("\n", 1)[0].strip().strip("`\"' ")
    match = re.search(r"[.!?](?:\s|$)", text)
    if match:
        text = text[: match.start() + 1]
    text = _LEADS.sub("", text, count=1).strip()
    words = text.split(" ", 2)
    if len(words) >= 2 and words[0].lower() == "will":
        verb = words[1]
        verb = "is" if verb == "be" else verb + ("es" if verb.endswith(_ES) else "s")
        text = " ".join([verb, *words[2:]])
    elif len(words) >= 2 and words[0].lower() == "is" and words[1].lower() in ("a", "an", "the"):
        text = " ".join(words[1:])
    text = text.strip()
    if not text or not re.search(r"[A-Za-z]{2}", text):
        return ""
    if len(text) > 300:
        text = text[:300].rsplit(" ", 1)[0] + "…"
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?…":
        text += "."
    return text


def progress_line(text: str, limit: int = 160) -> str:
    """The tail of a growing text as one line for a progress report (whitespace collapsed)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    tail = line[-(limit - 1) :]
    space = tail.find(" ")
    if 0 <= space < 30:
        tail = tail[space + 1 :]
    return "…" + tail


def code_block(text: str) -> str | None:
    """The contents of the first fenced code block in ``text`` (None when there is none)."""
    match = re.search(r"```[^\n`]*\n(.*?)(?:```|\Z)", text, re.DOTALL)
    return match.group(1) if match else None
