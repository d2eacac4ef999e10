"""Windows of a document for a next-edit prompt, cut from its redacted text.

A model predictor shows the model lines around the cursor and asks for some of them
rewritten. Those lines are prompt text like any other, so they come from the privacy
gate: the document is admitted as a whole (``admit_document``: an excluded file gives
nothing, secret-shaped strings become ``<redacted:KIND>``) and windows are cut from the
redacted text with ``narrow``, so a secret is judged whole even when a window boundary
would cut it. The editable region itself must come through unchanged: the model's
rewrite is diffed against the real text, and a region that held a secret would make the
rewrite propose to write a placeholder over it — such a region gives no prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

from slm_lsp.context.paths import path_from_uri
from slm_lsp.privacy import GateError, PrivacyGate, PromptPiece


class Redacted:
    """One document's text as the gate admitted it, with offsets mapped through the redaction.

    Raises GateError when the document is excluded, or when the gate's redaction of the
    whole text and its admitted text disagree (then nothing is used: fail closed).
    """

    def __init__(self, gate: PrivacyGate, uri: str, text: str) -> None:
        self.gate = gate
        self.text = text
        _, self._whole = gate.admit_document(text, 0, uri)
        path = path_from_uri(uri)
        self._redaction = gate.redact(text, hint=str(path) if path is not None else None)
        if self._redaction.text != self._whole.text:
            raise GateError(f"the redaction of {uri} is not stable; no window is cut from it")

    def at(self, offset: int) -> int:
        """Where ``offset`` of the real text is in the redacted text."""
        return self._redaction.map_offset(offset)

    def piece(self, start: int, end: int) -> PromptPiece:
        """``text[start:end]`` as an admitted piece (redacted)."""
        return self.gate.narrow(self._whole, self.at(start), self.at(end))

    def unchanged(self, start: int, end: int) -> bool:
        """Whether the redaction left ``text[start:end]`` as it is."""
        return self._whole.text[self.at(start):self.at(end)] == self.text[start:end]


@dataclass(frozen=True)
class Lines:
    """Whole-line spans of a text: ``line_start(n)``, ``line_end(n)`` (before its newline)."""

    text: str

    def count(self) -> int:
        return self.text.count("\n") + 1

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset)

    def line_start(self, line: int) -> int:
        position = 0
        for _ in range(line):
            found = self.text.find("\n", position)
            if found < 0:
                return len(self.text)
            position = found + 1
        return position

    def line_end(self, line: int) -> int:
        found = self.text.find("\n", self.line_start(line))
        return len(self.text) if found < 0 else found


def line_window(text: str, cursor: int, above: int, below: int) -> tuple[int, int]:
    """``[start, end)`` of the lines from ``above`` lines over the cursor's line to ``below``
    lines under it (clipped to the document), from a line start to a line end."""
    lines = Lines(text)
    line = lines.line_of(cursor)
    first, last = max(0, line - above), min(lines.count() - 1, line + below)
    return lines.line_start(first), lines.line_end(last)


def map_to_before(offset: int, start: int, old: str, new: str) -> int:
    """Where ``offset`` of the current text was before ``text[start:start+len(new)]``
    replaced ``old`` (Zed's ``map_current_offset_to_old_snapshot`` for one edit)."""
    if offset < start:
        return offset
    if offset < start + len(new):
        return start + min(offset - start, len(old))
    return offset - len(new) + len(old)
