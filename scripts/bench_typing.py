"""Load test: a scripted typing session against the real server, like an editor without debounce.

For ``--seconds`` (60) the client types ``--rate`` (20) keystrokes a second into three
documents in turn (copies of standard-library modules, in a temporary workspace): each
keystroke is an incremental ``didChange``, a ``$/cancelRequest`` for the previous inline
request if it is still unanswered (as VS Code does), and a new ``inlineCompletion``
request. Halfway through, a new module is written to disk and announced with
``didChangeWatchedFiles`` and the current document is saved (``didSave``), so the
workspace index updates during the session.

The table shows what happened to the requests (client side: answered with a suggestion,
answered empty, cancelled) and what the server did (``slm/status`` ``jobs``: generations
that ran the model, answers reused from the result cache or the typed-ahead memory, jobs
superseded or cancelled, the peak number of jobs running at once — it must be 1 — and the
latency of the generations that ran, queueing included), with the server's RSS at the
start (model loaded) and at the end.

Run: python scripts/bench_typing.py [--model FILE] [--seconds 60] [--rate 20] [--threads N]
Without --model the server loads the embedded default (Gemma 3 270M), as ``slm-lsp serve`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

STDLIB = Path(json.__file__).resolve().parent.parent
SOURCES = [STDLIB / "json" / "decoder.py", STDLIB / "json" / "encoder.py", STDLIB / "textwrap.py"]
TYPED_LINES = 12  # lines removed from each document and typed back in
NEW_MODULE = "def parse_header(line):\n    name, _, value = line.partition(':')\n    return name.strip().lower(), value.strip()\n"


@dataclass
class Request:
    sent: float
    answered: float | None = None
    items: int = 0
    cancelled: bool = False
    error: str | None = None


class Client:
    """A minimal LSP client over the server's stdio."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.next_id = 0
        self.reader = asyncio.ensure_future(self._read())

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def send(self, method: str, params: Any) -> tuple[int, asyncio.Future[dict[str, Any]]]:
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self._write({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id, future

    async def request(self, method: str, params: Any) -> Any:
        _, future = self.send(method, params)
        answer = await future
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']['message']}")
        return answer["result"]

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = 0
            while (line := await stdout.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not length:
                return
            message = json.loads(await stdout.readexactly(length))
            if "method" in message and "id" in message:
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message and (future := self.pending.pop(message["id"], None)) is not None:
                future.set_result(message)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


class Document:
    """A workspace file with TYPED_LINES lines cut out; ``keystroke`` types them back."""

    def __init__(self, path: Path) -> None:
        lines = path.read_text().splitlines(keepends=True)
        start = len(lines) // 2
        self.path = path
        self.uri = path.as_uri()
        self.to_type = "".join(lines[start : start + TYPED_LINES])
        self.text = "".join(lines[:start] + lines[start + TYPED_LINES :])
        self.line, self.character = start, 0
        self.typed = 0
        self.version = 1

    def keystroke(self) -> dict[str, Any]:
        """The next character as a didChange, with the cursor moved past it."""
        char = self.to_type[self.typed % len(self.to_type)]
        self.typed += 1
        self.version += 1
        here = {"line": self.line, "character": self.character}
        offset = sum(len(line) for line in self.text.splitlines(keepends=True)[: self.line]) + self.character
        self.text = self.text[:offset] + char + self.text[offset:]
        self.line, self.character = (self.line + 1, 0) if char == "\n" else (self.line, self.character + 1)
        return {"textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": {"start": here, "end": here}, "text": char}]}


async def session(args: argparse.Namespace, workspace: Path, stderr: IO[bytes]) -> dict[str, Any]:
    command = [sys.executable, "-m", "slm_lsp", "serve"]
    if args.model:
        command += ["--model", str(args.model)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    process = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.PIPE, stderr=stderr)
    client = Client(process)
    try:
        await client.request("initialize", {"processId": os.getpid(), "rootUri": workspace.as_uri(),
                                            "capabilities": {"window": {"workDoneProgress": True}}})
        client.notify("initialized", {})
        while (status := await client.request("slm/status", {}))["state"] not in ("ready", "failed"):
            await asyncio.sleep(0.1)
        if status["state"] == "failed":
            raise SystemExit(f"the model failed to load: {status['error']}")
        documents = [Document(workspace / source.name) for source in SOURCES]
        for document in documents:
            client.notify("textDocument/didOpen", {"textDocument": {
                "uri": document.uri, "languageId": "python", "version": 1, "text": document.text}})
        jobs_before = status["jobs"]
        rss_start = rss_mb(process.pid)
        requests: dict[int, Request] = {}
        previous: tuple[int, asyncio.Future[dict[str, Any]]] | None = None
        keystrokes = int(args.seconds * args.rate)
        began = time.monotonic()
        index_updated = False
        for stroke in range(keystrokes):
            await asyncio.sleep(max(0.0, began + stroke / args.rate - time.monotonic()))
            document = documents[int(stroke * len(documents) / keystrokes)]
            if not index_updated and stroke >= keystrokes // 2:
                index_updated = True
                (workspace / "headers.py").write_text(NEW_MODULE)
                document.path.write_text(document.text)
                client.notify("textDocument/didSave", {"textDocument": {"uri": document.uri}})
                client.notify("workspace/didChangeWatchedFiles", {"changes": [
                    {"uri": (workspace / "headers.py").as_uri(), "type": 1}, {"uri": document.uri, "type": 2}]})
            client.notify("textDocument/didChange", document.keystroke())
            if previous is not None and not previous[1].done():
                client.notify("$/cancelRequest", {"id": previous[0]})
            msg_id, future = client.send("textDocument/inlineCompletion", {
                "textDocument": {"uri": document.uri},
                "position": {"line": document.line, "character": document.character},
                "context": {"triggerKind": 2}})
            requests[msg_id] = request = Request(time.monotonic())
            future.add_done_callback(functools.partial(_record, request))
            previous = (msg_id, future)
        typing_seconds = time.monotonic() - began
        if client.pending:
            await asyncio.wait(list(client.pending.values()), timeout=30)
        status = await client.request("slm/status", {})
        result = {
            "requests": list(requests.values()), "typing_seconds": typing_seconds,
            "jobs_before": jobs_before, "jobs": status["jobs"], "model": status["model"],
            "rss_start": rss_start, "rss_end": rss_mb(process.pid), "rss_peak": rss_mb(process.pid, "VmHWM"),
        }
        await client.request("shutdown", None)
        client.notify("exit", None)
        await asyncio.wait_for(process.wait(), 10)
        return result
    finally:
        if process.returncode is None:
            process.kill()


def _record(request: Request, done: asyncio.Future[dict[str, Any]]) -> None:
    answer = done.result()
    request.answered = time.monotonic()
    if "error" in answer:
        request.cancelled = answer["error"]["code"] == -32800
        request.error = None if request.cancelled else answer["error"]["message"]
    else:
        request.items = len(answer["result"]["items"])


def table(result: dict[str, Any]) -> str:
    requests: list[Request] = result["requests"]
    jobs, before = result["jobs"], result["jobs_before"]

    def delta(key: str) -> int:
        return int(jobs[key]) - int(before[key])

    answered = [r for r in requests if r.answered is not None and not r.cancelled and r.error is None]
    with_items = [r for r in answered if r.items]
    latency = [1000 * (r.answered - r.sent) for r in with_items if r.answered is not None]

    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f} ms"

    rows = [
        ("model", result["model"]),
        ("typing", (f"{len(requests)} keystrokes in {result['typing_seconds']:.1f} s "
                    f"({len(requests) / result['typing_seconds']:.1f}/s), 3 documents, 1 index update")),
        ("inline requests sent", len(requests)),
        ("… answered with a suggestion", len(with_items)),
        ("… answered empty (superseded, or nothing to suggest)", len(answered) - len(with_items)),
        ("… cancelled by the client ($/cancelRequest)", sum(r.cancelled for r in requests)),
        ("… errors / unanswered",
         f"{sum(r.error is not None for r in requests)} / {sum(r.answered is None for r in requests)}"),
        ("server: generations that ran the model", delta("generated")),
        ("server: answered from cache / typed-ahead", delta("reused")),
        ("server: jobs superseded / cancelled", f"{delta('superseded')} / {delta('cancelled')}"),
        ("server: stop reasons", ", ".join(f"{k} {v}" for k, v in sorted(jobs["stopReasons"].items()))),
        ("server: latency of generations p50 / p95 (queueing included)",
         f"{ms(jobs['latencyMs']['p50'])} / {ms(jobs['latencyMs']['p95'])} (n={jobs['latencyMs']['count']})"),
        ("client: latency of answers with a suggestion p50 / p95",
         f"{ms(percentile(latency, 0.5))} / {ms(percentile(latency, 0.95))}"),
        ("peak concurrent generations", jobs["peakRunning"]),
        ("RSS start / end / peak (VmHWM)",
         f"{result['rss_start']:.0f} / {result['rss_end']:.0f} / {result['rss_peak']:.0f} MB"),
    ]
    lines = ["| | |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in rows)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the embedded model)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0, help="keystrokes per second")
    parser.add_argument("--threads", type=int, help="CPU threads for the server (default: all cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slm-bench-typing-") as temp:
        workspace = Path(temp) / "workspace"
        workspace.mkdir()
        for source in SOURCES:
            shutil.copyfile(source, workspace / source.name)
        with (Path(temp) / "server.log").open("wb") as stderr:
            result = asyncio.run(session(args, workspace, stderr))
    print(table(result))
    return 0 if result["jobs"]["peakRunning"] <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
