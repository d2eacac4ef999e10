"""The one place where code actions meet the privacy gate (``slm_lsp.privacy``).

Every action first asks ``check_uri`` and offers nothing for an excluded document; every
piece of document text is admitted (redacted; GateError for an excluded source) and the
pieces pass ``final_check`` before they are tokenized; everything shown or written to disk
passes ``scan_output``. The server's gate is ``ls.gate``: ``gate_for`` is the single
function to change if the server keeps it elsewhere. Until the server has one, a
``PrivacyGate`` over the workspace folders is made once per server; the CLI makes its own
with ``make_gate``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

log = logging.getLogger(__name__)


class Gate(Protocol):
    """What actions need from ``slm_lsp.privacy.PrivacyGate``."""

    def check_uri(self, uri: str) -> Any: ...  # -> PathDecision (.excluded, .rule)

    def admit(self, piece: Any) -> Any: ...  # PromptPiece -> admitted PromptPiece

    def admit_document(self, text: str, cursor: int, source: Any, *, kinds: tuple[str, str]) -> tuple[Any, Any]: ...

    def narrow(self, piece: Any, start: int, end: int | None = None) -> Any: ...

    def final_check(self, pieces: Iterable[Any]) -> None: ...

    def scan_output(self, text: str, *, redact_secrets: bool = False) -> str | None: ...


def gate_for(ls: Any) -> Gate:
    """The server's privacy gate (``ls.gate``); a gate made once from the workspace folders otherwise."""
    gate = getattr(ls, "gate", None)
    if gate is not None:
        return gate
    fallback = getattr(ls, "_slm_actions_gate", None)
    if fallback is None:
        fallback = make_gate(workspace_roots(ls))
        ls._slm_actions_gate = fallback
    return fallback


def make_gate(roots: Iterable[Path]) -> Gate:
    """A privacy gate over the workspace folders ``roots`` (none: each file's own work tree)."""
    from slm_lsp.privacy import PrivacyGate

    return PrivacyGate([Path(root) for root in roots])


def workspace_roots(ls: Any) -> list[Path]:
    """The workspace folders of a pygls server as paths (none when the client sent none)."""
    roots: list[Path] = []
    try:
        workspace = ls.workspace
        uris = [folder.uri for folder in workspace.folders.values()] or (
            [workspace.root_uri] if workspace.root_uri else []
        )
    except (AttributeError, RuntimeError):
        return roots
    for uri in uris:
        path = path_from_uri(uri)
        if path is not None:
            roots.append(path)
    return roots


def path_from_uri(uri: str) -> Path | None:
    """The real path of a ``file:`` URI; None for any other scheme."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(os.path.realpath(url2pathname(unquote(parsed.path))))


def excluded(gate: Gate, uri: str) -> tuple[bool, str | None]:
    """Whether the gate excludes ``uri`` and by which rule. Fails closed on a gate error."""
    try:
        decision = gate.check_uri(uri)
    except Exception as exc:  # noqa: BLE001 - an unreadable decision means "excluded"
        log.warning("privacy gate could not decide on a document (%s): treating it as excluded", type(exc).__name__)
        return True, "gate error"
    return bool(decision.excluded), getattr(decision, "rule", None)


def admit(gate: Gate, text: str, source: str, kind: str) -> Any:
    """``text`` as the gate lets it into a prompt (secrets redacted); raises GateError if excluded."""
    from slm_lsp.privacy import PromptPiece

    return gate.admit(PromptPiece(text=text, source=source, kind=kind))


def admit_span(gate: Gate, text: str, start: int, end: int, source: str, kind: str) -> Any:
    """``text[start:end]`` admitted as part of the whole ``text``: the gate redacts the whole
    document and maps the offsets, so a secret that the span's edges cut is still recognised."""
    head, _ = gate.admit_document(text, start, source, kinds=(kind, kind))
    upto, _ = gate.admit_document(text, end, source, kinds=(kind, kind))
    return gate.narrow(upto, min(len(head.text), len(upto.text)))


def shorten(gate: Gate, piece: Any, length: int) -> Any:
    """An admitted piece cut to its first ``length`` characters, still admitted."""
    return gate.narrow(piece, 0, length)


def final_check(gate: Gate, pieces: Iterable[Any]) -> None:
    """The gate's last check before the pieces are tokenized (GateError if any is not admitted)."""
    gate.final_check(list(pieces))


def scan_output(gate: Gate, text: str, *, prose: bool = True) -> str:
    """Model output as it may be shown or written; "" when the gate drops it.

    Prose (explanations, docstrings) keeps its words with secret-shaped strings replaced;
    code (a suggested fix) that contains one is dropped whole.
    """
    if not text:
        return text
    return gate.scan_output(text, redact_secrets=prose) or ""
