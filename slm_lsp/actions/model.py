"""The model code actions run on: the ``actionsModel`` setting's instruct model, or the completion model.

A base coder model completes code well and explains it badly (the embedded Gemma 3 270M
answers "Fizz", "Fizz", … about a fizzbuzz); a small instruct model with a chat template in its
GGUF explains fluently. ``actionsModel`` names one (a path or a catalog name, from user-level
sources only, like ``model``). It is loaded on the first action, not at start-up, so users who
never ask for an explanation pay nothing, and closed again after ``actionsIdleSeconds`` without
an action so its memory goes back to the machine. Without the setting, actions use the
completion model and its completion-style prompts, as before. A model whose GGUF has no chat
template (a base completion model named here) is still used, with completion-style prompts, and
the log says so once per load: the catalog's role "actions" entries are the ones made for this.

Every method runs on the model worker thread (``CompletionService.run``), which owns llama.cpp:
loading, using and closing never race.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slm_lsp.actions.prompts import chat_template
from slm_lsp.config.settings import Settings
from slm_lsp.engine.local_engine import Engine
from slm_lsp.models.source import choose_model, materialise

log = logging.getLogger(__name__)

ACTIONS_CONTEXT = 4096  # tokens: a selection, its context and an answer


class ActionsModel:
    """Lazily loaded engine for code actions, closed when idle."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._value: str | None = None  # the actionsModel setting the engine was loaded for
        self._last_used = 0.0
        self.load_ms: float | None = None  # set when the last engine_for call had to load the model

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def engine_for(self, settings: Settings, completion_engine: Any) -> Any:
        """The engine an action should use now; loads the actions model on first use.

        Raises ModelFileError (with the file and what is wrong) when the setting names a
        model that cannot be used.
        """
        value = settings.actions_model
        self.load_ms = None
        if value is None:
            self.close()
            return completion_engine
        if self._engine is not None and self._value != value:
            self.close()
        if self._engine is None:
            started = time.perf_counter()
            path = materialise(choose_model(value))
            self._engine = Engine.load(path, n_ctx=ACTIONS_CONTEXT, n_threads=settings.n_threads,
                                       n_batch=settings.n_batch, n_gpu_layers=settings.n_gpu_layers)
            self._value = value
            self.load_ms = round((time.perf_counter() - started) * 1000, 1)
            log.info("actions model %s loaded in %.0f ms", self._engine.name, self.load_ms)
            if chat_template(self._engine) is None:
                log.warning("actions model %s has no chat template, so actions use completion-style prompts; "
                            "an instruct model (role 'actions' in `slm-lsp models list`) explains better", self._engine.name)
        self._last_used = time.monotonic()
        return self._engine

    def close_if_idle(self, idle_seconds: float) -> bool:
        """Close the engine when no action used it for ``idle_seconds``; True if it was closed."""
        if self._engine is None or time.monotonic() - self._last_used < idle_seconds:
            return False
        log.info("actions model %s closed after %.0f s without an action", self._engine.name, idle_seconds)
        self.close()
        return True

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
            self._value = None
