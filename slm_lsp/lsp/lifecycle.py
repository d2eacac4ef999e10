"""How the server process ends: promptly, whatever the reason, and without leftovers.

A language server must not outlive its editor. It ends when its input closes, when the
client's process (``initialize``'s ``processId``) is gone — an editor that crashes may
leave the pipe open in a grandchild — and on SIGTERM/SIGINT. In every case the model
worker is told to stop (a generation stops within one decode step, a model load at its
next progress report, removing its partial file), ``atexit`` clean-ups run (code-action
result files), and the process then exits with ``os._exit``: a normal interpreter exit
would join pygls' stdin reader thread, which stays blocked on a pipe the client may
never close.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from typing import NoReturn, Protocol

from slm_lsp.lsp.service import CompletionService
from slm_lsp.processes import process_exists

log = logging.getLogger(__name__)

PARENT_POLL_SECONDS = 0.2
WORKER_GRACE_SECONDS = 0.8
_exiting = threading.Lock()


class Stoppable(Protocol):
    """What the exit path needs from the server (the indexer thread is a daemon that only
    reads, so the exit does not wait for it)."""

    service: CompletionService


def exit_process(server: Stoppable, code: int, reason: str) -> NoReturn:
    """Stop the model worker, run clean-ups, and end the process."""
    if not _exiting.acquire(blocking=False):  # another thread is already on its way out
        threading.Event().wait()
    log.info("exiting: %s", reason)
    server.service.shutdown()
    if not server.service.wait_idle(WORKER_GRACE_SECONDS):
        log.warning("the model worker did not stop within %.1f s; exiting anyway", WORKER_GRACE_SECONDS)
    atexit._run_exitfuncs()  # os._exit skips them, and they delete private files
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def exit_on_signals(server: Stoppable) -> None:
    """SIGTERM and SIGINT end the server cleanly (call from the main thread).

    The exit runs on a thread woken through ``signal.set_wakeup_fd``, whose byte the
    interpreter's C-level handler writes at once, in whichever thread the kernel delivered
    the signal to. Python-level handlers are not enough: they run only in the main thread,
    when it next executes bytecode — after its select() wakes up for some other reason if
    the signal landed in a llama.cpp thread (seen: no exit until the generation ended) — and
    possibly while it holds a lock the exit needs (seen: inside ThreadPoolExecutor.submit,
    whose lock ``shutdown`` takes).
    """
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # set_wakeup_fd requires it
    wanted = {signal.SIGTERM, signal.SIGINT}

    def wait_for_signal() -> None:
        while (received := os.read(read_end, 1)) and received[0] not in wanted:
            pass
        name = signal.Signals(received[0]).name if received else "a signal"
        exit_process(server, 0, f"received {name}")

    threading.Thread(target=wait_for_signal, name="slm-lsp-signals", daemon=True).start()
    for signum in wanted:
        signal.signal(signum, lambda _signum, _frame: None)  # replaces the default action; the fd does the work
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)


def watch_parent(pid: object, server: Stoppable) -> None:
    """Exit soon after the client process ``pid`` disappears (no-op without a valid pid)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or pid == os.getpid():
        return
    if not process_exists(pid):
        log.warning("the client process %d named in initialize does not exist; not watching it", pid)
        return

    def watch() -> None:
        stopped = threading.Event()
        while not stopped.wait(PARENT_POLL_SECONDS):
            if not process_exists(pid):
                exit_process(server, 1, f"the client process {pid} is gone")

    threading.Thread(target=watch, name="slm-lsp-parent-watch", daemon=True).start()
