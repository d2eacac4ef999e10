"""Typed, validated settings shared by the server and the CLI.

Sources, lowest precedence first: built-in defaults, the ``SLM_LSP_MODEL`` environment
variable (for the model only, see model_source), the editor's ``initializationOptions``
(and later ``workspace/didChangeConfiguration``), then command-line flags. A bad value is
rejected with a message naming the key, and the settings in force stay as they were.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the key."""


# The headless commands want reproducible output: no time limits, no machine-dependent budgets.
DETERMINISTIC = {"adaptive_budgets": False, "max_prompt_seconds": 0.0, "max_generation_seconds": 0.0}


@dataclass(frozen=True)
class Settings:
    """Everything a user can tune; defaults suit a 2-core laptop and a small coder model."""

    model: str | None = None  # path to a GGUF file; None = SLM_LSP_MODEL or the embedded default
    n_ctx: int = 4096  # context window allocated in llama.cpp (tokens)
    n_threads: int | None = None  # None = all cores
    max_tokens_single: int = 48  # generation budget when completing the rest of a line
    max_tokens_multi: int = 128  # generation budget when completing a block
    prompt_tokens: int = 1536  # budget for prefix + suffix + other files, in model tokens
    suffix_ratio: float = 0.25  # share of the prompt budget given to the text after the cursor
    ready_wait_seconds: float = 2.0  # how long a request waits for a model still loading
    n_batch: int = 512  # tokens per llama.cpp batch during prompt evaluation
    n_gpu_layers: int = 0  # layers offloaded to a GPU, if llama.cpp was built with one
    adaptive_budgets: bool = True  # shrink generation to fit latencyTargetMs at the measured speed
    latency_target_ms: int = 1000  # what a warm completion should take
    max_prompt_seconds: float = 20.0  # stop prompt evaluation after this (0 = no limit); it resumes next time
    max_generation_seconds: float = 4.0  # stop generating after this (0 = no limit), keeping whole lines
    result_cache_size: int = 256  # completions remembered by exact prompt
    completion_fallback: bool = False  # also answer textDocument/completion (clients without inline completion)

    def replace(self, overrides: Mapping[str, Any]) -> Settings:
        """Return new settings with ``overrides`` (camelCase or snake_case keys) validated."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            name = _snake(key)
            if name not in fields:
                raise SettingsError(f"unknown setting '{key}'")
            values[name] = _validate(name, value)
        updated = dataclasses.replace(self, **values)
        if updated.prompt_tokens + max(updated.max_tokens_single, updated.max_tokens_multi) > updated.n_ctx:
            raise SettingsError(
                f"setting 'promptTokens' ({updated.prompt_tokens}) plus the generation budget "
                f"must fit in 'nCtx' ({updated.n_ctx})"
            )
        return updated


_POSITIVE_INTS = {
    "n_ctx", "max_tokens_single", "max_tokens_multi", "prompt_tokens", "n_batch", "latency_target_ms",
    "result_cache_size",
}


def _validate(name: str, value: Any) -> Any:
    camel = _camel(name)
    if name == "model":
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"setting '{camel}' must be a file path string")
        return value or None
    if name == "n_threads":
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SettingsError(f"setting '{camel}' must be a positive integer or null")
        return value
    if name in _POSITIVE_INTS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SettingsError(f"setting '{camel}' must be a positive integer, got {value!r}")
        return value
    if name == "suffix_ratio":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 0.9:
            raise SettingsError(f"setting '{camel}' must be a number between 0 and 0.9, got {value!r}")
        return float(value)
    if name == "n_gpu_layers":
        if not isinstance(value, int) or isinstance(value, bool) or value < -1:
            raise SettingsError(f"setting '{camel}' must be an integer (-1 = all layers), got {value!r}")
        return value
    if name in ("adaptive_budgets", "completion_fallback"):
        if not isinstance(value, bool):
            raise SettingsError(f"setting '{camel}' must be true or false")
        return value
    if name in ("max_prompt_seconds", "max_generation_seconds"):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 3600.0:
            raise SettingsError(f"setting '{camel}' must be a number of seconds (0 = no limit)")
        return float(value)
    if name == "ready_wait_seconds":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 60.0:
            raise SettingsError(f"setting '{camel}' must be a number of seconds between 0 and 60")
        return float(value)
    raise SettingsError(f"unknown setting '{camel}'")  # pragma: no cover - fields are listed above


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
