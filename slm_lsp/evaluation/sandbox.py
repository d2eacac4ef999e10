"""Run test programs in subprocesses: isolated, time-limited, without network, and cheaply.

Model output is untrusted code. Programs run in child processes of a *fork server*: a
``python -I -S`` process (no user site, no environment-driven imports) started with an
environment reduced to PATH/HOME/locale (no proxy settings or credentials) and, when
``unshare`` allows it, in a network namespace of its own (nothing can reach the network;
without it the other limits still apply). It imports what HumanEval programs use
(``typing``, ``math``, ``re`` ...) once, then forks one child per program. Starting a
fresh interpreter and importing ``typing`` costs 40-100 ms per program, a fork about one,
which is what makes scoring a thousand problems take seconds instead of minutes.

Each child gets a new session (so a timeout kills its whole process group), its own
empty temporary directory as working directory and HOME, stdin/stdout on /dev/null,
memory and file-size limits, and a reseeded ``random``. Functions that would let a wrong
completion damage the machine or fake a pass (``os.system``, ``os.remove``, ``sys.exit``,
``os._exit`` ...) are disabled before the program runs, as in OpenAI's human-eval
harness; ``subprocess``, ``shutil``, ``multiprocessing`` and ``ctypes`` cannot be imported
at all. This is a guard against accidents, not a security boundary against code written
to escape.

A program passes when it runs to the end: the child exits 0 only after the program
returned normally. ``run_program(..., guards=False)`` (``eval --workspace --test-cmd``)
keeps the isolation but not the disabled functions and modules.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT = 3.0  # seconds per program, as in human-eval; the slowest canonical solution needs < 1 s
MEMORY_LIMIT = 2 << 30  # bytes of address space per program
_DETAIL_CHARS = 300

# The fork server. argv: memory limit. stdin: one JSON request per line, {"dir", "timeout"};
# stdout: one JSON reply per request, {"code", "timeout"}.
_SERVER = r"""
import json, os, random, resource, select, signal, sys
import bisect, collections, copy, fractions, functools, hashlib, heapq, itertools, math, re, string, typing

memory = int(sys.argv[1])
replies = os.fdopen(os.dup(1), "w")
DISABLED_OS = ("system", "kill", "killpg", "fork", "forkpty", "_exit", "abort", "remove", "unlink", "rmdir",
               "removedirs", "rename", "renames", "replace", "truncate", "chmod", "chown", "putenv", "unsetenv",
               "execv", "execve", "execvp", "execvpe", "spawnv", "spawnve", "popen", "setuid", "setgid")


def child(workdir, guards):
    os.setsid()
    os.chdir(workdir)
    os.environ["HOME"] = os.environ["TMPDIR"] = workdir
    null = os.open(os.devnull, os.O_RDWR)
    errors = os.open("stderr.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(errors, 2)
    os.closerange(3, 256)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 24, 1 << 24))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    random.seed()
    with open("program.py", encoding="utf-8") as file:
        source = file.read()
    exit_now = os._exit
    if guards:
        for name in DISABLED_OS:
            if hasattr(os, name):
                setattr(os, name, None)
        for module in ("subprocess", "shutil", "multiprocessing", "ctypes"):
            sys.modules[module] = None
        import builtins
        builtins.exit = builtins.quit = sys.exit = None
    try:
        exec(compile(source, "program.py", "exec"), {"__name__": "__main__"})
    except BaseException as error:
        message = str(error)
        sys.stderr.write(f"{type(error).__name__}: {message}\n" if message else f"{type(error).__name__}\n")
        sys.stderr.flush()
        exit_now(1)
    sys.stdout.flush()
    exit_now(0)


for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            child(request["dir"], request["guards"])
        finally:
            os._exit(1)
    handle = os.pidfd_open(pid)
    ready, _, _ = select.select([handle], [], [], request["timeout"])
    if not ready:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:  # killed before its setsid(): not a group leader yet
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(handle)
    replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status), "timeout": not ready}) + "\n")
    replies.flush()
"""


@dataclass(frozen=True)
class ExecResult:
    """How one program run ended."""

    status: str  # "passed", "failed" (exception or non-zero exit), "timeout"
    detail: str  # the last line of the error output, e.g. "AssertionError"
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class SandboxError(RuntimeError):
    """The fork server died or answered nonsense: the harness, not the program, failed."""


class _ForkServer:
    """One fork-server process; used by one thread at a time."""

    def __init__(self) -> None:
        self._home = tempfile.TemporaryDirectory(prefix="slm-lsp-eval-server-")
        self.process = subprocess.Popen(
            [*network_isolation(), sys.executable, "-I", "-S", "-c", _SERVER, str(MEMORY_LIMIT)],
            cwd=self._home.name,
            env=_environment(self._home.name),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def run(self, workdir: str, timeout: float, guards: bool) -> tuple[int, bool]:
        """Exit code and whether it timed out, for the program in ``workdir``."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps({"dir": workdir, "timeout": timeout, "guards": guards}) + "\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
            answer = json.loads(reply)
            return int(answer["code"]), bool(answer["timeout"])
        except (OSError, ValueError, KeyError) as exc:
            raise SandboxError(f"the fork server stopped (exit code {self.process.poll()})") from exc

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._home.cleanup()


class _ServerPool:
    """Idle fork servers; a thread takes one for a run and gives it back (or replaces it)."""

    def __init__(self) -> None:
        self._idle: list[_ForkServer] = []
        self._all: list[_ForkServer] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def run(self, workdir: str, timeout: float, guards: bool = True) -> tuple[int, bool]:
        """Run on an idle server; if it dies, retry once on a fresh one before giving up."""
        for attempt in range(2):
            with self._lock:
                server = self._idle.pop() if self._idle else None
            if server is None:
                server = _ForkServer()
                with self._lock:
                    self._all.append(server)
            try:
                result = server.run(workdir, timeout, guards)
            except SandboxError:
                with self._lock:
                    self._all.remove(server)
                server.close()
                if attempt:
                    raise
                continue
            with self._lock:
                self._idle.append(server)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            servers, self._all, self._idle = self._all, [], []
        for server in servers:
            server.close()


_POOL = _ServerPool()


def run_program(source: str, *, timeout: float = DEFAULT_TIMEOUT, guards: bool = True) -> ExecResult:
    """Execute ``source`` as a Python program in the sandbox and report how it ended.

    ``guards=False`` keeps the process isolation (network namespace, session, limits,
    private working directory, reduced environment) but leaves ``os`` and the standard
    library whole: a project's own test suite needs them (``unittest.mock`` imports
    ``subprocess``, tests set ``os.environ``), and the code under test is the user's.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="slm-lsp-eval-") as workdir:
        Path(workdir, "program.py").write_text(source, encoding="utf-8")
        code, timed_out = _POOL.run(workdir, timeout, guards)
        seconds = time.perf_counter() - started
        if timed_out:
            return ExecResult("timeout", f"timed out after {timeout:g} s", seconds)
        if code == 0:
            return ExecResult("passed", "", seconds)
        errors = Path(workdir, "stderr.txt")
        detail = _last_line(errors.read_bytes()[-4096:].decode("utf-8", "replace")) if errors.exists() else ""
    return ExecResult("failed", detail or f"exit code {code}", seconds)


def run_programs(sources: Iterable[str], *, jobs: int = 2, timeout: float = DEFAULT_TIMEOUT) -> Iterator[ExecResult]:
    """Run many programs, ``jobs`` at a time; results come back in input order."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        yield from pool.map(functools.partial(run_program, timeout=timeout), sources)


def _environment(home: str) -> dict[str, str]:
    """A minimal environment: no proxies, tokens or PYTHON* variables from the caller."""
    return {"PATH": os.defpath, "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:_DETAIL_CHARS] if lines else ""


@functools.cache
def network_isolation() -> tuple[str, ...]:
    """The command prefix that runs the fork server without network, or () when unavailable.

    ``unshare -n`` needs privileges; ``unshare -rn`` works for ordinary users where user
    namespaces are enabled. Probed once per process.
    """
    for prefix in (("unshare", "-n"), ("unshare", "-rn")):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=5, check=False).returncode == 0:
                return prefix
        except (OSError, subprocess.SubprocessError):
            continue
    return ()
