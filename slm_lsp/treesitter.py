"""One per-thread tree-sitter parser cache for every stage that parses code.

Parsers are not thread-safe and several threads parse (the indexer, the model worker), so
each thread keeps its own parser per grammar. Grammars come from
tree-sitter-language-pack 0.13 (inside its wheel, so this works offline); a grammar the
pack lacks is remembered as missing and costs nothing afterwards.
"""

from __future__ import annotations

import threading

from tree_sitter import Parser

_local = threading.local()
_UNAVAILABLE: set[str] = set()


def parser_for(grammar: str) -> Parser | None:
    """This thread's parser for ``grammar``, or None when the language pack has no such grammar."""
    cache: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    parser = cache.get(grammar)
    if parser is None and grammar not in _UNAVAILABLE:
        try:
            from tree_sitter_language_pack import get_parser

            parser = get_parser(grammar)  # type: ignore[arg-type]
        except (LookupError, ValueError, ImportError, OSError):
            _UNAVAILABLE.add(grammar)
            return None
        cache[grammar] = parser
    return parser
