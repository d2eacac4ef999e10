"""What the gate answers about a path or URI, and the error it raises to refuse text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PathDecision:
    """Whether a path (or URI) may be used, and why not.

    ``rule`` is human readable: ``built-in deny list: .env.*``, ``/repo/.gitignore:3:*.log``,
    ``symlink target outside the workspace: /etc``... ``kind`` names the family of the
    deciding rule, for programs: ``allowed``, ``deny-list``, ``gitignore``, ``slmignore``,
    ``config``, ``symlink``, ``uri``, ``untitled``, ``unreadable-ignore-file``,
    ``template``, ``error``. ``notes`` lists what each layer said, for ``explain``.
    """

    path: Path | None
    excluded: bool
    rule: str | None = None
    kind: str = "allowed"
    real_path: Path | None = None
    notes: tuple[str, ...] = ()


class GateError(Exception):
    """Text from an excluded (or unverifiable) source was offered to a prompt.

    The message names the source and the rule, never the text. Callers must treat it as
    "no completion", not retry without the gate.
    """

    def __init__(self, message: str, *, source: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.rule = rule
