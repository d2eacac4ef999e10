"""The current document's prefix and suffix through the privacy gate, redacted before cutting.

A secret straddling a cut (a private key whose BEGIN line is above the prefix start, a token
split by the cursor) would no longer look like a secret in either half, so the text is
redacted as a whole around the cut (``admit_document``) and the window is then narrowed out
of the redacted text (``narrow``, which keeps the gate's seal). Redacting the whole document
on every keystroke would cost over ten milliseconds per 100 KB, so only a region reaching
``SECRET_MARGIN`` characters beyond the window is redacted: longer than the secrets the
redactor knows (a 4096-bit PEM key is about 3.3 KB), so whatever touches the window is seen
whole. Line-based cuts cannot split a single-line secret; the margin is for multi-line ones
and for cuts made by characters inside one huge line. Redaction may change token counts: the
pieces are then trimmed again to the budget.
"""

from __future__ import annotations

from collections.abc import Callable

from slm_lsp.context.window import Window
from slm_lsp.privacy import PrivacyGate, PromptPiece
from slm_lsp.privacy.uris import looks_like_uri, parse_uri

SECRET_MARGIN = 4096
PREFIX = "prefix"
SUFFIX = "suffix"


def admit_window(gate: PrivacyGate, text: str, offset: int, window: Window, source: str, *,
                 count: Callable[[str], int], budget: int) -> tuple[PromptPiece, PromptPiece]:
    """Admitted prefix and suffix for ``window`` (cut at ``offset``), within ``budget`` tokens together.

    Raises GateError when the gate excludes ``source``.
    """
    low = text.rfind("\n", 0, max(0, window.start - SECRET_MARGIN)) + 1
    newline = text.find("\n", min(len(text), window.end + SECRET_MARGIN))
    high = len(text) if newline < 0 else newline + 1
    before, after = gate.admit_document(text[low:high], offset - low, source, kinds=(PREFIX, SUFFIX))
    if before.text == text[low:offset] and after.text == text[offset:high]:
        start, end = window.start - low, window.end - offset  # nothing was redacted: same offsets
    else:
        redaction = gate.redact(text[low:high], hint=parse_uri(source).path if looks_like_uri(source) else source)
        start = redaction.map_offset(window.start - low)
        end = redaction.map_offset(window.end - low) - len(before.text)
    prefix, suffix = gate.narrow(before, start), gate.narrow(after, 0, max(end, 0))
    return _refit(gate, prefix, suffix, count, budget)


def _refit(gate: PrivacyGate, prefix: PromptPiece, suffix: PromptPiece, count: Callable[[str], int],
           budget: int) -> tuple[PromptPiece, PromptPiece]:
    """Trim whole lines again (prefix first) when redaction made the pieces longer than their cut."""
    while count(prefix.text) + count(suffix.text) > budget and (prefix.text or suffix.text):
        if prefix.text:
            newline = prefix.text.find("\n")
            prefix = gate.narrow(prefix, newline + 1 if newline >= 0 else len(prefix.text))
        else:
            newline = suffix.text.rfind("\n", 0, len(suffix.text) - 1)
            suffix = gate.narrow(suffix, 0, newline + 1 if newline >= 0 else 0)
    return prefix, suffix
