"""The same keystrokes against llama.cpp's own ``llama-server``, with a llama.vim-like client.

llama.vim sends one request per key and drops the previous one by closing its connection; the
server keeps its prompt cache between requests (``cache_prompt``; ``--cache-reuse 256`` lets it
shift reusable chunks). Its context is the 256 lines above the cursor, the cursor line, and the
64 lines below (llama.vim's defaults). Models with FIM tokens go to ``/infill``; a prefix-only
model (the embedded Gemma has no FIM tokens, and ``/infill`` refuses it) goes to ``/completion``
with the prefix as prompt, which is what our server does for it too. Answers are cut at the
first newline, as the replay retypes the rest of one line.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from replay.lsp_replay import TargetRun, _sleep_until
from replay.scoring import Answer
from replay.targets import Target

PREFIX_LINES, SUFFIX_LINES = 256, 64


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """A llama-server process on a local port, and raw HTTP requests to it."""

    def __init__(self, binary: Path, model: Path, *, threads: int, n_ctx: int, log_file: Any) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(binary), "-m", str(model), "-t", str(threads), "-tb", str(threads), "-c", str(n_ctx), "-np", "1",
             "--cache-reuse", "256", "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log_file, stderr=subprocess.STDOUT,
        )
        self.fim = True

    async def post(self, path: str, payload: dict[str, Any] | None, timeout: float = 600) -> tuple[int, dict[str, Any]]:
        """One request on its own connection (GET without a payload); cancelling the task closes
        the connection, which is how llama.vim drops a request."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            body = b"" if payload is None else json.dumps(payload).encode()
            verb = "GET" if payload is None else "POST"
            writer.write(f"{verb} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), timeout)
        finally:
            writer.close()
        head, _, data = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        if b"chunked" in head.lower():
            data = _unchunk(data)
        try:
            return status, json.loads(data or b"{}")
        except json.JSONDecodeError:
            return status, {"error": data[:200].decode(errors="replace")}

    async def ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with code {self.process.returncode}")
            try:
                status, _ = await self.post("/health", None, timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError("llama-server did not become ready")
        status, _ = await self.post("/infill", {"input_prefix": "a", "input_suffix": "", "n_predict": 1})
        self.fim = status == 200

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _unchunk(data: bytes) -> bytes:
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if not size:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


def payload(text: str, cursor: int, n_predict: int, fim: bool) -> tuple[str, dict[str, Any]]:
    """The request llama.vim would send with the cursor at ``cursor`` in ``text``."""
    line_start = text.rfind("\n", 0, cursor) + 1
    line_end = text.find("\n", cursor)
    line_end = len(text) if line_end < 0 else line_end
    above = text[:line_start].splitlines(keepends=True)[-PREFIX_LINES:]
    below = text[line_end + 1 :].splitlines(keepends=True)[:SUFFIX_LINES]
    common = {"n_predict": n_predict, "cache_prompt": True, "stream": False, "t_max_predict_ms": 1000,
              "top_k": 40, "top_p": 0.99}
    if fim:
        return "/infill", {**common, "input_prefix": "".join(above), "prompt": text[line_start:cursor],
                           "input_suffix": text[cursor:line_end] + "\n" + "".join(below),
                           "samplers": ["top_k", "top_p", "infill"]}
    return "/completion", {**common, "prompt": "".join(above) + text[line_start:cursor], "stop": ["\n"]}


async def replay(server: LlamaServer, target: Target, times: list[float], *, wait_open: float, n_predict: int) -> TargetRun:
    """Type ``target`` at ``times``: one request per key, the previous one's connection closed."""
    text = target.document
    run = TargetRun(opened=time.perf_counter(), started=0.0)
    run.started = run.opened + wait_open
    await _sleep_until(run.started)
    previous: tuple[Answer, asyncio.Task[Any]] | None = None
    for index, moment in enumerate(times[: len(target.typed)]):
        await _sleep_until(run.started + moment)
        now = time.perf_counter()
        if previous is not None:
            previous[0].next_key = now
            if not previous[1].done():
                previous[1].cancel()
        cursor = target.offset + index
        text = text[:cursor] + target.typed[index] + text[cursor:]
        answer = Answer(keys=index + 1, sent=now)
        path, body = payload(text, cursor + 1, n_predict, server.fim)
        task = asyncio.ensure_future(_ask(server, path, body, answer, run.jobs))
        run.answers.append(answer)
        run.keys += 1
        previous = (answer, task)
    if previous is not None:
        try:
            await asyncio.wait_for(asyncio.shield(previous[1]), 120)
        except (TimeoutError, asyncio.CancelledError):
            pass
    return run


async def _ask(server: LlamaServer, path: str, body: dict[str, Any], answer: Answer, jobs: list[dict[str, Any]]) -> None:
    try:
        status, result = await server.post(path, body)
    except asyncio.CancelledError:
        answer.cancelled = True
        answer.arrived = time.perf_counter()
        raise
    answer.arrived = time.perf_counter()
    if status != 200:
        answer.error = str(result.get("error"))[:200]
        return
    answer.text = str(result.get("content", "")).split("\n", 1)[0]
    timings = result.get("timings") or {}
    jobs.append({"prompt_tokens": result.get("tokens_evaluated"), "cached_tokens": result.get("tokens_cached"),
                 "prompt_n": timings.get("prompt_n"), "prompt_ms": timings.get("prompt_ms")})
