"""What the workspace index leaves out: vendored trees, generated and minified files.

Vendored and generated code is large, rarely what the user is editing against, and would
crowd the index's fixed memory budget and the ranking; third-party definitions are also
what a model already knows best. These rules are separate from the privacy gate, which
decides what may be *read*; this module decides what is worth indexing among the rest.
"""

from __future__ import annotations

import re

VENDORED_DIRS: frozenset[str] = frozenset({
    "node_modules", "vendor", "third_party", "site-packages", "dist-packages", "dist", "build", "target",
    "__pycache__", "bower_components", "jspm_packages", "Pods", "Carthage", "venv",
})

_GENERATED_NAMES = re.compile(
    r"""(?ix)
    ( \.min\.(js|css|mjs)$ | [.-]bundle\.js$ | \.chunk\.js$ | \.map$
    | (^|[-_.])lock(file)?\.(json|yaml|yml)$ | ^(yarn|poetry|Cargo|Gemfile|composer|Pipfile)\.lock$ | ^go\.sum$
    | _pb2(_grpc)?\.pyi?$ | \.pb\.(go|cc|h)$ | \.pb\.gw\.go$ | _generated\.\w+$ | \.generated\.\w+$
    | \.g\.dart$ | ^zz_generated.*\.go$ | \.d\.ts\.map$ )
    """
)

_GENERATED_MARKERS = re.compile(
    r"(?i)code generated .{0,80}do not edit|@generated\b|auto-?generated (?:file|code|by)|"
    r"this file (?:was|is) (?:automatically )?generated|do not edit (?:this file|manually)"
)
_HEAD_CHARS = 2048
_MINIFIED_SAMPLE = 16384
_MINIFIED_AVERAGE_LINE = 400


def is_skipped_dir(name: str) -> bool:
    """Directories never descended into: vendored trees and hidden ones (.git, .venv, .tox...)."""
    return name.startswith(".") or name in VENDORED_DIRS


def is_generated_name(name: str) -> bool:
    """Files whose name says they are generated, minified or lock files."""
    return _GENERATED_NAMES.search(name) is not None


def is_generated_text(text: str) -> bool:
    """Content that says it is generated ("Code generated ... DO NOT EDIT") or looks minified."""
    if _GENERATED_MARKERS.search(text, 0, _HEAD_CHARS):
        return True
    sample = text[:_MINIFIED_SAMPLE]
    return len(sample) > 4 * _MINIFIED_AVERAGE_LINE and (sample.count("\n") + 1) * _MINIFIED_AVERAGE_LINE < len(sample)
