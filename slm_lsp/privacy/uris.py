"""Document URIs to the paths the gate decides on — strictly, failing closed.

- ``file:`` URIs are percent-decoded to *bytes* and then to a file-system name (so an
  undecodable name survives intact); a NUL byte, a host other than ``localhost``, a query
  or a fragment, or a relative path rejects the URI. ``..`` is not resolved here: the gate
  checks both the lexically normalised path and the real path the kernel would open.
- ``untitled:`` buffers have no file. They are allowed, but only through redaction (every
  piece passes ``admit``); when an editor gives the future path (``untitled:/w/.env``,
  VS Code's "new file" before saving), that path is still checked against the deny list
  and ignore rules, so a new ``.env`` gets no completion either.
- ``vscode-notebook-cell:`` URIs name the notebook file on disk; they are checked as it.
- Every other scheme (``git:``, ``http:``, ``vscode-userdata:``, ``output:``...) is rejected:
  we cannot tell what it shows.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_to_bytes, urlsplit

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_FILE_LIKE = {"file", "vscode-notebook-cell"}


@dataclass(frozen=True)
class UriTarget:
    kind: Literal["file", "untitled", "rejected"]
    path: str | None = None  # absolute file-system path as named (not yet normalised)
    reason: str | None = None  # why a URI was rejected (never includes the URI's host or query)
    scheme: str = ""


def looks_like_uri(text: str) -> bool:
    """A scheme of two or more characters: ``C:\\x`` is a Windows path, not a URI."""
    match = _SCHEME.match(text)
    return match is not None and len(match.group(1)) > 1


def parse_uri(uri: str) -> UriTarget:
    if "\x00" in uri:
        return UriTarget("rejected", reason="NUL byte in URI")
    match = _SCHEME.match(uri)
    if match is None:
        return UriTarget("rejected", reason="not a URI")
    scheme = match.group(1).lower()
    if scheme == "untitled":
        rest = _decode(uri[match.end() :])
        if rest is None:
            return UriTarget("rejected", reason="invalid percent-encoding or NUL byte", scheme=scheme)
        return UriTarget("untitled", path=rest if rest.startswith("/") else None, scheme=scheme)
    if scheme not in _FILE_LIKE:
        return UriTarget("rejected", reason=f"unsupported URI scheme '{scheme}'", scheme=scheme)
    try:
        parts = urlsplit(uri)
    except ValueError:
        return UriTarget("rejected", reason="malformed URI", scheme=scheme)
    if parts.netloc not in ("", "localhost"):
        return UriTarget("rejected", reason="file URI names another host", scheme=scheme)
    if scheme == "file" and (parts.query or parts.fragment or "?" in uri or "#" in uri):
        return UriTarget("rejected", reason="file URI with a query or fragment", scheme=scheme)
    path = _decode(parts.path)
    if path is None:
        return UriTarget("rejected", reason="invalid percent-encoding or NUL byte", scheme=scheme)
    if not path.startswith("/"):
        return UriTarget("rejected", reason="file URI without an absolute path", scheme=scheme)
    return UriTarget("file", path=path, scheme=scheme)


def _decode(text: str) -> str | None:
    raw = unquote_to_bytes(text)
    if b"\x00" in raw:
        return None
    return os.fsdecode(raw)


def normalise(path: str) -> str:
    """Absolute, ``.``/``..``/``//`` collapsed lexically (POSIX keeps a leading ``//``; we don't)."""
    absolute = os.path.abspath(path)
    normal = posixpath.normpath(absolute) if os.sep == "/" else os.path.normpath(absolute)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    return normal
