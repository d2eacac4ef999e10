"""A real OpenAI-compatible completions server for the remote-backend tests.

``POST /v1/completions`` on 127.0.0.1, answered by llama-cpp-python over a GGUF (the same
tiny models the other tests use), the way llama.cpp's llama-server answers it: ``prompt``
as a list of token ids (used as they are) or as a string (tokenized with special tokens
parsed and the model's BOS added), greedy at ``temperature`` 0, ``stop`` strings cut off,
``max_tokens``, and ``logprobs`` in OpenAI's legacy completions form (``{tokens, token_logprobs,
...}``, as vLLM returns it) unless ``logprobs=False`` plays a server that never returns them.
Every request is recorded (path, headers, parsed body) so tests can check
what left the client. ``hang`` makes every request wait until the server closes, for the
timeout test.
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import numpy as np


class CompletionServer:
    """Serves one model until ``close``; use as a context manager."""

    def __init__(self, model: Path, *, n_ctx: int = 2048, hang: bool = False, logprobs: bool = True) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(model), n_ctx=n_ctx, n_batch=512, n_threads=1, seed=0, verbose=False)
        self.hang = hang
        self.logprobs = logprobs
        self.requests: list[dict[str, Any]] = []
        self._released = threading.Event()
        self._model_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="completion-server", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self.llm.close()

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """The completion for one request body, as llama-server computes it."""
        prompt = body["prompt"]
        if isinstance(prompt, str):
            prompt = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        with self._model_lock:
            answer = dict(self.llm.create_completion(
                prompt=list(prompt), max_tokens=int(body.get("max_tokens", 16)),
                temperature=float(body.get("temperature", 0)), top_k=1, repeat_penalty=1.0,
                stop=body.get("stop") or None, seed=0,
            ))
            if body.get("logprobs") and self.logprobs:
                choice = answer["choices"][0]
                choice["logprobs"] = self._greedy_logprobs(list(prompt), choice["text"], answer["usage"]["completion_tokens"])
            return answer

    def _greedy_logprobs(self, prompt: list[int], text: str, count: int) -> dict[str, Any]:
        """The legacy ``logprobs`` object for the greedy tokens that make up ``text``.

        llama-cpp-python returns logprobs only for a model loaded with ``logits_all`` (which
        crashes this build), so the greedy decode is repeated here token by token, reading the
        last position's logits as the local engine does (the prompt's KV cache is reused).
        """
        llm, n_vocab = self.llm, self.llm.n_vocab()
        llm.n_tokens = len(prompt) - 1  # the completion left the prompt in the KV cache: only its last token again
        llm.eval(prompt[-1:])
        pieces: list[str] = []
        logprobs: list[float] = []
        for _ in range(count):
            row = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,)).astype(np.float64)
            token = int(row.argmax())
            logprobs.append(float(row[token] - row.max() - math.log(np.exp(row - row.max()).sum())))
            pieces.append(llm.detokenize([token]).decode("utf-8", errors="replace"))
            if len("".join(pieces)) >= len(text):
                break
            llm.eval([token])
        llm.reset()
        offsets = [sum(len(p) for p in pieces[:i]) for i in range(len(pieces))]
        return {"tokens": pieces, "token_logprobs": logprobs, "top_logprobs": None, "text_offset": offsets}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/completions":
                    self._reply(404, {"error": "not found"})
                    return
                if server.hang:
                    server._released.wait()
                    return
                self._reply(200, server.complete(body))

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
