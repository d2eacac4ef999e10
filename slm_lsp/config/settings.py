"""Typed, validated settings shared by the server and the CLI.

Sources, lowest precedence first: built-in defaults, the user config file, the project
file, the editor's ``initializationOptions``, ``workspace/didChangeConfiguration``, then
command-line flags (config_layers). ``SLM_LSP_MODEL`` sits just above the defaults, for
the model only (see model_source). A bad value is rejected with a message naming the key,
and the settings in force stay as they were.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the key."""


# The headless commands want reproducible output: no time limits, no machine-dependent budgets.
DETERMINISTIC = {"adaptive_budgets": False, "max_prompt_seconds": 0.0, "max_generation_seconds": 0.0}


@dataclass(frozen=True)
class Settings:
    """Everything a user can tune; defaults suit a 2-core laptop and a small coder model."""

    model: str | None = None  # path to a GGUF file; None = SLM_LSP_MODEL or the embedded default
    # Context window allocated in llama.cpp (tokens); None = automatic (context_size). Keep it
    # small: shifting cached text after an edit rotates the whole cache, so its cost grows with
    # nCtx (measured for a 1.3B model: ~0.3 s at 2048, ~0.65 s at 4096 per shifted edit).
    n_ctx: int | None = None
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
    # Prefix-only models (no FIM tokens): show them the first lines below the cursor as a comment
    # before the prompt. Off: on HumanEval single-line it tied with the plain prompt (README "Quality")
    # and costs ~50 prompt tokens. FIM models ignore it.
    suffix_extract: bool = False
    # Withhold a suggestion whose least likely kept token has a lower probability than this
    # (0 = show everything). 0.3 measured on held-out HumanEval single-line (README "Quality").
    min_confidence: float = 0.3
    # Prefix-only models, single-line completions with code below: candidate lines (the greedy one
    # plus alternatives) ranked by how well the model predicts that code after each; 1 = greedy only.
    suffix_candidates: int = 4
    completion_fallback: bool = False  # also answer textDocument/completion (clients without inline completion)
    backend: str = "local"  # "local": llama.cpp in-process; "openai": an OpenAI-compatible /v1/completions server
    remote_url: str | None = None  # base URL of that server, e.g. http://127.0.0.1:8080
    remote_model: str | None = None  # the "model" field of each request (vLLM and Ollama need it)
    remote_timeout_seconds: float = 5.0  # per HTTP attempt; one retry, then the local model answers
    remote_api_key_env: str | None = None  # name of the environment variable holding a bearer token
    remote_prompt: str = "tokens"  # send the prompt as token ids ("tokens") or as text ("text")
    # Code actions' own instruct model (path or catalog name), loaded on the first action and
    # closed after actions_idle_seconds without one; None = the completion model.
    actions_model: str | None = None
    actions_idle_seconds: float = 300.0
    # Next-edit suggestions (textDocument/copilotInlineEdit): edit propagation always; with a
    # next-edit model (Zeta, Sweep) also its own prediction. "auto": the format of the loaded
    # model if it is one (catalog entry, GGUF name); "propagation": never run the model;
    # "zeta" / "sweep": use that prompt format whatever the model says it is.
    next_edit_predictor: str = "auto"

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
        if updated.n_ctx is not None and updated.prompt_tokens + updated.generation_budget > updated.n_ctx:
            raise SettingsError(
                f"setting 'promptTokens' ({updated.prompt_tokens}) plus the generation budget "
                f"must fit in 'nCtx' ({updated.n_ctx})"
            )
        if updated.backend == "openai" and updated.remote_url is None:
            raise SettingsError("setting 'remoteUrl' is required when 'backend' is \"openai\"")
        return updated

    @property
    def generation_budget(self) -> int:
        return max(self.max_tokens_single, self.max_tokens_multi)

    def context_size(self) -> int:
        """``nCtx``, or when unset the prompt plus generation budgets rounded up to 256
        tokens, at least 2048: everything a completion needs, and no more (see n_ctx)."""
        if self.n_ctx is not None:
            return self.n_ctx
        needed = self.prompt_tokens + self.generation_budget
        return max(MIN_AUTO_CONTEXT, -(-needed // 256) * 256)

    def as_camel_dict(self) -> dict[str, Any]:
        """The settings in force under their camelCase names (slm/status shows them)."""
        return {_camel(f.name): getattr(self, f.name) for f in dataclasses.fields(self)}


MIN_AUTO_CONTEXT = 2048  # also leaves code actions ("Explain selection") room for a selection

# Changing one of these needs a new engine (the model is loaded again); the others apply at once.
ENGINE_FIELDS = frozenset({
    "model", "n_ctx", "n_threads", "n_batch", "n_gpu_layers", "backend", "remote_url", "remote_model",
    "remote_timeout_seconds", "remote_api_key_env", "remote_prompt",
})


_POSITIVE_INTS = {
    "n_ctx", "max_tokens_single", "max_tokens_multi", "prompt_tokens", "n_batch", "latency_target_ms",
    "result_cache_size",
}


def _validate(name: str, value: Any) -> Any:
    camel = _camel(name)
    if name in ("model", "actions_model"):
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"setting '{camel}' must be a file path string")
        return value or None
    if name == "n_threads":
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SettingsError(f"setting '{camel}' must be a positive integer or null")
        return value
    if name == "n_ctx" and value is None:
        return None  # back to automatic
    if name in _POSITIVE_INTS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SettingsError(f"setting '{camel}' must be a positive integer, got {value!r}")
        return value
    if name == "suffix_candidates":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 8:
            raise SettingsError(f"setting '{camel}' must be a whole number from 1 (greedy line only) to 8, got {value!r}")
        return value
    if name == "min_confidence":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
            raise SettingsError(
                f"setting '{camel}' must be a probability between 0 and 1 (0 shows every suggestion), got {value!r}"
            )
        return float(value)
    if name == "suffix_ratio":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 0.9:
            raise SettingsError(f"setting '{camel}' must be a number between 0 and 0.9, got {value!r}")
        return float(value)
    if name == "n_gpu_layers":
        if not isinstance(value, int) or isinstance(value, bool) or value < -1:
            raise SettingsError(f"setting '{camel}' must be an integer (-1 = all layers), got {value!r}")
        return value
    if name in ("adaptive_budgets", "completion_fallback", "suffix_extract"):
        if not isinstance(value, bool):
            raise SettingsError(f"setting '{camel}' must be true or false")
        return value
    if name in ("max_prompt_seconds", "max_generation_seconds"):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 3600.0:
            raise SettingsError(f"setting '{camel}' must be a number of seconds (0 = no limit)")
        return float(value)
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            allowed = " or ".join(f'"{choice}"' for choice in _CHOICES[name])
            raise SettingsError(f"setting '{camel}' must be {allowed}, got {value!r}")
        return value
    if name == "remote_url":
        return _validate_url(camel, value)
    if name == "remote_model":
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"setting '{camel}' must be a model name string")
        return value or None
    if name == "remote_timeout_seconds":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.1 <= value <= 600.0:
            raise SettingsError(f"setting '{camel}' must be a number of seconds between 0.1 and 600")
        return float(value)
    if name == "remote_api_key_env":
        if value is not None and (not isinstance(value, str) or not _ENV_NAME.fullmatch(value)):
            # The value itself is never echoed: someone may have pasted the key here by mistake.
            raise SettingsError(f"setting '{camel}' must be the name of an environment variable, such as SLM_LSP_API_KEY")
        return value or None
    if name == "actions_idle_seconds":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 1.0 <= value <= 86400.0:
            raise SettingsError(f"setting '{camel}' must be a number of seconds between 1 and 86400")
        return float(value)
    if name == "ready_wait_seconds":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 60.0:
            raise SettingsError(f"setting '{camel}' must be a number of seconds between 0 and 60")
        return float(value)
    raise SettingsError(f"unknown setting '{camel}'")  # pragma: no cover - fields are listed above


_CHOICES: dict[str, tuple[str, ...]] = {
    "backend": ("local", "openai"), "remote_prompt": ("tokens", "text"),
    "next_edit_predictor": ("auto", "propagation", "zeta", "sweep"),
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _validate_url(camel: str, value: Any) -> str | None:
    """A plain http(s) base URL. Credentials and query strings are refused: the URL is shown
    in messages and status, and a key belongs in the variable named by remoteApiKeyEnv."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingsError(f"setting '{camel}' must be a URL string such as http://127.0.0.1:8080")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"setting '{camel}' must be an http:// or https:// URL such as http://127.0.0.1:8080")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SettingsError(
            f"setting '{camel}' must be a plain base URL without credentials or query; "
            "put an API key in the environment variable named by 'remoteApiKeyEnv'"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise SettingsError(f"setting '{camel}' has an invalid port") from None
    return value.rstrip("/")


def _snake(key: str) -> str:
    """camelCase, kebab-case (TOML files) and snake_case keys all name the same field."""
    return "".join("_" + c.lower() if c.isupper() else c for c in key.replace("-", "_"))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
