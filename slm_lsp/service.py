"""The model's lifecycle and its single worker thread, shared by the server's handlers.

llama.cpp contexts are not thread-safe and the CPU is the bottleneck, so every model
operation — loading, then each completion — runs on one dedicated thread, in order.
A request for a document supersedes the previous request for the same document: the
older job is told to stop (between two batches or two decoded tokens) and a job that
was superseded before it started returns at once, so stale generations never queue up.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections.abc import Callable
from typing import TypeVar
from concurrent.futures import Future, ThreadPoolExecutor

from slm_lsp.config import Settings
from slm_lsp.context import ContextEngine
from slm_lsp.gguf_file import ModelFileError
from slm_lsp.model_source import ModelChoice, choose_model
from slm_lsp.pipeline import CompletionRequest, CompletionResult, Pipeline, ProgressReport

log = logging.getLogger(__name__)
T = TypeVar("T")


class ModelState(enum.Enum):
    NOT_LOADED = "not loaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class RequestSuperseded(Exception):
    """A newer request for the same document (or a cancellation) stopped this one; it has no result."""


class CompletionService:
    """Loads the model once in the background and runs completions one at a time."""

    def __init__(self, settings: Settings, context: ContextEngine | None = None) -> None:
        self.settings = settings
        self.context = context
        self.state = ModelState.NOT_LOADED
        self.error: str | None = None
        self.last: dict[str, object] = {}  # stop reason and timings of the latest generation
        self.choice: ModelChoice = choose_model(settings.model)
        self._pipeline: Pipeline | None = None
        self._settled = threading.Event()  # set once loading succeeded or failed
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slm-model")
        self._latest: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start_loading(self, progress: ProgressReport | None = None) -> Future[None]:
        """Queue the model load on the worker thread; returns at once."""
        self.state = ModelState.LOADING
        return self._executor.submit(self._load, progress or (lambda message, fraction: None))

    def _load(self, progress: ProgressReport) -> None:
        try:
            self._pipeline = Pipeline.load(self.settings, self.choice, progress, self.context)
            self.state = ModelState.READY
            engine = self._pipeline.engine
            log.info("model ready: %s (%s)", engine.name, engine.fim.family)
        except ModelFileError as exc:
            self.error = str(exc)
            self.state = ModelState.FAILED
            log.error("%s", exc)
        except Exception as exc:  # noqa: BLE001 - a load failure must never kill the server
            self.error = f"could not load the model: {exc}"
            self.state = ModelState.FAILED
            log.exception("model load failed")
        finally:
            self._settled.set()

    @property
    def pipeline(self) -> Pipeline | None:
        return self._pipeline

    async def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the model; True when it is ready."""
        if not self._settled.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self._settled.wait, timeout)
        return self.state is ModelState.READY

    async def complete(self, request: CompletionRequest, key: str) -> CompletionResult:
        """Run one completion on the worker thread (see ``run``)."""
        return await self.run(lambda pipeline, cancelled: self._complete(pipeline, request, cancelled), key)

    async def run(self, job: Callable[[Pipeline, Callable[[], bool]], T], key: str) -> T:
        """Run ``job(pipeline, cancelled)`` on the worker thread, superseding earlier jobs with ``key``.

        Every model operation (completions, code actions) goes through here so that one
        thread owns llama.cpp. Raises RequestSuperseded if a newer job with ``key``
        arrived first or stopped this one, and propagates asyncio.CancelledError (after
        telling the job to stop) when the caller is cancelled, e.g. by ``$/cancelRequest``.
        """
        stop = threading.Event()
        with self._lock:
            previous = self._latest.get(key)
            if previous is not None:
                previous.set()
            self._latest[key] = stop
        future = self._executor.submit(self._run, job, stop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            stop.set()
            raise
        finally:
            with self._lock:
                if self._latest.get(key) is stop:
                    del self._latest[key]

    def _run(self, job: Callable[[Pipeline, Callable[[], bool]], T], stop: threading.Event) -> T:
        if stop.is_set():
            raise RequestSuperseded()
        pipeline = self._pipeline
        if pipeline is None:
            raise RuntimeError(self.error or "the model is not loaded")
        result = job(pipeline, stop.is_set)
        if stop.is_set():
            raise RequestSuperseded()
        return result

    def _complete(self, pipeline: Pipeline, request: CompletionRequest, cancelled: Callable[[], bool]) -> CompletionResult:
        result = pipeline.complete(request, cancelled=cancelled)
        self.last = {"stopReason": result.stop_reason, **result.timings}
        return result

    def shutdown(self) -> None:
        """Stop running jobs and the worker thread (the process may then exit cleanly)."""
        with self._lock:
            for stop in self._latest.values():
                stop.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
