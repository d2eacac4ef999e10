"""Faults around the server: the client vanishing, signals, the model file or the cache
directory misbehaving, and workspace files becoming unreadable.

Time limits here are generous upper bounds (the issue asks for an exit "within a second";
a loaded CI machine gets five). Permission faults run the server without the
capabilities that let root ignore file modes (``setpriv``), so they hold as root too.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slm_lsp.models.source import ensure_embedded_model
from tests.hardening.wire import SERVE, UNTIMED, WireClient, greedy_model

EXIT_WITHIN = 5.0
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
FULL_DISK = ["prlimit", f"--fsize={1 << 20}", "--"]  # writes past 1 MB fail (EFBIG), as on a full disk
FIZZBUZZ = 'def fizzbuzz(n):\n    """Return "Fizz", "Buzz", "FizzBuzz" or the number."""\n    if n % 15 == 0:\n        return "FizzBuzz"\n'
SOURCE = "def add(a, b):\n    return "
# Short answers: a long run of the greedy model's "x" is cut as repetition, leaving no item.
SHORT = {**UNTIMED, "maxTokensSingle": 8, "maxTokensMulti": 8,
         "minConfidence": 0}  # random weights: every suggestion is doubtful, and these must be shown


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return greedy_model(tmp_path_factory.mktemp("greedy"))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[WireClient]]:
    """Servers a test starts; any still running afterwards is killed."""
    started: list[WireClient] = []
    yield started
    for client in started:
        client.kill()


def start(servers: list[WireClient], tmp_path: Path, env: dict[str, str], *args: str,
          prefix: list[str] | None = None, **popen: Any) -> WireClient:
    env = {**env, "PYTHONFAULTHANDLER": "1"}  # a hung server shows where it hangs (wait_exit)
    client = WireClient([*(prefix or []), *SERVE, *args], env, tmp_path / f"stderr-{len(servers)}.log", **popen)
    servers.append(client)
    return client


def wait_exit(client: WireClient, since: float) -> float:
    """Seconds from ``since`` until the server exited (fails after EXIT_WITHIN)."""
    try:
        client.process.wait(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        client.process.send_signal(signal.SIGABRT)  # faulthandler (see start) prints every thread's stack
        client.process.wait()
        raise AssertionError(f"the server still runs {EXIT_WITHIN} s later; its threads:\n"
                             f"{client.stderr_text()[-6000:]}") from None
    return time.monotonic() - since


def session_processes(sid: int) -> list[str]:
    """Processes still in session ``sid`` (the server's, see start_new_session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == sid:
                found.append(f"{entry.name} {fields[0].decode()}")
    return found


def generating(client: WireClient, uri: str) -> int:
    """Start a long generation (without awaiting it) and return once the worker runs it."""
    msg_id = client.new_id()
    client.send({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/inlineCompletion", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 4, "character": 0}, "context": {"triggerKind": 1}}})
    deadline = time.monotonic() + 60
    while client.request("slm/status", {})["result"]["jobs"]["running"] != 1:
        assert time.monotonic() < deadline, "the generation never started"
        time.sleep(0.02)
    return msg_id


def assembling(servers: list[WireClient], tmp_path: Path, cache: Path,
               env: dict[str, str]) -> tuple[WireClient, Path]:
    """A server with an empty model cache, once it is assembling the embedded model: the
    server and its partial file."""
    client = start(servers, tmp_path, {**env, "SLM_LSP_CACHE_DIR": str(cache)})
    client.initialize(tmp_path, UNTIMED)
    deadline = time.monotonic() + 60
    while not (partial := list(cache.glob(".assembling-*"))):
        assert time.monotonic() < deadline and client.process.poll() is None, "assembly never started"
        time.sleep(0.005)
    return client, partial[0]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


# -- the client disappears -----------------------------------------------------------------------


def test_stdin_closing_during_a_generation_ends_the_server(
    servers: list[WireClient], tmp_path: Path, embedded_model: Path, clean_env: dict[str, str]
) -> None:
    client = start(servers, tmp_path, clean_env, "--model", str(embedded_model))
    client.initialize(tmp_path, {**UNTIMED, "maxTokensMulti": 1500})
    assert client.wait_settled()["state"] == "ready"
    client.open("file:///work/fizz.py", FIZZBUZZ)
    generating(client, "file:///work/fizz.py")
    assert client.process.stdin is not None
    closed = time.monotonic()
    client.process.stdin.close()
    print(f"exited {wait_exit(client, closed):.2f} s after stdin closed, mid-generation")
    assert client.process.returncode == 1  # no shutdown request came first
    assert not session_processes(client.process.pid)


def test_parent_process_death_ends_the_server(
    servers: list[WireClient], tmp_path: Path, tiny_model: Path, clean_env: dict[str, str]
) -> None:
    """An editor that dies may leave the pipe open (a grandchild holds it): processId decides."""
    parent = subprocess.Popen(["sleep", "600"])
    try:
        client = start(servers, tmp_path, clean_env, "--model", str(tiny_model))
        client.initialize(tmp_path, UNTIMED, process_id=parent.pid)
        assert client.wait_settled()["state"] == "ready"
    finally:
        parent.kill()
        parent.wait()
    died = time.monotonic()
    print(f"exited {wait_exit(client, died):.2f} s after its client process died")
    assert not session_processes(client.process.pid)


# -- signals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_a_generation_exits_cleanly(
    servers: list[WireClient], tmp_path: Path, embedded_model: Path, clean_env: dict[str, str], signum: int
) -> None:
    client = start(servers, tmp_path, clean_env)  # the embedded model, from the test cache
    client.initialize(tmp_path, {**UNTIMED, "maxTokensMulti": 1500})
    assert client.wait_settled()["state"] == "ready"
    client.open("file:///work/fizz.py", FIZZBUZZ)
    generating(client, "file:///work/fizz.py")
    sent = time.monotonic()
    client.process.send_signal(signum)
    print(f"exited {wait_exit(client, sent):.2f} s after {signal.Signals(signum).name}, mid-generation")
    assert client.process.returncode == 0
    assert not session_processes(client.process.pid)
    assert not client.stack_shaped()
    cache = embedded_model.parent
    assert not list(cache.glob(".assembling-*"))
    assert embedded_model.stat().st_size > 200 << 20


def test_sigterm_while_assembling_the_model_leaves_no_partial_file(
    servers: list[WireClient], tmp_path: Path, embedded_model: Path, clean_env: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    client, _partial = assembling(servers, tmp_path, cache, clean_env)
    sent = time.monotonic()
    client.process.send_signal(signal.SIGTERM)
    print(f"exited {wait_exit(client, sent):.2f} s after SIGTERM, mid-assembly")
    assert client.process.returncode == 0
    leftovers = sorted(path.name for path in cache.iterdir())
    assert not [name for name in leftovers if name.startswith(".assembling-")], leftovers
    model = cache / embedded_model.name
    if model.exists():  # assembly won the race: then it must be the whole, verified file
        assert sha256(model) == sha256(embedded_model)


def test_partial_file_of_a_killed_assembly_is_removed_next_time(
    servers: list[WireClient], tmp_path: Path, embedded_model: Path, clean_env: dict[str, str]
) -> None:
    """SIGKILL cannot be handled: the 250 MB partial file stays, until the next assembly."""
    cache = tmp_path / "cache"
    cache.mkdir()
    client, partial = assembling(servers, tmp_path, cache, clean_env)
    client.process.kill()
    client.process.wait()
    assert partial.exists()
    model = ensure_embedded_model(cache)
    assert not list(cache.glob(".assembling-*"))
    assert sha256(model) == sha256(embedded_model)


# -- the model file changes under a running server ------------------------------------------------


@pytest.mark.parametrize("change", ["delete", "replace", "truncate"])
def test_model_file_changed_while_serving(
    servers: list[WireClient], tmp_path: Path, tiny_model: Path, clean_env: dict[str, str], change: str
) -> None:
    model = tmp_path / "model.gguf"
    shutil.copyfile(tiny_model, model)
    client = start(servers, tmp_path, clean_env, "--model", str(model))
    client.initialize(tmp_path, SHORT)
    assert client.wait_settled()["state"] == "ready"
    client.open("file:///work/add.py", SOURCE)
    before = client.inline("file:///work/add.py", 1, 11)["result"]
    assert before["items"]
    if change == "delete":
        model.unlink()
    elif change == "replace":
        replacement = tmp_path / "new.gguf"
        replacement.write_text("not a model any more\n")
        replacement.replace(model)
    else:
        with model.open("r+b") as handle:
            handle.truncate(model.stat().st_size // 2)
    client.notify("textDocument/didChange", {"textDocument": {"uri": "file:///work/add.py", "version": 2},
                                             "contentChanges": [{"text": "def mul(a, b):\n    return "}]})
    after = client.inline("file:///work/add.py", 1, 11)
    assert "result" in after, after  # still serving, from the model it loaded
    # A reload (here: a new context size) reads the changed file: it fails with one sentence
    # naming the file, and the server goes on answering, without completions.
    client.notify("workspace/didChangeConfiguration", {"settings": {"slm": {"nCtx": 2048}}})
    status = client.wait_settled()
    assert status["state"] == "failed" and str(model) in status["error"], status
    assert client.inline("file:///work/add.py", 1, 11)["result"]["items"] == []
    errors = client.messages_shown()
    assert len(errors) == 1 and str(model) in errors[0], errors
    assert not client.stack_shaped()
    assert client.close() == 0


# -- the cache directory cannot be written ----------------------------------------------------------


@pytest.mark.parametrize("fault", ["read-only", "disk-full"])
def test_unwritable_cache_is_reported_and_the_server_keeps_serving(
    servers: list[WireClient], tmp_path: Path, clean_env: dict[str, str], fault: str
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    if fault == "read-only":
        cache.chmod(0o555)
        client = start(servers, tmp_path, {**clean_env, "SLM_LSP_CACHE_DIR": str(cache)}, prefix=NO_DAC)
    else:
        client = start(servers, tmp_path, {**clean_env, "SLM_LSP_CACHE_DIR": str(cache)}, prefix=FULL_DISK)
    client.initialize(tmp_path, UNTIMED)
    status = client.wait_settled()
    assert status["state"] == "failed", status
    assert str(cache) in status["error"] and "SLM_LSP_CACHE_DIR" in status["error"], status["error"]
    errors = client.messages_shown()
    assert len(errors) == 1 and "SLM_LSP_CACHE_DIR" in errors[0], errors
    client.open("file:///work/add.py", SOURCE)
    assert client.inline("file:///work/add.py", 1, 11)["result"]["items"] == []
    assert client.request("slm/status", {})["result"]["state"] == "failed"  # still answering
    assert not list(cache.iterdir())  # no partial file left behind
    assert not client.stack_shaped()
    assert client.close() == 0


# -- workspace files become unreadable ---------------------------------------------------------------


def test_unreadable_workspace_files_are_skipped(
    servers: list[WireClient], tmp_path: Path, tiny_model: Path, clean_env: dict[str, str]
) -> None:
    workspace = tmp_path / "workspace"
    (workspace / "locked").mkdir(parents=True)
    (workspace / "locked" / "inner.py").write_text("def inner():\n    return 1\n")
    (workspace / "early.py").write_text("def early():\n    return 2\n")
    (workspace / "later.py").write_text("def later():\n    return 3\n")
    (workspace / "app.py").write_text("from later import later\n")
    (workspace / "early.py").chmod(0)
    (workspace / "locked").chmod(0)
    client = start(servers, tmp_path, clean_env, "--model", str(tiny_model), "--log-level", "debug", prefix=NO_DAC)
    client.initialize(workspace, SHORT)
    assert client.wait_settled()["state"] == "ready"
    (workspace / "later.py").write_text("def later():\n    return 4\n")  # saved, then locked
    (workspace / "later.py").chmod(0)
    later = (workspace / "later.py").as_uri()
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": later, "type": 2}]})
    app = (workspace / "app.py").as_uri()
    client.open(app, "from later import later\n\ndef use():\n    return \n")
    answer = client.inline(app, 3, 11)
    assert "result" in answer and answer["result"]["items"], answer
    deadline = time.monotonic() + 30
    while not all(f"not reading {workspace / name}" in client.stderr_text() for name in ("early.py", "later.py")):
        assert time.monotonic() < deadline, client.stderr_text()[-3000:]
        time.sleep(0.1)
    assert "Traceback" not in client.stderr_text()
    assert not client.stack_shaped()
    assert client.close() == 0
