"""The model's lifecycle and its single worker thread, shared by the server's handlers.

llama.cpp contexts are not thread-safe and the CPU is the bottleneck, so every model
operation — loading, then each completion — runs on one dedicated thread, in order.
A request for a document supersedes the previous request for the same document: the
older job is told to stop (between two batches or two decoded tokens) and a job that
was superseded before it started returns at once, so stale generations never queue up.
``JobStats`` counts how requests ended and how many model jobs ever ran at once, so the
single-worker rule is observed (``slm/status``, the typing benchmark), not just assumed.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from slm_lsp.config.settings import ENGINE_FIELDS, Settings
from slm_lsp.context import ContextEngine
from slm_lsp.models.gguf_file import ModelFileError
from slm_lsp.models.source import ModelChoice, choose_model
from slm_lsp.pipeline import (
    CompletionRequest,
    CompletionResult,
    Pipeline,
    ProgressReport,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class ModelState(enum.Enum):
    NOT_LOADED = "not loaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class RequestSuperseded(Exception):
    """A newer request for the same document (or a cancellation) stopped this one; it has no result."""


class LoadAborted(Exception):
    """The server is exiting: the model load stops at its next progress report."""


_MODEL_RAN = ("end", "stop", "length", "deadline")
CANCEL_GRACE_SECONDS = 0.25
"""A cancelled prompt evaluation keeps going this long for the request that usually
follows a cancel (editors cancel first, then ask again at the next keystroke)."""
EXTEND_SLACK = 64
"""Characters before the old cursor a newer request may change and still count as
extending it (a retyped word, a backspace): its prompt shares all but the last tokens."""


class Ticket:
    """One submitted job's stop signal, and what it was asked, for the supersede rules.

    Calling it says whether the job should stop; ``keep_prompt`` says whether a stopped
    completion should still finish evaluating its prompt because the request that took
    over (or, just after a cancel, the one expected to) will reuse it.
    """

    def __init__(
        self, service: CompletionService, key: str, request: CompletionRequest | None, speculative: bool = False
    ) -> None:
        self._service = service
        self.key = key
        self.request = request
        self.speculative = speculative  # asked by the server itself (after an accept), not by the editor
        self._stop = threading.Event()
        self.stopped_at: float | None = None
        self._extends: tuple[CompletionRequest, bool] | None = None  # the last successor judged

    def __call__(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        if self.stopped_at is None:
            self.stopped_at = time.monotonic()
        self._stop.set()

    def keep_prompt(self) -> bool:
        service = self._service
        if self.request is None or service._closing.is_set():
            return False
        successor = service._requests.get(self.key)
        if successor is not None and successor is not self.request:
            if self._extends is None or self._extends[0] is not successor:
                self._extends = (successor, extends(self.request, successor))
            return self._extends[1]
        return self.stopped_at is not None and time.monotonic() - self.stopped_at < CANCEL_GRACE_SECONDS


def extends(old: CompletionRequest, new: CompletionRequest) -> bool:
    """True when ``new`` edits ``old``'s document only near or after ``old``'s cursor, so
    the prompt ``old`` is evaluating is (all but its last tokens) a prefix of ``new``'s."""
    if old.uri != new.uri or new.offset < old.offset - EXTEND_SLACK:
        return False
    start = max(0, old.offset - EXTEND_SLACK)
    return old.text[:start] == new.text[:start]


def same_request(old: CompletionRequest | None, new: CompletionRequest | None) -> bool:
    """The same document text, cursor and selection: one answer serves both."""
    return old is not None and new is not None and (old.text, old.offset, old.selection) == (new.text, new.offset, new.selection)


@dataclass
class JobStats:
    """How model jobs ended, and the most that ever ran at the same time (must stay 1)."""

    submitted: int = 0
    superseded: int = 0  # a newer request for the same document took over
    cancelled: int = 0  # $/cancelRequest, or the client went away
    generated: int = 0  # completions that ran the model
    reused: int = 0  # completions answered from the result cache or typed-ahead memory
    gated: int = 0  # suggestions withheld because their confidence was below minConfidence
    running: int = 0
    peak_running: int = 0
    stop_reasons: Counter[str] = field(default_factory=Counter)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))  # of the recent generations

    def as_dict(self) -> dict[str, object]:
        ordered = sorted(self.latencies_ms)
        return {
            "submitted": self.submitted, "superseded": self.superseded, "cancelled": self.cancelled,
            "generated": self.generated, "reused": self.reused, "gated": self.gated, "running": self.running,
            "peakRunning": self.peak_running, "stopReasons": dict(self.stop_reasons),
            "latencyMs": {"count": len(ordered), "p50": _percentile(ordered, 0.5), "p95": _percentile(ordered, 0.95)},
        }


def _percentile(ordered: list[float], q: float) -> float | None:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else None


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
        self._latest: dict[str, Ticket] = {}
        self._requests: dict[str, CompletionRequest] = {}  # the newest completion asked per key
        self._waiting = 0  # real jobs submitted and not finished: a prefetch yields to them
        self._prefetch: Ticket | None = None
        self._deferred_prefetch: tuple[CompletionRequest, str] | None = None  # asked before the model was ready
        self.last_prefetch: dict[str, object] = {}
        self.prefetches: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closing = threading.Event()
        self.jobs = JobStats()
        self.notify: Callable[[str], None] = log.warning  # backend notices; the server shows them

    def start_loading(self, progress: ProgressReport | None = None) -> Future[None]:
        """Queue the model load (or reload) on the worker thread; returns at once. Until it
        settles, requests wait as for the first load."""
        self.state = ModelState.LOADING
        self.error = None
        self._settled.clear()
        return self._executor.submit(self._load, progress or (lambda message, fraction: None))

    def reconfigure(self, settings: Settings) -> bool:
        """Apply new settings; True when they need a new engine (call ``start_loading``).

        Other changes take effect on the worker thread, after the jobs already queued, on
        a new pipeline over the same engine.
        """
        previous, self.settings = self.settings, settings
        changed = {name for name in ENGINE_FIELDS if getattr(previous, name) != getattr(settings, name)}
        if previous.backend == settings.backend == "local":  # remote keys mean nothing to llama.cpp
            changed = {name for name in changed if not name.startswith("remote_")}
        if previous.context_size() != settings.context_size():  # an automatic size follows the budgets
            changed.add("n_ctx")
        if changed:
            self.choice = choose_model(settings.model)
            self.state = ModelState.LOADING  # requests from now on wait as for the first load
            self._settled.clear()
            return True
        self._executor.submit(self._swap_settings, settings)
        return False

    def _swap_settings(self, settings: Settings) -> None:
        pipeline = self._pipeline
        if pipeline is not None:
            self._pipeline = Pipeline(pipeline.engine, settings, pipeline.context)

    def _load(self, progress: ProgressReport) -> None:
        def report(message: str, fraction: float | None) -> None:
            if self._closing.is_set():  # lets model_source remove its partial file on the way out
                raise LoadAborted("the server is exiting")
            progress(message, fraction)

        self._enter()
        previous, self._pipeline = self._pipeline, None
        if previous is not None:  # a reload: free the old model before the new one takes memory
            previous.engine.close()
        try:
            self._pipeline = Pipeline.load(self.settings, self.choice, report, self.context, self.notify)
            self.state = ModelState.READY
            engine = self._pipeline.engine
            log.info("model ready: %s (%s)", engine.name, engine.fim.family)
            if self._deferred_prefetch is not None:
                self.prefetch(*self._deferred_prefetch)
        except LoadAborted as exc:
            self.error = str(exc)
            self.state = ModelState.FAILED
        except ModelFileError as exc:
            self.error = str(exc)
            self.state = ModelState.FAILED
            log.error("%s", exc)
        except Exception as exc:  # a load failure must never kill the server
            self.error = f"could not load the model: {exc}"
            self.state = ModelState.FAILED
            log.exception("model load failed")
        finally:
            self._leave()
            self._settled.set()

    @property
    def pipeline(self) -> Pipeline | None:
        return self._pipeline

    async def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the model; True when it is ready."""
        if not self._settled.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self._settled.wait, timeout)
        return self.state is ModelState.READY

    async def complete(self, request: CompletionRequest, key: str, speculative: bool = False) -> CompletionResult:
        """Run one completion on the worker thread (see ``run``); the latency of those that
        ran the model, queueing included, goes into ``jobs``."""
        started = time.monotonic()
        def job(pipeline: Pipeline, ticket: Ticket) -> CompletionResult:
            return self._complete(pipeline, request, ticket)

        result = await self.run(job, key, request, speculative)
        if result.stop_reason in _MODEL_RAN:
            with self._lock:
                self.jobs.latencies_ms.append((time.monotonic() - started) * 1000)
        return result

    async def run(
        self,
        job: Callable[[Pipeline, Ticket], T],
        key: str,
        request: CompletionRequest | None = None,
        speculative: bool = False,
    ) -> T:
        """Run ``job(pipeline, ticket)`` on the worker thread, superseding earlier jobs with ``key``.

        Every model operation (completions, code actions) goes through here so that one
        thread owns llama.cpp; the ticket is the job's ``cancelled`` check. Raises
        RequestSuperseded if a newer job with ``key`` arrived first or stopped this one,
        and propagates asyncio.CancelledError (after telling the job to stop) when the
        caller is cancelled, e.g. by ``$/cancelRequest``. The editor asking at the very text
        and cursor of a ``speculative`` job (the suggestion after an accept) does not stop
        it: the editor's request waits for its cached result.
        """
        stop = Ticket(self, key, request, speculative)
        with self._lock:
            self.jobs.submitted += 1
            self._waiting += 1
            previous = self._latest.get(key)
            if previous is not None and not (previous.speculative and same_request(previous.request, request)):
                previous.cancel()
            self._latest[key] = stop
            if request is not None:
                self._requests[key] = request
        future = self._executor.submit(self._run, job, stop)
        future.add_done_callback(self._finished_waiting)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            stop.cancel()
            with self._lock:
                self.jobs.cancelled += 1
            raise
        except RequestSuperseded:
            with self._lock:
                self.jobs.superseded += 1
            raise
        finally:
            with self._lock:
                if self._latest.get(key) is stop:
                    del self._latest[key]

    def others_waiting(self) -> bool:
        """Whether a job is queued besides the one running: a low-priority job (a model next
        edit) checks this to give the model back to completions, as a prefetch does."""
        with self._lock:
            return self._waiting > 1

    def _finished_waiting(self, _future: Future[object]) -> None:
        with self._lock:
            self._waiting -= 1

    def _run(self, job: Callable[[Pipeline, Ticket], T], stop: Ticket) -> T:
        if stop():
            raise RequestSuperseded()
        pipeline = self._pipeline
        if pipeline is None:
            raise RuntimeError(self.error or "the model is not loaded")
        self._enter()
        try:
            result = job(pipeline, stop)
        finally:
            self._leave()
        if stop():
            raise RequestSuperseded()
        return result

    def prefetch(self, request: CompletionRequest, reason: str) -> None:
        """Warm the prompt a completion at ``request``'s cursor would need, at the lowest
        priority: it starts only when no real job waits, stops within one ubatch when one
        arrives (keeping the finished ubatches) unless that job types on from this cursor
        (then the prompt it needs is this one: finishing it loses nothing), and replaces an
        earlier prefetch. Asked
        before the model is ready, it runs once the model is loaded. Returns at once."""
        if self._closing.is_set():
            return
        if self.state is not ModelState.READY:
            self._deferred_prefetch = (request, reason)
            return
        self._deferred_prefetch = None
        ticket = Ticket(self, "prefetch", request)
        with self._lock:
            if self._prefetch is not None:
                self._prefetch.cancel()
            self._prefetch = ticket
        self._executor.submit(self._run_prefetch, request, reason, ticket)

    def _run_prefetch(self, request: CompletionRequest, reason: str, ticket: Ticket) -> None:
        judged: dict[int, tuple[CompletionRequest, bool]] = {}  # a waiting request's id → it, and whether it extends

        def yielded() -> bool:
            if ticket() or self._closing.is_set():
                return True
            return self._waiting > 0 and not self._waiting_extend(request, judged)

        pipeline = self._pipeline
        if pipeline is None or yielded():
            self.prefetches["skipped"] += 1
            return
        self._enter()
        started = time.monotonic()
        try:
            outcome = pipeline.prefetch(request, cancelled=yielded)
        except Exception:  # a prefetch is an optimisation: it must never break serving
            log.exception("prefetch failed")
            outcome = {"outcome": "failed"}
        finally:
            self._leave()
        self.prefetches[str(outcome["outcome"])] += 1
        self.last_prefetch = {"reason": reason, **outcome, "ms": round((time.monotonic() - started) * 1000, 1)}

    def _waiting_extend(self, prefetched: CompletionRequest, judged: dict[int, tuple[CompletionRequest, bool]]) -> bool:
        """True when every real job waiting is a completion that extends ``prefetched`` (the
        user typed on from where the cursor rested): its prompt starts with the one being
        warmed, so the prefetch finishing it is work the request would do anyway. Any other
        job (another place, another document, a code action) makes the prefetch yield."""
        with self._lock:
            waiting = [ticket.request for ticket in self._latest.values()]
        if not waiting:
            return False
        for request in waiting:
            if request is None:
                return False
            entry = judged.get(id(request))
            if entry is None or entry[0] is not request:  # judged once: the check runs between graph nodes
                entry = judged[id(request)] = (request, extends(prefetched, request))
            if not entry[1]:
                return False
        return True

    def _enter(self) -> None:
        with self._lock:
            self.jobs.running += 1
            self.jobs.peak_running = max(self.jobs.peak_running, self.jobs.running)

    def _leave(self) -> None:
        with self._lock:
            self.jobs.running -= 1
            self._idle.notify_all()

    def _complete(self, pipeline: Pipeline, request: CompletionRequest, ticket: Ticket) -> CompletionResult:
        result = pipeline.complete(request, cancelled=ticket, keep_prompt=ticket.keep_prompt)
        confidence = None if result.confidence is None else round(result.confidence, 4)
        self.last = {"stopReason": result.stop_reason, "confidence": confidence, "gated": result.gated, **result.timings}
        with self._lock:
            self.jobs.gated += result.gated
            self.jobs.stop_reasons[result.stop_reason] += 1
            if result.stop_reason in _MODEL_RAN:
                self.jobs.generated += 1
            elif result.stop_reason in ("cache", "typed-ahead"):
                self.jobs.reused += 1
        return result

    def shutdown(self) -> None:
        """Stop running jobs and the worker thread (the process may then exit cleanly)."""
        self._closing.set()
        with self._lock:
            for stop in [*self._latest.values(), *([self._prefetch] if self._prefetch else [])]:
                stop.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def gating_status(self) -> dict[str, object]:
        """Confidence gating for ``slm/status`` (and :SlmStatus, the VS Code tooltip): the
        threshold in force, the latest completion's confidence and whether it was withheld,
        and how many suggestions were withheld so far."""
        return {
            "minConfidence": self.settings.min_confidence,
            "lastConfidence": self.last.get("confidence"),
            "lastGated": bool(self.last.get("gated", False)),
            "gated": self.jobs.gated,
        }

    def cache_status(self) -> dict[str, object]:
        """What the model's cache holds, for ``slm/status`` (tests and the typing benchmark)."""
        pipeline = self._pipeline
        engine = pipeline.engine if pipeline else None
        return {
            "warmTokens": getattr(engine, "cached_tokens", None),
            "lastPrefetch": self.last_prefetch,
            "prefetches": dict(self.prefetches),
        }

    def wait_idle(self, timeout: float) -> bool:
        """After ``shutdown``: wait until no job runs (a generation stops within one decode
        step, a load at its next progress report); False if one still runs after ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self.jobs.running == 0, timeout)
