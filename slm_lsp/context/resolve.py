"""From an import as written to the workspace files (and names) it refers to.

Resolution uses only the index (which files exist, what go.mod, Cargo.toml, tsconfig.json and
package.json declare), never the disk, so a request costs dictionary lookups. Each language
follows its own rules: Python dotted and relative modules (``pkg/__init__.py`` re-exports
followed), JS/TS relative specifiers with extension and ``index`` probing (``./y.js`` may be
``y.ts``), tsconfig ``paths``/``baseUrl`` aliases and workspace packages imported by name, Go
import paths under the go.mod module path, Rust ``crate::``/``self::``/``super::`` paths and
``mod`` declarations, Java packages, and C/C++ quoted includes relative to the includer or a root.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from slm_lsp.context.configs import CRATE, GO, PACKAGE, TSCONFIG, TsPaths
from slm_lsp.context.imports import ImportRef
from slm_lsp.context.index import FileRecord, WorkspaceIndex
from slm_lsp.context.languages import family
from slm_lsp.context.symbols import Symbol

_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_JS_SWAPS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_C_INCLUDE_DIRS = ("", "include", "src", "inc")
_MAX_HOPS = 3
_MAX_REEXPORT_HOPS = 2
_PACKAGE_FILES = frozenset({"__init__", "index", "mod", "lib"})
_MEMO_SIZE = 20_000
_T = TypeVar("_T")


@dataclass(frozen=True)
class Target:
    """A file an import brings in, and how the importing file refers to its definitions.

    ``names`` are (name in the target, local name) pairs; with none, the whole module is
    available, qualified by ``qualifier`` or, when ``wildcard``, unqualified.
    """

    path: Path
    names: tuple[tuple[str, str], ...] = ()
    qualifier: str | None = None
    wildcard: bool = False


class Resolver:
    """Resolves imports against one WorkspaceIndex, remembering answers until the index changes.

    Consecutive requests (keystrokes) resolve the same imports against an index that rarely
    changed in between, so answers are kept per index generation.
    """

    def __init__(self, index: WorkspaceIndex, roots: Sequence[Path]) -> None:
        self.index = index
        self.roots = list(roots)
        self._generation = -1
        self._memo: dict[tuple[object, ...], tuple[object, ...]] = {}

    def _remembered(self, key: tuple[object, ...], compute: Callable[[], list[_T]]) -> list[_T]:
        if self._generation != self.index.generation or len(self._memo) > _MEMO_SIZE:
            self._memo = {}
            self._generation = self.index.generation
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = tuple(compute())
        return list(hit)  # type: ignore[arg-type]

    def resolve(self, imp: ImportRef, importer: Path | None, grammar: str) -> list[Target]:
        """The workspace files ``imp`` (written in ``importer``) refers to; [] when outside."""
        return self._remembered(("resolve", imp, importer, grammar), lambda: self._resolve(imp, importer, grammar))

    def _resolve(self, imp: ImportRef, importer: Path | None, grammar: str) -> list[Target]:
        kind = family(grammar)
        if kind == "python":
            return self._python(imp, importer)
        if kind == "js":
            return self._js(imp, importer)
        if kind == "go":
            return self._go(imp, importer)
        if kind == "rust":
            return self._rust(imp, importer)
        if kind == "java":
            return self._java(imp)
        if kind == "c":
            return self._c(imp, importer)
        return []

    def siblings(self, importer: Path | None, grammar: str, package: str | None) -> list[Path]:
        """Files sharing the importer's namespace without importing: a Go package, a Java package."""
        if importer is None:
            return []
        if grammar == "go":
            return [p for p in self.index.files_in(importer.parent)
                    if p != importer and p.suffix == ".go" and not p.name.endswith("_test.go")]
        if grammar == "java" and package:
            return [p for p in self._java_package(package) if p != importer]
        return []

    def definitions(self, path: Path, name: str, hops: int = 0) -> list[tuple[FileRecord, Symbol]]:
        """Where ``name`` as exported by ``path`` is defined, following re-exports a few hops.

        ``pkg/__init__.py`` doing ``from .core import Engine``, ``index.ts`` doing
        ``export * from './core'``, a header including another: the name is looked up where the
        re-export points.
        """
        return self._remembered(("definitions", path, name, hops), lambda: self._definitions(path, name, hops))

    def _definitions(self, path: Path, name: str, hops: int) -> list[tuple[FileRecord, Symbol]]:
        record = self.index.get(path)
        if record is None:
            return []
        if name == "default" and record.facts.default_export:
            name = record.facts.default_export
        top = [(record, s) for s in record.symbols if s.name == name and s.container is None]
        if top:
            return top
        if hops >= _MAX_HOPS:
            return []
        for imp in record.facts.imports:
            original = next((orig for orig, local in imp.names if local == name), None)
            if original is None and not imp.wildcard:
                continue
            for target in self.resolve(imp, path, record.grammar):
                if target.path == path:
                    continue
                found = self.definitions(target.path, original or name, hops + 1)
                if found:
                    return found
        return [(record, s) for s in record.symbols if s.name == name]

    def exports(self, path: Path) -> list[tuple[FileRecord, Symbol]]:
        """What a module makes available: its public definitions, then what it re-exports.

        Wildcard imports (``export * from``, ``from .x import *``, nested ``#include``) are
        followed two hops; named imports only in package files (``__init__.py``, ``index.ts``,
        ``mod.rs``), where importing a name is how a package exports it.
        """
        return self._remembered(("exports", path), lambda: list(self._exports(path, 0)))

    def _exports(self, path: Path, hops: int) -> Iterator[tuple[FileRecord, Symbol]]:
        record = self.index.get(path)
        if record is None:
            return
        yield from ((record, s) for s in record.symbols if s.container is None and s.public)
        if hops >= _MAX_REEXPORT_HOPS:
            return
        package_file = path.stem in _PACKAGE_FILES
        for imp in record.facts.imports:
            if not (imp.wildcard or (package_file and imp.names)):
                continue
            for target in self.resolve(imp, path, record.grammar):
                if target.path == path:
                    continue
                if target.names:
                    for original, _local in target.names:
                        yield from self.definitions(target.path, original)
                elif target.wildcard:
                    yield from self._exports(target.path, hops + 1)

    # -- Python --------------------------------------------------------------------------------

    def _python(self, imp: ImportRef, importer: Path | None) -> list[Target]:
        parts = [part for part in imp.module.split(".") if part]
        if imp.level:
            if importer is None:
                return []
            base = importer.parent
            for _ in range(imp.level - 1):
                base = base.parent
            module = self._python_at(base, parts)
        else:
            base = Path()
            module = self._python_absolute(parts, importer)
        if not imp.names:
            if module is None:
                return []
            return [Target(module, wildcard=imp.wildcard, qualifier=None if imp.wildcard else imp.alias)]
        targets: list[Target] = []
        for name, local in imp.names:
            if module is not None and self._defines(module, name):
                targets.append(Target(module, ((name, local),)))
                continue
            if imp.level:
                submodule = self._python_at(base, [*parts, name])
            else:
                submodule = self._python_absolute([*parts, name], importer) if parts else None
            if submodule is not None:
                targets.append(Target(submodule, qualifier=local))
            elif module is not None:
                targets.append(Target(module, ((name, local),)))
        return targets

    def _python_at(self, base: Path, parts: list[str]) -> Path | None:
        """Module ``parts`` below directory ``base``: ``a/b.py``, ``a/b.pyi`` or ``a/b/__init__.py``."""
        target = base.joinpath(*parts) if parts else base
        candidates = [target / "__init__.py", target / "__init__.pyi"]
        if parts:
            candidates[:0] = [target.with_name(target.name + ".py"), target.with_name(target.name + ".pyi")]
        return next((c for c in candidates if c in self.index), None)

    def _python_absolute(self, parts: list[str], importer: Path | None) -> Path | None:
        """The indexed file for dotted module ``parts`` under any source root, nearest the importer."""
        if not parts:
            return None
        matches = []
        wanted = tuple(parts)
        for path in self.index.modules_named(parts[-1]):
            name = path.name
            stem, _, suffix = name.rpartition(".")
            if suffix not in ("py", "pyi"):
                continue
            directories = path.parts[:-1]  # (``parts`` is cached on the indexed Path)
            module_parts = directories if stem == "__init__" else (*directories, stem)
            if module_parts[-len(wanted):] == wanted:
                matches.append(path)
        return _nearest(matches, importer)

    def _defines(self, path: Path, name: str) -> bool:
        record = self.index.get(path)
        if record is None:
            return False
        return any(s.name == name for s in record.symbols) or any(
            local == name for imp in record.facts.imports for _, local in imp.names)

    # -- JavaScript / TypeScript ---------------------------------------------------------------

    def _js(self, imp: ImportRef, importer: Path | None) -> list[Target]:
        if importer is None:
            return []
        if imp.module.startswith("."):
            module = self._js_file(_normal(importer.parent / imp.module))
        else:
            module = self._js_alias(imp.module, importer) or self._js_package(imp.module)
        if module is None:
            return []
        if imp.names:
            return [Target(module, imp.names)]
        return [Target(module, qualifier=imp.alias, wildcard=imp.wildcard)]

    def _js_alias(self, specifier: str, importer: Path) -> Path | None:
        """A tsconfig/jsconfig ``paths`` alias (``@/x`` -> ``src/x``) or a ``baseUrl``-relative path."""
        found = self.index.config_for(TSCONFIG, importer)
        if found is None:
            return None
        config: TsPaths = found[1]
        for pattern, replacements in config.paths:
            head, star, tail = pattern.partition("*")
            if not (specifier.startswith(head) and specifier.endswith(tail) and len(specifier) >= len(head + tail)):
                continue
            if not star and specifier != pattern:
                continue
            middle = specifier[len(head) : len(specifier) - len(tail)]
            for replacement in replacements:
                module = self._js_file(_normal(config.base / replacement.replace("*", middle, 1)))
                if module is not None:
                    return module
        return self._js_file(_normal(config.base / specifier))

    def _js_package(self, specifier: str) -> Path | None:
        """A package of this workspace imported by its package.json name (monorepos)."""
        parts = specifier.split("/")
        size = 2 if specifier.startswith("@") else 1
        name, subpath = "/".join(parts[:size]), "/".join(parts[size:])
        root, package = next(((r, p) for r, p in self.index.configs(PACKAGE) if p.name == name), (None, None))
        if root is None or package is None:
            return None
        if subpath:
            return self._js_file(_normal(root / subpath)) or self._js_file(_normal(root / "src" / subpath))
        entries = [root / package.entry] if package.entry else []
        return next((m for m in (self._js_file(_normal(e)) for e in [*entries, root / "src" / "index", root / "index"])
                     if m is not None), None)

    def _js_file(self, base: Path) -> Path | None:
        candidates = [base]
        swaps = _JS_SWAPS.get(base.suffix, ())
        candidates += [base.with_suffix(ext) for ext in swaps]
        candidates += [base.with_name(base.name + ext) for ext in _JS_EXTENSIONS]
        candidates += [base / f"index{ext}" for ext in _JS_EXTENSIONS]
        return next((c for c in candidates if c in self.index), None)

    # -- Go ------------------------------------------------------------------------------------

    def _go(self, imp: ImportRef, importer: Path | None) -> list[Target]:
        module = self.index.config_for(GO, importer) if importer is not None else None
        candidates = [module] if module is not None else []
        candidates += self.index.configs(GO)
        for directory, module_path in candidates:
            if imp.module == module_path or imp.module.startswith(module_path + "/"):
                package_dir = directory / imp.module[len(module_path):].lstrip("/")
                files = [p for p in self.index.files_in(package_dir)
                         if p.suffix == ".go" and not p.name.endswith("_test.go")]
                return [Target(p, qualifier=None if imp.wildcard else imp.alias, wildcard=imp.wildcard)
                        for p in files]
        return []

    # -- Rust ----------------------------------------------------------------------------------

    def _rust(self, imp: ImportRef, importer: Path | None) -> list[Target]:
        if importer is None:
            return []
        crate = self.index.config_for(CRATE, importer)
        if crate is None:
            return []
        src = crate[0] / "src"
        current = _rust_module_of(importer, src)
        if current is None:
            return []
        if imp.mod_decl:
            module = self._rust_module_file(src, [*current, imp.module])
            return [Target(module, qualifier=imp.alias)] if module is not None else []
        segments = imp.module.split("::") if imp.module else []
        if not segments:
            return []
        head, rest = segments[0], segments[1:]
        shortest = 0
        if head == "crate":
            path = rest
        elif head == "self":
            path = [*current, *rest]
        elif head == "super":
            path = list(current[:-1])
            while rest and rest[0] == "super":
                path, rest = path[:-1], rest[1:]
            path += rest
        else:
            other = next((root for root, name in self.index.configs(CRATE) if name == head), None)
            if other is not None:
                src, path = other / "src", rest
            else:  # a module of the crate root used without ``crate::``; else an external crate
                path, shortest = segments, 1
        for cut in range(len(path), shortest - 1, -1):
            module = self._rust_module_file(src, path[:cut])
            if module is None:
                continue
            if not imp.names:
                return [Target(module, qualifier=imp.alias, wildcard=imp.wildcard)]
            targets = []
            for name, local in imp.names:  # ``use crate::util;`` names a module, not an item
                submodule = self._rust_module_file(src, [*path, name]) if cut == len(path) else None
                targets.append(Target(submodule, qualifier=local) if submodule is not None
                               else Target(module, ((name, local),)))
            return targets
        return []

    def _rust_module_file(self, src: Path, path: Sequence[str]) -> Path | None:
        if not path:
            candidates = [src / "lib.rs", src / "main.rs"]
        else:
            target = src.joinpath(*path)
            candidates = [target.with_name(target.name + ".rs"), target / "mod.rs"]
        return next((c for c in candidates if c in self.index), None)

    # -- Java ----------------------------------------------------------------------------------

    def _java(self, imp: ImportRef) -> list[Target]:
        if imp.wildcard and not imp.static:
            return [Target(p, wildcard=True) for p in self._java_package(imp.module)]
        package, _, type_name = imp.module.rpartition(".") if imp.static else (imp.module, "", "")
        files = self._java_package(package)
        if imp.static:
            owners = [p for p in files if p.stem == type_name]
            return [Target(p, wildcard=True) if imp.wildcard else Target(p, imp.names) for p in owners]
        targets = []
        for name, local in imp.names:
            owner = next((p for p in files if p.stem == name), None) or next(
                (p for p in files if self._defines(p, name)), None)
            if owner is not None:
                targets.append(Target(owner, ((name, local),)))
        return targets

    def _java_package(self, package: str) -> list[Path]:
        return [p for p in self.index.package_files(package) if p.suffix == ".java"]

    # -- C / C++ -------------------------------------------------------------------------------

    def _c(self, imp: ImportRef, importer: Path | None) -> list[Target]:
        relative = Path(imp.module)
        candidates: list[Path] = []
        if importer is not None and not imp.system:
            candidates.append(importer.parent / relative)
        for root in self.roots:
            candidates += [root / prefix / relative for prefix in _C_INCLUDE_DIRS]
        for candidate in candidates:
            normal = _normal(candidate)
            if normal in self.index:
                return [Target(normal, wildcard=True)]
        suffix = relative.parts
        matches = [p for p in self.index.files_named(relative.name) if p.parts[-len(suffix):] == suffix]
        best = _nearest(matches, importer)
        return [Target(best, wildcard=True)] if best is not None else []


def _normal(path: Path) -> Path:
    """``a/b/../c`` as ``a/c`` (lexically: indexed paths are already free of symlinks)."""
    return Path(posixpath.normpath(path.as_posix()))


def _rust_module_of(path: Path, src: Path) -> list[str] | None:
    """Module path of a file below ``src``: ``[]`` for lib.rs/main.rs, ``["a", "b"]`` for a/b.rs."""
    try:
        parts = list(path.relative_to(src).parts)
    except ValueError:
        return None
    if parts == ["lib.rs"] or parts == ["main.rs"]:
        return []
    if parts[-1] == "mod.rs":
        return parts[:-1]
    return [*parts[:-1], Path(parts[-1]).stem]


def _nearest(paths: Sequence[Path], near: Path | None) -> Path | None:
    """The path sharing the longest directory prefix with ``near`` (then the shortest)."""
    if not paths:
        return None
    if near is None:
        return min(paths, key=lambda p: (len(p.parts), p))
    def shared(p: Path) -> int:
        count = 0
        for a, b in zip(p.parts, near.parts, strict=False):
            if a != b:
                break
            count += 1
        return count
    return min(paths, key=lambda p: (-shared(p), len(p.parts), p))
