"""Which code the replay retypes: real files from installed packages, lines picked by seed.

Each source is a copy of a file from an installed codebase with its own style (tabs, typed
spaces, untyped, JavaScript), so the benchmark is not tuned to one house style. A target is
the rest of one line from its first non-blank character: it is removed from the document and
typed back key by key. Lines with secret-shaped text are never picked (the report and the
prompts must stay clean even on a machine whose packages hold one).
"""

from __future__ import annotations

import random
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, replace
from pathlib import Path

from slm_lsp.privacy.redactor import redact

SITE = Path(sysconfig.get_paths()["purelib"])
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Source:
    """One real file and the style it stands for."""

    codebase: str  # short name used in the report
    style: str
    language: str  # LSP language id
    candidates: tuple[Path, ...]  # first existing one is used
    names: tuple[str, ...] = ()  # the codebase's name per candidate, when they differ

    def found(self) -> tuple[str, Path] | None:
        """(codebase name, file) of the first candidate that exists."""
        for index, path in enumerate(self.candidates):
            if path.is_file():
                return (self.names[index] if index < len(self.names) else self.codebase), path
        return None


SOURCES = (
    Source("pathspec", "tabs, typed", "python", (SITE / "pathspec" / "util.py",)),
    Source("packaging", "spaces, typed", "python", (SITE / "packaging" / "specifiers.py",)),
    Source("six", "spaces, untyped", "python", (SITE / "six.py",)),
    Source("npm", "JavaScript", "javascript", (
        ROOT / "editors" / "vscode" / "node_modules" / "vscode-languageclient" / "lib" / "common" / "client.js",
        Path("/usr/lib/node_modules/npm/lib/npm.js"),
        Path("/usr/local/lib/node_modules/npm/lib/npm.js"),
    ), ("vscode-languageclient", "npm", "npm")),
)


@dataclass(frozen=True)
class Target:
    """The rest of one line, removed from ``original`` at ``offset`` and typed back."""

    codebase: str
    language: str
    relpath: str  # inside the workspace
    line: int  # 0-based
    offset: int  # where the cursor is when typing starts
    typed: str  # what the user types (no newline)
    original: str = ""

    @property
    def document(self) -> str:
        """The file as it is when typing starts: the target cut out."""
        return self.original[: self.offset] + self.original[self.offset + len(self.typed) :]


def _eligible(line: str, min_chars: int, max_chars: int) -> bool:
    body = line.strip()
    if not (min_chars <= len(body) <= max_chars) or not line[:1].isspace():
        return False  # inside a body only: top-level lines are mostly imports and headers
    if body.startswith(("#", "//", "/*", "*", '"""', "'''")) or body in ("else:", "try:", "});"):
        return False
    return redact(line).clean


def _inside_docstrings(lines: list[str]) -> set[int]:
    """Indexes of lines inside triple-quoted strings or JS block comments: prose and doctest
    examples, not code a user types with completion."""
    inside, state = set(), None
    for index, line in enumerate(lines):
        if state is not None:
            inside.add(index)
        for quote in ('"""', "'''", "/*", "*/"):
            count = line.count(quote)
            if quote in ("/*", "*/"):
                if quote == "/*" and count and "*/" not in line[line.rfind("/*"):]:
                    state = state or "/*"
                elif quote == "*/" and count and state == "/*":
                    state = None
                continue
            if count % 2 and state in (None, quote):
                state = None if state == quote else quote
        if state is not None:
            inside.add(index)
    return inside


def pick_targets(source: Source, text: str, relpath: str, count: int, rng: random.Random,
                 *, min_chars: int = 12, max_chars: int = 40) -> list[Target]:
    """``count`` distinct eligible lines of ``text``, chosen by ``rng``, in file order."""
    lines = text.splitlines(keepends=True)
    starts, position = [], 0
    for line in lines:
        starts.append(position)
        position += len(line)
    prose = _inside_docstrings(lines)
    eligible = [i for i, line in enumerate(lines)
                if i not in prose and _eligible(line.rstrip("\r\n"), min_chars, max_chars)]
    chosen = sorted(rng.sample(eligible, min(count, len(eligible))))
    targets = []
    for index in chosen:
        line = lines[index].rstrip("\r\n")
        indent = len(line) - len(line.lstrip())
        targets.append(Target(source.codebase, source.language, relpath, index, starts[index] + indent,
                              line[indent:].rstrip(), text))
    return targets


def make_workspace(directory: Path, sources: tuple[Source, ...] = SOURCES) -> list[tuple[Source, str, str]]:
    """Copy each available source into its own git repository under ``directory``.

    Returns (source, path relative to ``directory``, text) for the sources found."""
    found = []
    for source in sources:
        found_file = source.found()
        if found_file is None:
            print(f"replay: no file for {source.codebase} ({source.style}); skipped", file=sys.stderr)
            continue
        name, path = found_file
        source = replace(source, codebase=name)
        repo = directory / name
        repo.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        text = path.read_text(encoding="utf-8")
        (repo / path.name).write_text(text, encoding="utf-8")
        found.append((source, f"{source.codebase}/{path.name}", text))
    return found
