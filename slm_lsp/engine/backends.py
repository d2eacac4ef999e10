"""Model backends: llama.cpp in this process (default), or an OpenAI-compatible server.

Both satisfy ``CompletionEngine`` (interface), so the pipeline — gate, context, prompt,
post-processing — is the same whichever one generates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from slm_lsp.config.settings import Settings
from slm_lsp.engine.interface import CompletionEngine
from slm_lsp.engine.local_engine import Engine
from slm_lsp.engine.remote_engine import Notify, RemoteEngine

__all__ = ["CompletionEngine", "Notify", "describe", "load_engine"]


def load_engine(
    settings: Settings, path: Path, report: Callable[[str, float | None], None], notify: Notify
) -> CompletionEngine:
    """The engine ``settings.backend`` asks for, over the GGUF at ``path``.

    Raises ModelFileError with a clear message when the file cannot be used.
    """
    if settings.backend == "openai":
        return RemoteEngine(path, settings, notify)
    engine = Engine.load(
        path, n_ctx=settings.context_size(), n_threads=settings.n_threads, n_batch=settings.n_batch,
        n_gpu_layers=settings.n_gpu_layers,
    )
    if settings.adaptive_budgets:
        report("measuring speed", 0.9)
        engine.probe_speed()
    return engine


def describe(engine: CompletionEngine) -> dict[str, object]:
    """The ``backend`` field of slm/status."""
    if isinstance(engine, RemoteEngine):
        return engine.status()
    return {"name": "local"}
