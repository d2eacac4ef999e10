"""The markdown view of a workspace evaluation (the JSON report is ``WorkspaceReport.as_dict``).

Both are built from the same dictionary, so what markdown shows is exactly what JSON
holds: paths, line numbers and scores always; holes and completions only when the
dictionary has them (``--show``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slm_lsp.evaluation.gating import GatePoint, curve_table

_COLUMNS = (("exact_match", "exact match"), ("edit_similarity", "edit similarity"), ("would_accept", "would accept"),
            ("chars_saved_share", "chars saved"), ("tests_passed", "tests passed"), ("seconds_per_hole", "s/hole"))

_PAIRED_NAMES = {"chars_saved": "chars saved (characters per hole)", "tests_passed": "tests passed"}


def markdown(report: Mapping[str, Any]) -> str:
    """The report as markdown: summary, variants, paired differences, baseline, and holes if shown."""
    kinds = ", ".join(f"{kind} {count}" for kind, count in report["holes_by_kind"].items())
    lines = [
        f"# slm-lsp eval --workspace {report['workspace']}",
        "",
        (f"{report['n']} holes ({kinds}) from {report['files']} files, seed {report['seed']}, "
         f"languages: {', '.join(report['languages']) or 'all'}"),
        "",
        "| variant | model | " + " | ".join(title for _, title in _COLUMNS) + " |",
        "| --- | --- |" + " --- |" * len(_COLUMNS),
    ]
    for variant in report["variants"]:
        if variant["error"]:
            lines.append(f"| {variant['name']} | failed: {variant['error']} |" + " |" * len(_COLUMNS))
            continue
        cells = [_number(variant["metrics"].get(key), key) for key, _ in _COLUMNS]
        lines.append(f"| {variant['name']} | {variant['model']} | " + " | ".join(cells) + " |")
    lines += ["", "By kind (exact match / would accept / chars saved):", "",
              "| variant | " + " | ".join(report["holes_by_kind"]) + " |", "| --- |" + " --- |" * len(report["holes_by_kind"])]
    for variant in report["variants"]:
        if not variant["error"]:
            cells = [_kind_cell(variant["by_kind"].get(kind, {})) for kind in report["holes_by_kind"]]
            lines.append(f"| {variant['name']} | " + " | ".join(cells) + " |")
    for variant in report["variants"]:
        if variant.get("gating"):
            lines += ["", f"Confidence gating, {variant['name']} (holes scored ungated; shown = non-empty suggestion with "
                      "confidence at or above minConfidence, right = would accept):", "",
                      curve_table([GatePoint(**{k: v for k, v in point.items() if k != "wrong_shown"})
                                   for point in variant["gating"]], variant.get("min_confidence"))]
    tests = report.get("tests")
    if tests:
        lines += ["", (f"Tests (`{tests['command']}`) on {tests['files']} copied files: "
                       f"{tests['status']} on the unchanged copy.")]
    for pair in report["paired"]:
        lines += ["", f"## {pair['b']} vs {pair['a']} (paired, same holes)", "",
                  "| metric | mean difference | better | worse | ties | sign test p |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for row in pair["metrics"]:
            lines.append(f"| {_PAIRED_NAMES.get(row['metric'], row['metric'])} | {row['mean_difference']:+.4f} | {row['wins']} | {row['losses']} | "
                         f"{row['ties']} | {row['p_value']:.3f} |")
    baseline = report.get("baseline")
    if baseline:
        verdict = "passed" if baseline["passed"] else "FAILED"
        holes = "same holes" if baseline["same_holes"] else "different holes: aggregates only"
        lines += ["", f"## Baseline: {verdict} (tolerance {baseline['tolerance']:g}, {holes})", "",
                  "| variant | metric | baseline | current | difference |", "| --- | --- | --- | --- | --- |"]
        for row in baseline["rows"]:
            lines.append(f"| {row['variant']} | {row['metric']} | {row['baseline']:.4f} | {row['current']:.4f} | "
                         f"{row['difference']:+.4f} |")
    shown = [hole for hole in report["holes"] if "truth" in hole]
    if shown:
        lines += ["", "## Holes"]
        for hole in shown:
            lines += ["", f"### {hole['path']}:{hole['line']}:{hole['column']} {hole['kind']} ({hole['id']})", "",
                      "truth:", *_fenced(hole["truth"], hole["language"])]
            for name, result in hole["results"].items():
                marks = "exact" if result["exact_match"] else "accept" if result["would_accept"] else "rejected"
                lines += [f"{name} ({marks}, similarity {result['edit_similarity']:.2f}):",
                          *_fenced(result.get("completion", ""), hole["language"])]
    return "\n".join(lines) + "\n"


def _kind_cell(metrics: Mapping[str, float | None]) -> str:
    keys = ("exact_match", "would_accept", "chars_saved_share")
    return " / ".join(_number(metrics.get(key), key) for key in keys)


def _number(value: float | None, key: str) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if key == "seconds_per_hole" else f"{value:.3f}"


def _fenced(text: str, language: str) -> list[str]:
    """``text`` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, text, fence]
