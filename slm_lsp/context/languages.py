"""Which tree-sitter grammar reads a file: from its name, its content, or the editor's languageId.

The context engine indexes the languages whose imports it can resolve (``INDEXED``). Any
other grammar in tree-sitter-language-pack is still useful for cutting the current file at
statement boundaries, so ``grammar_for_language_id`` maps the editor's ids to grammar names
more widely than the indexer uses them.
"""

from __future__ import annotations

import re
from pathlib import Path

INDEXED: frozenset[str] = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"})

_BY_SUFFIX: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".ipp": "cpp", ".inl": "cpp",
}

_BY_LANGUAGE_ID: dict[str, str] = {
    "python": "python", "javascript": "javascript", "javascriptreact": "javascript",
    "typescript": "typescript", "typescriptreact": "tsx", "go": "go", "rust": "rust", "java": "java",
    "c": "c", "cpp": "cpp", "cuda-cpp": "cpp", "objective-c": "objc", "csharp": "csharp", "ruby": "ruby",
    "php": "php", "kotlin": "kotlin", "swift": "swift", "scala": "scala", "lua": "lua",
    "shellscript": "bash", "bash": "bash", "sh": "bash", "zig": "zig", "dart": "dart", "elixir": "elixir",
    "haskell": "haskell", "ocaml": "ocaml", "r": "r", "julia": "julia", "perl": "perl",
}

# Interpreter names in a shebang line (after /usr/bin/env, versions stripped).
_BY_INTERPRETER: dict[str, str] = {
    "python": "python", "pypy": "python", "node": "javascript", "nodejs": "javascript", "deno": "typescript",
    "bun": "javascript", "ts-node": "typescript", "tsx": "typescript",
}

_SHEBANG = re.compile(r"#!\s*(\S+)(?:\s+(?:-\S+\s+)*(\S+))?")
# A C header is read as C++ when it uses constructs C does not have.
_CPP_MARKERS = re.compile(r"^\s*(?:class\s+\w+\s*[:{]|namespace\s+\w*\s*\{|template\s*<)|\w::\w", re.MULTILINE)


def grammar_for_path(path: Path | str, head: str | None = None) -> str | None:
    """The indexed grammar for a file, from its suffix, else from ``head`` (its first bytes).

    ``.h`` files are C unless their content shows C++; extension-less scripts are
    recognised by their shebang.
    """
    name = Path(path).name
    suffix = Path(name).suffix.lower()
    grammar = _BY_SUFFIX.get(suffix)
    if grammar == "c" and suffix == ".h" and head is not None and _CPP_MARKERS.search(head):
        return "cpp"
    if grammar is None and head is not None and not suffix:
        return grammar_from_shebang(head)
    return grammar


def grammar_from_shebang(head: str) -> str | None:
    """The grammar named by a ``#!`` line such as ``#!/usr/bin/env python3``."""
    match = _SHEBANG.match(head)
    if match is None:
        return None
    program = match.group(1).rsplit("/", 1)[-1]
    if program == "env" and match.group(2):
        program = match.group(2).rsplit("/", 1)[-1]
    program = re.sub(r"[\d.]+$", "", program)
    return _BY_INTERPRETER.get(program)


def grammar_for_language_id(language_id: str | None) -> str | None:
    """The tree-sitter grammar name for an LSP languageId (the id itself when it names one)."""
    if not language_id:
        return None
    return _BY_LANGUAGE_ID.get(language_id, language_id)


def needs_head(path: Path | str) -> bool:
    """Whether ``grammar_for_path`` needs the file's content to decide (``.h``, no suffix)."""
    suffix = Path(path).suffix.lower()
    return suffix in ("", ".h")


def family(grammar: str) -> str:
    """Grammars that share one namespace of definitions (a .ts file imports a .js file, .c a .h)."""
    if grammar in ("javascript", "typescript", "tsx"):
        return "js"
    if grammar in ("c", "cpp"):
        return "c"
    return grammar
