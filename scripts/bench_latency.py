"""Latency benchmark: the real server, a real-shaped model, a scripted typing session.

Everything is measured in one run and printed as a markdown table (``--out`` writes it to
a file, with the raw samples next to it as JSON and the server's log):

1. Model: a random-weight GGUF with deepseek-coder-1.3B's shape and tokenizer, Q4_K_M,
   built once into ~/.cache/slm-lsp-bench (scripts/realistic_model.py). Greedy decoding of
   it always emits the token ``zz``, so every completion generates exactly its budget.
2. Server: ``python -m slm_lsp serve --model FILE`` over stdio, driven by an asyncio
   client that behaves like an editor: incremental didChange per keystroke, an
   inlineCompletion request after each, ``$/cancelRequest`` for the previous request when
   a keystroke arrives before its answer. Settings come from initializationOptions
   (32 tokens for a line, ~1,530-token prompts). ``slm/status`` gives per-request timings.
   Phases: cold requests at fresh positions; one-character edits with an idle model;
   a typing session (one keystroke every 100-200 ms, a pause after each word until the
   answer arrives); cancellation probes; peak memory (VmHWM).
3. Direct: the same prompt ids through llama-cpp-python in this process (``Llama.eval``
   plus a greedy sampling loop), paired with each cold server request; a warm reference
   (re-evaluate the last k tokens, then decode); llama-bench-style raw decode speed
   (single-token ``llama_decode`` calls at depth 0 and at the prompt's depth).
4. In-process Engine: the pipeline's exact prompt ids for every document state (to check
   the tokens re-evaluated per keystroke against kv_cache.plan_reuse) and a reference row
   with plain prefix reuse (``engine._sequence.can_shift = False``).

Run: python scripts/bench_latency.py [--out bench.md] [--quick] [--model FILE]
The machine's other load is sampled (loadavg) and printed with the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for entry in (ROOT, ROOT / "scripts"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import realistic_model

DEFAULT_FILE = Path(json.__file__).resolve().parent / "decoder.py"
URI_A = "file:///bench/json_decoder.py"
N_GEN = 32

# Where the benchmark completes in DEFAULT_FILE (1-based line numbers; end of the line).
COLD_LINES = (150, 233)  # plus the typing position, which starts cold too
PROMPT_CANCEL_LINES = (147, 156, 167, 174)  # non-empty lines above the typing position
TYPE_AFTER_LINE = 189  # `pairs_append((key, value))` in JSONObject: a new line is typed after it
TYPE_INDENT = "        "
TYPED = 'if len(pairs) > max_pairs: raise JSONDecodeError("Too many keys", s, end)'


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def cpu_pressure() -> float | None:
    """Share of the last 60 s in which some runnable task waited for a CPU (Linux PSI), in %."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return None
    return float(dict(item.split("=") for item in first.split()[1:])["avg60"])


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system, all threads) of a process so far; None = this process."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


# --------------------------------------------------------------------------- LSP client


@dataclass
class Pending:
    id: int
    method: str
    t_sent: float
    future: asyncio.Future[tuple[float, dict[str, Any]]]
    on_done: Callable[[float, dict[str, Any]], None] | None = None


class LspClient:
    """JSON-RPC over the server's stdio; timestamps every response when it is parsed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._next_id = 0
        self._pending: dict[int, Pending] = {}
        self.notifications: list[tuple[float, dict[str, Any]]] = []
        self._closed: str | None = None  # why no answer can come any more
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def start(cls, command: list[str], stderr: Any, cwd: Path) -> LspClient:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr, cwd=cwd
        )
        return cls(process)

    async def _read_loop(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = 0
            while True:
                line = await stdout.readline()
                if not line:
                    await self._output_closed()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await stdout.readexactly(length)
            arrived = time.perf_counter()
            message = json.loads(body)
            if "method" in message and "id" in message:  # a request from the server: accept it
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                pending = self._pending.pop(message["id"], None)
                if pending is not None:
                    if pending.on_done is not None:
                        pending.on_done(arrived, message)
                    if not pending.future.done():
                        pending.future.set_result((arrived, message))
            else:
                self.notifications.append((arrived, message))

    async def _output_closed(self) -> None:
        """The server closed its output (it exited or crashed): fail every waiting call at once
        instead of letting the benchmark wait for answers that cannot come."""
        try:
            code = await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            code = None
        self._closed = f"the server closed its output (exit code {code}); see its log"
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(ConnectionError(self._closed))
        self._pending.clear()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any, on_done: Callable[[float, dict[str, Any]], None] | None = None) -> Pending:
        self._next_id += 1
        future: asyncio.Future[tuple[float, dict[str, Any]]] = asyncio.get_running_loop().create_future()
        pending = Pending(self._next_id, method, time.perf_counter(), future, on_done)
        if self._closed is not None:
            future.set_exception(ConnectionError(self._closed))
            return pending
        self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        self._pending[self._next_id] = pending
        return pending

    def notify(self, method: str, params: Any) -> None:
        if self._closed is not None:
            return  # nobody is listening
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def cancel(self, request_id: int) -> float:
        self.notify("$/cancelRequest", {"id": request_id})
        return time.perf_counter()

    async def call(self, method: str, params: Any, timeout: float = 600) -> dict[str, Any]:
        pending = self.request(method, params)
        _, message = await asyncio.wait_for(pending.future, timeout)
        return message

    async def status(self) -> dict[str, Any]:
        return (await self.call("slm/status", None, timeout=30)).get("result") or {}

    async def close(self) -> int:
        try:
            await self.call("shutdown", None, timeout=30)
            self.notify("exit", None)
            return await asyncio.wait_for(self.process.wait(), 30)
        except (TimeoutError, ConnectionError):
            self.process.kill()
            return await self.process.wait()


class Document:
    """An open document whose edits are sent as incremental didChange, like an editor."""

    def __init__(self, client: LspClient, uri: str, text: str, language: str = "python") -> None:
        self.client, self.uri, self.text, self.version = client, uri, text, 1
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}})

    def position(self, offset: int) -> dict[str, int]:
        line = self.text.count("\n", 0, offset)
        line_start = self.text.rfind("\n", 0, offset) + 1
        return {"line": line, "character": len(self.text[line_start:offset].encode("utf-16-le")) // 2}

    def insert(self, offset: int, text: str) -> None:
        where = self.position(offset)
        self.version += 1
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": {"start": where, "end": where}, "text": text}],
            },
        )
        self.text = self.text[:offset] + text + self.text[offset:]

    def complete(self, offset: int, on_done: Callable[[float, dict[str, Any]], None] | None = None) -> Pending:
        params = {"textDocument": {"uri": self.uri}, "position": self.position(offset), "context": {"triggerKind": 2}}
        return self.client.request("textDocument/inlineCompletion", params, on_done)


@dataclass
class Sample:
    """One completion request as the client saw it, plus the server's timings of it."""

    phase: str
    text: str = field(repr=False)
    offset: int
    t_sent: float
    t_done: float | None = None
    cancel_sent: float | None = None
    outcome: str = "pending"  # "answered", "empty", "cancelled", "error"
    suggestion: str = ""
    cpu_s: float | None = None  # server CPU time while this request ran (idle-model phases only)
    last: dict[str, Any] = field(default_factory=dict)  # slm/status "last" right after the answer

    @property
    def completed(self) -> bool:
        """Answered by the model (with or without a suggestion), not from the result cache."""
        return self.outcome in ("answered", "empty") and self.last.get("stopReason") != "cache"

    @property
    def cached(self) -> bool:
        return self.outcome in ("answered", "empty") and self.last.get("stopReason") == "cache"

    @property
    def latency(self) -> float | None:
        return None if self.t_done is None else self.t_done - self.t_sent

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("text")
        data["latency_s"] = self.latency
        return data


def _classify(sample: Sample, message: dict[str, Any], arrived: float) -> None:
    sample.t_done = arrived
    if "error" in message:
        sample.outcome = "cancelled" if message["error"].get("code") == -32800 else "error"
        if sample.outcome == "error":
            sample.suggestion = str(message["error"].get("message", ""))[:200]
        return
    items = (message.get("result") or {}).get("items") or []
    if sample.cancel_sent is not None and sample.cancel_sent < arrived:
        sample.outcome = "cancelled"
    else:
        sample.outcome = "answered" if items else "empty"
    if items:
        insert = items[0].get("insertText")
        sample.suggestion = insert if isinstance(insert, str) else json.dumps(insert)


async def timed_completion(doc: Document, offset: int, phase: str, samples: list[Sample], timeout: float = 600) -> Sample:
    """One request with an idle model: wait for the answer, then read slm/status."""
    sample = Sample(phase, doc.text, offset, 0.0)
    pid = doc.client.process.pid
    cpu_before = cpu_seconds(pid)
    pending = doc.complete(offset)
    sample.t_sent = pending.t_sent
    arrived, message = await asyncio.wait_for(pending.future, timeout)
    sample.cpu_s = cpu_seconds(pid) - cpu_before
    _classify(sample, message, arrived)
    if sample.outcome in ("answered", "empty"):
        sample.last = (await doc.client.status()).get("last") or {}
    samples.append(sample)
    return sample


# --------------------------------------------------------------------------- direct llama-cpp-python


class Direct:
    """The model through llama-cpp-python with nothing else: Llama.eval and a greedy loop."""

    def __init__(self, path: Path, n_ctx: int, threads: int, flash_attn: bool) -> None:
        import llama_cpp

        self.llama_cpp = llama_cpp
        self.llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=512,
            n_ubatch=512,
            n_threads=threads,
            n_threads_batch=threads,
            flash_attn=flash_attn,
            seed=0,
            verbose=False,
        )
        self.sampler = llama_cpp.llama_sampler_init_greedy()
        self.flash_attn = flash_attn

    def complete(self, ids: list[int], n_gen: int, keep: int = 0) -> dict[str, float]:
        """Evaluate ``ids[keep:]`` (``ids[:keep]`` already cached), then greedy-decode
        ``n_gen`` tokens (n_gen samples, n_gen - 1 decodes, as the engine does)."""
        llm, lc = self.llm, self.llama_cpp
        llm.n_tokens = keep  # Llama.eval removes every cached position from n_tokens on
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        llm.eval(ids[keep:])
        prompt_done = time.perf_counter()
        tokens = []
        for i in range(n_gen):
            token = lc.llama_sampler_sample(self.sampler, llm.ctx, -1)
            tokens.append(token)
            if i < n_gen - 1:
                llm.eval([token])
        done = time.perf_counter()
        llm.n_tokens = len(ids)  # keep the prompt, forget the generated tokens
        return {
            "total_s": done - started,
            "prompt_s": prompt_done - started,
            "generation_s": done - prompt_done,
            "evaluated": len(ids) - keep,
            "distinct_tokens": len(set(tokens)),
            "cpu_s": cpu_seconds() - cpu_before,
        }

    def raw_decode(self, depth: int, n: int) -> dict[str, float]:
        """llama-bench ``tg`` style: ``n`` single-token llama_decode calls at positions
        ``depth...``, after the ``depth`` tokens already cached (0: from an empty cache)."""
        llm, lc = self.llm, self.llama_cpp
        ctx = llm.ctx
        lc.llama_memory_seq_rm(lc.llama_get_memory(ctx), -1, depth, -1)
        batch = lc.llama_batch_init(1, 0, 1)
        times = []
        try:
            position = depth
            for i in range(n + 1):  # the first call is a warm-up
                batch.n_tokens = 1
                batch.token[0] = realistic_model.GREEDY_TOKEN
                batch.pos[0] = position
                batch.n_seq_id[0] = 1
                batch.seq_id[0][0] = 0
                batch.logits[0] = 1
                t0 = time.perf_counter()
                if lc.llama_decode(ctx, batch) != 0:
                    raise RuntimeError("llama_decode failed")
                lc.llama_synchronize(ctx)
                if i:
                    times.append(time.perf_counter() - t0)
                position += 1
        finally:
            lc.llama_batch_free(batch)
            lc.llama_memory_seq_rm(lc.llama_get_memory(ctx), -1, 0, -1)
            llm.n_tokens = 0
        return {"depth": depth, "n": n, "tokens_per_s": n / sum(times), "ms_per_token_p50": 1000 * float(np.median(times))}

    def close(self) -> None:
        self.llama_cpp.llama_sampler_free(self.sampler)
        self.llm.close()


# --------------------------------------------------------------------------- in-process pipeline


class _Captured(Exception):
    def __init__(self, ids: list[int]) -> None:
        self.ids = ids


class InProcess:
    """The server's Pipeline in this process: exact prompt ids, and a prefix-reuse reference."""

    def __init__(self, path: Path, options: dict[str, Any]) -> None:
        import logging

        from slm_lsp.config.settings import Settings
        from slm_lsp.context import ContextEngine
        from slm_lsp.context.anchors import EDITOR_HEADROOM
        from slm_lsp.models.source import ModelChoice
        from slm_lsp.pipeline import Pipeline
        from slm_lsp.privacy import PrivacyGate

        lines: list[str] = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                lines.append(record.getMessage())

        llama_log = logging.getLogger("slm_lsp.llama_cpp")  # the engine routes llama.cpp's log here
        handler, level = Collect(), llama_log.level
        llama_log.addHandler(handler)
        llama_log.setLevel(logging.DEBUG)
        try:
            self.settings = Settings().replace(options)
            # The server's context stage, prefix anchors included, so the ids are the server's.
            context = ContextEngine([], PrivacyGate(), window_headroom=EDITOR_HEADROOM)
            self.pipeline = Pipeline.load(self.settings, ModelChoice(path, "explicit"), context=context)
        finally:
            llama_log.removeHandler(handler)
            llama_log.setLevel(level)
        self.engine = self.pipeline.engine
        # The engine leaves flash_attn on "auto"; the direct runs must use what it resolved to.
        resolved = [line for line in lines if "Flash Attention enabled" in line or "Flash Attention disabled" in line]
        self.flash_attn = None if not resolved else "enabled" in resolved[-1]

    def _request(self, text: str, offset: int) -> Any:
        from slm_lsp.pipeline import CompletionRequest

        return CompletionRequest(text=text, offset=offset, uri=URI_A, language="python")

    def prompt_ids(self, text: str, offset: int) -> list[int] | None:
        """The token ids the pipeline sends to the engine for this document state (no model call)."""
        engine = self.engine

        def spy(ids: Any, *args: Any, **kwargs: Any) -> Any:
            raise _Captured(list(ids))

        engine.generate = spy
        try:
            self.pipeline.complete(self._request(text, offset))
        except _Captured as captured:
            return captured.ids
        finally:
            del engine.generate  # back to the class's method
        return None  # the pipeline answered without Engine.generate (e.g. from a cache)

    def complete(self, text: str, offset: int) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        result = self.pipeline.complete(self._request(text, offset))
        return time.perf_counter() - started, dict(result.timings)

    def close(self) -> None:
        self.engine.close()


# --------------------------------------------------------------------------- the run


@dataclass
class Plan:
    cold_lines: tuple[int, ...]
    isolated_edits: int
    typed: str
    decode_cancel_probes: int
    prompt_cancel_probes: int
    tiny_own_runs: int
    warm_direct_runs: int
    prefix_only_edits: int
    raw_tg_tokens: int


FULL = Plan(COLD_LINES, 8, TYPED, 4, 3, 3, 4, 3, 32)
QUICK = Plan(COLD_LINES[:1], 3, TYPED[:30], 2, 1, 2, 2, 2, 16)


def line_end(text: str, line_1based: int) -> int:
    """Offset of the end of a 1-based line (before its newline)."""
    offset = 0
    for _ in range(line_1based - 1):
        offset = text.index("\n", offset) + 1
    return text.index("\n", offset)


class Bench:
    def __init__(self, args: argparse.Namespace, model: Path, plan: Plan) -> None:
        self.args, self.model, self.plan = args, model, plan
        self.threads = args.threads or os.cpu_count() or 1
        wanted = {
            "maxTokensSingle": N_GEN,
            "maxTokensMulti": N_GEN,  # the server's mode heuristics decide which one applies
            "promptTokens": args.prompt_tokens,
            "nCtx": args.n_ctx,
            "nThreads": self.threads,
            # Fixed work per request: no budget shrunk to the measured speed, no time limits.
            "adaptiveBudgets": False,
            "maxPromptSeconds": 0.0,
            "maxGenerationSeconds": 0.0,
        }
        # An unknown key would make the server reject all of initializationOptions.
        import dataclasses

        from slm_lsp.config.settings import Settings

        known = {f.name for f in dataclasses.fields(Settings)}
        snake = lambda key: "".join("_" + c.lower() if c.isupper() else c for c in key)
        self.options = {k: v for k, v in wanted.items() if snake(k) in known}
        self.results = {"errors": [], "loadavg": [], "options_not_supported": sorted(set(wanted) - set(self.options))}
        self.source = args.file.read_text()
        self.samples: list[Sample] = []
        self.direct_cold: list[dict[str, Any]] = []
        self.cold_ids: list[list[int]] = []

    def note_load(self, phase: str) -> None:
        self.results["loadavg"].append((phase, loadavg(), cpu_pressure()))

    def error(self, phase: str) -> None:
        text = traceback.format_exc()
        log(f"{phase} failed:\n{text}")
        self.results["errors"].append(f"{phase}: {text.strip().splitlines()[-1]}")

    # ---- server phases

    async def run_server(self, inproc: InProcess, direct: Direct) -> None:
        command = [sys.executable, "-m", "slm_lsp", "serve", "--model", str(self.model), "--log-level", "info"]
        stderr = open(self.args.server_log, "wb")  # noqa: ASYNC230, SIM115 - once, before any timing; closed below
        started = time.perf_counter()
        client = await LspClient.start(command, stderr, ROOT)
        self.server_pid = client.process.pid
        try:
            await client.call(
                "initialize",
                {
                    "processId": os.getpid(),
                    "rootUri": None,
                    "capabilities": {"textDocument": {"inlineCompletion": {}}, "general": {"positionEncodings": ["utf-16"]}},
                    "initializationOptions": self.options,
                },
            )
            client.notify("initialized", {})
            while (status := await client.status()).get("state") not in ("ready", "failed"):
                await asyncio.sleep(0.05)
            self.results["server_load_s"] = time.perf_counter() - started
            if status.get("state") != "ready":
                raise RuntimeError(f"server could not load the model: {status.get('error')}")
            log(f"server ready in {self.results['server_load_s']:.1f} s: {status.get('model')} ({status.get('family')})")
            doc = Document(client, URI_A, self.source)
            for name, phase in (
                ("cold", lambda: self.phase_cold(doc, inproc, direct)),
                ("isolated one-char edits", lambda: self.phase_isolated(doc, direct)),
                ("typing session", lambda: self.phase_typing(doc)),
                ("cancellation probes", lambda: self.phase_cancel(client, doc)),
            ):
                self.note_load(name)
                log(f"phase: {name}")
                try:
                    await phase()
                except Exception:  # noqa: BLE001 - report, keep the other figures
                    self.error(name)
                if name == "isolated one-char edits":
                    self.phase_direct(direct)
            self.results["memory"] = _memory(client.process.pid)
            self.results["server_messages"] = [m for _, m in client.notifications if m.get("method") == "window/showMessage"]
        finally:
            self.results["server_exit"] = await client.close()
            stderr.close()

    async def phase_cold(self, doc: Document, inproc: InProcess, direct: Direct) -> None:
        """Cold requests at fresh positions, each paired with the same ids through llama-cpp-python."""
        positions = [line_end(doc.text, line) for line in self.plan.cold_lines]
        # The typing position: open a new line after TYPE_AFTER_LINE and type its first character.
        self.type_at = line_end(doc.text, TYPE_AFTER_LINE)
        positions.append(-1)
        for i, offset in enumerate(positions):
            if offset < 0:
                doc.insert(self.type_at, "\n" + TYPE_INDENT + self.plan.typed[0])
                self.type_at += 1 + len(TYPE_INDENT) + 1
                self.typed_so_far = 1
                offset = self.type_at
            ids = inproc.prompt_ids(doc.text, offset)
            sample = await timed_completion(doc, offset, "cold", self.samples)
            log(f"  cold {i + 1}/{len(positions)}: {sample.latency:.2f} s {sample.last}")
            if ids is None:
                continue
            self.cold_ids.append(ids)
            run = direct.complete(ids, N_GEN)
            run["server_s"] = sample.latency
            run["server_cpu_s"] = sample.cpu_s
            run["prompt_tokens"] = len(ids)
            run["server_prompt_tokens"] = sample.last.get("prompt_tokens")
            self.direct_cold.append(run)
            log(f"  direct: {run['total_s']:.2f} s (prompt {run['prompt_s']:.2f} s for {len(ids)} tokens)")

    async def type_char(self, doc: Document) -> int:
        ch = self.plan.typed[self.typed_so_far]
        doc.insert(self.type_at, ch)
        self.type_at += 1
        self.typed_so_far += 1
        return self.type_at

    async def phase_isolated(self, doc: Document, direct: Direct) -> None:
        """One character, wait for the answer, think 0.2 s: a pure one-character edit each time.

        Each edit the model answered is paired, right after it, with the warm reference in
        llama-cpp-python: the same number of tokens re-evaluated at the end of the cached
        cold prompt (same depth), then 32 decodes; pairing keeps the machine's changing
        background load out of the ratio as far as possible.
        """
        pairs = self.results.setdefault("warm_pairs", [])
        for _ in range(self.plan.isolated_edits):
            offset = await self.type_char(doc)
            sample = await timed_completion(doc, offset, "warm-1char", self.samples)
            log(f"  1-char edit: {sample.latency:.2f} s {sample.last}")
            if sample.completed and self.cold_ids:
                ids = self.cold_ids[-1]
                k = max(1, int(sample.last.get("evaluated_tokens") or 1))
                run = direct.complete(ids, N_GEN, keep=len(ids) - k)
                generation_ms = sample.last.get("generation_ms") or 0
                pairs.append(
                    {
                        "k": k,
                        "server_s": sample.latency,
                        "server_cpu_s": sample.cpu_s,
                        "direct_s": run["total_s"],
                        "direct_cpu_s": run["cpu_s"],
                        "server_gen_tps": sample.last.get("generated_tokens", 0) / (generation_ms / 1000) if generation_ms else 0.0,
                        "direct_gen_tps": N_GEN / run["generation_s"],
                    }
                )
                log(f"  direct warm (k={k}): {run['total_s']:.2f} s")
            await asyncio.sleep(0.2)

    def phase_direct(self, direct: Direct) -> None:
        """Warm reference (re-evaluate k tokens, decode 32) and raw decode speed, model otherwise idle."""
        warm = [s for s in self.samples if s.phase == "warm-1char" and s.completed]
        ks = [int(s.last.get("evaluated_tokens", 0)) for s in warm]
        k = max(1, int(np.median(ks))) if ks else 2
        results: dict[str, Any] = {"k": k}
        try:
            if self.cold_ids:
                ids = self.cold_ids[-1]
                if not self.results.get("warm_pairs"):
                    direct.complete(ids, 1)  # cache the prompt
                    runs = [direct.complete(ids, N_GEN, keep=len(ids) - k) for _ in range(self.plan.warm_direct_runs)]
                    results["warm"] = runs
                    log(f"  direct warm (k={k}): p50 {pct([r['total_s'] for r in runs], 50):.2f} s")
                results["tg_depth"] = direct.raw_decode(len(ids), self.plan.raw_tg_tokens)
            results["tg0"] = direct.raw_decode(0, self.plan.raw_tg_tokens)
            log(f"  raw decode: {results.get('tg0')} / {results.get('tg_depth')}")
            if self.threads > 1:  # how much the machine's other load hurts a multi-threaded decode
                single = Direct(self.model, 512, 1, direct.flash_attn)
                try:
                    results["tg0_1thread"] = single.raw_decode(0, self.plan.raw_tg_tokens)
                finally:
                    single.close()
                log(f"  raw decode, 1 thread: {results['tg0_1thread']}")
        except Exception:  # noqa: BLE001
            self.error("direct reference")
        self.results["direct"] = results

    async def phase_typing(self, doc: Document) -> None:
        """Bursts of keystrokes 100-200 ms apart, each with a request; the previous request
        is cancelled when a keystroke arrives before its answer; after each word the
        typist pauses until the suggestion arrives (plus 0.3 s)."""
        rng = random.Random(self.args.seed)
        rest = self.plan.typed[self.typed_so_far :]
        words = re.findall(r"\S+\s*|\s+", rest)
        client = doc.client
        started = time.perf_counter()
        keystrokes = 0
        for word in words:
            pending: tuple[Pending, Sample] | None = None
            for ch_index in range(len(word)):
                if keystrokes:
                    await asyncio.sleep(rng.uniform(0.10, 0.20))
                keystrokes += 1
                if pending is not None and not pending[0].future.done():
                    pending[1].cancel_sent = client.cancel(pending[0].id)
                offset = await self.type_char(doc)
                final = ch_index == len(word) - 1
                sample = Sample("typing-final" if final else "typing", doc.text, offset, 0.0)
                self.samples.append(sample)

                def done(arrived: float, message: dict[str, Any], sample: Sample = sample) -> None:
                    _classify(sample, message, arrived)
                    if sample.outcome in ("answered", "empty"):
                        # Read the timings of this generation before another one can finish.
                        client.request("slm/status", None, lambda _t, m, s=sample: s.last.update((m.get("result") or {}).get("last") or {}))

                request = doc.complete(offset, done)
                sample.t_sent = request.t_sent
                pending = (request, sample)
            assert pending is not None
            await asyncio.wait_for(pending[0].future, 600)
            await asyncio.sleep(0.3)  # think, and let the status answer arrive
            final = pending[1]
            log(f"  after {word!r}: {final.outcome} in {final.latency:.2f} s {final.last}")
        self.results["typing"] = {"keystrokes": keystrokes, "seconds": time.perf_counter() - started}

    async def phase_cancel(self, client: LspClient, doc: Document) -> None:
        """Time from $/cancelRequest to the model being free.

        A request B (tiny prompt, 32 tokens) or a cold request on the big file is cancelled,
        then a small request T (a ~10-token prompt) is sent at once:
        free = (T answered - cancel sent) - T's own llama.cpp time (prompt_ms + generation_ms
        from slm/status, for that very request) - T's usual time outside llama.cpp (measured
        with an idle model). Subtracting T's own measured work keeps its 32 decode steps'
        jitter out of the figure. Every prompt differs, so no result cache can answer in
        place of the model.
        """
        counter = iter(range(10_000))

        def tiny() -> tuple[Document, int]:
            j = next(counter)
            text = f"def probe_{j}(value):\n    "
            return Document(client, f"file:///bench/tiny_{j}.py", text), len(text)

        def short() -> tuple[Document, int]:
            j = next(counter)
            text = f"import os\n\nroot_{j} = os.path.join("
            return Document(client, f"file:///bench/short_{j}.py", text), len(text)

        own, short_runs = [], []
        for _ in range(self.plan.tiny_own_runs):
            b_doc, b_at = short()
            short_runs.append(await timed_completion(b_doc, b_at, "probe-short", self.samples))
            t_doc, t_at = tiny()
            own.append(await timed_completion(t_doc, t_at, "probe-tiny-own", self.samples))
        def engine_s(sample: Sample) -> float:
            return (sample.last.get("prompt_ms", 0) + sample.last.get("generation_ms", 0)) / 1000

        own_s = float(np.median([s.latency for s in own]))
        own_outside_s = float(np.median([s.latency - engine_s(s) for s in own]))
        b_prompt = float(np.median([s.last.get("prompt_ms", 0) for s in short_runs])) / 1000
        b_gen = float(np.median([s.last.get("generation_ms", 0) for s in short_runs])) / 1000
        delay = b_prompt + 0.4 * b_gen
        probes: list[dict[str, Any]] = []

        async def probe(kind: str, start: Callable[[], tuple[Document, int]], wait: float) -> None:
            long_doc, long_at = start()
            long = Sample(f"probe-{kind}-cancelled", long_doc.text, long_at, 0.0)
            request = long_doc.complete(long_at, lambda t, m, s=long: _classify(s, m, t))
            long.t_sent = request.t_sent
            self.samples.append(long)
            await asyncio.sleep(wait)
            long.cancel_sent = client.cancel(request.id)
            t_doc, t_at = tiny()
            t = await timed_completion(t_doc, t_at, f"probe-{kind}-tiny", self.samples)
            await asyncio.wait_for(request.future, 60)
            record = {
                "kind": kind,
                "cancel_after_s": wait,
                "cancelled_answer_s": long.t_done - long.cancel_sent,
                "cancelled_outcome": long.outcome,
                "tiny_after_cancel_s": t.t_done - long.cancel_sent,
                "tiny_engine_s": engine_s(t),
                "free_s": t.t_done - long.cancel_sent - engine_s(t) - own_outside_s,
                "free_simple_s": t.t_done - long.cancel_sent - own_s,
            }
            probes.append(record)
            log(f"  {kind}: model free {record['free_s'] * 1000:.0f} ms after the cancel ({record})")

        for _ in range(self.plan.decode_cancel_probes):
            await probe("decode", short, delay)
        lines = iter(PROMPT_CANCEL_LINES * 10)
        for _ in range(self.plan.prompt_cancel_probes):
            await probe("prompt", lambda: (doc, line_end(doc.text, next(lines))), 1.5)
        self.results["cancel"] = {
            "tiny_own_s": [s.latency for s in own],
            "tiny_own_p50_s": own_s,
            "tiny_outside_p50_s": own_outside_s,
            "short_prompt_s": b_prompt,
            "short_gen_s": b_gen,
            "probes": probes,
        }

    # ---- in-process phase

    def run_inprocess(self, inproc: InProcess) -> None:
        """Expected re-evaluation per request (kv_cache.plan_reuse on the exact ids), and the
        plain-prefix-reuse reference measured on the in-process Engine."""
        try:
            from slm_lsp.engine.kv_cache import plan_reuse
        except ImportError:
            plan_reuse = None
        checked = [s for s in self.samples if s.phase in ("cold", "warm-1char", "typing-final", "typing") and s.completed]
        previous: list[int] | None = None
        for sample in sorted(checked, key=lambda s: s.t_sent):
            ids = inproc.prompt_ids(sample.text, sample.offset)
            if ids is None:
                continue
            sample.last["_ids_len"] = len(ids)
            if plan_reuse is not None and previous is not None:
                sample.last["_plan_shift"] = plan_reuse(previous, ids, can_shift=True).evaluated(len(ids))
                sample.last["_plan_prefix"] = plan_reuse(previous, ids, can_shift=False).evaluated(len(ids))
            previous = ids
        # Reference: the server's own one-character edit states replayed on the in-process
        # engine (cold at the first one), first with the engine as it is, then with plain
        # prefix reuse.
        edits = [s for s in self.samples if s.phase == "warm-1char" and s.completed]
        if len(edits) < 3:
            return
        sequence = getattr(inproc.engine, "_sequence", None)
        rows: dict[str, list[tuple[float, dict[str, Any]]]] = {"shift": [], "prefix": []}
        inproc.complete(edits[0].text, edits[0].offset)  # cold
        rest = edits[1:]
        half = max(1, len(rest) // 2)
        for mode, states in (("shift", rest[:half]), ("prefix", rest[half:])):
            if mode == "prefix":
                if sequence is None or not hasattr(sequence, "can_shift"):
                    self.results["errors"].append("prefix-only reference: engine._sequence.can_shift not found")
                    break
                sequence.can_shift = False
            for state in states:
                seconds, timings = inproc.complete(state.text, state.offset)
                rows[mode].append((seconds, timings))
                log(f"  in-process {mode}: {seconds:.2f} s {timings}")
        self.results["inprocess"] = rows


def _memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


# --------------------------------------------------------------------------- report


def fmt_s(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def report(bench: Bench, record: dict[str, Any], wall_s: float) -> str:
    r = bench.results
    samples = bench.samples
    by = lambda phase: [s for s in samples if s.phase == phase]
    cold = [s for s in by("cold") if s.completed]
    warm = [s for s in by("warm-1char") if s.completed]
    typing_all = by("typing") + by("typing-final")
    finals = [s for s in by("typing-final") if s.completed]
    cache_hits = [s for s in samples if s.cached]
    cold_lat = [s.latency for s in cold]
    warm_lat = [s.latency for s in warm]
    final_lat = [s.latency for s in finals]
    direct_cold = bench.direct_cold
    direct = r.get("direct", {})
    tg0, tgd = direct.get("tg0") or {}, direct.get("tg_depth") or {}
    gen_counts = sorted({s.last.get("generated_tokens") for s in cold + warm + finals})

    rows: list[tuple[str, str, str, str]] = []

    def row(metric: str, value: str, target: str = "", note: str = "") -> None:
        rows.append((metric, value, target, note))

    # Model and machine
    types = ", ".join(f"{k} {v}" for k, v in (record.get("tensor_types") or {}).items())
    built = "cached" if record.get("cached") else "built now"
    row(
        "model",
        f"{bench.model.name}, {bench.model.stat().st_size / 2**20:.0f} MiB",
        "",
        f"deepseek-coder-1.3B shape, random weights, Q4_K_M ({types}); {len(record.get('fallbacks', []))} ffn_down tensors fell back (ncols 5504 not a multiple of 256)",
    )
    if record.get("build_seconds") is not None:
        row("model build (f16 write + quantize)", f"{record['build_seconds']:.0f} s", "", f"{record.get('f16_seconds')} s + {record.get('quantize_seconds')} s; {built} (cached for later runs)")
    row("server start → model ready", fmt_s(r.get("server_load_s")))
    row(
        "settings (initializationOptions)",
        ", ".join(f"{k} {v}" for k, v in bench.options.items()),
        "",
        "fixed work per request" + (f"; not supported by this server: {r['options_not_supported']}" if r.get("options_not_supported") else ""),
    )

    # Cold
    prompt_tokens = sorted({s.last.get("prompt_tokens") for s in cold})
    evaluated_cold = sorted({s.last.get("evaluated_tokens") for s in cold})
    row(
        "cold completion p50 / p95",
        f"{fmt_s(pct(cold_lat, 50))} / {fmt_s(pct(cold_lat, 95))}",
        "",
        f"n={len(cold)}; prompt {prompt_tokens} tokens, all evaluated ({evaluated_cold}); generated {sorted({s.last.get('generated_tokens') for s in cold})}",
    )
    d_total = [d["total_s"] for d in direct_cold]
    row(
        "same ids through llama-cpp-python (Llama.eval + greedy loop) p50",
        fmt_s(pct(d_total, 50)),
        "",
        f"n={len(d_total)}; prompt eval {pct([d['prompt_tokens'] / d['prompt_s'] for d in direct_cold], 50) or 0:.1f} tok/s",
    )
    pair_ratios = [d["server_s"] / d["total_s"] for d in direct_cold if d.get("server_s")]
    # Each cold server request is paired with the same ids run directly right after it, so the
    # median of the paired ratios compares equal work; the ratio of the two p50s does not.
    ratio_cold = pct(pair_ratios, 50) if pair_ratios else None
    server_cores = [d["server_cpu_s"] / d["server_s"] for d in direct_cold if d.get("server_cpu_s")]
    direct_cores = [d["cpu_s"] / d["total_s"] for d in direct_cold]
    row(
        "overhead ratio, cold (server / direct) p50",
        fmt_ratio(ratio_cold),
        "≤ 1.05",
        f"median of paired ratios {', '.join(f'{x:.3f}' for x in pair_ratios)}; ratio of p50s {fmt_ratio(pct(cold_lat, 50) / pct(d_total, 50)) if cold_lat and d_total else '-'}; CPU obtained (cpu-s / wall-s): server {', '.join(f'{x:.2f}' for x in server_cores)}, direct {', '.join(f'{x:.2f}' for x in direct_cores)} of {os.cpu_count()} cores",
    )

    # Warm
    warm_eval = [s.last.get("evaluated_tokens") for s in warm if s.last]
    row(
        "warm completion after a 1-char edit p50 / p95",
        f"{fmt_s(pct(warm_lat, 50))} / {fmt_s(pct(warm_lat, 95))}",
        "",
        f"n={len(warm)}, model idle before each keystroke; generated {sorted({s.last.get('generated_tokens') for s in warm})}",
    )
    ratio_warm_cold = (pct(warm_lat, 50) / pct(cold_lat, 50)) if warm_lat and cold_lat else None
    row("warm / cold ratio (1-char edit) p50", fmt_ratio(ratio_warm_cold), "≤ 0.1")
    row(
        "tokens re-evaluated per 1-char edit (slm/status)",
        f"median {pct(warm_eval, 50) if warm_eval else 'n/a'}, max {max(warm_eval) if warm_eval else 'n/a'}",
        "tens",
        f"per request: {warm_eval}",
    )
    warm_pairs = r.get("warm_pairs") or []
    warm_direct = [w["direct_s"] for w in warm_pairs] or [w["total_s"] for w in direct.get("warm", [])]
    ks = sorted({w["k"] for w in warm_pairs}) or [direct.get("k")]
    paired = [w["server_s"] / w["direct_s"] for w in warm_pairs]
    ratio_warm = pct(paired, 50) if paired else None
    row(
        f"warm reference: re-evaluate {'/'.join(map(str, ks))} tokens + 32 decodes in llama-cpp-python p50",
        fmt_s(pct(warm_direct, 50)),
        "",
        f"n={len(warm_direct)}, at the same ~{prompt_tokens[-1] if prompt_tokens and prompt_tokens[-1] else '?'}-token depth"
        + ("; each run right after its server request" if warm_pairs else "; run after all server edits"),
    )
    row(
        "overhead ratio, warm (server / warm reference) p50",
        fmt_ratio(ratio_warm),
        "≤ 1.05",
        (
            f"median of paired ratios {', '.join(f'{x:.2f}' for x in paired)}; CPU obtained: server "
            + ", ".join(f"{w['server_cpu_s'] / w['server_s']:.2f}" for w in warm_pairs)
            + ", direct "
            + ", ".join(f"{w['direct_cpu_s'] / w['direct_s']:.2f}" for w in warm_pairs)
            if warm_pairs
            else ""
        ),
    )
    outside = [s.latency - (s.last.get("prompt_ms", 0) + s.last.get("generation_ms", 0)) / 1000 for s in warm + cold]
    row(
        "time outside llama.cpp work (end-to-end − prompt_ms − generation_ms), idle model, p50 / max",
        f"{fmt_s(pct(outside, 50))} / {fmt_s(max(outside) if outside else None)}",
        "",
        f"n={len(outside)} cold+warm requests: JSON-RPC, document sync, prompt windowing/tokenization, post-processing, thread hand-off",
    )
    inproc = r.get("inprocess", {})
    for mode, label in (("shift", "in-process Engine as shipped (no LSP)"), ("prefix", "in-process Engine, plain prefix reuse (can_shift=False)")):
        runs = inproc.get(mode) or []
        if runs:
            row(
                f"reference: {label}, 1-char edit p50",
                fmt_s(pct([x[0] for x in runs], 50)),
                "",
                f"n={len(runs)}; tokens re-evaluated {[x[1].get('evaluated_tokens') for x in runs]}",
            )

    # Typing session
    typing = r.get("typing", {})
    outcomes = {o: sum(1 for s in typing_all if s.outcome == o) for o in ("answered", "cancelled", "empty", "error")}
    outcomes["from result cache"] = sum(1 for s in typing_all if s.cached)
    row(
        "typing session",
        f"{typing.get('keystrokes', 0)} keystrokes in {typing.get('seconds', 0):.0f} s",
        "",
        f"100-200 ms apart, pause after each word; requests {outcomes}",
    )
    waits = [s.latency - (s.last.get("prompt_ms", 0) + s.last.get("generation_ms", 0)) / 1000 for s in finals if s.last]
    row(
        "typing: last keystroke of a word → suggestion p50 / p95 / max",
        f"{fmt_s(pct(final_lat, 50))} / {fmt_s(pct(final_lat, 95))} / {fmt_s(max(final_lat) if final_lat else None)}",
        "",
        f"n={len(finals)}; of which outside this request's own llama.cpp work (waiting for superseded jobs to stop, windowing): p50 {fmt_s(pct(waits, 50))}, max {fmt_s(max(waits) if waits else None)}",
    )
    typed_eval = [s.last.get("evaluated_tokens") for s in finals + [s for s in by("typing") if s.completed] if s.last]
    planned = [s.last.get("_plan_shift") for s in finals if s.last.get("_plan_shift") is not None]
    spikes = [(s.last.get("evaluated_tokens"), s.last.get("_plan_shift"), s.last.get("_plan_prefix")) for s in finals if (s.last.get("evaluated_tokens") or 0) > 100]
    row(
        "typing: tokens re-evaluated per answered request",
        f"median {pct(typed_eval, 50) if typed_eval else 'n/a'}, max {max(typed_eval) if typed_eval else 'n/a'}",
        "tens",
        f"per word: {[s.last.get('evaluated_tokens') for s in finals]}; plan_reuse vs previous answered prompt: {planned}; >100 tokens (observed, plan shift, plan prefix): {spikes}",
    )

    # Cancellation
    cancel = r.get("cancel", {})
    raw_step_ms = tgd.get("ms_per_token_p50") or tg0.get("ms_per_token_p50")
    # One decode step as the server saw it during the probes (the short request's own runs).
    live_step_ms = 1000 * cancel["short_gen_s"] / N_GEN if cancel.get("short_gen_s") else None
    step_ms = max(x for x in (raw_step_ms, live_step_ms, 0) if x is not None) or None
    for kind, label in (("decode", "while decoding"), ("prompt", "during prompt evaluation (cold request)")):
        probes = [p for p in cancel.get("probes", []) if p["kind"] == kind]
        frees = [p["free_s"] for p in probes]
        if probes:
            row(
                f"$/cancelRequest → model free, {label} p50 / max",
                f"{fmt_s(max(pct(frees, 50), 0))} / {fmt_s(max(max(frees), 0))}",
                f"≤ 1 decode step ({step_ms:.0f} ms)" if step_ms else "≤ 1 decode step",
                f"n={len(probes)}, cancelled {probes[0]['cancel_after_s']:.2f} s after sending; the small request's own llama.cpp time subtracted (its idle total {fmt_s(cancel.get('tiny_own_p50_s'))}); "
                f"decode step: {raw_step_ms or 0:.0f} ms raw (quiet moment), {live_step_ms or 0:.0f} ms in the server during the probes; "
                f"cancelled request answered after {fmt_s(pct([p['cancelled_answer_s'] for p in probes], 50))} ({sorted({p['cancelled_outcome'] for p in probes})})",
            )

    # Speed
    row(
        "raw decode, llama-bench style (llama_decode of 1 token)",
        f"{tg0.get('tokens_per_s', 0):.2f} tok/s at depth 0; {tgd.get('tokens_per_s', 0):.2f} tok/s at depth {tgd.get('depth', '?')}",
        "",
        f"{bench.plan.raw_tg_tokens} tokens each, after one warm-up call",
    )
    tg1 = direct.get("tg0_1thread")
    if tg1:
        row(
            "raw decode with 1 thread (contention check)",
            f"{tg1['tokens_per_s']:.2f} tok/s at depth 0",
            "",
            f"vs {tg0.get('tokens_per_s', 0):.2f} tok/s with {bench.threads} threads; 1 thread faster means the machine's other load stalls llama.cpp's spinning thread barriers",
        )
    if warm_pairs and all("server_gen_tps" in w for w in warm_pairs):
        fractions = [w["server_gen_tps"] / w["direct_gen_tps"] for w in warm_pairs if w["server_gen_tps"]]
        row(
            "server generation speed / direct decode speed, paired p50",
            fmt_ratio(pct(fractions, 50)),
            "",
            f"per edit {', '.join(f'{x:.2f}' for x in fractions)}; direct = the paired llama-cpp-python run's 32-token loop at the same depth",
        )
    gen_speeds = [s.last["generated_tokens"] / (s.last["generation_ms"] / 1000) for s in warm + cold if s.last.get("generation_ms")]
    server_speed = pct(gen_speeds, 50)
    if server_speed and tgd.get("tokens_per_s"):
        row(
            "server generation speed / raw decode speed at the same depth",
            fmt_ratio(server_speed / tgd["tokens_per_s"]),
            "",
            f"{server_speed:.2f} tok/s (generated_tokens / generation_ms, p50 over cold+warm) vs {tgd['tokens_per_s']:.2f} tok/s",
        )
    mem = r.get("memory", {})
    row("server peak memory (VmHWM)", f"{mem.get('VmHWM', 0) / 2**20:.0f} MiB", "", f"RSS at the end {mem.get('VmRSS', 0) / 2**20:.0f} MiB; nCtx {bench.args.n_ctx}")
    loads = [x[1] for x in r.get("loadavg", [])]
    pressures = [x[2] for x in r.get("loadavg", []) if x[2] is not None]
    row(
        "machine",
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "",
        f"threads {bench.threads}, flash attention {'on' if r.get('flash_attn') is not False else 'off'}; at phase starts: 1-min loadavg {min(loads, default=0):.1f}–{max(loads, default=0):.1f}, CPU pressure (PSI some avg60) {min(pressures, default=0):.0f}–{max(pressures, default=0):.0f} % (other work was running on this machine)",
    )
    row(
        "benchmark wall time",
        fmt_s(wall_s),
        "",
        f"generated tokens per model request seen: {gen_counts}; answers from the result cache (excluded above): {len(cache_hits)} ({sorted({s.phase for s in cache_hits})})",
    )
    for error in r.get("errors", []):
        row("error", error.replace("|", "/"))

    lines = ["| metric | value | target | notes |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d.replace('|', '/')} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"


def rerender(raw_path: Path, out: Path | None) -> int:
    """Print (and write to ``out``) the table of a saved run, e.g. after the report changed."""
    from types import SimpleNamespace

    raw = json.loads(raw_path.read_text())
    model = Path(raw.get("model") or realistic_model.model_path())
    samples = []
    for data in raw["samples"]:
        data = {k: v for k, v in data.items() if k in Sample.__dataclass_fields__}
        samples.append(Sample(text="", **data))
    plan = Plan(**raw["plan"]) if "plan" in raw else FULL
    options = raw.get("options", {})
    bench = SimpleNamespace(
        results=raw["results"],
        samples=samples,
        direct_cold=raw["direct_cold"],
        model=model,
        options=options,
        threads=raw.get("threads") or options.get("nThreads") or os.cpu_count(),
        args=SimpleNamespace(n_ctx=raw.get("n_ctx") or options.get("nCtx", 2048)),
        plan=plan,
    )
    table = report(bench, raw.get("model_record", {}), raw["wall_s"])  # type: ignore[arg-type]
    print(table)
    if out:
        out.write_text(table)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write the table here (and the raw samples to OUT.json)")
    parser.add_argument("--model", type=Path, help="GGUF to use instead of the realistic random model")
    parser.add_argument("--cache-dir", type=Path, default=realistic_model.DEFAULT_CACHE)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help=f"source file to type into (default {DEFAULT_FILE})")
    parser.add_argument("--threads", type=int, help="CPU threads for the server and the direct runs (default: all cores)")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--prompt-tokens", type=int, default=1900,
                        help="prompt budget (default 1900: ~1,500-token prompts once the editor's prefix headroom is left free)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke test, not a measurement)")
    parser.add_argument("--from-json", type=Path, help="re-render the table from a previous run's OUT.json (no measuring)")
    args = parser.parse_args()
    if args.from_json:
        return rerender(args.from_json, args.out)
    wall_started = time.perf_counter()
    out = args.out or Path(f"bench-latency-{time.strftime('%Y%m%d-%H%M%S')}.md")
    args.server_log = out.with_suffix(".server.log")

    if args.model:
        model, record = args.model, {"cached": True}
    else:
        model, record = realistic_model.ensure_model(args.cache_dir, log=log)
    log(f"model {model} ({'cached' if record.get('cached') else 'built'}; build {record.get('build_seconds')} s)")
    bench = Bench(args, model, QUICK if args.quick else FULL)
    bench.note_load("start")
    inproc = InProcess(model, bench.options)
    if inproc.flash_attn is None:
        bench.results["errors"].append("could not tell how llama.cpp resolved flash_attn=auto; direct runs use flash attention")
    bench.results["flash_attn"] = inproc.flash_attn
    direct = Direct(model, args.n_ctx, bench.threads, flash_attn=inproc.flash_attn is not False)
    try:
        asyncio.run(bench.run_server(inproc, direct))
    except Exception:  # noqa: BLE001
        bench.error("server")
    direct.close()
    bench.note_load("in-process")
    log("phase: in-process reference")
    try:
        bench.run_inprocess(inproc)
    except Exception:  # noqa: BLE001
        bench.error("in-process reference")
    inproc.close()
    wall = time.perf_counter() - wall_started
    table = report(bench, record, wall)
    print(table)
    out.write_text(table)
    raw = {
        "model": str(model),
        "threads": bench.threads,
        "n_ctx": args.n_ctx,
        "plan": asdict(bench.plan),
        "options": bench.options,
        "model_record": record,
        "results": {k: v for k, v in bench.results.items()},
        "direct_cold": bench.direct_cold,
        "samples": [s.public() for s in bench.samples],
        "wall_s": wall,
    }
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))
    log(f"table written to {out} (raw samples {out.with_suffix('.json')}, server log {args.server_log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
