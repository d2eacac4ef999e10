"""LSP language ids for files the CLI reads (editors send their own languageId)."""

from __future__ import annotations

from pathlib import Path

_BY_SUFFIX: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascriptreact", ".ts": "typescript", ".mts": "typescript", ".tsx": "typescriptreact",
    ".go": "go", ".rs": "rust", ".java": "java", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
    ".kt": "kotlin", ".swift": "swift", ".scala": "scala", ".lua": "lua", ".sh": "shellscript",
    ".bash": "shellscript", ".sql": "sql", ".json": "json", ".yaml": "yaml", ".yml": "yaml",
    ".toml": "toml", ".md": "markdown", ".html": "html", ".css": "css",
}


def language_for_path(path: Path) -> str | None:
    """The LSP languageId for ``path`` from its suffix, or None when unknown."""
    return _BY_SUFFIX.get(path.suffix.lower())
