"""The confidence-gating curve: what a ``minConfidence`` threshold would show and hide.

For every threshold, of the non-empty suggestions: how many are shown (confidence at or
above it), how many of those are right, the share of shown that are right and the share of
right still shown. ``slm-lsp eval`` prints it so a threshold can be picked from measurements
(HumanEval, or the user's own code with ``--workspace``); ``scripts/experiment_infill.py``
uses it for its feature comparison. Pure arithmetic: imports nothing of slm_lsp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


@dataclass(frozen=True)
class GatePoint:
    """One threshold of a gating curve over a set of suggestions."""

    threshold: float
    shown: int  # suggestions at or above the threshold
    right_shown: int  # of those, the right ones
    precision: float  # right_shown / shown (1.0 when nothing is shown)
    recall: float  # right_shown / right suggestions at no threshold (1.0 when none is right)

    @property
    def wrong_shown(self) -> int:
        return self.shown - self.right_shown

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "wrong_shown": self.wrong_shown}


def gating_curve(scores: Sequence[float], right: Sequence[bool], thresholds: Sequence[float]) -> list[GatePoint]:
    """Share of shown suggestions that are right, and share of right ones still shown, per threshold.

    ``scores[i]`` is suggestion i's confidence and ``right[i]`` whether it passes; a
    suggestion is shown when its score is at least the threshold.
    """
    if len(scores) != len(right):
        raise ValueError("one score per suggestion")
    total_right = sum(bool(r) for r in right)
    points = []
    for threshold in thresholds:
        shown = [bool(r) for s, r in zip(scores, right) if s >= threshold]
        hits = sum(shown)
        points.append(GatePoint(
            threshold=threshold,
            shown=len(shown),
            right_shown=hits,
            precision=hits / len(shown) if shown else 1.0,
            recall=hits / total_right if total_right else 1.0,
        ))
    return points


def curve_table(points: Sequence[GatePoint], configured: float | None = None) -> str:
    """The curve as a markdown table, changes against threshold 0 included; ``configured``
    (the minConfidence in force) is marked."""
    base = points[0] if points and points[0].threshold == 0 else None
    rows = [
        "| minConfidence | shown | right shown | wrong shown | share of shown right | share of right shown |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for point in points:
        mark = " (in force)" if configured is not None and abs(point.threshold - configured) < 1e-9 else ""
        wrong = f"{point.wrong_shown}"
        right = f"{point.right_shown}"
        if base is not None and point is not base:
            wrong += _change(point.wrong_shown, base.wrong_shown)
            right += _change(point.right_shown, base.right_shown)
        rows.append(f"| {point.threshold:g}{mark} | {point.shown} | {right} | {wrong} | {point.precision:.3f} | {point.recall:.3f} |")
    return "\n".join(rows)


def _change(value: int, base: int) -> str:
    return f" ({(value - base) / base:+.0%})" if base else ""
