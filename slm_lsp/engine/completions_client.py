"""A client for OpenAI-compatible ``POST /v1/completions`` (llama-server, vLLM, Ollama).

Standard library only (urllib). It never follows redirects and ignores proxy environment
variables, so a request goes to the configured URL and nowhere else, and the API key (read
from the environment at request time) cannot travel to another host. Error messages name
the URL and the HTTP status, never the request or response body: both hold code.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class RemoteUnavailable(Exception):
    """The server did not answer usefully (down, timed out, 5xx); worth one retry."""


class RemoteRefused(Exception):
    """The server answered but refused or garbled the request (4xx, not a completions response)."""


@dataclass(frozen=True)
class RemoteCompletion:
    text: str
    finish_reason: str  # "stop" or "length", as the server said
    completion_tokens: int
    elapsed_ms: float
    # Per generated token, when the server returned ``logprobs``: its text and log-probability
    # (empty otherwise, and then no confidence is known).
    tokens: tuple[str, ...] = ()
    logprobs: tuple[float, ...] = ()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None  # urllib then raises the 3xx as an HTTPError


class CompletionsClient:
    """POSTs one completion request at a time to ``{base}/v1/completions``."""

    def __init__(self, url: str, *, model: str | None, timeout: float, api_key_env: str | None) -> None:
        base = url.rstrip("/").removesuffix("/v1")  # "http://host:8000/v1" as the vLLM docs write it
        self.url = base
        self.endpoint = f"{base}/v1/completions"
        self.model = model
        self.timeout = timeout
        self.api_key_env = api_key_env
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def complete(
        self,
        prompt: Sequence[int] | str,
        *,
        max_tokens: int,
        stop: Sequence[str],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> RemoteCompletion:
        """Greedy completion of ``prompt``; one retry when the server is unavailable.

        Raises RemoteUnavailable or RemoteRefused with a one-line reason.
        """
        body: dict[str, Any] = {
            "prompt": list(prompt) if not isinstance(prompt, str) else prompt,
            "max_tokens": max_tokens,
            "temperature": 0,
            "stop": list(stop),
            "stream": False,
            "logprobs": 1,  # the chosen token's log-probability, for confidence gating (ignored by servers without it)
        }
        if self.model:
            body["model"] = self.model
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            return self._post(data, headers)
        except RemoteUnavailable:
            if cancelled():
                raise
            return self._post(data, headers)  # one retry: a restarting server, a dropped connection

    def _api_key(self) -> str | None:
        if not self.api_key_env:
            return None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise RemoteRefused(f"the environment variable {self.api_key_env} (remoteApiKeyEnv) is not set")
        return key

    def _post(self, data: bytes, headers: dict[str, str]) -> RemoteCompletion:
        request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            reason = f"HTTP {exc.code} {exc.reason}"
            if exc.code >= 500:
                raise RemoteUnavailable(reason) from None
            raise RemoteRefused(reason) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise RemoteUnavailable(f"no answer within {self.timeout:g} s") from None
            raise RemoteUnavailable(str(exc.reason)) from None
        except TimeoutError:
            raise RemoteUnavailable(f"no answer within {self.timeout:g} s") from None
        except (http.client.HTTPException, OSError) as exc:
            raise RemoteUnavailable(str(exc) or type(exc).__name__) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        return _parse(raw, elapsed_ms)


def _parse(raw: bytes, elapsed_ms: float) -> RemoteCompletion:
    try:
        answer = json.loads(raw)
        choice = answer["choices"][0]
        text = choice["text"]
        if not isinstance(text, str):
            raise TypeError("text")
    except (ValueError, KeyError, IndexError, TypeError):
        raise RemoteRefused("the answer is not an OpenAI completions response") from None
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    tokens = usage.get("completion_tokens")
    pieces, logprobs = _token_logprobs(choice.get("logprobs"))
    return RemoteCompletion(
        text=text,
        finish_reason=str(choice.get("finish_reason") or "stop"),
        completion_tokens=tokens if isinstance(tokens, int) else 0,
        elapsed_ms=elapsed_ms,
        tokens=pieces,
        logprobs=logprobs,
    )


def _token_logprobs(value: object) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Token texts and log-probabilities from a choice's ``logprobs``, in either shape servers
    use: OpenAI's legacy completions form ``{tokens, token_logprobs}`` (vLLM, llama-cpp-python)
    or the chat form ``{content: [{token, logprob}]}`` (llama-server). Anything else, or a
    malformed entry, is no logprobs at all: a confidence from half the tokens would mislead."""
    if not isinstance(value, dict):
        return (), ()
    if isinstance(value.get("content"), list):
        entries = value["content"]
        pairs = [(e.get("token"), e.get("logprob")) if isinstance(e, dict) else (None, None) for e in entries]
    else:
        texts, numbers = value.get("tokens"), value.get("token_logprobs")
        if not isinstance(texts, list) or not isinstance(numbers, list) or len(texts) != len(numbers):
            return (), ()
        pairs = list(zip(texts, numbers))
    if not all(isinstance(t, str) and isinstance(n, (int, float)) and not isinstance(n, bool) for t, n in pairs):
        return (), ()
    return tuple(t for t, _ in pairs), tuple(float(n) for _, n in pairs)
