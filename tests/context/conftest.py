"""Fixtures for the context-engine tests: tmp workspaces, a tokenizer, a started engine."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from slm_lsp.context import ContextEngine, ContextResult
from slm_lsp.privacy import PrivacyGate
from slm_lsp.privacy.gate import PathLike

_TOKEN = re.compile(r"[A-Za-z0-9_]+|\s+|[^\sA-Za-z0-9_]")


def regex_count(text: str) -> int:
    """A stand-in tokenizer: words, runs of whitespace and single punctuation marks."""
    return len(_TOKEN.findall(text))


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def cursor_at(text: str, marker: str = "<|>") -> tuple[str, int]:
    """Remove ``marker`` from ``text`` and return the text and the marker's offset."""
    offset = text.index(marker)
    return text.replace(marker, "", 1), offset


class RecordingGate(PrivacyGate):
    """The real privacy gate, noting every file the index asks it to read."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.reads: list[Path] = []

    def read_text(self, path: PathLike) -> str | None:
        self.reads.append(Path(path))
        return super().read_text(path)


class Workspace:
    """A started ContextEngine over a tmp directory, with helpers to ask for context."""

    def __init__(self, root: Path, engine: ContextEngine, gate: RecordingGate) -> None:
        self.root = root
        self.engine = engine
        self.gate = gate

    def uri(self, name: str) -> str:
        return (self.root / name).resolve().as_uri()

    def assemble(self, name: str, text_with_cursor: str | None = None, *, language: str | None = None,
                 budget: int = 2000, open_document: bool = False, **options: object) -> ContextResult:
        """Context at ``<|>`` in ``text_with_cursor`` (or at the end of the file on disk)."""
        if text_with_cursor is None:
            text = (self.root / name).read_text()
            offset = len(text)
        else:
            text, offset = cursor_at(text_with_cursor)
        if open_document:
            self.engine.document_opened(self.uri(name), text, language)
        result = self.engine.assemble(self.uri(name), text, offset, language, count_tokens=regex_count,
                                      budget_tokens=budget, **options)  # type: ignore[arg-type]
        self.gate.final_check([result.prefix, result.suffix, *result.extras])  # every piece was admitted
        return result

    def extras_text(self, result: ContextResult) -> str:
        return "\n".join(f"@@ {piece.source}\n{piece.text}" for piece in result.extras)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Callable[..., Workspace]]:
    """Factory: ``workspace(files, exclude=(...), **engine_options)`` returns an indexed Workspace."""
    engines: list[ContextEngine] = []

    def make(files: dict[str, str | bytes], exclude: tuple[str, ...] = (), **options: object) -> Workspace:
        root = write_tree(tmp_path / "ws", files)
        gate = RecordingGate([root], exclude=exclude)
        engine = ContextEngine([root], gate, **options)  # type: ignore[arg-type]
        engines.append(engine)
        engine.start_indexing()
        assert engine.wait_until_indexed(30)
        return Workspace(root.resolve(), engine, gate)

    yield make
    for engine in engines:
        engine.shutdown()
