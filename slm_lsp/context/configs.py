"""Project files that say how imports map to directories: go.mod, Cargo.toml, tsconfig, package.json.

Go import paths start with the module path from go.mod; Rust crates are named in Cargo.toml;
TypeScript path aliases (``@/components/x``) come from tsconfig/jsconfig ``baseUrl`` and
``paths``; and in a JS monorepo one package imports another by its package.json ``name``.
Each file is read (through the privacy gate, by the indexer) into a small value stored in the
index under its kind and directory.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

GO, CRATE, TSCONFIG, PACKAGE = "go", "crate", "tsconfig", "package"
CONFIG_FILES: dict[str, str] = {
    "go.mod": GO, "Cargo.toml": CRATE, "tsconfig.json": TSCONFIG, "jsconfig.json": TSCONFIG, "package.json": PACKAGE,
}

_GO_MODULE = re.compile(r"^\s*module\s+\"?([^\s\"]+)", re.MULTILINE)
_JSON_NOISE = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.DOTALL)


@dataclass(frozen=True)
class TsPaths:
    """``compilerOptions.baseUrl`` (absolute) and ``paths`` patterns of a tsconfig/jsconfig."""

    base: Path
    paths: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class JsPackage:
    """A workspace package: the name others import it by and its entry file, if declared."""

    name: str
    entry: str | None


def read_config(path: Path, text: str | None) -> tuple[str, object | None]:
    """(kind, value) for a project file; the value is None when it declares nothing usable."""
    kind = CONFIG_FILES[path.name]
    if text is None:
        return kind, None
    if kind == GO:
        match = _GO_MODULE.search(text)
        return kind, match.group(1) if match else None
    if kind == CRATE:
        try:
            package = tomllib.loads(text).get("package", {})
        except tomllib.TOMLDecodeError:
            return kind, None
        return kind, str(package.get("name", path.parent.name)).replace("-", "_")
    data = _jsonc(text)
    if not isinstance(data, dict):
        return kind, None
    if kind == TSCONFIG:
        options = data.get("compilerOptions") or {}
        paths = options.get("paths") or {}
        if not isinstance(paths, dict) or ("baseUrl" not in options and not paths):
            return kind, None
        base = (path.parent / str(options.get("baseUrl", "."))).resolve()
        patterns = tuple((str(key), tuple(str(t) for t in value if isinstance(t, str)))
                         for key, value in paths.items() if isinstance(value, list))
        return kind, TsPaths(base, patterns)
    name = data.get("name")
    if not isinstance(name, str):
        return kind, None
    entry = next((data[key] for key in ("source", "types", "module", "main") if isinstance(data.get(key), str)), None)
    return kind, JsPackage(name, entry)


def _jsonc(text: str) -> object:
    """JSON with comments and trailing commas, as tsconfig files are written."""
    cleaned = _JSON_NOISE.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text)
    try:
        return json.loads(cleaned)
    except ValueError:
        return None
