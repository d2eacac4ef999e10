"""The scorer's self-test: canonical solutions must all pass and empty completions fail.

If a canonical solution fails, the program assembly or the sandbox is broken (or too
strict: a timeout or memory limit too low for this machine); if an empty completion
passes, the benchmark would reward a completer that offers nothing. Either makes pass@1
numbers meaningless, so this runs before trusting a new machine or a harness change.

Some holes are redundant: the tests pass without the removed lines (27 of the 1,033
single-line problems, 55 of the 5,815 multi-line ones, none of the random-span ones; e.g.
``l = list(l)`` before code that copies the list anyway).
They are listed in ``data/redundant-holes.txt``; an empty completion passing any other
problem fails the self-test, and the empty pass@1 is reported as measured.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from slm_lsp.evaluation.problems import Problem
from slm_lsp.evaluation.progress import Progress
from slm_lsp.evaluation.sandbox import DEFAULT_TIMEOUT, run_program


@dataclass(frozen=True)
class SelfTestResult:
    """Pass counts of the canonical and the empty completions, and the exceptions."""

    n: int
    canonical_pass_at_1: float
    empty_pass_at_1: float
    seconds: float
    canonical_failures: list[str] = field(default_factory=list)  # "task_id: detail"
    empty_passes: list[str] = field(default_factory=list)  # task ids

    @property
    def unexpected_empty_passes(self) -> list[str]:
        """Empty completions that passed a problem not known to have a redundant hole."""
        known = redundant_holes()
        return [task for task in self.empty_passes if task not in known]

    @property
    def ok(self) -> bool:
        return self.canonical_pass_at_1 == 1.0 and not self.unexpected_empty_passes

    def summary(self) -> str:
        redundant = len(self.empty_passes) - len(self.unexpected_empty_passes)
        lines = [
            (
                f"self-test on {self.n} problems ({self.seconds:.1f} s): "
                f"canonical pass@1 {self.canonical_pass_at_1:.4f}, empty pass@1 {self.empty_pass_at_1:.4f} "
                f"({redundant} known redundant holes) -> {'OK' if self.ok else 'FAILED'}"
            )
        ]
        lines += [f"  canonical failed: {failure}" for failure in self.canonical_failures]
        lines += [f"  empty passed unexpectedly: {task}" for task in self.unexpected_empty_passes]
        return "\n".join(lines)


@cache
def redundant_holes() -> frozenset[str]:
    """Task ids whose tests pass with the hole left empty (``data/redundant-holes.txt``)."""
    text = (resources.files("slm_lsp.evaluation") / "data" / "redundant-holes.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def self_test(
    problems: Sequence[Problem],
    *,
    jobs: int = 2,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = False,
) -> SelfTestResult:
    """Run every problem's canonical and empty completion through the scorer, ``jobs`` at a time."""
    started = time.perf_counter()
    programs = [problem.program(problem.reference) for problem in problems]
    programs += [problem.program("") for problem in problems]
    bar = Progress(len(programs), "self-test", enabled=progress)
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(run_program, program, timeout=timeout) for program in programs]
            results = []
            for done, future in enumerate(futures, start=1):
                results.append(future.result())
                bar.update(done)
    finally:
        bar.close()
    n = len(problems)
    canonical, empty = results[:n], results[n:]
    return SelfTestResult(
        n=n,
        canonical_pass_at_1=sum(r.passed for r in canonical) / n if n else 1.0,
        empty_pass_at_1=sum(r.passed for r in empty) / n if n else 0.0,
        seconds=time.perf_counter() - started,
        canonical_failures=[f"{p.task_id}: {r.detail}" for p, r in zip(problems, canonical) if not r.passed],
        empty_passes=[p.task_id for p, r in zip(problems, empty) if r.passed],
    )
