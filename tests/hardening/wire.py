"""A raw stdio JSON-RPC client that records everything the server says.

Unlike ``tests.raw_lsp.RawServer`` it reads on a thread: a server that stops answering
fails the test after a timeout instead of hanging it, and every notification the server
sends (log and show messages included) is kept for the checks that no traceback ever
reaches the client.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.tiny_models import build_tiny_model, decode_value, read_vocab_metadata

SERVE = [sys.executable, "-m", "slm_lsp", "serve", "--threads", "1"]
# Tests check behaviour, not speed: no time budgets, so a loaded machine gives the same answers.
UNTIMED = {"maxPromptSeconds": 0, "maxGenerationSeconds": 0, "adaptiveBudgets": False}
# "Traceback (most recent call last)", '  File "x.py", line 3, in f', or a traceback list in error data.
STACK_SHAPED = re.compile(r"Traceback|File \"[^\"]*\", line \d+|\"traceback\"|\bline \d+, in \w+")


def greedy_model(directory: Path) -> Path:
    """A tiny deepseek-coder-vocabulary model whose greedy output is always the token "x".

    Its answer to a prompt is decided by a huge logit margin, so it is the same after any
    KV-cache history: a probe can demand exactly the answer it got at the start.
    """
    tokens = decode_value(read_vocab_metadata("deepseek-coder")["tokenizer.ggml.tokens"])
    return build_tiny_model("deepseek-coder", directory / "greedy-x.gguf", tied_output=False,
                            greedy_token=tokens.index("x"))


class WireClient:
    """One server subprocess, spoken to in raw frames."""

    def __init__(self, command: list[str], env: dict[str, str], stderr: Path, **popen: Any) -> None:
        self._stderr = stderr.open("wb")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._stderr, env=env, start_new_session=True, **popen)
        self.received: list[dict[str, Any]] = []  # every message from the server, in order
        self._responses: queue.Queue[dict[str, Any]] = queue.Queue()
        self._early: dict[Any, dict[str, Any]] = {}  # responses read before their request asked
        self._next_id = 0
        self._write_lock = threading.Lock()
        threading.Thread(target=self._read_forever, name="wire-reader", daemon=True).start()

    # -- sending ---------------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        assert self.process.stdin is not None
        with self._write_lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def send(self, message: Any) -> None:
        body = json.dumps(message).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def request(self, method: str, params: Any, timeout: float = 60.0) -> dict[str, Any]:
        msg_id = self.new_id()
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.response(msg_id, timeout)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def response(self, msg_id: Any, timeout: float = 60.0) -> dict[str, Any]:
        """The response to ``msg_id``. Responses may come in any order (a request that
        fails at once overtakes one that runs the model); others are kept for their turn."""
        deadline = time.monotonic() + timeout
        while msg_id not in self._early:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no response to request {msg_id!r} within {timeout} s")
            try:
                message = self._responses.get(timeout=remaining)
            except queue.Empty:
                continue
            if message.get("closed"):
                self._responses.put(message)
                raise EOFError(f"the server closed its output before answering {msg_id!r}")
            self._early[_key(message.get("id"))] = message
        return self._early.pop(msg_id)

    # -- session helpers -------------------------------------------------------------------------

    def initialize(self, root: Path | None, options: dict[str, Any], process_id: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"processId": process_id, "capabilities": {}, "initializationOptions": options}
        if root is not None:
            params["rootUri"] = root.as_uri()
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
        answer = self.request("initialize", params)
        self.notify("initialized", {})
        return answer

    def wait_settled(self, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (status := self.request("slm/status", {})["result"])["state"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, f"model never settled: {status}"
            time.sleep(0.05)
        return status

    def open(self, uri: str, text: str, language: str = "python", version: int = 1) -> None:
        self.notify("textDocument/didOpen",
                    {"textDocument": {"uri": uri, "languageId": language, "version": version, "text": text}})

    def inline(self, uri: str, line: int, character: int, timeout: float = 60.0) -> dict[str, Any]:
        return self.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},
        }, timeout)

    def rss_kb(self) -> int:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")

    def stack_shaped(self) -> list[str]:
        """Every log/show message and error response that looks like a Python traceback."""
        found = []
        for message in self.received:
            if message.get("method") in ("window/logMessage", "window/showMessage"):
                text = str(message.get("params", {}).get("message", ""))
            elif "error" in message:
                text = json.dumps(message["error"])
            else:
                continue
            if STACK_SHAPED.search(text):
                found.append(text)
        return found

    def messages_shown(self, at_least: int = 1, timeout: float = 10.0) -> list[str]:
        """The texts of window/showMessage so far, once there are ``at_least`` of them (the
        server sends one after a load settles, which may be after slm/status says so)."""
        deadline = time.monotonic() + timeout
        while True:
            shown = [str(m["params"]["message"]) for m in list(self.received) if m.get("method") == "window/showMessage"]
            if len(shown) >= at_least or time.monotonic() > deadline:
                return shown
            time.sleep(0.02)

    def stderr_text(self) -> str:
        self._stderr.flush()
        return Path(self._stderr.name).read_text(errors="replace")

    def close(self) -> int:
        """Shut down politely and return the exit code (kill after 10 s)."""
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            return self.process.wait(timeout=10)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stderr.close()

    # -- reading ---------------------------------------------------------------------------------

    def _read_forever(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                length = 0
                while (line := stdout.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                if not length:
                    break
                message = json.loads(stdout.read(length))
                self.received.append(message)
                if "method" in message and "id" in message:  # a request from the server: accept it
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                elif "method" not in message:
                    self._responses.put(message)
        except (OSError, ValueError):
            pass
        self._responses.put({"closed": True})


def _key(msg_id: Any) -> Any:
    """A response id as a dict key (an error response to an unparsable request has a null id;
    a fuzzed id may be a list or an object, which cannot be a key)."""
    return msg_id if isinstance(msg_id, (int, str)) or msg_id is None else json.dumps(msg_id)
