"""Comparing runs: paired differences with a sign test, and the baseline gate for CI.

Variants of one invocation complete the same holes, so each hole gives a pair and the
question "is B better than A" is answered by the holes where they differ: the two-sided
sign test on the number of holes each wins (ties dropped) needs no assumption about how
the scores are distributed, which matters for 0/1 metrics and a few dozen holes.

The baseline gate compares a run's aggregates with a saved JSON report: a metric that
dropped by more than the tolerance (absolute, on the 0..1 scale every aggregate has) is a
regression, and ``slm-lsp eval`` exits 1. Holes are paired by id when both runs cut the
same ones (same workspace, seed, n, kinds); otherwise only the aggregates are compared and
the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

# Aggregates on a 0..1 scale, higher is better; the gate checks these.
GATED: tuple[str, ...] = ("exact_match", "edit_similarity", "would_accept", "chars_saved_share", "tests_passed")


class BaselineError(ValueError):
    """The baseline file is not a report this command wrote; the message says what is wrong."""


@dataclass(frozen=True)
class Paired:
    """B minus A on the holes both completed, for one metric."""

    metric: str
    n: int
    mean_difference: float
    wins: int  # holes where B scored higher
    losses: int
    ties: int
    p_value: float  # two-sided sign test

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial test of wins vs losses under p = 1/2 (1.0 with no discordant pairs)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired(metric: str, a: Sequence[float], b: Sequence[float]) -> Paired:
    """Paired differences ``b - a`` (same holes, same order)."""
    if len(a) != len(b):
        raise ValueError("paired scores need the same holes")
    differences = [float(y) - float(x) for x, y in zip(a, b)]
    wins = sum(d > 1e-12 for d in differences)
    losses = sum(d < -1e-12 for d in differences)
    mean = sum(differences) / len(differences) if differences else 0.0
    return Paired(metric, len(differences), mean, wins, losses, len(differences) - wins - losses, sign_test(wins, losses))


@dataclass(frozen=True)
class Regression:
    """One aggregate that dropped beyond the tolerance."""

    variant: str
    metric: str
    baseline: float
    current: float

    def describe(self) -> str:
        return f"{self.variant}: {self.metric} {self.baseline:.4f} -> {self.current:.4f} ({self.current - self.baseline:+.4f})"


@dataclass(frozen=True)
class BaselineComparison:
    """The gate's verdict: regressions, and per variant the aggregate and paired differences."""

    tolerance: float
    same_holes: bool
    regressions: list[Regression]
    rows: list[dict[str, Any]]  # variant, metric, baseline, current, difference (+ paired fields)

    @property
    def passed(self) -> bool:
        return not self.regressions

    def as_dict(self) -> dict[str, Any]:
        return {
            "tolerance": self.tolerance,
            "same_holes": self.same_holes,
            "passed": self.passed,
            "regressions": [asdict(r) for r in self.regressions],
            "rows": self.rows,
        }


def compare_with_baseline(current: Mapping[str, Any], baseline: Mapping[str, Any], tolerance: float) -> BaselineComparison:
    """Compare two reports (``WorkspaceReport.as_dict`` shapes); variants are matched by
    name, or the only variant of each when both have one."""
    current_variants = _variants(current, "current report")
    baseline_variants = _variants(baseline, "baseline")
    pairs = [(v, baseline_variants[v["name"]]) for v in current_variants.values() if v["name"] in baseline_variants]
    if not pairs and len(current_variants) == len(baseline_variants) == 1:
        pairs = [(next(iter(current_variants.values())), next(iter(baseline_variants.values())))]
    if not pairs:
        raise BaselineError(
            f"no variant of this run ({', '.join(current_variants)}) is in the baseline ({', '.join(baseline_variants)})"
        )
    same_holes = _hole_ids(current) == _hole_ids(baseline)
    regressions: list[Regression] = []
    rows: list[dict[str, Any]] = []
    for now, before in pairs:
        for metric in GATED:
            old, new = before["metrics"].get(metric), now["metrics"].get(metric)
            if old is None or new is None:
                continue
            row: dict[str, Any] = {"variant": now["name"], "metric": metric, "baseline": old, "current": new,
                                   "difference": new - old}
            if same_holes and metric in _PER_HOLE:
                result = paired(metric, _per_hole(baseline, before["name"], metric), _per_hole(current, now["name"], metric))
                row.update(wins=result.wins, losses=result.losses, p_value=result.p_value)
            rows.append(row)
            if old - new > tolerance + 1e-12:
                regressions.append(Regression(now["name"], metric, float(old), float(new)))
    return BaselineComparison(tolerance, same_holes, regressions, rows)


# Aggregate name -> the per-hole score it averages.
_PER_HOLE = {"exact_match": "exact_match", "edit_similarity": "edit_similarity", "would_accept": "would_accept",
             "chars_saved_share": "chars_saved", "tests_passed": "tests_passed"}


def _variants(report: Mapping[str, Any], what: str) -> dict[str, Mapping[str, Any]]:
    variants = report.get("variants") if isinstance(report, Mapping) else None
    if not isinstance(variants, list) or not variants:
        raise BaselineError(f"the {what} has no variants (is it a JSON report of `slm-lsp eval --workspace`?)")
    found: dict[str, Mapping[str, Any]] = {}
    for variant in variants:
        if not isinstance(variant, Mapping) or not isinstance(variant.get("name"), str) \
                or not isinstance(variant.get("metrics"), Mapping):
            raise BaselineError(f"the {what} has a variant without a name or metrics")
        found[variant["name"]] = variant
    return found


def _hole_ids(report: Mapping[str, Any]) -> list[str]:
    holes = report.get("holes")
    return [str(h.get("id")) for h in holes if isinstance(h, Mapping)] if isinstance(holes, list) else []


def _per_hole(report: Mapping[str, Any], variant: str, metric: str) -> list[float]:
    key = _PER_HOLE[metric]
    values: list[float] = []
    for hole in report.get("holes", []):
        result = hole.get("results", {}).get(variant, {})
        value = result.get(key)
        if key == "tests_passed":
            value = None if value is None else float(value)
        values.append(float(value) if value is not None else 0.0)
    return values
