"""Content redaction: secret-shaped strings replaced by stable placeholders.

A secret becomes ``<redacted:KIND>`` (``<redacted:aws-access-key-id>``,
``<redacted:keyword-secret>``...). The placeholder depends only on the kind, never on the
value — no hash of a password is ever shown — so the same text always redacts to the same
prompt (which keeps llama.cpp's KV cache reusable) and redacting twice changes nothing.
Only the secret itself is replaced: the key, the quotes and the code around it stay.

Findings carry the kind and offsets (in the original and in the redacted text), never the
value. Overlapping detections are merged into one span, so nothing between two detectors
survives.

Hashes in lock files are a judgment call: Subresource Integrity values (``sha512-...``) and
``sha256:`` digests are public and kept; other long hex strings (git SHAs, checksums) are
indistinguishable from hex API keys and are redacted when quoted — a lost hash costs a
little completion quality, a leaked key costs much more.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from slm_lsp.privacy.keywords import Mode, find_keyword_secrets
from slm_lsp.privacy.pemkeys import find_private_keys
from slm_lsp.privacy.tokens import (
    find_high_entropy_strings,
    find_tokens,
    find_url_credentials,
)

# Higher wins when overlapping detections are merged: the most specific name is reported.
_PRIORITY = {"private-key": 50, "url-password": 30, "url-token": 30, "bearer-token": 25, "basic-auth": 25,
             "url-secret-parameter": 25, "keyword-secret": 20, "high-entropy-base64": 10, "high-entropy-hex": 10}
_TOKEN_PRIORITY = 40

_CODE_SUFFIXES = frozenset({
    ".py", ".pyi", ".pyw", ".pyx", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".go", ".rs",
    ".java", ".kt", ".kts", ".scala", ".groovy", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx",
    ".cs", ".fs", ".vb", ".rb", ".php", ".swift", ".m", ".mm", ".lua", ".dart", ".ex", ".exs", ".erl", ".hrl",
    ".hs", ".ml", ".mli", ".clj", ".cljs", ".r", ".jl", ".pl", ".pm", ".vue", ".svelte", ".zig", ".nim",
    ".sol", ".elm", ".coffee", ".ipynb", ".gd", ".cr", ".d", ".f90", ".pas", ".ada", ".adb", ".sql",
})


def placeholder(kind: str) -> str:
    return f"<redacted:{kind}>"


def mode_for(hint: str | PurePath | None) -> Mode:
    """"code" for programming-language files, else "config" (also when unknown: fail closed)."""
    if hint is None:
        return "config"
    name = PurePath(str(hint)).name.lower()
    suffix = PurePath(name).suffix
    return "code" if suffix in _CODE_SUFFIXES else "config"


@dataclass(frozen=True)
class Finding:
    """One redacted span. Holds no part of the secret."""

    kind: str
    start: int  # offsets in the original text
    end: int
    redacted_start: int  # offsets of the placeholder in the redacted text
    redacted_end: int


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was found; ``repr`` shows kinds and offsets only."""

    text: str
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        return not self.findings

    def kinds(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.findings))

    def map_offset(self, offset: int) -> int:
        """Where ``offset`` of the original text is in the redacted text.

        An offset inside a redacted secret moves to the end of its placeholder.
        """
        shift = 0
        for finding in self.findings:
            if offset < finding.start:
                break
            if offset < finding.end:
                return finding.redacted_end
            shift = finding.redacted_end - finding.end
        return offset + shift

    def __repr__(self) -> str:
        return f"Redaction(length={len(self.text)}, findings={self.kinds()})"


def find_spans(text: str, mode: Mode) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    spans.extend(find_private_keys(text))
    spans.extend(find_tokens(text))
    spans.extend(find_url_credentials(text))
    spans.extend(find_keyword_secrets(text, mode))
    spans.extend(find_high_entropy_strings(text))
    return spans


def merge(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one, named after its most specific detector."""
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(s for s in spans if s[1] > s[0]):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_kind = merged[-1]
            best = kind if _priority(kind) > _priority(last_kind) else last_kind
            merged[-1] = (last_start, max(last_end, end), best)
        else:
            merged.append((start, end, kind))
    return merged


def _priority(kind: str) -> int:
    return _PRIORITY.get(kind, _TOKEN_PRIORITY)


def redact(text: str, *, hint: str | PurePath | None = None) -> Redaction:
    """Redact ``text``; ``hint`` (a file name or path) tells code from configuration files."""
    spans = merge(find_spans(text, mode_for(hint)))
    if not spans:
        return Redaction(text, ())
    out: list[str] = []
    findings: list[Finding] = []
    cursor = 0
    length = 0
    for start, end, kind in spans:
        out.append(text[cursor:start])
        length += start - cursor
        marker = placeholder(kind)
        findings.append(Finding(kind, start, end, length, length + len(marker)))
        out.append(marker)
        length += len(marker)
        cursor = end
    out.append(text[cursor:])
    return Redaction("".join(out), tuple(findings))


def overlapping(findings: Iterable[Finding], start: int) -> list[Finding]:
    """Findings that reach past ``start`` (for scanning only the tail of a longer text)."""
    ordered = sorted(findings, key=lambda f: f.end)
    index = bisect.bisect_right([f.end for f in ordered], start)
    return ordered[index:]
