"""Run a completer over benchmark problems and score it: pass@1, exact match, edit similarity.

Every problem is scored twice from the same generation: the pipeline's final text, and
the baseline "raw model output cut at the first newline" (what a plugin without
post-processing would insert). Completions are generated one at a time (the engine owns
the CPU and is not thread-safe); their test programs run in the background, ``jobs`` at a
time, while the next completion is generated. Records are written to the JSONL file in
problem order as soon as they are complete, so an interrupted run keeps what it did.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from slm_lsp.evaluation.gating import THRESHOLDS, GatePoint, curve_table, gating_curve
from slm_lsp.evaluation.metrics import edit_similarity, exact_match
from slm_lsp.evaluation.problems import Problem
from slm_lsp.evaluation.progress import Progress
from slm_lsp.evaluation.sandbox import DEFAULT_TIMEOUT, ExecResult, run_program


@dataclass(frozen=True)
class Completion:
    """What a completer returns for one problem."""

    text: str  # the pipeline's final text, inserted at the cursor
    raw: str  # the model's raw output for the same request
    timings: Mapping[str, float | int] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)  # recorded as is (mode, stop reason ...)


Completer = Callable[[Problem], Completion]


def baseline_text(raw: str) -> str:
    """The baseline completion: the raw output up to its first newline."""
    return raw.split("\n", 1)[0]


@dataclass(frozen=True)
class Scores:
    """Aggregate scores of one variant (pipeline or baseline) over the problems."""

    pass_at_1: float
    exact_match: float
    edit_similarity: float


@dataclass(frozen=True)
class EvalReport:
    """The result of a run: scores of the pipeline and of the baseline, and the cost."""

    n: int
    pipeline: Scores
    baseline: Scores
    mean_seconds: float  # mean wall time of one completion (generation + post-processing)
    total_seconds: float  # the whole run, test execution included
    errors: int  # problems where the completer raised (scored as empty completions)
    # Confidence gating of the pipeline's suggestions (meta "confidence"), per threshold;
    # empty when the completer reports no confidence.
    gating: list[GatePoint] = field(default_factory=list)
    confidence_ms_p50: float | None = None  # what computing the confidence cost per suggestion
    # Suffix ranking (prefix-only local models): how many requests looked for candidates, and
    # the latency that added to each of them (p50), beside the whole request's p50.
    ranked: int = 0
    ranking_ms_p50: float | None = None
    request_ms_p50: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gating": [point.as_dict() for point in self.gating]}

    def summary(self) -> str:
        """A few lines for a terminal or a closing note."""
        rows = [
            (
                f"problems: {self.n}  errors: {self.errors}  "
                f"{self.mean_seconds:.3f} s/problem  total {self.total_seconds:.1f} s"
            ),
            f"{'':<26}{'pass@1':>8}{'EM':>8}{'ES':>8}",
        ]
        for name, scores in (("pipeline", self.pipeline), ("raw cut at first newline", self.baseline)):
            rows.append(
                f"{name:<26}{scores.pass_at_1:>8.4f}{scores.exact_match:>8.4f}{scores.edit_similarity:>8.4f}"
            )
        if self.ranked:
            rows.append(
                f"suffix ranking: {self.ranked} of {self.n} requests ranked candidate lines, adding "
                f"{self.ranking_ms_p50:.0f} ms p50 to each (whole request {self.request_ms_p50:.0f} ms p50)"
            )
        return "\n".join(rows)

    def gating_summary(self, configured: float | None = None) -> str:
        """The confidence-gating section: the curve over thresholds and the cost per suggestion."""
        if not self.gating:
            return "confidence gating: no confidence reported (a backend without logprobs)"
        cost = "" if self.confidence_ms_p50 is None else f"; computing it cost {self.confidence_ms_p50:.2f} ms p50 per suggestion"
        return (
            "confidence gating (non-empty pipeline suggestions; shown = confidence at or above minConfidence,"
            f" right = passes the tests{cost}):\n" + curve_table(self.gating, configured)
        )


@dataclass
class _Pending:
    """One problem whose test programs may still be running."""

    problem: Problem
    completion: Completion
    baseline: str
    seconds: float
    error: str | None
    text_run: Future[ExecResult]
    baseline_run: Future[ExecResult]

    def done(self) -> bool:
        return self.text_run.done() and self.baseline_run.done()

    def record(self) -> dict[str, Any]:
        text, base = self.text_run.result(), self.baseline_run.result()
        reference = self.problem.reference
        record = {
            "task_id": self.problem.task_id,
            "text": self.completion.text,
            "raw": self.completion.raw,
            "baseline_text": self.baseline,
            "passed": text.passed,
            "status": text.status,
            "detail": text.detail,
            "exact_match": exact_match(self.completion.text, reference),
            "edit_similarity": edit_similarity(self.completion.text, reference),
            "baseline_passed": base.passed,
            "baseline_status": base.status,
            "baseline_exact_match": exact_match(self.baseline, reference),
            "baseline_edit_similarity": edit_similarity(self.baseline, reference),
            "seconds": round(self.seconds, 4),
            "timings": dict(self.completion.timings),
            "meta": dict(self.completion.meta),
        }
        if self.error is not None:
            record["error"] = self.error
        return record


def run_eval(
    problems: Sequence[Problem],
    complete: Completer,
    *,
    out_jsonl: Path | None = None,
    progress: bool = False,
    jobs: int = 2,
    timeout: float = DEFAULT_TIMEOUT,
) -> EvalReport:
    """Complete and score every problem; write one JSONL record per problem to ``out_jsonl``.

    A completer that raises on a problem does not end the run: the problem is scored as
    an empty completion and the error is recorded.
    """
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    pending: deque[_Pending] = deque()
    bar = Progress(len(problems), "eval", enabled=progress)
    out: IO[str] | None = out_jsonl.open("w", encoding="utf-8") if out_jsonl is not None else None
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            runs: dict[str, Future[ExecResult]] = {}

            def execute(problem: Problem, text: str) -> Future[ExecResult]:
                # The same program is run once (baseline and pipeline texts often agree).
                key = problem.task_id + "\0" + text
                if key not in runs:
                    runs[key] = pool.submit(run_program, problem.program(text), timeout=timeout)
                return runs[key]

            for index, problem in enumerate(problems, start=1):
                completion, seconds, error = _complete_one(complete, problem)
                baseline = baseline_text(completion.raw)
                pending.append(
                    _Pending(
                        problem, completion, baseline, seconds, error,
                        execute(problem, completion.text), execute(problem, baseline),
                    )
                )
                _drain(pending, records, out, block=False)
                bar.update(index, _running_note(records))
            _drain(pending, records, out, block=True)
    finally:
        bar.close()
        if out is not None:
            out.close()
    return _report(records, time.perf_counter() - started)


def _complete_one(complete: Completer, problem: Problem) -> tuple[Completion, float, str | None]:
    started = time.perf_counter()
    try:
        completion = complete(problem)
    except Exception as exc:  # one failing problem must not end a long run
        return Completion("", ""), time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
    return completion, time.perf_counter() - started, None


def _drain(pending: deque[_Pending], records: list[dict[str, Any]], out: IO[str] | None, *, block: bool) -> None:
    """Move finished problems, in order, from ``pending`` to ``records`` and the JSONL file."""
    while pending and (block or pending[0].done()):
        record = pending.popleft().record()
        records.append(record)
        if out is not None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()


def _running_note(records: list[dict[str, Any]]) -> str:
    if not records:
        return ""
    passed = sum(record["passed"] for record in records) / len(records)
    baseline = sum(record["baseline_passed"] for record in records) / len(records)
    return f"pass@1 {passed:.3f} (baseline {baseline:.3f})"


def _report(records: list[dict[str, Any]], total_seconds: float) -> EvalReport:
    n = len(records)
    ranked = [r for r in records if r["timings"].get("ranking_ms", 0) > 0]

    def mean(key: str) -> float:
        return sum(float(record[key]) for record in records) / n if n else 0.0

    return EvalReport(
        n=n,
        pipeline=Scores(mean("passed"), mean("exact_match"), mean("edit_similarity")),
        baseline=Scores(mean("baseline_passed"), mean("baseline_exact_match"), mean("baseline_edit_similarity")),
        mean_seconds=mean("seconds"),
        total_seconds=total_seconds,
        errors=sum("error" in record for record in records),
        gating=_gating(records),
        confidence_ms_p50=_median([r["timings"]["confidence_ms"] for r in records if "confidence_ms" in r["timings"]]),
        ranked=len(ranked),
        ranking_ms_p50=_median([r["timings"]["ranking_ms"] for r in ranked]),
        request_ms_p50=_median([r["seconds"] * 1000 for r in ranked]),
    )


def _gating(records: list[dict[str, Any]]) -> list[GatePoint]:
    """The gating curve over the suggestions that were not empty. A suggestion without a
    confidence is never gated (as in the pipeline), so it counts as shown at every threshold."""
    if not any(record["meta"].get("confidence") is not None for record in records):
        return []
    suggestions = [record for record in records if record["text"].strip()]
    scores = [record["meta"].get("confidence") for record in suggestions]
    return gating_curve([1.0 if s is None else float(s) for s in scores], [r["passed"] for r in suggestions], THRESHOLDS)


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else None
