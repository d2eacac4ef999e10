"""Shaping model output: loop detection, clean explanations, one-sentence summaries, progress lines.

Loops are found by ``slm_lsp.postprocess.repetition`` (shared with completions): the
generation stops at the first one and the repeated part is cut off the result here.
"""

from __future__ import annotations

import re

from slm_lsp.postprocess.repetition import prose_repeats_from


def clean_explanation(text: str) -> str:
    """Cut repetitions and dangling fragments; normalise blank lines."""
    cut = prose_repeats_from(text)
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
