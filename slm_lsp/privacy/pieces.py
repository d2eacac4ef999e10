"""Prompt pieces that remember where their text came from, and whether the gate let it in.

Borrowed from Cody's PromptString: text travels with its source, so the last check before
tokenization can refuse a piece whose source is excluded, and a piece that never passed
``admit`` (or was edited afterwards) cannot slip into a prompt. ``admit`` seals the piece
with an HMAC over (kind, source, text) keyed by a random per-gate secret; any change to
the text breaks the seal. Pieces cut shorter after admission must go through
``PrivacyGate.narrow`` (cutting redacted text cannot reveal a secret).

``repr`` never shows the text, so logging a piece by mistake leaks nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import PurePath


@dataclass(frozen=True)
class PromptPiece:
    """Text for a prompt, its ``source`` (URI, path, or None for text with no file) and its
    ``kind`` ("prefix", "suffix", "definition", "recent", ...)."""

    text: str
    source: str | PurePath | None
    kind: str
    seal: bytes | None = field(default=None, compare=False)

    @property
    def admitted(self) -> bool:
        """Carries a seal (whether it is *this* gate's valid seal only the gate can tell)."""
        return self.seal is not None

    def __repr__(self) -> str:
        return (
            f"PromptPiece(kind={self.kind!r}, source={str(self.source) if self.source is not None else None!r}, "
            f"length={len(self.text)}, admitted={self.admitted})"
        )

    __str__ = __repr__


class Sealer:
    """Seals and verifies pieces with a key that never leaves this object."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, text: str, source: str | PurePath | None, kind: str) -> bytes:
        digest = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in (kind, "" if source is None else str(source), text):
            encoded = part.encode("utf-8", "surrogatepass")
            digest.update(len(encoded).to_bytes(8, "big"))
            digest.update(encoded)
        return digest.digest()

    def valid(self, piece: PromptPiece) -> bool:
        if piece.seal is None:
            return False
        return hmac.compare_digest(piece.seal, self.seal(piece.text, piece.source, piece.kind))
